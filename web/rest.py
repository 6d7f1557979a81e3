"""REST handlers under /api: parse and validate, call the storage layer, shape the JSON.

Lists answer ``{"items", "total", "limit", "offset", "next_cursor"}``: page with limit/offset,
or follow ``next_cursor`` (keyset pagination: stable while the library changes).
"""

from __future__ import annotations

import os

from aiohttp import web

from soniquebay import library
from soniquebay.catalog import albums as album_lists
from soniquebay.catalog import page
from soniquebay.catalog import tracks as track_uses
from soniquebay.errors import BatchFailed, InvalidInput, Unprocessable
from soniquebay.library import edits, fields, ingest, sql, stage_data, vectors
from soniquebay.web import keys
from soniquebay.web.health import disabled_plugins
from soniquebay.web.jsonbody import json_response
from soniquebay.web.params import (
    ALBUM_PATCH_SPEC,
    ALBUM_SPEC,
    ARTIST_SPEC,
    FEATURE_SPEC,
    PAGE_PARAMS,
    TRACK_CREATE_SPEC,
    TRACK_SPEC,
    VECTOR_SPEC,
    known_params,
    page_params,
    path_id,
    sort_param,
    track_filters,
)
from soniquebay.web.validation import JSON, check_object, json_object, query_value
from soniquebay.web.viewer import refuse_listeners


def created(body: dict, location: str) -> web.Response:
    return json_response(body, status=201, headers={"Location": location})


def no_content() -> web.Response:
    return web.Response(status=204)


# ------------------------------------------------------------------ tracks


async def list_tracks(request: web.Request) -> web.Response:
    known_params(request, *PAGE_PARAMS, "sort", "cursor", *library.tracks.TRACK_FILTERS)
    limit, offset = page_params(request)
    sort, descending = sort_param(request, "id")
    cursor = query_value(request, "cursor", str)
    if cursor and offset:
        raise InvalidInput("use cursor or offset, not both", details={"field": "offset"})
    query = track_uses.TrackQuery(limit, offset, sort, descending, track_filters(request), cursor)
    return await read(request, track_uses.listed, query, shown_as(request.app))


async def read(request: web.Request, fn, *args) -> web.Response:
    """The JSON of a catalogue read ``fn(db, *args)``, from a reader process when they are up
    (every core reads), else from this one."""
    return await request.app[keys.READERS].respond(request.app[keys.DB], fn, *args)


def shown_as(app: web.Application) -> str | None:
    """Lists carry ``display`` (the layers combined) once an enrichment plugin can fill them:
    the ``metadata_prefer`` setting then, else None (the credit lists alone)."""
    if any(s.hook == "enrich_track" for s in app[keys.PLUGINS].stages):
        return app[keys.SETTINGS].metadata_prefer
    return None


async def get_track(request: web.Request) -> web.Response:
    user_id = request["principal"].user_id
    prefer = request.app[keys.SETTINGS].metadata_prefer
    return await read(request, track_uses.detail, path_id(request), user_id, prefer)


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
    track = sql.public_track(database.read(library.tracks.get_track, track_id))
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
    database.read(library.tracks.get_track, track_id)  # 404 before anything else
    try:
        await database.write(
            edits.update_tracks, [{"id": track_id, **body}], request.app[keys.GROUPING]
        )
    except BatchFailed as exc:
        raise exc.single() from None
    track = sql.public_track(database.read(library.tracks.get_track, track_id))
    request.app[keys.PIPELINE].stored([{**track, "change": "edited"}])
    return json_response(track)


async def patch_track(request: web.Request) -> web.Response:
    return await _update_track(request, replace=False)


async def put_track(request: web.Request) -> web.Response:
    return await _update_track(request, replace=True)


async def delete_track(request: web.Request) -> web.Response:
    track_id = path_id(request)
    database = request.app[keys.DB]
    database.read(library.tracks.get_track, track_id)
    await database.write(edits.delete_tracks, [track_id])
    request.app[keys.PIPELINE].stored([{"id": track_id, "change": "removed"}])
    return no_content()


async def put_features(request: web.Request) -> web.Response:
    track_id = path_id(request)
    body = check_object(await json_object(request), FEATURE_SPEC)
    if not body:
        raise Unprocessable("send at least one feature", details={"field": "body"})
    database = request.app[keys.DB]
    database.read(library.tracks.get_track, track_id)
    await database.write(stage_data.update_features, [{"track_id": track_id, **body}])
    track = sql.public_track(database.read(library.tracks.get_track, track_id))
    request.app[keys.PIPELINE].stored([{"id": track_id, "change": "analysed"}])
    return json_response(track)


# ------------------------------------------------------------------ artists


async def list_artists(request: web.Request) -> web.Response:
    known_params(request, *PAGE_PARAMS, "sort", "q")
    limit, offset = page_params(request)
    sort, descending = sort_param(request, "name")
    query = album_lists.ArtistQuery(limit, offset, query_value(request, "q", str), sort, descending)
    return await read(request, album_lists.artists_page, query)


async def get_artist(request: web.Request) -> web.Response:
    return json_response(request.app[keys.DB].read(library.artists.get_artist, path_id(request)))


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
    limit, offset = page_params(request)
    sort, descending = sort_param(request, "title")
    query = album_lists.AlbumQuery(limit, offset, sort=sort, descending=descending)
    return await read(request, album_lists.of_artist, path_id(request), query)


async def artist_tracks(request: web.Request) -> web.Response:
    known_params(request, *PAGE_PARAMS, "sort")
    limit, offset = page_params(request)
    sort, descending = sort_param(request, "album")
    query = track_uses.TrackQuery(limit, offset, sort, descending)
    return await read(request, track_uses.of_artist, path_id(request), query)


# ------------------------------------------------------------------ albums


async def list_albums(request: web.Request) -> web.Response:
    known_params(request, *PAGE_PARAMS, "sort", "q", "artist_id", "year_min", "year_max")
    limit, offset = page_params(request)
    sort, descending = sort_param(request, "title")
    query = album_lists.AlbumQuery(
        limit,
        offset,
        artist_id=query_value(request, "artist_id", int),
        year_min=query_value(request, "year_min", int),
        year_max=query_value(request, "year_max", int),
        q=query_value(request, "q", str),
        sort=sort,
        descending=descending,
    )
    return await read(request, album_lists.albums_page, query)


async def get_album(request: web.Request) -> web.Response:
    return json_response(request.app[keys.DB].read(library.albums.get_album, path_id(request)))


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
        r["id"]
        for r in database.read(library.tracks.tracks_by_album_ids, [path_id(request)], ["id"])
    }
    album = await database.write(
        edits.update_album, path_id(request), body, request.app[keys.GROUPING]
    )
    if before:  # the tracks' events: pages showing them refresh
        rows = database.read(library.tracks.tracks_by_ids, sorted(before))
        request.app[keys.PIPELINE].stored(
            [{**sql.public_track(r), "change": "edited"} for r in rows]
        )
    return json_response(album)


async def revert_album_edits(request: web.Request) -> web.Response:
    """``DELETE /api/albums/{id}/edits``: the album's tracks get their files' album tags back."""
    database = request.app[keys.DB]
    album = await database.write(edits.revert_album, path_id(request), request.app[keys.GROUPING])
    rows = database.read(library.tracks.tracks_by_album_ids, [album["id"]])
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
    limit, offset = page_params(request)
    return await read(request, track_uses.of_album, path_id(request), limit, offset)


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
    refuse_listeners(request, "the scan errors (with their files' paths)")
    known_params(request, *PAGE_PARAMS)
    limit, offset = page_params(request)
    rows, total = request.app[keys.DB].read(
        library.scan_errors.list_scan_errors, limit=limit, offset=offset
    )
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
