"""The job queues seen from the API: analysis on demand, failed jobs with reasons, retry, cancel.

RQ speaks synchronous redis-py, so these handlers run its calls in a thread; they are rare and
small. Enqueueing goes through :mod:`soniquebay.queueing`, the one place for the policy.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from soniquebay import library, queueing
from soniquebay.errors import Conflict, InvalidInput, NotFound, Unprocessable
from soniquebay.web import keys
from soniquebay.web.jsonbody import json_response
from soniquebay.web.validation import check_object, json_body

MAX_FAILED_LISTED = 100


async def analyze_audio(request: web.Request) -> web.Response:
    """Queue analysis for ``{"track_ids": [...]}``, for every track without features (no
    body), or for every track again (``{"all": true}``). Asked for, it runs even where it ran."""
    body = await json_body(request) if request.can_read_body else {}
    body = check_object(
        body if body is not None else {}, {"track_ids": list, "force": bool, "all": bool}
    )
    ids = body.get("track_ids")
    if ids is not None:
        if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids):
            raise Unprocessable(
                "track_ids must be a list of positive integers", details={"field": "track_ids"}
            )
        if len(ids) > 10_000:
            raise Unprocessable("at most 10,000 track_ids at once", details={"field": "track_ids"})
    found = [
        i["track_id"]
        for i in request.app[keys.DB].read(
            library.tracks.tracks_to_analyze, ids, only_missing=not body.get("all")
        )
    ]
    if ids is not None:
        unknown = sorted(set(ids) - set(found))
        if unknown:
            raise NotFound(
                f"{len(unknown)} track(s) do not exist or are missing",
                details={"field": "track_ids", "ids": unknown[:50]},
            )
    analysis = [s.name for s in request.app[keys.PLUGINS].stages if s.hook == "analyze_audio"]
    if not analysis:
        raise Unprocessable("no analysis plugin is enabled", details={"field": "plugins"})
    tracks, jobs = await request.app[keys.PIPELINE].schedule(found, only=analysis, force=True)
    return json_response({"tracks": tracks, "jobs": jobs}, status=202)


def _job_json(job: Job, *, with_reason: bool = False) -> dict[str, Any]:
    out = {
        "id": job.id,
        "queue": job.origin,
        "function": (job.func_name or "").removeprefix(queueing.JOBS),
        "status": getattr(job.get_status(), "value", None),
        "description": job.description,
        "enqueued_at": job.enqueued_at.isoformat() if job.enqueued_at else None,
        "ended_at": job.ended_at.isoformat() if job.ended_at else None,
    }
    if with_reason:
        text = (job.exc_info or "").strip()
        out["reason"] = text.splitlines()[-1][:500] if text else None
        out["traceback"] = text[-4000:] or None
    return out


def _jobs_report(client, limit: int) -> dict[str, Any]:
    queues = []
    for name in queueing.QUEUES:
        queue = queueing.get_queue(client, name)
        failed_registry = queue.failed_job_registry
        failed_ids = failed_registry.get_job_ids(0, limit - 1)
        failed = [
            _job_json(job, with_reason=True)
            for job in Job.fetch_many(failed_ids, connection=client, serializer=JSONSerializer)
            if job is not None
        ]
        queues.append(
            {
                "name": name,
                "queued": queue.count,
                "started": queue.started_job_registry.count,
                "scheduled": queue.scheduled_job_registry.count,
                "failed": failed_registry.count,
                "failed_jobs": failed,
            }
        )
    return {"queues": queues}


async def list_jobs(request: web.Request) -> web.Response:
    from soniquebay.web.params import int_param

    limit = int_param(request, "limit", 20, low=1, high=MAX_FAILED_LISTED)
    report = await asyncio.to_thread(_jobs_report, request.app[keys.RQ_REDIS], limit)
    return json_response(report)


JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


def _job_id(request: web.Request) -> str:
    job_id = request.match_info["id"]
    if not JOB_ID.match(job_id):  # ours are run_stage-<hex>…; RQ's own are UUIDs
        raise InvalidInput("not a job id", details={"field": "id"})
    return job_id


def _fetch(client, job_id: str) -> Job:
    try:
        return Job.fetch(job_id, connection=client, serializer=JSONSerializer)
    except NoSuchJobError:
        raise NotFound(
            f"job {job_id} does not exist (or expired)", details={"id": job_id}
        ) from None


async def retry_job(request: web.Request) -> web.Response:
    """Put a failed job back on its queue."""
    client, job_id = request.app[keys.RQ_REDIS], _job_id(request)

    def retry() -> dict[str, Any]:
        job = _fetch(client, job_id)
        if not job.is_failed:
            raise Conflict(
                f"job {job_id} has not failed", details={"status": str(job.get_status())}
            )
        job.requeue()
        return _job_json(job)

    return json_response(await asyncio.to_thread(retry))


async def cancel_job(request: web.Request) -> web.Response:
    """Cancel a queued job, or drop a failed one from the failed registry."""
    client, job_id = request.app[keys.RQ_REDIS], _job_id(request)

    def cancel() -> dict[str, Any]:
        job = _fetch(client, job_id)
        if job.is_failed:
            job.delete()
            return {"id": job_id, "status": "deleted"}
        try:
            job.cancel()
        except InvalidJobOperation as exc:
            raise Conflict(str(exc), details={"id": job_id}) from None
        return _job_json(job)

    return json_response(await asyncio.to_thread(cancel))
