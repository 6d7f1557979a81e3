"""REST handlers under /api: parse and validate, call the storage layer, shape the JSON.

Lists answer ``{"items", "total", "limit", "offset", "next_cursor"}``: page with limit/offset,
or follow ``next_cursor`` (keyset pagination: stable while the library changes).
"""

from __future__ import annotations

import json
import os
import time

import redis.asyncio as aioredis
from aiohttp import web

from soniquebay import __version__, disk, names
from soniquebay.errors import BatchFailed, InvalidInput, Unprocessable
from soniquebay.library import (
    annotations,
    duplicates,
    edits,
    fields,
    ingest,
    layers,
    queries,
    sql,
    stages,
    vectors,
)
from soniquebay.library_roots import is_online
from soniquebay.names import QUEUES
from soniquebay.web import keys
from soniquebay.web.jsonbody import json_response
from soniquebay.web.metrics import remote_services
from soniquebay.web.validation import JSON, check_object, json_object, query_value

MAX_LIMIT = 500
PAGE_PARAMS = ("limit", "offset")

TRACK_SPEC = {
    **fields.TAG_TYPES,
    "track_artist_id": int,
    "album_id": int,
}
TRACK_CREATE_SPEC = {**TRACK_SPEC, "path": str, "size": int, "mtime_ns": int}
FEATURE_SPEC = {f: JSON if t == "json" else t for f, t in fields.FEATURE_TYPES.items()}
ARTIST_SPEC = {"name": str, "musicbrainz_artistid": str}
ALBUM_SPEC = {"title": str, "album_artist_id": int, "year": int, "musicbrainz_albumid": str}
# PATCH may also set any album-wide tag on every track of the album.
ALBUM_PATCH_SPEC = {
    **ALBUM_SPEC,
    **{f: fields.TAG_TYPES[c] for f, c in edits.ALBUM_ON_TRACKS.items() if f not in ALBUM_SPEC},
}
VECTOR_SPEC = {"track_id": int, "name": str, "vector": JSON}


def int_param(
    request: web.Request,
    name: str,
    default: int | None = None,
    *,
    low: int = 0,
    high: int | None = None,
) -> int | None:
    value = query_value(request, name, int)
    if value is None:
        return default
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"{name} must be {bound}", details={"field": name})
    return value


def page_params(request: web.Request) -> tuple[int, int]:
    return int_param(request, "limit", 50, low=1, high=MAX_LIMIT), int_param(request, "offset", 0)


def known_params(request: web.Request, *allowed: str) -> None:
    unknown = set(request.query) - set(allowed)
    if unknown:
        name = sorted(unknown)[0][:60]
        raise InvalidInput(
            f"unknown query parameter {name!r}",
            details={"field": name, "allowed": sorted(allowed)},
        )


def sort_param(request: web.Request, default: str) -> tuple[str, bool]:
    sort = request.query.get("sort", default)
    return sort.lstrip("-"), sort.startswith("-")


def page(items: list, total: int | None, limit: int, offset: int, next_cursor=None) -> dict:
    return {
        "items": items,
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_cursor": next_cursor,
    }


def path_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # "²" and "１" are digits too
        raise InvalidInput(f"{name} must be a positive integer", details={"field": name})
    return int(raw)


def created(body: dict, location: str) -> web.Response:
    return json_response(body, status=201, headers={"Location": location})


def no_content() -> web.Response:
    return web.Response(status=204)


def single(exc: BatchFailed) -> Unprocessable:
    """A one-item batch's refusal, told as a plain validation error."""
    item = exc.details["items"][0]
    details = {"field": item["field"]} if "field" in item else {}
    return Unprocessable(item["message"], details=details)


# ------------------------------------------------------------------ tracks


def track_filters(request: web.Request) -> dict:
    filters = {
        name: query_value(request, name, kind) for name, kind in queries.TRACK_FILTERS.items()
    }
    return {k: v for k, v in filters.items() if v is not None}


async def list_tracks(request: web.Request) -> web.Response:
    known_params(request, *PAGE_PARAMS, "sort", "cursor", *queries.TRACK_FILTERS)
    limit, offset = page_params(request)
    sort, descending = sort_param(request, "id")
    cursor = query_value(request, "cursor", str)
    if cursor and offset:
        raise InvalidInput("use cursor or offset, not both", details={"field": "offset"})
    filters = track_filters(request)
    database = request.app[keys.DB]
    rows, _ = database.read(
        queries.list_tracks,
        limit=limit,
        offset=offset,
        sort=sort,
        descending=descending,
        filters=filters,
        cursor=cursor,
        with_total=False,
    )
    total = database.cached_read(
        ("tracks", tuple(sorted(filters.items()))), queries.count_tracks, filters
    )
    next_cursor = queries.track_cursor(rows[-1], sort) if len(rows) == limit else None
    items = [sql.public_track(r) for r in rows]
    if enrichment_shown(request.app):
        with_display(request.app, items)
    else:  # the credit lists alone (with_display adds them with the layers)
        credited = database.read(queries.credits, [t["id"] for t in items])
        for track in items:
            track.update(credited[track["id"]])
    return json_response(page(items, total, limit, offset, next_cursor))


def with_display(app: web.Application, tracks: list[dict]) -> list[dict]:
    """A page of tracks, each with ``display``: the layers combined as the library shows them."""
    database, ids = app[keys.DB], [t["id"] for t in tracks]
    credited = database.read(queries.credits, ids)
    for track in tracks:
        track.update(credited[track["id"]])
    return layers.display_many(
        tracks,
        database.read(stages.plugin_data, ids),
        database.read(edits.edits_of_many, ids),
        app[keys.SETTINGS].metadata_prefer,
    )


def enrichment_shown(app: web.Application) -> bool:
    """Lists carry ``display`` (the layers combined) once an enrichment plugin can fill them."""
    return any(s.hook == "enrich_track" for s in app[keys.PLUGINS].stages)


async def get_track(request: web.Request) -> web.Response:
    database, track_id = request.app[keys.DB], path_id(request)
    track = sql.public_track(database.read(queries.get_track, track_id))
    track.update(database.read(queries.credits, [track_id])[track_id])
    plugin_data = database.read(stages.plugin_data, [track_id])[track_id]
    track["plugin_data"] = plugin_data
    track["stage_failures"] = database.read(stages.failures, track_id)
    track["duplicates"] = [
        {**d, "path": sql.display_path(d["path"])}
        for d in database.read(duplicates.of_track, track_id)
    ]
    prefer = request.app[keys.SETTINGS].metadata_prefer
    layers.with_layers(track, plugin_data, prefer, database.read(edits.edits_of, track_id))
    user_id = request["principal"].user_id
    if user_id is not None:  # what the asking user keeps of it: star, rating, plays
        mine = database.read(annotations.of_items, user_id, "track", [track_id]).get(track_id)
        track["me"] = mine or {
            "starred_at": None,
            "rating": None,
            "play_count": 0,
            "last_played": None,
        }
    return json_response(track)


async def revert_edits(request: web.Request) -> web.Response:
    """``DELETE /api/tracks/{id}/edits`` (every field, or ``?field=genre&field=year``): the
    file's values come back."""
    track_id = path_id(request)
    chosen = request.query.getall("field", None)
    if chosen is not None:
        unknown = [f for f in chosen if f not in fields.TRACK_EDITABLE]
        if unknown:
            raise InvalidInput(f"not an editable field: {unknown[0]}", details={"field": "field"})
    database = request.app[keys.DB]
    reverted = await database.write(edits.revert, track_id, chosen, request.app[keys.GROUPING])
    track = sql.public_track(database.read(queries.get_track, track_id))
    if reverted:
        request.app[keys.PIPELINE].stored([{**track, "change": "edited"}])
    return json_response({"reverted": reverted, "track": track})


async def create_track(request: web.Request) -> web.Response:
    body = check_object(
        await json_object(request), TRACK_CREATE_SPEC, required=("path",), not_null=("path",)
    )
    body["path"] = os.fsencode(body["path"])
    track = sql.public_track(
        await request.app[keys.DB].write(edits.create_track, body, request.app[keys.GROUPING])
    )
    request.app[keys.PIPELINE].stored([{**track, "change": "added"}])
    return created(track, f"/api/tracks/{track['id']}")


async def _update_track(request: web.Request, *, replace: bool) -> web.Response:
    track_id = path_id(request)
    body = check_object(await json_object(request), TRACK_SPEC)
    if replace:  # PUT: every editable field not sent becomes null
        body = {field: body.get(field) for field in fields.TRACK_EDITABLE}
    database = request.app[keys.DB]
    database.read(queries.get_track, track_id)  # 404 before anything else
    try:
        await database.write(
            edits.update_tracks, [{"id": track_id, **body}], request.app[keys.GROUPING]
        )
    except BatchFailed as exc:
        raise single(exc) from None
    track = sql.public_track(database.read(queries.get_track, track_id))
    request.app[keys.PIPELINE].stored([{**track, "change": "edited"}])
    return json_response(track)


async def patch_track(request: web.Request) -> web.Response:
    return await _update_track(request, replace=False)


async def put_track(request: web.Request) -> web.Response:
    return await _update_track(request, replace=True)


async def delete_track(request: web.Request) -> web.Response:
    track_id = path_id(request)
    database = request.app[keys.DB]
    database.read(queries.get_track, track_id)
    await database.write(edits.delete_tracks, [track_id])
    request.app[keys.PIPELINE].stored([{"id": track_id, "change": "removed"}])
    return no_content()


async def put_features(request: web.Request) -> web.Response:
    track_id = path_id(request)
    body = check_object(await json_object(request), FEATURE_SPEC)
    if not body:
        raise Unprocessable("send at least one feature", details={"field": "body"})
    database = request.app[keys.DB]
    database.read(queries.get_track, track_id)
    await database.write(stages.update_features, [{"track_id": track_id, **body}])
    track = sql.public_track(database.read(queries.get_track, track_id))
    request.app[keys.PIPELINE].stored([{"id": track_id, "change": "analysed"}])
    return json_response(track)


# ------------------------------------------------------------------ artists


async def list_artists(request: web.Request) -> web.Response:
    known_params(request, *PAGE_PARAMS, "sort", "q")
    limit, offset = page_params(request)
    sort, descending = sort_param(request, "name")
    # Whole pages are cached until the next write: the visibility counts are not free.
    rows, total = request.app[keys.DB].cached_read(
        ("list_artists", tuple(sorted(request.query.items()))),
        queries.list_artists,
        limit=limit,
        offset=offset,
        q=query_value(request, "q", str),
        sort=sort,
        descending=descending,
    )
    return json_response(page(rows, total, limit, offset))


async def get_artist(request: web.Request) -> web.Response:
    return json_response(request.app[keys.DB].read(queries.get_artist, path_id(request)))


async def create_artist(request: web.Request) -> web.Response:
    body = check_object(
        await json_object(request), ARTIST_SPEC, required=("name",), not_null=("name",)
    )
    artist = await request.app[keys.DB].write(edits.create_artist, body)
    return created(artist, f"/api/artists/{artist['id']}")


async def _update_artist(request: web.Request, *, replace: bool) -> web.Response:
    spec_kwargs = {"required": ("name",)} if replace else {}
    body = check_object(await json_object(request), ARTIST_SPEC, not_null=("name",), **spec_kwargs)
    if replace:
        body = {field: body.get(field) for field in ARTIST_SPEC}
    return json_response(
        await request.app[keys.DB].write(edits.update_artist, path_id(request), body)
    )


async def patch_artist(request: web.Request) -> web.Response:
    return await _update_artist(request, replace=False)


async def put_artist(request: web.Request) -> web.Response:
    return await _update_artist(request, replace=True)


async def delete_artist(request: web.Request) -> web.Response:
    await request.app[keys.DB].write(edits.delete_artist, path_id(request))
    return no_content()


async def artist_albums(request: web.Request) -> web.Response:
    known_params(request, *PAGE_PARAMS, "sort")
    artist_id = path_id(request)
    database = request.app[keys.DB]
    database.read(queries.get_artist, artist_id)
    limit, offset = page_params(request)
    sort, descending = sort_param(request, "title")
    rows, total = database.read(
        queries.list_albums,
        limit=limit,
        offset=offset,
        artist_id=artist_id,
        sort=sort,
        descending=descending,
    )
    return json_response(page(rows, total, limit, offset))


async def artist_tracks(request: web.Request) -> web.Response:
    known_params(request, *PAGE_PARAMS, "sort")
    artist_id = path_id(request)
    database = request.app[keys.DB]
    database.read(queries.get_artist, artist_id)
    limit, offset = page_params(request)
    sort, descending = sort_param(request, "album")
    rows, total = database.read(
        queries.list_tracks,
        limit=limit,
        offset=offset,
        sort=sort,
        descending=descending,
        artist_id=artist_id,
    )
    return json_response(page([sql.public_track(r) for r in rows], total, limit, offset))


# ------------------------------------------------------------------ albums


async def list_albums(request: web.Request) -> web.Response:
    known_params(request, *PAGE_PARAMS, "sort", "q", "artist_id", "year_min", "year_max")
    limit, offset = page_params(request)
    sort, descending = sort_param(request, "title")
    # Whole pages are cached until the next write: the visibility counts are not free.
    rows, total = request.app[keys.DB].cached_read(
        ("list_albums", tuple(sorted(request.query.items()))),
        queries.list_albums,
        limit=limit,
        offset=offset,
        artist_id=query_value(request, "artist_id", int),
        year_min=query_value(request, "year_min", int),
        year_max=query_value(request, "year_max", int),
        q=query_value(request, "q", str),
        sort=sort,
        descending=descending,
    )
    return json_response(page(rows, total, limit, offset))


async def get_album(request: web.Request) -> web.Response:
    return json_response(request.app[keys.DB].read(queries.get_album, path_id(request)))


async def create_album(request: web.Request) -> web.Response:
    body = check_object(
        await json_object(request), ALBUM_SPEC, required=("title",), not_null=("title",)
    )
    album = await request.app[keys.DB].write(edits.create_album, body)
    return created(album, f"/api/albums/{album['id']}")


async def _update_album(request: web.Request, *, replace: bool) -> web.Response:
    spec_kwargs = {"required": ("title",)} if replace else {}
    spec = ALBUM_SPEC if replace else ALBUM_PATCH_SPEC
    body = check_object(await json_object(request), spec, not_null=("title",), **spec_kwargs)
    if replace:
        body = {field: body.get(field) for field in ALBUM_SPEC}
    database = request.app[keys.DB]
    before = {
        r["id"] for r in database.read(queries.tracks_by_album_ids, [path_id(request)], ["id"])
    }
    album = await database.write(
        edits.update_album, path_id(request), body, request.app[keys.GROUPING]
    )
    if before:  # the tracks' events: pages showing them refresh
        rows = database.read(queries.tracks_by_ids, sorted(before))
        request.app[keys.PIPELINE].stored(
            [{**sql.public_track(r), "change": "edited"} for r in rows]
        )
    return json_response(album)


async def revert_album_edits(request: web.Request) -> web.Response:
    """``DELETE /api/albums/{id}/edits``: the album's tracks get their files' album tags back."""
    database = request.app[keys.DB]
    album = await database.write(edits.revert_album, path_id(request), request.app[keys.GROUPING])
    rows = database.read(queries.tracks_by_album_ids, [album["id"]])
    request.app[keys.PIPELINE].stored([{**sql.public_track(r), "change": "edited"} for r in rows])
    return json_response(album)


async def patch_album(request: web.Request) -> web.Response:
    return await _update_album(request, replace=False)


async def put_album(request: web.Request) -> web.Response:
    return await _update_album(request, replace=True)


async def delete_album(request: web.Request) -> web.Response:
    await request.app[keys.DB].write(edits.delete_album, path_id(request))
    return no_content()


async def album_tracks(request: web.Request) -> web.Response:
    known_params(request, *PAGE_PARAMS)
    album_id = path_id(request)
    database = request.app[keys.DB]
    database.read(queries.get_album, album_id)
    limit, offset = page_params(request)
    rows, total = database.read(
        queries.list_tracks, limit=limit, offset=offset, sort="album", album_id=album_id
    )
    return json_response(page([sql.public_track(r) for r in rows], total, limit, offset))


# ------------------------------------------------------------------ track vectors


def vector_blob(request: web.Request, values) -> tuple[bytes, int]:
    dimension = request.app[keys.SETTINGS].embedding_dimension
    if not isinstance(values, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
    ):
        raise Unprocessable("vector must be a list of numbers", details={"field": "vector"})
    if len(values) != dimension:
        raise Unprocessable(
            f"vector must have {dimension} numbers (EMBEDDING_DIMENSION), got {len(values)}",
            details={"field": "vector", "expected": dimension, "got": len(values)},
        )
    try:
        blob = vectors.pack_vector(values)
    except OverflowError:
        raise Unprocessable(
            "vector values must fit in float32", details={"field": "vector"}
        ) from None
    if any(v is None for v in vectors.unpack_vector(blob)):
        raise Unprocessable("vector values must be finite", details={"field": "vector"})
    return blob, dimension


async def list_vectors(request: web.Request) -> web.Response:
    known_params(request, *PAGE_PARAMS, "track_id", "name", "with_vectors")
    limit, offset = page_params(request)
    rows, total = request.app[keys.DB].read(
        vectors.list_vectors,
        limit=limit,
        offset=offset,
        track_id=query_value(request, "track_id", int),
        name=query_value(request, "name", str),
        with_vectors=bool(query_value(request, "with_vectors", bool)),
    )
    return json_response(page(rows, total, limit, offset))


async def get_vector(request: web.Request) -> web.Response:
    return json_response(request.app[keys.DB].read(vectors.get_vector, path_id(request)))


async def create_vector(request: web.Request) -> web.Response:
    body = check_object(
        await json_object(request), VECTOR_SPEC, required=("track_id", "vector"), not_null=("name",)
    )
    blob, dimension = vector_blob(request, body["vector"])
    row = await request.app[keys.DB].write(
        vectors.create_vector,
        {
            "track_id": body["track_id"],
            "name": body.get("name") or "default",
            "vector": blob,
            "dimension": dimension,
        },
    )
    return created(row, f"/api/track-vectors/{row['id']}")


async def put_vector(request: web.Request) -> web.Response:
    body = check_object(await json_object(request), {"vector": JSON}, required=("vector",))
    blob, dimension = vector_blob(request, body["vector"])
    row = await request.app[keys.DB].write(
        vectors.update_vector, path_id(request), {"vector": blob, "dimension": dimension}
    )
    return json_response(row)


async def delete_vector(request: web.Request) -> web.Response:
    await request.app[keys.DB].write(vectors.delete_vector, path_id(request))
    return no_content()


# ------------------------------------------------------------------ the rest


async def list_scan_errors(request: web.Request) -> web.Response:
    known_params(request, *PAGE_PARAMS)
    limit, offset = page_params(request)
    rows, total = request.app[keys.DB].read(queries.list_scan_errors, limit=limit, offset=offset)
    return json_response(page(rows, total, limit, offset))


async def library_files(request: web.Request) -> web.Response:
    """What the library holds under a folder: ``[path, size, mtime_ns, known_bad]`` rows, for
    the watcher's start-up reconcile (it never opens the database itself)."""
    body = check_object(await json_object(request), {"root": str}, required=("root",))
    prefix = os.fsencode(body["root"]).rstrip(b"/") + b"/"
    states = request.app[keys.DB].read(ingest.file_states)
    files = [
        [os.fsdecode(path), size, mtime, bad]
        for path, (size, mtime, bad) in states.items()
        if path.startswith(prefix)
    ]
    return json_response({"files": files})


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


async def list_plugins(request: web.Request) -> web.Response:
    plugins = request.app[keys.PLUGINS]
    loaded = [
        {
            "name": p.name,
            "source": p.source,
            "location": p.location,
            "hooks": list(p.hooks),
            "options": {k: str(v) for k, v in plugins.options.get(p.name, {}).items()},
            "failures": plugins.failure_counts[p.name],
            "recent_failures": [
                {"hook": f.hook, "reason": f.reason, "at": f.at} for f in plugins.failures[p.name]
            ],
        }
        for p in plugins.infos()
    ]
    failed = [{"name": e.name, "source": e.source, "error": e.error} for e in plugins.load_errors]
    known = {f["name"] for f in failed}
    failed += [
        {"name": d["plugin"], "source": d["process"], "error": d["reason"]}
        for d in await disabled_plugins(request.app)
        if d["plugin"] not in known
    ]
    stages_declared = [
        {
            "name": s.name,
            "hook": s.hook,
            "plugins": list(s.plugins),
            "queue": s.queue,
            "needs": list(s.needs),
            "produces": list(s.produces),
            "version": s.version,
        }
        for s in plugins.stages
    ]
    return json_response({"plugins": loaded, "failed": failed, "stages": stages_declared})


OVERDUE_SECONDS = 60


async def _overdue_scheduled(client: aioredis.Redis) -> dict[str, int]:
    """Jobs (retries, deferrals) due more than a minute ago, per queue: stuck if not zero."""
    pipe = client.pipeline(transaction=False)
    for q in QUEUES:
        pipe.zcount(names.rq_scheduled(q), "-inf", time.time() - OVERDUE_SECONDS)
    return dict(zip(QUEUES, await pipe.execute(), strict=True))


async def health(request: web.Request) -> web.Response:
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
            "counts": database.read(queries.counts),
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
