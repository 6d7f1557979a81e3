"""GraphQL's queries: the root fields that read (tracks, albums, artists, nodes, scan errors,
vectors, similar tracks, the sonic path) and the relations between types, through the
catalogue and the per-request batch loaders (:mod:`soniquebay.web.loaders`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql.language import ast as gql_ast

from soniquebay import library
from soniquebay.catalog import albums as album_lists
from soniquebay.catalog import page as _page
from soniquebay.catalog import tracks as track_uses
from soniquebay.errors import InvalidInput
from soniquebay.library import fields, sql, vectors
from soniquebay.web import keys
from soniquebay.web.loaders import Loader, Loaders, then
from soniquebay.web.validation import MAX_QUERY_TEXT, check_text


def _check_page(limit: int, offset: int) -> None:
    if not 0 < limit <= 500:
        raise InvalidInput("limit must be between 1 and 500", details={"field": "limit"})
    if offset < 0:
        raise InvalidInput("offset must not be negative", details={"field": "offset"})


def db_of(info: Any):
    return info.context["app"][keys.DB]


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
    return track_uses.page_of(db_of(info), query)


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
        db_of(info), album_lists.ArtistQuery(limit, offset, q, sort, descending)
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
    return album_lists.albums_page(db_of(info), query)


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
        *db_of(info).read(library.scan_errors.list_scan_errors, limit=limit, offset=offset),
        limit,
        offset,
    )


def resolve_track_vectors(_root, info, limit, offset, track_id=None):
    _check_page(limit, offset)
    rows, total = db_of(info).read(
        vectors.list_vectors, limit=limit, offset=offset, track_id=track_id, with_vectors=True
    )
    return _page(rows, total, limit, offset)


async def resolve_similar_tracks(_root, info, id, limit=20):
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200", details={"field": "limit"})
    app = info.context["app"]
    database = app[keys.DB]
    database.read(library.tracks.get_track, id)  # an unknown track is an error, not an empty list
    ids = await app[keys.SOUNDS_LIKE].similar(app, id, limit)
    rows = {r["id"]: sql.public_track(r) for r in database.read(library.tracks.tracks_by_ids, ids)}
    return [rows[i] for i in ids if i in rows]


async def resolve_sonic_path(_root, info, to, count=20, **kwargs):
    start = kwargs["from"]
    if not 2 <= count <= 100:
        raise InvalidInput("count must be between 2 and 100", details={"field": "count"})
    app = info.context["app"]
    database = app[keys.DB]
    for track_id in (start, to):
        database.read(library.tracks.get_track, track_id)  # an unknown track is an error
    found = await app[keys.SOUNDS_LIKE].sonic_path(start, to, count)
    rows = {
        r["id"]: sql.public_track(r)
        for r in database.read(library.tracks.tracks_by_ids, [i for i, _ in found])
    }
    return [{"track": rows[i], "similarity": score} for i, score in found if i in rows]


def _artists(info: Any) -> Loader:
    """The artist loader for this selection: counting an artist's tracks reads every one of
    them, so only when ``track_count`` (or ``tracks``, whose total falls back on it) is asked."""
    key = ("artist counts", id(info.field_nodes[0]))
    memo = _loaders(info).memo
    if key not in memo:
        memo[key] = bool(selected_fields(info) & {"track_count", "tracks", "*"})
    return _loaders(info).artist if memo[key] else _loaders(info).artist_uncounted


def resolve_track_artist(track, info):
    artist_id = track.get("track_artist_id")
    return _artists(info).load(artist_id) if artist_id else None


def resolve_track_album(track, info):
    album_id = track.get("album_id")
    return _loaders(info).album.load(album_id) if album_id else None


CREDITS = (*library.tracks.CREDIT_ROLES.values(), "genres")  # Track fields the credits loader gives


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
        for name in selected_fields(info):
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


def selected_fields(info: Any) -> set[str]:
    """Names selected under this field (fragments count as "everything")."""
    names: set[str] = set()
    for node in info.field_nodes:
        for selection in node.selection_set.selections if node.selection_set else ():
            if not isinstance(selection, gql_ast.FieldNode):
                return {"*"}
            names.add(selection.name.value)
    return names
