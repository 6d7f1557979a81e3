"""REST handlers under /api: parse and validate, call the storage layer, shape the JSON."""

from __future__ import annotations

import json
import time

import redis.asyncio as aioredis
from aiohttp import web

from soniquebay import __version__
from soniquebay.daemon.library_roots import is_online
from soniquebay.daemon.queueing import QUEUES
from soniquebay.daemon.watcher import WATCHER_KEY
from soniquebay.errors import InvalidInput
from soniquebay.library import store
from soniquebay.plugins import get_plugins
from soniquebay.web import keys

MAX_LIMIT = 500


def int_param(
    request: web.Request,
    name: str,
    default: int | None = None,
    *,
    low: int = 0,
    high: int | None = None,
) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(
            f"{name} must be an integer, got {raw[:40]!r}", details={"field": name}
        ) from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"{name} must be {bound}", details={"field": name})
    return value


def page_params(request: web.Request) -> tuple[int, int]:
    return int_param(request, "limit", 50, low=1, high=MAX_LIMIT), int_param(request, "offset", 0)


def page(items: list, total: int, limit: int, offset: int) -> dict:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def path_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(f"{name} must be a positive integer", details={"field": name})
    return int(raw)


async def list_tracks(request: web.Request) -> web.Response:
    limit, offset = page_params(request)
    sort = request.query.get("sort", "id")
    descending = sort.startswith("-")
    rows, total = request.app[keys.DB].read(
        store.list_tracks,
        limit=limit,
        offset=offset,
        sort=sort.lstrip("-"),
        descending=descending,
        album_id=int_param(request, "album_id"),
        artist_id=int_param(request, "artist_id"),
    )
    return web.json_response(page([store.public_track(r) for r in rows], total, limit, offset))


async def get_track(request: web.Request) -> web.Response:
    return web.json_response(
        store.public_track(request.app[keys.DB].read(store.get_track, path_id(request)))
    )


async def list_artists(request: web.Request) -> web.Response:
    limit, offset = page_params(request)
    rows, total = request.app[keys.DB].read(store.list_artists, limit=limit, offset=offset)
    return web.json_response(page(rows, total, limit, offset))


async def get_artist(request: web.Request) -> web.Response:
    return web.json_response(request.app[keys.DB].read(store.get_artist, path_id(request)))


async def list_albums(request: web.Request) -> web.Response:
    limit, offset = page_params(request)
    rows, total = request.app[keys.DB].read(
        store.list_albums, limit=limit, offset=offset, artist_id=int_param(request, "artist_id")
    )
    return web.json_response(page(rows, total, limit, offset))


async def get_album(request: web.Request) -> web.Response:
    return web.json_response(request.app[keys.DB].read(store.get_album, path_id(request)))


async def list_scan_errors(request: web.Request) -> web.Response:
    limit, offset = page_params(request)
    rows, total = request.app[keys.DB].read(store.list_scan_errors, limit=limit, offset=offset)
    return web.json_response(page(rows, total, limit, offset))


async def list_plugins(request: web.Request) -> web.Response:
    pm = request.app[keys.PLUGINS]
    loaded = [{"name": p.name, "source": p.source, "hooks": list(p.hooks)} for p in get_plugins(pm)]
    failed = [{"name": e.name, "source": e.source, "error": e.error} for e in pm.load_errors]
    return web.json_response({"plugins": loaded, "failed": failed})


async def health(request: web.Request) -> web.Response:
    app = request.app
    settings = app[keys.SETTINGS]
    database = app[keys.DB]
    report: dict = {"version": __version__, "time": time.time()}
    try:
        report["db"] = {
            "ok": not database.problems,
            "problems": database.problems[:5],
            "counts": database.read(store.counts),
        }
    except Exception as exc:  # the health page must answer even when the database does not
        report["db"] = {"ok": False, "error": str(exc)}
    client: aioredis.Redis = app[keys.REDIS]
    try:
        await client.ping()
        depths = {}
        pipe = client.pipeline(transaction=False)
        for q in QUEUES:
            pipe.llen(f"rq:queue:{q}")
        for q, n in zip(QUEUES, await pipe.execute(), strict=True):
            depths[q] = n
        workers = await client.smembers("rq:workers")
        report["redis"] = {"ok": True, "queues": depths, "workers": len(workers)}
        watcher = await client.hgetall(WATCHER_KEY)
        report["watcher"] = {
            "alive": bool(watcher),
            "reconciled": bool(watcher.get("reconciled_at")),
            "watching": json.loads(watcher.get("watching", "[]")),
            "outbox": int(watcher.get("outbox", 0)),
            "debouncing": int(watcher.get("debouncing", 0)),
        }
    except (aioredis.RedisError, OSError) as exc:
        report["redis"] = {"ok": False, "error": str(exc)}
    report["library"] = [
        {"path": str(root), "online": is_online(root)} for root in settings.library
    ]
    report["event_listeners"] = app[keys.HUB].listeners
    ok = report["db"].get("ok") and report["redis"]["ok"]
    report["status"] = "ok" if ok else "degraded"
    return web.json_response(report, status=200 if ok else 503)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/health", health),
        web.get("/api/tracks", list_tracks),
        web.get("/api/tracks/{id}", get_track),
        web.get("/api/artists", list_artists),
        web.get("/api/artists/{id}", get_artist),
        web.get("/api/albums", list_albums),
        web.get("/api/albums/{id}", get_album),
        web.get("/api/scan/errors", list_scan_errors),
        web.get("/api/plugins", list_plugins),
    ]
