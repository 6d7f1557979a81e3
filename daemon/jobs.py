"""The functions RQ runs. Plain module-level functions with JSON arguments; idempotent.

A worker process builds its context (settings, plugins, Redis, API client) once with
:func:`context`; RQ's forked work-horses inherit it.
"""

from __future__ import annotations

import functools
import logging
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pluggy
import redis
from rq.timeouts import JobTimeoutException

from soniquebay import config, credentials
from soniquebay import metrics as shared_metrics
from soniquebay.daemon import ingest, queueing
from soniquebay.daemon.api_client import ApiClient, ApiSink
from soniquebay.daemon.library_roots import root_online, walk_audio
from soniquebay.errors import BadAudioFile
from soniquebay.events import progress_payload, publish_event
from soniquebay.plugins import audio_extensions, get_plugin_manager

log = logging.getLogger(__name__)

ANALYSIS_NICENESS = 10


@dataclass
class WorkerContext:
    settings: config.Settings
    pm: pluggy.PluginManager
    redis: redis.Redis
    api: ApiClient

    @property
    def sink(self) -> ApiSink:
        return ApiSink(self.api)


@functools.cache
def context() -> WorkerContext:
    """This process's context, built on first use from the config file and environment."""
    settings = config.load()
    pm = get_plugin_manager(settings)
    pm.hook.startup(settings=settings, process="worker")
    return WorkerContext(
        settings=settings,
        pm=pm,
        redis=queueing.connect(settings),
        api=ApiClient(settings.effective_api_url, credentials.worker_token(settings)),
    )


def _publish(ctx: WorkerContext, event_type: str, data: dict[str, Any], channel: str) -> None:
    try:
        publish_event(
            ctx.redis, event_type, data, channel=channel, maxlen=ctx.settings.events_stream_maxlen
        )
    except redis.RedisError as exc:  # progress is best effort; the work itself must go on
        log.warning("could not publish %s: %s", event_type, exc)


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
    """Read these files' tags and send them to the API; queue their analysis.

    ``items``: ``{"path", "size", "mtime_ns", "src"}`` as the watcher saw them settle. A file
    that is being written again is put back on the queue for later instead of being half-read.
    """
    ctx = context()
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

    def progress(current: int, report: ingest.Report) -> None:
        _publish(
            ctx,
            "progress",
            progress_payload(task_id, "scan", current, total, started, errors=len(report.errors)),
            "progress",
        )

    if todo:
        _publish(ctx, "scan.started", {"task_id": task_id, "files": total}, "notifications")
    results = (ingest.read_file(ctx.pm, i["path"], i.get("src")) for i in todo)
    report = ingest.ingest(results, ctx.sink, chunk_size=settings.chunk_size, on_progress=progress)
    seconds = time.monotonic() - started
    if todo:
        shared_metrics.Recorder(ctx.redis).observe("scan_duration_seconds", seconds).inc(
            "scan_files_processed_total", total
        ).inc("scan_chunks_processed_total", -(-total // settings.chunk_size)).inc(
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
            "notifications",
        )
    _after_ingest(ctx, report)
    return {
        "task_id": task_id,
        "changes": dict(report.changes),
        "errors": len(report.errors),
        "requeued": len(later),
    }


def _after_ingest(ctx: WorkerContext, report: ingest.Report) -> None:
    """Announce new tracks to plugins and queue the analysis of new or changed ones."""
    fresh = [t for t in report.tracks if t["change"] in ("added", "updated")]
    for track in report.tracks:
        if track["change"] == "added":
            try:
                ctx.pm.hook.track_added(track=track)
            except Exception:  # one plugin's bug must not undo the scan
                log.exception("a track_added plugin failed for track %s", track["id"])
    if fresh and ctx.pm.hook.analyze_audio.get_hookimpls():
        for batch in ingest.chunks(fresh, queueing.ANALYSIS_BATCH):
            queueing.enqueue_analysis(
                ctx.redis, ctx.settings, [{"track_id": t["id"], "path": t["path"]} for t in batch]
            )


def remove_paths(paths: list[str], prefixes: list[str]) -> dict[str, Any]:
    """Flag tracks whose files are gone as missing, unless their library folder is offline."""
    ctx = context()
    roots = ctx.settings.library
    gone = [p for p in paths if not os.path.lexists(p) and root_online(p, roots)]
    gone_trees = [p for p in prefixes if not os.path.lexists(p) and root_online(p, roots)]
    if not gone and not gone_trees:
        return {"missing": 0}
    count = ctx.sink.mark_missing(gone, gone_trees)
    return {"missing": count}


def scan_tree(folder: str) -> dict[str, Any]:
    """Read every audio file under ``folder`` (after a burst of events, or an overflow)."""
    ctx = context()
    extensions = audio_extensions(ctx.pm)
    items = [
        {"path": os.fsdecode(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        for p, st in walk_audio(os.fsencode(folder), extensions)
    ]
    jobs = [
        queueing.enqueue_scan(ctx.redis, ctx.settings, batch).id
        for batch in ingest.chunks(items, ctx.settings.chunk_size)
    ]
    return {"files": len(items), "jobs": jobs}


def analyze_tracks(items: list[dict[str, Any]], max_seconds: float | None = None) -> dict[str, Any]:
    """Run the analysis plugins on ``{"track_id", "path"}`` items and send features to the API.

    Runs at low CPU priority so the web stays responsive on a Pi. A file that cannot be analysed
    gets its error recorded on the track; the others go on.
    """
    ctx = context()
    try:
        os.nice(ANALYSIS_NICENESS - os.nice(0))
    except OSError:
        pass
    started = time.monotonic()
    results, done = [], 0
    recorder = shared_metrics.Recorder(ctx.redis)
    for item in items:
        item_started = time.monotonic()
        try:
            features = ctx.pm.hook.analyze_audio(
                path=item["path"], settings=ctx.settings, max_seconds=max_seconds
            )
            if features is None:
                continue
            results.append({"track_id": item["track_id"], **features, "analysis_error": None})
        except JobTimeoutException:
            raise  # RQ's, not the file's: on_analysis_timeout retries on a shorter span
        except BadAudioFile as exc:
            results.append({"track_id": item["track_id"], "analysis_error": exc.message})
        except Exception as exc:
            log.exception("analysis failed for track %s", item["track_id"])
            results.append(
                {"track_id": item["track_id"], "analysis_error": f"{type(exc).__name__}: {exc}"}
            )
        done += 1
        recorder.observe("audio_analysis_duration_seconds", time.monotonic() - item_started)
        if results[-1].get("analysis_error"):
            recorder.inc("audio_analysis_errors_total")
    recorder.send()
    if results:
        ctx.sink.update_features(results)
    _publish(
        ctx,
        "analysis.finished",
        {
            "tracks": [r["track_id"] for r in results],
            "seconds": round(time.monotonic() - started, 3),
        },
        "notifications",
    )
    return {"analysed": done, "errors": sum(1 for r in results if r.get("analysis_error"))}


def on_analysis_timeout(job, exc_type, exc_value, traceback) -> bool:
    """RQ exception handler: a timed-out analysis is retried once on a shorter span."""
    if not issubclass(exc_type, JobTimeoutException) or not job.func_name.endswith(
        "analyze_tracks"
    ):
        return True
    kwargs = job.kwargs
    ctx = context()
    short = ctx.settings.analysis_retry_seconds
    if kwargs.get("max_seconds") and kwargs["max_seconds"] <= short:
        return True
    log.warning(
        "analysis of %d tracks timed out: retrying once on %gs of audio",
        len(kwargs["items"]),
        short,
    )
    job.retries_left = 0  # not the same span again: the shorter job below replaces the retries
    queueing.enqueue_analysis(
        ctx.redis, ctx.settings, kwargs["items"], max_seconds=short, retries=0
    )
    return True
