"""GraphQL at /api/graphql: the schema is ``schema.graphql``; the resolvers are here.

Mutations are the batch writes the workers use; each runs in one transaction on the writer thread.
Relations (a track's album, an album's tracks, ...) go through per-request batch loaders
(:mod:`soniquebay.web.loaders`), so 50 albums with their tracks cost a handful of queries.
Depth and cost are checked by validation rules before anything runs.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from importlib import resources
from typing import Any

from aiohttp import web
from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    OperationType,
    build_schema,
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.language import OperationDefinitionNode
from graphql.language import ast as gql_ast
from graphql.pyutils import is_awaitable

from soniquebay.catalog import albums as album_lists
from soniquebay.catalog import page as _page
from soniquebay.catalog import stage_results
from soniquebay.catalog import tracks as track_uses
from soniquebay.errors import BatchFailed, InvalidInput, SoniqueBayError
from soniquebay.library import edits, fields, ingest, queries, sql, stages, vectors
from soniquebay.web import access, covers, keys
from soniquebay.web.changes import CARRIED
from soniquebay.web.graphql_lean import Fallback, LeanExecutor
from soniquebay.web.graphql_limits import check_limits
from soniquebay.web.jsonbody import encoded_response, json_response
from soniquebay.web.loaders import Loader, Loaders, then
from soniquebay.web.render import render
from soniquebay.web.validation import MAX_QUERY_TEXT, check_text, parse_json

MAX_TOKENS = 20_000


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
    schema.type_map["Node"].resolve_type = lambda obj, _info, _type: obj["__typename"]
    return schema


def _check_page(limit: int, offset: int) -> None:
    if not 0 < limit <= 500:
        raise InvalidInput("limit must be between 1 and 500", details={"field": "limit"})
    if offset < 0:
        raise InvalidInput("offset must not be negative", details={"field": "offset"})


def _db(info: Any):
    return info.context["app"][keys.DB]


def _rules(info: Any):
    return info.context["app"][keys.GROUPING]


def _batch(info: Any, data: list) -> None:
    cap = info.context["app"][keys.SETTINGS].chunk_size
    if len(data) > cap:
        raise InvalidInput(
            f"at most {cap} items per batch (CHUNK_SIZE), got {len(data)}",
            details={"field": "data"},
        )


# ------------------------------------------------------------------ queries


def _loaders(info: Any) -> Loaders:
    return info.context["loaders"]


def resolve_tracks(
    _root,
    info,
    limit,
    offset,
    sort="id",
    descending=False,
    album_id=None,
    artist_id=None,
    filter=None,  # noqa: A002 - the schema's argument name
    after=None,
):
    _check_page(limit, offset)
    filters = {k: v for k, v in (filter or {}).items() if v is not None}
    for name, value in filters.items():
        if isinstance(value, str):
            _check_text(name, value)
    if album_id is not None:
        filters["album_id"] = album_id
    if artist_id is not None:
        filters["artist_id"] = artist_id
    query = track_uses.TrackQuery(limit, offset, sort, descending, filters, after)
    return track_uses.page_of(_db(info), query)


def resolve_track(_root, info, id):
    return _loaders(info).track.load(id)


def _check_text(name: str, value: str | None) -> None:
    """Search and filter text: as long as REST allows, and valid Unicode."""
    if value is None:
        return
    if len(value) > MAX_QUERY_TEXT:
        raise InvalidInput(
            f"{name} is longer than {MAX_QUERY_TEXT} characters", details={"field": name}
        )
    check_text(name, value)


def resolve_artists(_root, info, limit, offset, q=None, sort="name", descending=False):
    _check_page(limit, offset)
    _check_text("q", q)
    return album_lists.artists_page(
        _db(info), album_lists.ArtistQuery(limit, offset, q, sort, descending)
    )


def resolve_artist(_root, info, id):
    return _loaders(info).artist.load(id)


def resolve_albums(
    _root,
    info,
    limit,
    offset,
    artist_id=None,
    year_min=None,
    year_max=None,
    q=None,
    sort="title",
    descending=False,
):
    _check_page(limit, offset)
    _check_text("q", q)
    query = album_lists.AlbumQuery(
        limit, offset, artist_id, year_min, year_max, q, sort, descending
    )
    return album_lists.albums_page(_db(info), query)


def resolve_album(_root, info, id):
    return _loaders(info).album.load(id)


NODE_TYPES = {"Track": "track", "Album": "album", "Artist": "artist"}


async def resolve_node(_root, info, id):
    type_name, _, raw = str(id).partition(":")
    if type_name not in NODE_TYPES or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise InvalidInput(
            f"not a node id: {str(id)[:40]!r} (expected Track:12, Album:3 or Artist:7)",
            details={"field": "id"},
        )
    row = await getattr(_loaders(info), NODE_TYPES[type_name]).load(int(raw))
    return None if row is None else {**row, "__typename": type_name}


async def resolve_nodes(_root, info, ids):
    if len(ids) > 500:
        raise InvalidInput("at most 500 ids", details={"field": "ids"})
    return [await resolve_node(None, info, i) for i in ids]


def _node_id(type_name: str):
    return lambda obj, _info: f"{type_name}:{obj['id']}"


def resolve_scan_errors(_root, info, limit, offset):
    _check_page(limit, offset)
    return _page(
        *_db(info).read(queries.list_scan_errors, limit=limit, offset=offset), limit, offset
    )


def resolve_track_vectors(_root, info, limit, offset, track_id=None):
    _check_page(limit, offset)
    rows, total = _db(info).read(
        vectors.list_vectors, limit=limit, offset=offset, track_id=track_id, with_vectors=True
    )
    return _page(rows, total, limit, offset)


async def resolve_similar_tracks(_root, info, id, limit=20):
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200", details={"field": "limit"})
    app = info.context["app"]
    database = app[keys.DB]
    database.read(queries.get_track, id)  # an unknown track is an error, not an empty list
    ids = await app[keys.SOUNDS_LIKE].similar(app, id, limit)
    rows = {r["id"]: sql.public_track(r) for r in database.read(queries.tracks_by_ids, ids)}
    return [rows[i] for i in ids if i in rows]


async def resolve_sonic_path(_root, info, to, count=20, **kwargs):
    start = kwargs["from"]
    if not 2 <= count <= 100:
        raise InvalidInput("count must be between 2 and 100", details={"field": "count"})
    app = info.context["app"]
    database = app[keys.DB]
    for track_id in (start, to):
        database.read(queries.get_track, track_id)  # an unknown track is an error
    found = await app[keys.SOUNDS_LIKE].sonic_path(start, to, count)
    rows = {
        r["id"]: sql.public_track(r)
        for r in database.read(queries.tracks_by_ids, [i for i, _ in found])
    }
    return [{"track": rows[i], "similarity": score} for i, score in found if i in rows]


def _artists(info: Any) -> Loader:
    """The artist loader for this selection: counting an artist's tracks reads every one of
    them, so only when ``track_count`` (or ``tracks``, whose total falls back on it) is asked."""
    key = ("artist counts", id(info.field_nodes[0]))
    memo = _loaders(info).memo
    if key not in memo:
        memo[key] = bool(_selected_fields(info) & {"track_count", "tracks", "*"})
    return _loaders(info).artist if memo[key] else _loaders(info).artist_uncounted


def resolve_track_artist(track, info):
    artist_id = track.get("track_artist_id")
    return _artists(info).load(artist_id) if artist_id else None


def resolve_track_album(track, info):
    album_id = track.get("album_id")
    return _loaders(info).album.load(album_id) if album_id else None


CREDITS = (*queries.CREDIT_ROLES.values(), "genres")  # Track fields the credits loader gives


def _credit(role: str):
    def resolve(track, info):
        return then(_loaders(info).credits.load(track["id"]), lambda found: found[role])

    return resolve


def resolve_track_vectors_field(track, info):
    return then(_loaders(info).track_vectors.load(track["id"]), _or_empty)


NESTED_MAX = 500  # Album.tracks, Artist.albums: the most one nested list returns


def _nested_limit(limit: int | None) -> int:
    if limit is None:
        return NESTED_MAX
    if not 1 <= limit <= NESTED_MAX:
        raise InvalidInput(f"limit must be between 1 and {NESTED_MAX}", details={"field": "limit"})
    return limit


# Track fields that are not a column of their own, and the columns they are made from.
TRACK_DERIVED = {
    "node_id": ("id",),
    "missing": ("missing_since",),
    "artist": ("track_artist_id",),
    "album": ("album_id",),
    "vectors": ("id",),
    **{role: ("id",) for role in CREDITS},
    "change": (),
    "__typename": (),
}


def _track_columns(info: Any) -> tuple[str, ...] | None:
    """The tracks columns a selection of Track fields reads; None (all) when it has fragments.
    Remembered on the request's loaders: the same selection is asked for once per album."""
    key = ("columns", id(info.field_nodes[0]))
    memo = _loaders(info).memo
    if key not in memo:
        columns: set[str] | None = {"id"}
        for name in _selected_fields(info):
            if name in TRACK_DERIVED:
                columns.update(TRACK_DERIVED[name])
            elif name in fields.TRACK_COLUMNS and name not in fields.INTERNAL_FIELDS:
                columns.add(name)
            else:  # "*": fragments
                columns = None
                break
        memo[key] = None if columns is None else tuple(sorted(columns))
    return memo[key]


def _or_empty(rows: list | None) -> list:
    return rows or []


def _first(limit: int | None) -> Callable[[list | None], list]:
    count = _nested_limit(limit)
    return lambda rows: (rows or [])[:count]


def resolve_album_tracks(album, info, limit=None):
    return then(_loaders(info).album_tracks(_track_columns(info)).load(album["id"]), _first(limit))


def resolve_album_artist(album, info):
    artist_id = album.get("album_artist_id")
    return _artists(info).load(artist_id) if artist_id else None


def resolve_artist_albums(artist, info, limit=None):
    return then(_loaders(info).artist_albums.load(artist["id"]), _first(limit))


def resolve_artist_appears_on(artist, info, limit=None):
    return then(_loaders(info).artist_appears_on.load(artist["id"]), _first(limit))


def resolve_artist_tracks(artist, info, limit, offset):
    _check_page(limit, offset)

    def page(rows: list | None) -> dict[str, Any]:
        rows = rows or []
        total = rows[0]["_total"] if rows else artist.get("track_count") or 0
        return _page([sql.public_track(r) for r in rows], total, limit, offset)

    return then(_loaders(info).artist_tracks(limit, offset).load(artist["id"]), page)


# ------------------------------------------------------------------ mutations


async def resolve_create_artists(_root, info, data):
    _batch(info, data)
    return await _db(info).write(ingest.upsert_artists, data)


async def resolve_create_albums(_root, info, data):
    _batch(info, data)
    return await _db(info).write(ingest.upsert_albums, data)


async def resolve_create_tracks(_root, info, data):
    _batch(info, data)
    database = _db(info)
    done = await database.write(
        ingest.upsert_tracks, [sql.from_wire(item) for item in data], _rules(info)
    )
    wanted = _selected_fields(info)
    if wanted <= {"id", "path", "change", *fields.TAG_FIELDS}:
        # What was asked for is what was sent: answer from the input, no second read.
        out = [
            {**{f: item.get(f) for f in fields.TAG_FIELDS}, "id": d["id"]}
            for d, item in zip(done, data, strict=True)
        ]
    else:
        rows = {r["id"]: r for r in database.read(queries.tracks_by_ids, [d["id"] for d in done])}
        out = [sql.public_track(rows[d["id"]]) for d in done]
    for track, d in zip(out, done, strict=True):
        track["change"] = d["action"]
        track["path"] = os.fsdecode(d["path"])  # exactly what was sent
    _pipeline(info).stored(out)
    return out


async def resolve_ingest_tracks(_root, info, tracks, errors=None):
    _batch(info, tracks)
    done = await _db(info).write(
        ingest.ingest,
        [sql.from_wire(t) for t in tracks],
        [sql.from_wire(e) for e in errors or ()],
        _rules(info),
    )
    changes = [
        {**{k: t.get(k) for k in CARRIED}, "id": d["id"], "change": d["action"]}
        for d, t in zip(done, tracks, strict=True)
    ]
    _pipeline(info).stored(changes)
    # What the worker needs back, not the rows: ids, what happened, and why a track was refused.
    return [{"id": d["id"], "change": d["action"], "reason": d.get("reason")} for d in done]


async def resolve_store_stage_results(_root, info, data):
    _batch(info, data)
    app = info.context["app"]
    images = covers.take_cover_images(data)  # files, not rows: kept beside the database
    done = await stage_results.store(_db(info), app[keys.PLUGINS].stages, data)
    await covers.save_cover_images(app, images)
    if done.failed:
        app[keys.METRICS].stage_failures(done.failed)
    _pipeline(info).stored(done.changes, events=done.events)
    return done.count


def _pipeline(info: Any):
    return info.context["app"][keys.PIPELINE]


def _selected_fields(info: Any) -> set[str]:
    """Names selected under this field (fragments count as "everything")."""
    names: set[str] = set()
    for node in info.field_nodes:
        for selection in node.selection_set.selections if node.selection_set else ():
            if not isinstance(selection, gql_ast.FieldNode):
                return {"*"}
            names.add(selection.name.value)
    return names


async def resolve_record_scan_errors(_root, info, data):
    _batch(info, data)
    return await _db(info).write(ingest.record_scan_errors, [sql.from_wire(item) for item in data])


async def resolve_mark_missing(_root, info, paths=None, prefixes=None):
    paths, prefixes = paths or [], prefixes or []
    _batch(info, paths)
    changed = await _db(info).write(
        ingest.mark_missing, [os.fsencode(p) for p in paths], [os.fsencode(p) for p in prefixes]
    )
    _pipeline(info).stored([{"id": r["id"], "change": "removed"} for r in changed])
    return len(changed)


async def resolve_update_features(_root, info, data):
    _batch(info, data)
    items = []
    for item in data:
        item = dict(item)
        if "extra" in item:
            item["features_extra"] = item.pop("extra")
        items.append(item)
    ids = await _db(info).write(stages.update_features, items)
    _pipeline(info).stored([{"id": i, "change": "analysed"} for i in ids])
    return ids


async def resolve_update_tracks(_root, info, data):
    _batch(info, data)
    database = _db(info)
    ids = await database.write(edits.update_tracks, [dict(item) for item in data], _rules(info))
    rows = {r["id"]: sql.public_track(r) for r in database.read(queries.tracks_by_ids, ids)}
    out = [rows[i] for i in ids]
    _pipeline(info).stored([{**t, "change": "edited"} for t in out])
    return out


async def resolve_delete_tracks(_root, info, ids):
    _batch(info, ids)
    done = await _db(info).write(edits.delete_tracks, ids)
    _pipeline(info).stored([{"id": i, "change": "removed"} for i in done])
    return done


async def resolve_upsert_track_vectors(_root, info, data):
    _batch(info, data)
    dimension = info.context["app"][keys.SETTINGS].embedding_dimension
    items, problems = [], []
    for index, item in enumerate(data):
        values = item["vector"]
        if len(values) != dimension:
            problems.append(
                {
                    "index": index,
                    "field": "vector",
                    "message": f"vector must have {dimension} numbers, got {len(values)}",
                }
            )
            continue
        try:
            blob = vectors.pack_vector(values)
        except OverflowError:
            blob = b""
        if not blob or any(v is None for v in vectors.unpack_vector(blob)):
            problems.append(
                {"index": index, "field": "vector", "message": "values must be finite float32"}
            )
            continue
        items.append(
            {
                "track_id": item["track_id"],
                "name": item.get("name") or "default",
                "dimension": dimension,
                "vector": blob,
            }
        )
    if problems:
        raise BatchFailed(
            f"{len(problems)} of {len(data)} items refused; nothing of the batch was written",
            details={"items": problems[:100], "refused": len(problems)},
        )
    return await _db(info).write(vectors.upsert_vectors, items)


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
            "node": resolve_node,
            "nodes": resolve_nodes,
            "track_vectors": resolve_track_vectors,
            "similar_tracks": resolve_similar_tracks,
            "sonic_path": resolve_sonic_path,
        },
        "Track": {
            "artist": resolve_track_artist,
            "album": resolve_track_album,
            "vectors": resolve_track_vectors_field,
            **{role: _credit(role) for role in CREDITS},
            "node_id": _node_id("Track"),
        },
        "Album": {
            "tracks": resolve_album_tracks,
            "album_artist": resolve_album_artist,
            "node_id": _node_id("Album"),
        },
        "Artist": {
            "albums": resolve_artist_albums,
            "appears_on": resolve_artist_appears_on,
            "tracks": resolve_artist_tracks,
            "node_id": _node_id("Artist"),
        },
        "Mutation": {
            "create_artists": resolve_create_artists,
            "create_albums": resolve_create_albums,
            "create_tracks": resolve_create_tracks,
            "ingest_tracks": resolve_ingest_tracks,
            "store_stage_results": resolve_store_stage_results,
            "record_scan_errors": resolve_record_scan_errors,
            "mark_missing": resolve_mark_missing,
            "update_features": resolve_update_features,
            "update_tracks": resolve_update_tracks,
            "delete_tracks": resolve_delete_tracks,
            "upsert_track_vectors": resolve_upsert_track_vectors,
        },
    }
    for type_name, type_resolvers in resolvers.items():
        for field_name, fn in type_resolvers.items():
            schema.type_map[type_name].fields[field_name].resolve = fn


# Apps send the same few query texts again and again: their parse and their validation (1.6 ms
# for the albums-with-tracks query, half as long as running it) do not depend on the variables.
@functools.lru_cache(maxsize=256)
def _parse(query: str) -> gql_ast.DocumentNode | GraphQLError:
    try:
        return parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        return error


@functools.lru_cache(maxsize=256)
def _validate(schema: GraphQLSchema, query: str, introspection: bool) -> tuple[GraphQLError, ...]:
    document = _parse(query)
    assert not isinstance(document, GraphQLError)
    rules = list(specified_rules)
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(validate(schema, document, rules))


def _error_json(error: GraphQLError) -> dict[str, Any]:
    out = error.formatted
    original = error.original_error
    if isinstance(original, SoniqueBayError):
        out.setdefault("extensions", {})["code"] = original.code
        if original.details:
            out["extensions"]["details"] = original.details
    return out


def _operation(document: gql_ast.DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((op for op in operations if op.name and op.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def _answer(payload: dict[str, Any], status: int = 200) -> web.Response:
    # A non-UTF-8 path echoed back to a worker survives as \udcXX escapes (jsonbody.dumps).
    return json_response(payload, status=status)


def _refused(errors: list[GraphQLError]) -> web.Response:
    return _answer({"data": None, "errors": [_error_json(e) for e in errors]}, status=400)


async def handle_graphql(request: web.Request) -> web.Response:
    from soniquebay.web.auth import demand

    body = parse_json(
        await request.read(), 'the request body must be JSON: {"query": ..., "variables": ...}'
    )
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise InvalidInput('a GraphQL request needs a "query" string', details={"field": "query"})
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise InvalidInput('"variables" must be an object', details={"field": "variables"})
    try:
        json.dumps(variables)  # nesting a JSON decoder accepted may still be too deep to walk
    except RecursionError:
        raise InvalidInput(
            "the variables are nested too deeply", details={"field": "variables"}
        ) from None
    operation_name = body.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise InvalidInput('"operationName" must be a string', details={"field": "operationName"})
    app = request.app
    settings = app[keys.SETTINGS]
    schema = app[keys.SCHEMA]
    document = _parse(body["query"])
    if isinstance(document, GraphQLError):
        return _refused([document])
    operation = _operation(document, operation_name)
    if operation is not None and operation.operation == OperationType.MUTATION:
        for selection in operation.selection_set.selections:  # each mutation its own scope
            name = getattr(getattr(selection, "name", None), "value", "")
            demand(request, access.MUTATIONS.get(name, access.ADMIN))
    # The limits first: a hostile query is refused before graphql-core's validation, which is
    # quadratic in repeated fields. Then a query a reader can answer is validated and run
    # there, off the event loop; the rest is validated here.
    errors = check_limits(
        document, settings.graphql_max_depth, settings.graphql_max_cost, variables
    )
    if errors:
        return _refused(errors)
    readers = app.get(keys.READERS)
    if readers is not None and readers.takes(operation):
        answered = await readers.execute(
            body["query"], variables, operation_name, settings.graphql_introspection
        )
        if answered is not None:
            status, encoded = answered
            return encoded_response(encoded, status=status)
    errors = list(_validate(schema, body["query"], settings.graphql_introspection))
    if errors:
        return _refused(errors)
    context = {"request": request, "app": app, "loaders": Loaders(app[keys.DB])}
    payload, status = await run_operation(
        schema, document, operation, operation_name, variables, context
    )
    return _answer(payload, status)


async def run_operation(
    schema: GraphQLSchema,
    document: gql_ast.DocumentNode,
    operation: OperationDefinitionNode | None,
    operation_name: str | None,
    variables: dict[str, Any],
    context: dict[str, Any],
) -> tuple[dict[str, Any], int]:
    """Execute a validated operation: the lean executor when it can, else graphql-core.
    Returns the answer and its HTTP status. Runs in the web process and in its readers."""
    if operation is not None:
        try:
            data = await LeanExecutor(schema, document, operation, variables, context).run()
        except Fallback:
            context["loaders"] = Loaders(context["app"][keys.DB])
        else:
            return {"data": data}, 200
    result = execute(
        schema,
        document,
        variable_values=variables,
        operation_name=operation_name,
        context_value=context,
    )
    if is_awaitable(result):
        result = await result
    assert isinstance(result, ExecutionResult)
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [_error_json(e) for e in result.errors]
    status = 200
    if result.errors and result.data is None:  # a server-side failure keeps its status (507...)
        status = max(getattr(e.original_error, "status", 400) for e in result.errors)
        status = status if status >= 500 else 400
    return payload, status


async def graphiql_page(request: web.Request) -> web.Response:
    """A small query console for people: no CDN, no external script."""
    schema = request.app[keys.SCHEMA]
    roots = []
    for root in ("Query", "Mutation"):
        root_fields = schema.type_map[root].fields
        roots.append(
            (
                root,
                [
                    (
                        name,
                        ", ".join(f"{arg}: {a.type}" for arg, a in field.args.items()),
                        str(field.type),
                        field.description or "",
                    )
                    for name, field in root_fields.items()
                ],
            )
        )
    principal = request.get("principal")
    return render(request, "graphiql.html", roots=roots, csrf=principal.csrf if principal else "")
