"""The functions RQ runs. Plain module-level functions with JSON arguments; idempotent.

Workers compute and send; they never decide what happens next. A scan job reads files and
sends one chunk per request; a stage job runs one per-track plugin stage on a few tracks and
sends the results. The web process stores them and queues whatever comes next.

A worker process binds its :class:`WorkerContext` (settings, plugins, Redis, API client) once,
from the settings it was started with, before RQ forks work-horses; they inherit it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis
from rq.timeouts import JobTimeoutException

from soniquebay import credentials, names, queueing
from soniquebay import recorded_metrics as shared_metrics
from soniquebay.config import Settings
from soniquebay.daemon import reading
from soniquebay.daemon.api_client import ApiClient, ApiSink
from soniquebay.errors import BadAudioFile, SoniqueBayError, TryLater
from soniquebay.events import progress_payload, publish_event
from soniquebay.library_roots import root_online, walk_audio
from soniquebay.plugins import Plugins, load_plugins, one_line
from soniquebay.plugins.stages import Stage

log = logging.getLogger(__name__)

ANALYSIS_NICENESS = 10
STAGE_METRICS = {  # hook -> (duration histogram, error counter): the seed's names
    "analyze_audio": ("audio_analysis_duration_seconds", "audio_analysis_errors_total"),
    "vectorize_track": ("vectorization_duration_seconds", "vectorization_errors_total"),
}


@dataclass
class WorkerContext:
    settings: Settings
    plugins: Plugins
    redis: redis.Redis
    api: ApiClient

    @classmethod
    def build(cls, settings: Settings, queues: tuple[str, ...] = ()) -> WorkerContext:
        return cls(
            settings=settings,
            plugins=load_plugins(settings, "worker", queues),
            redis=queueing.connect(settings),
            # Read when first needed, and again after a 401: a worker may start before the web.
            api=ApiClient(
                settings.effective_api_url,
                lambda: credentials.worker_token(settings, create=True),
            ),
        )

    @property
    def sink(self) -> ApiSink:
        return ApiSink(self.api)


_bound: WorkerContext | None = None


def bind(ctx: WorkerContext | None) -> None:
    """Give this process's job functions their context (``soniquebay worker`` does it once)."""
    global _bound
    _bound = ctx


def current() -> WorkerContext:
    if _bound is None:
        raise RuntimeError("no worker context bound: start jobs through `soniquebay worker`")
    return _bound


def _report_disabled(ctx: WorkerContext) -> None:
    """Plugins this worker disabled while reading files (read_tags raised): told to the web,
    which shows them in /api/health and /api/plugins."""
    disabled = {e.name: e.error for e in ctx.plugins.load_errors if e.disabled}
    if disabled:
        ctx.redis.hset(
            names.PLUGINS_DISABLED,
            mapping={
                f"worker:{name}": json.dumps(
                    {"plugin": name, "process": "worker", "reason": reason, "at": time.time()}
                )
                for name, reason in disabled.items()
            },
        )


def _publish(ctx: WorkerContext, event_type: str, data: dict[str, Any]) -> None:
    try:
        publish_event(ctx.redis, event_type, data, maxlen=ctx.settings.events_stream_maxlen)
    except redis.RedisError as exc:  # progress is best effort; the work itself must go on
        log.warning("could not publish %s: %s", event_type, exc)
    except ValueError as exc:  # a payload the catalogue does not describe: a bug, not the job's
        log.error("event not published: %s", exc)


def _unsettled(item: dict[str, Any], settle: float) -> dict[str, Any] | None:
    """The item again, with its new stat, if the file changed since the watcher saw it settle."""
    try:
        st = os.stat(item["path"])
    except OSError:
        return None  # gone: read_file records nothing useful; the delete event handles it
    recent = time.time() - st.st_mtime < settle
    changed = item.get("size") is not None and (st.st_size, st.st_mtime_ns) != (
        item["size"],
        item["mtime_ns"],
    )
    if changed and recent:
        return {**item, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    return None


def scan_paths(items: list[dict[str, Any]], task_id: str | None = None) -> dict[str, Any]:
    """Read these files' tags and send them to the API, one request per chunk.

    ``items``: ``{"path", "size", "mtime_ns", "src"}`` as the watcher saw them settle. A file
    that is being written again is put back on the queue for later instead of being half-read.
    """
    ctx = current()
    settings = ctx.settings
    task_id = task_id or str(uuid.uuid4())
    started = time.monotonic()
    later = [again for item in items if (again := _unsettled(item, settings.debounce_seconds))]
    if later:
        queueing.enqueue_scan(
            ctx.redis, settings, later, task_id=task_id, delay=settings.debounce_seconds
        )
    skip = {i["path"] for i in later}
    todo = [i for i in items if i["path"] not in skip]
    total = len(todo)

    def progress(current: int, report: reading.Report) -> None:
        _publish(
            ctx,
            "progress",
            progress_payload(task_id, "scan", current, total, started, errors=len(report.errors)),
        )

    if todo:
        _publish(ctx, "scan.started", {"task_id": task_id, "files": total})
    pm = ctx.plugins.pm
    results = (reading.read_file(pm, i["path"], i.get("src")) for i in todo)
    report = reading.ingest(results, ctx.sink, chunk_size=settings.chunk_size, on_progress=progress)
    _report_disabled(ctx)
    seconds = time.monotonic() - started
    if todo:
        shared_metrics.Recorder(ctx.redis).observe("scan_duration_seconds", seconds).inc(
            "scan_files_processed_total", total
        ).inc("scan_chunks_processed_total", report.batches).inc(
            "scan_errors_total", len(report.errors)
        ).send()
        _publish(
            ctx,
            "scan.finished",
            {
                "task_id": task_id,
                "files": total,
                "changes": dict(report.changes),
                "errors": len(report.errors),
                "seconds": round(seconds, 3),
            },
        )
    return {
        "task_id": task_id,
        "changes": dict(report.changes),
        "errors": len(report.errors),
        "requeued": len(later),
    }


def remove_paths(paths: list[str], prefixes: list[str]) -> dict[str, Any]:
    """Flag tracks whose files are gone as missing, unless their library folder is offline."""
    ctx = current()
    roots = ctx.settings.library
    gone = [p for p in paths if not os.path.lexists(p) and root_online(p, roots)]
    gone_trees = [p for p in prefixes if not os.path.lexists(p) and root_online(p, roots)]
    if not gone and not gone_trees:
        return {"missing": 0}
    return {"missing": ctx.sink.mark_missing(gone, gone_trees)}


def scan_tree(folder: str) -> dict[str, Any]:
    """Read every audio file under ``folder`` (after a burst of events, or an overflow)."""
    ctx = current()
    items = [
        {"path": os.fsdecode(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        for p, st in walk_audio(os.fsencode(folder), ctx.plugins.extensions())
    ]
    jobs = [
        queueing.enqueue_scan(ctx.redis, ctx.settings, batch).id
        for batch in reading.chunks(items, queueing.scan_job_size(ctx.settings))
    ]
    return {"files": len(items), "jobs": jobs}


# ---------------------------------------------------------------- the stage runner


def _run_one(
    ctx: WorkerContext, stage: Stage, item: dict[str, Any], max_seconds: float | None
) -> dict[str, Any]:
    """Run ``stage`` on one track; its outcome as a result for the API, never an exception
    (except RQ's timeout, which is the job's)."""
    track = item["track"]
    result = {
        "track_id": item["track_id"],
        "stage": stage.name,
        "hook": stage.hook,
        "version": stage.version,
        "inputs": item["inputs"],
        "status": "skipped",
        "plugin": None,
        "fields": None,
        "error": None,
    }
    kwargs = {"track": track, "path": track.get("path"), "max_seconds": max_seconds}
    impls = {i.plugin_name: i for i in ctx.plugins.implementations(stage.hook)}
    for plugin in stage.plugins:
        impl = impls.get(plugin)
        if impl is None:
            result.update(status="failed", plugin=plugin, error=_absent(plugin))
            break
        result["plugin"] = plugin
        try:
            fields = ctx.plugins.invoke(impl, kwargs)
        except JobTimeoutException:
            raise
        except TryLater as exc:  # a service is down: put the track back, record nothing
            result.update(status="deferred", error=exc.message, retry_in=exc.seconds)
            break
        except BadAudioFile as exc:  # the file's fault, said plainly
            result.update(status="failed", error=exc.message)
            break
        except Exception as exc:  # the contract: recorded against the track, the others go on
            log.exception("plugin %s failed in %s for track %s", plugin, stage.hook, track["id"])
            result.update(status="failed", error=ctx.plugins.record(plugin, stage.hook, exc).reason)
            break
        if fields is not None:
            result.update(status="done", fields=fields)
            break
    return result


def _record_timeout(
    ctx: WorkerContext, spec: Stage | None, kwargs: dict[str, Any], timeout: int | None
) -> None:
    span = f" of {kwargs['max_seconds']:g} s of audio" if kwargs.get("max_seconds") else ""
    reason = f"timed out: the stage{span} took longer than job_timeout ({timeout} s)"
    results = [
        {"track_id": i["track_id"], "stage": kwargs["stage"],
         "hook": spec.hook if spec else kwargs["stage"].rpartition(".")[2],
         "version": spec.version if spec else "?", "inputs": i["inputs"], "status": "failed",
         "plugin": spec.plugins[0] if spec else None, "error": reason}
        for i in kwargs["items"]
    ]  # fmt: skip
    try:
        ctx.sink.store_stage_results(results)
    except SoniqueBayError as exc:  # the web is away: the sweep runs the stage again later
        log.warning("could not record %d timed-out tracks: %s", len(results), exc)


def _absent(plugin: str) -> str:
    return f"plugin {plugin} is not loaded on worker host {socket.gethostname()}"


def run_stage(
    stage: str, items: list[dict[str, Any]], max_seconds: float | None = None, deferrals: int = 0
) -> dict[str, Any]:
    """Run one per-track stage on ``{"track_id", "inputs", "track"}`` items; send the results.

    Stages on the analysis queue run at low CPU priority so the web and the scan stay responsive
    on a Pi. A stage this worker does not have (a plugin missing on this host) is recorded as
    failed with that reason. Tracks whose plugin raised :class:`TryLater` (a remote service
    down) are queued again for when it says, not failed.
    """
    ctx = current()
    spec = ctx.plugins.stage(stage)
    if spec is None:
        results = [
            {"track_id": i["track_id"], "stage": stage, "hook": stage.rpartition(".")[2],
             "version": "?", "inputs": i["inputs"], "status": "failed", "plugin": None,
             "error": f"stage {stage} is not available on worker host {socket.gethostname()}"}
            for i in items
        ]  # fmt: skip
    else:
        if spec.queue == "analysis":
            try:
                os.nice(ANALYSIS_NICENESS - os.nice(0))
            except OSError:
                pass
        duration, errors = STAGE_METRICS.get(spec.hook, (None, None))
        recorder = shared_metrics.Recorder(ctx.redis)
        results = []
        for item in items:
            if results and results[-1]["status"] == "deferred":  # the same wall for the rest
                results.append({**results[-1], "track_id": item["track_id"]})
                continue
            began = time.monotonic()
            results.append(_run_one(ctx, spec, item, max_seconds))
            if duration:
                recorder.observe(duration, time.monotonic() - began)
            if errors and results[-1]["status"] == "failed":
                recorder.inc(errors)
        recorder.send()
    later = [r for r in results if r["status"] == "deferred"]
    if later:
        _defer(ctx, spec, items, later, max_seconds, deferrals)
        results = [r for r in results if r["status"] != "deferred"]
    if results:
        ctx.sink.store_stage_results(results)
    return {
        "stage": stage,
        "done": sum(r["status"] == "done" for r in results),
        "failed": sum(r["status"] == "failed" for r in results),
        "deferred": len(later),
    }


def _defer(
    ctx: WorkerContext,
    spec: Stage,
    items: list[dict[str, Any]],
    later: list[dict[str, Any]],
    max_seconds: float | None,
    deferrals: int,
) -> None:
    ids = {r["track_id"] for r in later}
    delay = max(1.0, min(r["retry_in"] for r in later))
    log.info("%s: %d tracks put back for %.0fs: %s", spec.name, len(ids), delay, later[0]["error"])
    queueing.enqueue_stage(
        ctx.redis,
        ctx.settings,
        spec.queue,
        spec.name,
        [i for i in items if i["track_id"] in ids],
        max_seconds=max_seconds,
        delay=delay,
        deferrals=deferrals + 1,
    )
    shared_metrics.Recorder(ctx.redis).inc("stage_deferred_total", len(ids)).send()


def on_stage_timeout(job, exc_type, exc_value, traceback) -> bool:
    """RQ exception handler: a timed-out stage is a failure recorded against each of the job's
    tracks (a hanging decoder used to leave them with no result and no reason); a timed-out
    analysis is then retried once on a shorter span, whose result replaces the failure."""
    if not issubclass(exc_type, JobTimeoutException) or not job.func_name.endswith("run_stage"):
        return True
    kwargs = job.kwargs
    ctx = current()
    spec = ctx.plugins.stage(kwargs["stage"])
    short = ctx.settings.analysis_retry_seconds
    _record_timeout(ctx, spec, kwargs, job.timeout)
    if spec is None or spec.hook != "analyze_audio":
        return True
    if kwargs.get("max_seconds") and kwargs["max_seconds"] <= short:
        return True
    log.warning(
        "analysis of %d tracks timed out (%s): retrying once on %gs of audio",
        len(kwargs["items"]),
        one_line(exc_value) if exc_value else "timeout",
        short,
    )
    job.retries_left = 0  # not the same span again: the shorter job below replaces the retries
    queueing.enqueue_stage(
        ctx.redis,
        ctx.settings,
        spec.queue,
        spec.name,
        kwargs["items"],
        max_seconds=short,
        retries=0,
    )
    return True
