"""The service's health: Redis, the database, workers and queues, the watcher, the music
folders, disk room, remote services and disabled plugins. ``GET /api/health`` answers it (503
when something is wrong), the activity page shows it."""

from __future__ import annotations

import json
import time

import redis.asyncio as aioredis
from aiohttp import web

from soniquebay import __version__, disk, library, names
from soniquebay.library_roots import is_online
from soniquebay.names import QUEUES
from soniquebay.web import keys
from soniquebay.web.jsonbody import json_response
from soniquebay.web.metrics import remote_services


async def disabled_plugins(app: web.Application) -> list[dict]:
    """Plugins disabled for raising in a hook every process relies on: this process's (start
    hooks, probed alike by every process) and those a worker disabled (read_tags)."""
    found = {
        e.name: {"plugin": e.name, "process": "every", "reason": e.error}
        for e in app[keys.PLUGINS].load_errors
        if e.disabled
    }
    try:
        told = await app[keys.REDIS].hvals(names.PLUGINS_DISABLED)
    except (aioredis.RedisError, OSError):
        told = []
    for raw in told:
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        found.setdefault(entry["plugin"], entry)
    return sorted(found.values(), key=lambda e: e["plugin"])


OVERDUE_SECONDS = 60


async def _overdue_scheduled(client: aioredis.Redis) -> dict[str, int]:
    """Jobs (retries, deferrals) due more than a minute ago, per queue: stuck if not zero."""
    pipe = client.pipeline(transaction=False)
    for q in QUEUES:
        pipe.zcount(names.rq_scheduled(q), "-inf", time.time() - OVERDUE_SECONDS)
    return dict(zip(QUEUES, await pipe.execute(), strict=True))


async def handle_health(request: web.Request) -> web.Response:
    report = await health_report(request.app)
    return json_response(report, status=200 if report["status"] == "ok" else 503)


def _redis_recovered(settings) -> dict | None:
    """When the private Redis last moved its damaged files aside (daemon/redis_server.py);
    serve hands its children the private Redis's URL, so the file alone tells."""
    try:
        return json.loads((settings.data_dir / names.REDIS_RECOVERED).read_text())
    except (OSError, ValueError):
        return None


async def health_report(app: web.Application) -> dict:
    """Redis, database, workers, queues, watcher, folders, remote services: what is wrong."""
    settings = app[keys.SETTINGS]
    database = app[keys.DB]
    report: dict = {"version": __version__, "time": time.time()}
    try:
        report["db"] = {
            "ok": not database.problems,
            "problems": database.problems[:5],
            "counts": database.read(library.totals.counts),
        }
    except Exception as exc:  # the health page must answer even when the database does not
        report["db"] = {"ok": False, "error": str(exc)}
    client: aioredis.Redis = app[keys.REDIS]
    try:
        await client.ping()
        persistence = await client.info("persistence")
        for what in ("aof_last_write_status", "rdb_last_bgsave_status"):
            if persistence.get(what) == "err":  # Redis refuses writes until it can persist
                raise aioredis.RedisError(
                    f"Redis cannot write its data to disk ({what}: err), so it refuses writes"
                )
        depths, failed = {}, {}
        pipe = client.pipeline(transaction=False)
        for q in QUEUES:
            pipe.llen(names.rq_queue(q))
            pipe.zcard(names.rq_failed(q))
        answers = await pipe.execute()
        for i, q in enumerate(QUEUES):
            depths[q], failed[q] = answers[2 * i], answers[2 * i + 1]
        overdue = await _overdue_scheduled(client)
        workers = await client.smembers(names.RQ_WORKERS)
        report["redis"] = {
            "ok": True,
            "queues": depths,
            "failed_jobs": failed,
            "workers": len(workers),
            "overdue_scheduled": overdue,
        }
        watcher = await client.hgetall(names.WATCHER)
        report["watcher"] = {
            "alive": bool(watcher),
            "reconciled": bool(watcher.get("reconciled_at")),
            "watching": json.loads(watcher.get("watching", "[]")),
            "outbox": int(watcher.get("outbox", 0)),
            "debouncing": int(watcher.get("debouncing", 0)),
            "unreadable": json.loads(watcher.get("unreadable", "[]")),
            "problem": watcher.get("problem") or None,
        }
        report["warnings"] = [
            f"cannot read {folder}: its tracks are kept, as for an unplugged drive, and it is"
            " read again once it can be"
            for folder in report["watcher"]["unreadable"]
        ] + [
            f"{n} jobs of queue {q} were due over {OVERDUE_SECONDS}s ago and still wait in"
            " rq:scheduled: no worker's scheduler holds the queue"
            for q, n in overdue.items()
            if n
        ]
    except (aioredis.RedisError, OSError) as exc:
        report["redis"] = {"ok": False, "error": str(exc)}
    recovered = _redis_recovered(settings)
    if recovered:
        report["redis"]["recovered"] = recovered
        report.setdefault("warnings", []).append(
            f"Redis could not load its files ({recovered['reason']}) and started clean; they"
            f" are kept in {recovered['moved_to']}; queued work was rebuilt from the library"
        )
    report["library"] = [
        {"path": str(root), "online": is_online(root)} for root in settings.library
    ]
    report["event_listeners"] = app[keys.HUB].listeners
    pipeline = app[keys.PIPELINE]
    report["pipeline"] = {"backlog": pipeline.backlog, "stage_items_queued": pipeline.scheduled}
    readers = app[keys.READERS]
    report["graphql_readers"] = {"processes": readers.processes, "answered": readers.answered}
    if report["redis"]["ok"]:
        report["remote_services"] = await remote_services(client)
        report["warnings"] += [
            f"{name} is unavailable ({state['last_error']}): enrichment waits for it,"
            f" next try in {state['retry_in']:.0f}s"
            for name, state in report["remote_services"].items()
            if state["state"] == "open"
        ]
    report.setdefault("warnings", [])
    problems = report["db"].get("problems", []) + (
        [report["db"]["error"]] if "error" in report["db"] else []
    )
    if not report["redis"]["ok"]:
        problems.append(f"Redis: {report['redis']['error']}")
    full = disk.full(settings.data_dir)
    if full:
        problems.append(full)
    elif low := disk.low(settings.data_dir):
        report["warnings"].append(low)
    if report.get("watcher", {}).get("problem"):
        problems.append(report["watcher"]["problem"])
    problems += [
        f"plugin {d['plugin']} is disabled ({d['reason']}); the others carry on"
        for d in await disabled_plugins(app)
    ]
    report["disk"] = {
        "data_dir": str(settings.data_dir),
        "free": disk.free_bytes(settings.data_dir),
    }
    report["problems"] = problems
    report["status"] = "degraded" if problems else "ok"
    return report
