"""What happens after the web process stores something: it owns "what comes next".

After every committed batch (a scan chunk, stage results, an edit) :meth:`Pipeline.stored`
hands the changes to one background task, which, in commit order:

1. publishes the ``track.*`` events (:mod:`soniquebay.web.changes`);
2. works out which per-track stages are now due for those tracks (their ``needs`` all have
   values, and they have not run on these values at this version) and queues them on their
   RQ queues, a few tracks per job.

The request that stored the batch does not wait for either. If the process dies in between,
the start-up sweep (:meth:`Pipeline.sweep`) queues whatever stage never ran or ran at an older
version, and the events are lost only to listeners that were connected at that moment.

Every live event, whoever published it, also reaches the plugins' ``on_event`` hooks here, in
order, on one thread of their own so a slow plugin never holds up the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
from aiohttp import web

from soniquebay import queueing
from soniquebay.events import Event
from soniquebay.library import sql
from soniquebay.library import stage_data as stage_store
from soniquebay.plugins import Plugins
from soniquebay.plugins.stages import Stage
from soniquebay.web import keys
from soniquebay.web.changes import publish, track_events

log = logging.getLogger(__name__)

SWEEP_PAGE = 500
SWEEP_PAUSE = 1.0  # seconds between pages: catching up never crowds out new files
CATCH_UP_PAUSE = 30.0  # seconds between sweeps after stages could not be queued
RETRY_EVERY = 900.0  # seconds between looks for failed stages due another try


def stage_payload(row: dict[str, Any]) -> dict[str, Any]:
    """A track as a stage job carries it: JSON-safe, the exact path (not the display one)."""
    out = sql.public_track({k: v for k, v in row.items() if k != "_stages"})
    out["path"] = os.fsdecode(row["path"])
    return out


class Pipeline:
    def __init__(self, app: web.Application):
        self.app = app
        self.plugins: Plugins = app[keys.PLUGINS]
        self.settings = app[keys.SETTINGS]
        self._queue: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._sweep: asyncio.Task | None = None
        self._retries: asyncio.Task | None = None
        self.scheduled = 0  # stage items queued since start (for /api/health)

    @property
    def backlog(self) -> int:
        """Committed batches whose events and stages are not handed on yet."""
        return self._queue.qsize()

    @property
    def stages(self) -> list[Stage]:
        return self.plugins.stages

    def stored(
        self,
        changes: list[dict[str, Any]],
        *,
        events: list[Event] = (),
        recheck: Iterable[int] = (),
    ) -> None:
        """Announce ``changes`` (rows with ``id`` and ``change``) and any further ``events``,
        then queue the stages now due for those tracks and the ``recheck`` ids. Returns at once;
        the work is done in the order it was handed over."""
        ids = {c["id"] for c in changes if c.get("id") and c.get("change") != "removed"}
        ids.update(recheck)
        self._queue.put_nowait(([*track_events(changes), *events], sorted(ids)))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="pipeline")
        self._sweep = asyncio.create_task(self.sweep(), name="stage-sweep")
        self._retries = asyncio.create_task(self._retry_loop(), name="stage-retries")

    async def stop(self) -> None:
        for task in (self._retries, self._sweep, self._task):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def drained(self) -> None:
        """Wait until everything handed to :meth:`stored` so far is done (tests, shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            events, ids = await self._queue.get()
            try:
                await publish(self.app, events)
                if ids:
                    await self.schedule(ids)
            except Exception as exc:  # keep serving; a sweep catches up once it can
                log.error("could not announce or schedule %d tracks: %s", len(ids), exc)
                if self._sweep is None or self._sweep.done():
                    self._sweep = asyncio.create_task(self.catch_up(), name="stage-catch-up")
            finally:
                self._queue.task_done()

    async def schedule(
        self,
        ids: list[int],
        *,
        only: Iterable[str] | None = None,
        force: bool = False,
        max_seconds: float | None = None,
    ) -> tuple[int, list[str]]:
        """Queue the stages due for these tracks (``force``: every stage whose inputs exist,
        due or not); ``only`` limits it to the named stages. Returns (tracks, job ids)."""
        wanted = [s for s in self.stages if only is None or s.name in set(only)]
        if not wanted or not ids:
            return 0, []
        rows = self.app[keys.DB].read(stage_store.stage_inputs, ids)
        plan: dict[Stage, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            for stage in wanted:
                state = row["_stages"].get(stage.name)
                digest = stage.inputs(row) if force else stage.due(row, state)
                if digest:
                    plan[stage].append(
                        {"track_id": row["id"], "inputs": digest, "track": stage_payload(row)}
                    )
        if not plan:
            return 0, []
        client: redis.Redis = self.app[keys.RQ_REDIS]

        def enqueue() -> list[str]:
            return [
                queueing.enqueue_stage(
                    client,
                    self.settings,
                    stage.queue,
                    stage.name,
                    items[start : start + stage.batch],
                    max_seconds=max_seconds,
                ).id
                for stage, items in plan.items()
                for start in range(0, len(items), stage.batch)
            ]

        jobs = await asyncio.to_thread(enqueue)
        count = sum(len(items) for items in plan.values())
        self.scheduled += count
        return count, jobs

    async def catch_up(self) -> None:
        """After stages could not be queued (Redis refusing writes on a full disk, say): sweep
        again, and again, until one sweep goes through."""
        while not await self.sweep():
            await asyncio.sleep(CATCH_UP_PAUSE)

    async def sweep(self) -> bool:
        """Queue every stage that never ran, or ran at another version, on the present tracks:
        a new plugin, a new plugin version, or work lost to a crash. Paged and paced.
        False when some page could not be queued."""
        clean = True
        await asyncio.sleep(SWEEP_PAUSE)
        for stage in self.stages:
            after = 0
            while True:
                try:
                    ids = self.app[keys.DB].read(
                        stage_store.tracks_behind, stage.name, stage.version, after, SWEEP_PAGE
                    )
                    if not ids:
                        break
                    after = ids[-1]
                    queued, _ = await self.schedule(ids, only=[stage.name])
                    if queued:
                        log.info("stage %s: %d tracks to catch up on", stage.name, queued)
                except (redis.RedisError, OSError) as exc:
                    log.warning("stage sweep paused (%s)", exc)
                    clean = False
                await asyncio.sleep(SWEEP_PAUSE)
        return clean

    async def _retry_loop(self) -> None:
        while True:
            await asyncio.sleep(RETRY_EVERY)
            try:
                await self.retry_failures(time.time())
            except (redis.RedisError, OSError) as exc:
                log.warning("failed stages not retried this time (%s)", exc)

    async def retry_failures(self, now: float) -> int:
        """Queue again the failed stages whose wait is over (timeouts, decoder errors, a
        plugin's exception: ``stages.RETRY_AFTER``, longer after each failure in a row).
        Returns how many tracks were queued."""
        total = 0
        for stage in self.stages:
            after, retried = 0, 0
            while ids := self.app[keys.DB].read(
                stage_store.failures_due, stage.name, now, after, SWEEP_PAGE
            ):
                after = ids[-1]
                retried += (await self.schedule(ids, only=[stage.name], force=True))[0]
                await asyncio.sleep(SWEEP_PAUSE if len(ids) == SWEEP_PAGE else 0)
            if retried:
                log.info("stage %s: %d failed tracks tried again", stage.name, retried)
            total += retried
        return total


class EventHooks:
    """Feeds every live event to the plugins' ``on_event``, in order, on one thread."""

    def __init__(self, plugins: Plugins):
        self.plugins = plugins
        self.wanted = bool(plugins.implementations("on_event"))
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="on-event")

    def __call__(self, entry: tuple[str, str, str]) -> None:
        if self.wanted:
            self._executor.submit(self._deliver, entry[2])

    def _deliver(self, data: str) -> None:
        # Failures are logged and recorded against their plugin by each(); nothing to collect.
        list(self.plugins.each("on_event", event=json.loads(data)))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)


async def pipeline_ctx(app: web.Application):
    pipeline = Pipeline(app)
    app[keys.PIPELINE] = pipeline
    hooks = EventHooks(app[keys.PLUGINS])
    app[keys.HUB].listen(hooks)
    await pipeline.start()
    yield
    await pipeline.stop()
    hooks.close()
