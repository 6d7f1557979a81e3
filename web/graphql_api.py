"""GraphQL at /api/graphql: the schema is ``schema.graphql``; the resolvers are here.

Mutations are the batch writes the workers use; each runs in one transaction on the writer thread.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from typing import Any

from aiohttp import web
from graphql import (
    GraphQLError,
    GraphQLSchema,
    build_schema,
    graphql,
)
from graphql.language import ast as gql_ast

from soniquebay.errors import InvalidInput, NotFound, SoniqueBayError
from soniquebay.library import store
from soniquebay.web import keys
from soniquebay.web.changes import announce_tracks


def _parse_long(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphQLError(f"Long must be an integer, got {value!r}")
    return value


def _parse_long_literal(node: Any, _variables: Any = None) -> int:
    if isinstance(node, gql_ast.IntValueNode):
        return int(node.value)
    raise GraphQLError("Long must be an integer literal")


def _parse_json_literal(node: Any, _variables: Any = None) -> Any:
    from graphql.utilities import value_from_ast_untyped

    return value_from_ast_untyped(node, _variables)


def load_schema() -> GraphQLSchema:
    sdl = resources.files("soniquebay.web").joinpath("schema.graphql").read_text(encoding="utf-8")
    schema = build_schema(sdl)
    long_type = schema.type_map["Long"]
    long_type.serialize = _parse_long
    long_type.parse_value = _parse_long
    long_type.parse_literal = _parse_long_literal
    json_type = schema.type_map["JSON"]
    json_type.serialize = lambda v: v
    json_type.parse_value = lambda v: v
    json_type.parse_literal = _parse_json_literal
    _bind(schema)
    return schema


def _page(rows: list[dict], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


def _check_page(limit: int, offset: int) -> None:
    if not 0 < limit <= 500:
        raise InvalidInput("limit must be between 1 and 500", details={"field": "limit"})
    if offset < 0:
        raise InvalidInput("offset must not be negative", details={"field": "offset"})


def _db(info: Any):
    return info.context["app"][keys.DB]


def _batch(info: Any, data: list) -> None:
    cap = info.context["app"][keys.SETTINGS].chunk_size
    if len(data) > cap:
        raise InvalidInput(
            f"at most {cap} items per batch (CHUNK_SIZE), got {len(data)}",
            details={"field": "data"},
        )


# ------------------------------------------------------------------ queries


def resolve_tracks(
    _root, info, limit, offset, sort="id", descending=False, album_id=None, artist_id=None
):
    _check_page(limit, offset)
    rows, total = _db(info).read(
        store.list_tracks,
        limit=limit,
        offset=offset,
        sort=sort,
        descending=descending,
        album_id=album_id,
        artist_id=artist_id,
    )
    return _page([store.public_track(r) for r in rows], total, limit, offset)


def resolve_track(_root, info, id):
    try:
        return store.public_track(_db(info).read(store.get_track, id))
    except NotFound:
        return None


def resolve_artists(_root, info, limit, offset):
    _check_page(limit, offset)
    return _page(*_db(info).read(store.list_artists, limit=limit, offset=offset), limit, offset)


def resolve_artist(_root, info, id):
    try:
        return _db(info).read(store.get_artist, id)
    except NotFound:
        return None


def resolve_albums(_root, info, limit, offset, artist_id=None):
    _check_page(limit, offset)
    return _page(
        *_db(info).read(store.list_albums, limit=limit, offset=offset, artist_id=artist_id),
        limit,
        offset,
    )


def resolve_album(_root, info, id):
    try:
        return _db(info).read(store.get_album, id)
    except NotFound:
        return None


def resolve_scan_errors(_root, info, limit, offset):
    _check_page(limit, offset)
    return _page(*_db(info).read(store.list_scan_errors, limit=limit, offset=offset), limit, offset)


def resolve_track_artist(track, info):
    return (
        resolve_artist(None, info, track["track_artist_id"])
        if track.get("track_artist_id")
        else None
    )


def resolve_track_album(track, info):
    return resolve_album(None, info, track["album_id"]) if track.get("album_id") else None


def resolve_album_tracks(album, info):
    rows, _ = _db(info).read(store.list_tracks, album_id=album["id"], sort="album", limit=10_000)
    return [store.public_track(r) for r in rows]


def resolve_album_artist(album, info):
    return (
        resolve_artist(None, info, album["album_artist_id"])
        if album.get("album_artist_id")
        else None
    )


def resolve_artist_albums(artist, info):
    rows, _ = _db(info).read(store.list_albums, artist_id=artist["id"], limit=10_000)
    return rows


def resolve_artist_tracks(artist, info, limit, offset):
    _check_page(limit, offset)
    rows, total = _db(info).read(
        store.list_tracks, artist_id=artist["id"], limit=limit, offset=offset
    )
    return _page([store.public_track(r) for r in rows], total, limit, offset)


# ------------------------------------------------------------------ mutations


async def resolve_create_artists(_root, info, data):
    _batch(info, data)
    return await _db(info).write(store.upsert_artists, data)


async def resolve_create_albums(_root, info, data):
    _batch(info, data)
    return await _db(info).write(store.upsert_albums, data)


async def resolve_create_tracks(_root, info, data):
    _batch(info, data)
    database = _db(info)
    done = await database.write(store.upsert_tracks, [store.from_wire(item) for item in data])
    rows = {r["id"]: r for r in database.read(store.tracks_by_ids, [d["id"] for d in done])}
    out = []
    for d in done:
        track = store.public_track(rows[d["id"]])
        track["change"] = d["action"]
        # Workers need the exact path back (it names the file they will analyse next).
        track["path"] = os.fsdecode(d["path"])
        out.append(track)
    await announce_tracks(info.context["app"], out)
    return out


async def resolve_record_scan_errors(_root, info, data):
    _batch(info, data)
    return await _db(info).write(store.record_scan_errors, [store.from_wire(item) for item in data])


async def resolve_mark_missing(_root, info, paths=None, prefixes=None):
    paths, prefixes = paths or [], prefixes or []
    _batch(info, paths)
    changed = await _db(info).write(
        store.mark_missing, [os.fsencode(p) for p in paths], [os.fsencode(p) for p in prefixes]
    )
    await announce_tracks(
        info.context["app"], [{"id": r["id"], "change": "removed"} for r in changed]
    )
    return len(changed)


async def resolve_update_features(_root, info, data):
    _batch(info, data)
    items = []
    for item in data:
        item = dict(item)
        if "extra" in item:
            item["features_extra"] = item.pop("extra")
        items.append(item)
    ids = await _db(info).write(store.update_features, items)
    await announce_tracks(info.context["app"], [{"id": i, "change": "analysed"} for i in ids])
    return ids


def _bind(schema: GraphQLSchema) -> None:
    resolvers = {
        "Query": {
            "tracks": resolve_tracks,
            "track": resolve_track,
            "artists": resolve_artists,
            "artist": resolve_artist,
            "albums": resolve_albums,
            "album": resolve_album,
            "scan_errors": resolve_scan_errors,
        },
        "Track": {"artist": resolve_track_artist, "album": resolve_track_album},
        "Album": {"tracks": resolve_album_tracks, "album_artist": resolve_album_artist},
        "Artist": {"albums": resolve_artist_albums, "tracks": resolve_artist_tracks},
        "Mutation": {
            "create_artists": resolve_create_artists,
            "create_albums": resolve_create_albums,
            "create_tracks": resolve_create_tracks,
            "record_scan_errors": resolve_record_scan_errors,
            "mark_missing": resolve_mark_missing,
            "update_features": resolve_update_features,
        },
    }
    for type_name, fields in resolvers.items():
        for field_name, fn in fields.items():
            schema.type_map[type_name].fields[field_name].resolve = fn


def _error_json(error: GraphQLError) -> dict[str, Any]:
    out = error.formatted
    original = error.original_error
    if isinstance(original, SoniqueBayError):
        out.setdefault("extensions", {})["code"] = original.code
        if original.details:
            out["extensions"]["details"] = original.details
    return out


async def handle_graphql(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput(
            'the request body must be JSON: {"query": ..., "variables": ...}'
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise InvalidInput('a GraphQL request needs a "query" string', details={"field": "query"})
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise InvalidInput('"variables" must be an object', details={"field": "variables"})
    result = await graphql(
        request.app[keys.SCHEMA],
        body["query"],
        variable_values=variables,
        operation_name=body.get("operationName"),
        context_value={"request": request, "app": request.app},
    )
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [_error_json(e) for e in result.errors]
    status = 400 if result.errors and result.data is None else 200
    # ensure_ascii: a non-UTF-8 path echoed back to a worker survives as \udcXX escapes.
    return web.json_response(
        payload, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=True)
    )
