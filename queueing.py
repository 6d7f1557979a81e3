"""The queueing policy in one place: queue names, JSON serialisation, job ids, retries, timeouts.

Jobs name module-level functions of ``soniquebay.daemon.jobs`` by dotted path and carry only
JSON. A job id derives from the files' identity and content version, so a duplicate event (or the
reconcile finding what the watcher already queued) enqueues nothing twice.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from soniquebay.config import Settings
from soniquebay.names import QUEUES, SCAN

JOBS = "soniquebay.daemon.jobs."
# A scan job reads up to four chunks, sending each as the next is read (two chunks are the least
# that overlap the worker's reading with the web's writing); a killed worker re-reads at most
# that many files.
SCAN_JOB_CHUNKS = 4
LIVE_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def connect(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(
        settings.effective_redis_url,
        socket_connect_timeout=5,
        socket_timeout=30,
        health_check_interval=30,
    )


def get_queue(client: redis.Redis, name: str) -> Queue:
    return Queue(name, connection=client, serializer=JSONSerializer)


def job_id(kind: str, payload: Any) -> str:
    digest = hashlib.blake2b(
        json.dumps(payload, sort_keys=True).encode(), digest_size=12
    ).hexdigest()
    return f"{kind}-{digest}"


def _enqueue(
    client: redis.Redis,
    settings: Settings,
    queue_name: str,
    function: str,
    kwargs: dict[str, Any],
    *,
    id_payload: Any,
    delay: float = 0,
    timeout: int | None = None,
    retries: int | None = None,
) -> Job:
    queue = get_queue(client, queue_name)
    jid = job_id(function, id_payload)
    try:
        existing = Job.fetch(jid, connection=client, serializer=JSONSerializer)
        if existing.get_status(refresh=False) in LIVE_STATUSES:
            return existing
    except NoSuchJobError:
        pass
    retries = settings.job_retries if retries is None else retries
    options = dict(
        kwargs=kwargs,
        job_id=jid,
        job_timeout=timeout or settings.job_timeout,
        retry=Retry(max=retries, interval=[5, 30, 120][:retries] or 5) if retries else None,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=f"{function}({', '.join(f'{k}=…' for k in kwargs)})",
    )
    if delay:
        return queue.enqueue_in(timedelta(seconds=delay), JOBS + function, **options)
    return queue.enqueue(JOBS + function, **options)


def scan_job_size(settings: Settings) -> int:
    return settings.chunk_size * SCAN_JOB_CHUNKS


def enqueue_scan(
    client: redis.Redis,
    settings: Settings,
    items: list[dict[str, Any]],
    *,
    task_id: str | None = None,
    delay: float = 0,
) -> Job:
    """Queue one scan job for up to :func:`scan_job_size` files: ``{"path", "size", "mtime_ns",
    "src"}`` each. It sends them in chunks of CHUNK_SIZE, one request each."""
    if len(items) > scan_job_size(settings):
        raise ValueError(f"{len(items)} files in one job; at most {scan_job_size(settings)}")
    version = [(i["path"], i.get("size"), i.get("mtime_ns"), i.get("src")) for i in items]
    return _enqueue(
        client,
        settings,
        SCAN,
        "scan_paths",
        {"items": items, "task_id": task_id},
        id_payload=version,
        delay=delay,
    )


def enqueue_removal(
    client: redis.Redis, settings: Settings, paths: list[str], prefixes: list[str]
) -> Job:
    return _enqueue(
        client,
        settings,
        SCAN,
        "remove_paths",
        {"paths": paths, "prefixes": prefixes},
        id_payload=[sorted(paths), sorted(prefixes)],
    )


def enqueue_tree(client: redis.Redis, settings: Settings, folder: str) -> Job:
    return _enqueue(client, settings, SCAN, "scan_tree", {"folder": folder}, id_payload=folder)


def enqueue_rescan(client: redis.Redis, settings: Settings) -> list[Job]:
    """Read every library folder again (the Activity page's button, Subsonic's startScan)."""
    return [enqueue_tree(client, settings, str(root)) for root in settings.library]


def enqueue_stage(
    client: redis.Redis,
    settings: Settings,
    queue: str,
    stage: str,
    items: list[dict[str, Any]],
    *,
    max_seconds: float | None = None,
    retries: int | None = None,
    delay: float = 0,
    deferrals: int = 0,
) -> Job:
    """Queue one per-track stage for a few tracks: ``{"track_id", "inputs", "track"}`` each.

    The job id derives from the stage and each track's inputs digest: the same work asked for
    twice (a rescan, a retry, the start-up sweep) is queued once. ``deferrals`` counts how
    often these tracks were put back because a service was down (``delay`` seconds later); it
    is part of the id, so a job can put its own tracks back while it still runs.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    kwargs: dict[str, Any] = {"stage": stage, "items": items, "max_seconds": max_seconds}
    id_payload: list[Any] = [stage, [[i["track_id"], i["inputs"]] for i in items], max_seconds]
    if deferrals:
        kwargs["deferrals"] = deferrals
        id_payload.append(deferrals)
    return _enqueue(
        client,
        settings,
        queue,
        "run_stage",
        kwargs,
        id_payload=id_payload,
        retries=retries,
        delay=delay,
    )
