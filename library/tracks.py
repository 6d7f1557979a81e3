"""Tracks in storage: one or many by id, pages with filters, sorts and keyset cursors, an
album's or artist's tracks, credits, a random sample, an artist's most played."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from typing import Any

import apsw

from soniquebay.errors import InvalidInput, NotFound
from soniquebay.library import annotations, fields, folders, sql
from soniquebay.library.folders import Scope
from soniquebay.records import Credits, ToAnalyze, Track

TRACK_SORTS = {
    "id": "t.id",
    "title": "t.sort_title COLLATE NOCASE",  # the title sort tag, else the title
    "artist": "t.artist_name COLLATE NOCASE",
    "album": "t.album_title COLLATE NOCASE, t.disc_number, t.track_number",
    "year": "t.year",
    "date_added": "t.date_added",
    "duration": "t.duration",
    "bpm": "t.bpm",
    "genre": "t.genre COLLATE NOCASE",
}


def get_track(conn: apsw.Connection, track_id: int) -> Track:
    rows = conn.execute("SELECT * FROM tracks WHERE id = ?", (track_id,)).fetchall()
    if not rows:
        raise NotFound(f"track {track_id} does not exist", details={"id": track_id})
    return rows[0]


def album_track_paths(conn: apsw.Connection, album_id: int, limit: int = 1) -> list[dict]:
    """Paths of an album's present tracks, by disc and track number (where its cover is)."""
    return conn.execute(
        """SELECT path FROM tracks WHERE album_id = ? AND missing_since IS NULL
           ORDER BY disc_number, track_number, id LIMIT ?""",
        (album_id, limit),
    ).fetchall()


def existing_ids(conn: apsw.Connection, kind: str, ids: Sequence[int]) -> set[int]:
    """Which of these album or track ids still exist."""
    table = {"album": "albums", "track": "tracks"}[kind]
    found: set[int] = set()
    for at in range(0, len(ids), 500):
        part = list(ids[at : at + 500])
        found.update(
            r["id"]
            for r in conn.execute(
                f"SELECT id FROM {table} WHERE id IN ({sql.placeholders(part)})", tuple(part)
            )
        )
    return found


def tracks_by_ids(conn: apsw.Connection, ids: Sequence[int]) -> list[Track]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return sql.dict_rows(conn, f"SELECT * FROM tracks WHERE id IN ({marks})", ids)


# A track of a genre: one of its genres (a multi-valued tag), or its tag as it is.
GENRE_MATCH = """(t.genre = ? COLLATE NOCASE
    OR t.id IN (SELECT track_id FROM track_genres WHERE genre = ? COLLATE NOCASE))"""


CREDIT_ROLES = {
    "artist": "artists",
    "albumartist": "album_artists",
    "composer": "composers",
    "performer": "performers",
}


def credits(conn: apsw.Connection, ids: Sequence[int]) -> dict[int, Credits]:
    """track id -> its artists, album artists, composers and performers (``{"id", "name"}``
    each, in tag order) and genres, as the grouping stored them (docs/library.md). Two queries
    a page."""
    out: dict[int, dict[str, list]] = {
        i: {**{role: [] for role in CREDIT_ROLES.values()}, "genres": []} for i in ids
    }
    if not ids:
        return out
    marks = sql.placeholders(ids)
    for r in conn.execute(
        f"""SELECT ta.track_id, ta.role, a.id, a.name FROM track_artists ta
            JOIN artists a ON a.id = ta.artist_id
            WHERE ta.track_id IN ({marks}) ORDER BY ta.track_id, ta.role, ta.position""",
        tuple(ids),
    ):
        out[r["track_id"]][CREDIT_ROLES[r["role"]]].append({"id": r["id"], "name": r["name"]})
    for r in conn.execute(
        f"""SELECT track_id, genre FROM track_genres WHERE track_id IN ({marks})
            ORDER BY track_id, position""",
        tuple(ids),
    ):
        out[r["track_id"]]["genres"].append(r["genre"])
    return out


# Filters a client may use on track lists, with the type each value must have.
TRACK_FILTERS: dict[str, type] = {
    "artist_id": int,
    "album_id": int,
    "artist": str,
    "album": str,
    "genre": str,
    "year_min": int,
    "year_max": int,
    "bpm_min": float,
    "bpm_max": float,
    "key": str,
    "scale": str,
    "missing_features": bool,
    "q": str,
    "added_after": float,  # epoch seconds: tracks added since then
}


def track_where(
    filters: dict[str, Any], include_missing: bool = False
) -> tuple[list[str], list[Any]]:
    where: list[str] = [] if include_missing else ["t.missing_since IS NULL"]
    params: list[Any] = []

    def add(clause: str, *values: Any) -> None:
        where.append(clause)
        params.extend(values)

    f = {k: v for k, v in filters.items() if v is not None}
    if "artist_id" in f:
        add("t.track_artist_id = ?", f["artist_id"])
    if "album_id" in f:
        add("t.album_id = ?", f["album_id"])
    if "artist" in f:
        add(
            "(t.artist_name = ? COLLATE NOCASE OR t.album_artist_name = ? COLLATE NOCASE)",
            f["artist"],
            f["artist"],
        )
    if "album" in f:
        add("t.album_title = ? COLLATE NOCASE", f["album"])
    if "genre" in f:
        where.append(GENRE_MATCH)
        params += [f["genre"], f["genre"]]
    if "year_min" in f:
        add("t.year >= ?", f["year_min"])
    if "year_max" in f:
        add("t.year <= ?", f["year_max"])
    if "bpm_min" in f:
        add("t.bpm >= ?", f["bpm_min"])
    if "bpm_max" in f:
        add("t.bpm <= ?", f["bpm_max"])
    if "key" in f:
        add("t.key = ?", f["key"])
    if "scale" in f:
        add("t.scale = ?", f["scale"])
    if "missing_features" in f:
        where.append(
            "t.analyzed_at IS NULL" if f["missing_features"] else "t.analyzed_at IS NOT NULL"
        )
    if "added_after" in f:
        add("t.date_added >= ?", f["added_after"])
    if sql.CONTROL_CHARACTERS.sub(" ", f.get("q", "")).strip():
        add(
            "t.id IN (SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?)",
            sql.fts_query(f["q"]),
        )
    if "within" in f:  # a folders.Scope: never a request's parameter (not in TRACK_FILTERS)
        clause, values = folders.track_clause(f["within"])
        add(clause, *values)
    return where, params


def _sort_parts(sort: str) -> list[tuple[str, str]]:
    """(SQL expression, column name) for each part of a track sort."""
    return [(part, part.split()[0].removeprefix("t.")) for part in TRACK_SORTS[sort].split(", ")]


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != length
        or not all(v is None or isinstance(v, (int, float, str)) for v in values)
        or not isinstance(values[-1], int)
    ):
        raise InvalidInput(
            "cursor is not one this server gave (or the sort changed)", details={"field": "cursor"}
        )
    return values


def _keyset(sort: str) -> list[tuple[str, str]]:
    """The sort's parts, then the id as the tie-break (once: sort=id is just the id)."""
    parts = _sort_parts(sort)
    return parts if parts[-1][1] == "id" else [*parts, ("t.id", "id")]


def track_cursor(row: dict[str, Any], sort: str) -> str:
    """The cursor that continues a listing after ``row``."""
    return encode_cursor([row.get(column) for _, column in _keyset(sort)])


def _after(parts: list[str], values: list[Any], descending: bool) -> tuple[str, list[Any]]:
    """WHERE clause for "strictly after ``values``" in ORDER BY parts (NULLs first ascending).

    Keyset pagination: a page starts where the last one ended, however many rows were added or
    removed before it; OFFSET would skip or repeat rows then, and grows slower with depth.
    """
    ors, params = [], []
    for k, (expr, value) in enumerate(zip(parts, values, strict=True)):
        ands, p = [], []
        for prev_expr, prev_value in zip(parts[:k], values[:k], strict=True):
            ands.append(f"{prev_expr} IS ?")
            p.append(prev_value)
        if value is None:
            if descending:
                continue  # NULLs come last descending: nothing is after them but equals
            ands.append(f"{expr} IS NOT NULL")
        elif descending:
            ands.append(f"({expr} < ? OR {expr} IS NULL)")
            p.append(value)
        else:
            ands.append(f"{expr} > ?")
            p.append(value)
        ors.append("(" + " AND ".join(ands) + ")")
        params.extend(p)
    return "(" + (" OR ".join(ors) or "0") + ")", params


def list_tracks(
    conn: apsw.Connection,
    *,
    limit: int = 50,
    offset: int = 0,
    sort: str = "id",
    descending: bool = False,
    album_id: int | None = None,
    artist_id: int | None = None,
    include_missing: bool = False,
    filters: dict[str, Any] | None = None,
    cursor: str | None = None,
    with_total: bool = True,
) -> tuple[list[Track], int | None]:
    """A page of tracks: filters from TRACK_FILTERS, a sort from TRACK_SORTS, limit + offset or
    a keyset ``cursor`` from :func:`track_cursor`. ``total`` is None when not asked for."""
    if sort not in TRACK_SORTS:
        raise InvalidInput(
            f"cannot sort by {sort!r}", details={"field": "sort", "allowed": sorted(TRACK_SORTS)}
        )
    filters = {**(filters or {}), "album_id": album_id, "artist_id": artist_id} | {
        k: v for k, v in (filters or {}).items() if v is not None
    }
    where, params = track_where(filters, include_missing)
    count_clause = f"WHERE {' AND '.join(where)}" if where else ""
    direction = "DESC" if descending else "ASC"
    exprs = [expr for expr, _ in _keyset(sort)]
    page_where, page_params = list(where), list(params)
    if cursor:
        values = _decode_cursor(cursor, len(exprs))
        clause, extra = _after(exprs, values, descending)
        page_where.append(clause)
        page_params.extend(extra)
    clause = f"WHERE {' AND '.join(page_where)}" if page_where else ""
    order = ", ".join(f"{expr} {direction}" for expr in exprs)
    # Find the page's ids first (an index walk), then read only those rows: OFFSET then steps
    # over index entries instead of whole rows, which keeps deep pages cheap.
    # The planner prefers walking the table in rowid order; the small partial index of present
    # tracks is 5x faster to step through for deep pages of the default listing.
    hint = (
        "INDEXED BY idx_tracks_present"
        if sort == "id" and page_where == ["t.missing_since IS NULL"]
        else ""
    )
    rows = sql.dict_rows(
        conn,
        f"""SELECT t.* FROM tracks t WHERE t.id IN (
              SELECT t.id FROM tracks t {hint} {clause} ORDER BY {order} LIMIT ? OFFSET ?)
            ORDER BY {order}""",
        (*page_params, limit, offset),
    )
    total = None
    if with_total:
        total = conn.execute(
            f"SELECT count(*) AS n FROM tracks t {count_clause}", tuple(params)
        ).fetchall()[0]["n"]
    return rows, total


def count_tracks(
    conn: apsw.Connection, filters: dict[str, Any] | None = None, include_missing: bool = False
) -> int:
    where, params = track_where(filters or {}, include_missing)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return conn.execute(f"SELECT count(*) AS n FROM tracks t {clause}", tuple(params)).fetchall()[
        0
    ]["n"]


def tracks_by_album_ids(
    conn: apsw.Connection, ids: Sequence[int], columns: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Present tracks of these albums, each album's in disc and track order; every column, or
    ``columns`` (of :data:`fields.TRACK_COLUMNS`) and ``album_id``: a row of all 52 costs four
    times what a row of five does."""
    if not ids:
        return []
    if columns is None:
        selected = "t.*"
    else:
        unknown = set(columns) - set(fields.TRACK_COLUMNS)
        if unknown:
            raise ValueError(f"not track columns: {sorted(unknown)}")
        selected = ", ".join(f"t.{c}" for c in dict.fromkeys(("album_id", *columns)))
    return sql.dict_rows(
        conn,
        f"""SELECT {selected} FROM tracks t WHERE t.album_id IN ({sql.placeholders(ids)}) AND t.missing_since IS NULL
            ORDER BY t.album_id, t.disc_number, t.track_number, t.id""",
        ids,
    )


def tracks_by_artist_ids(
    conn: apsw.Connection, ids: Sequence[int], limit: int, offset: int
) -> list[Track]:
    """A page of each artist's present tracks in one query; rows carry ``_total``."""
    if not ids:
        return []
    return conn.execute(
        f"""SELECT * FROM (
              SELECT t.*, row_number() OVER w AS _rank, count(*) OVER (PARTITION BY t.track_artist_id) AS _total
              FROM tracks t WHERE t.track_artist_id IN ({sql.placeholders(ids)}) AND t.missing_since IS NULL
              WINDOW w AS (PARTITION BY t.track_artist_id ORDER BY t.id))
            WHERE _rank > ? AND _rank <= ? ORDER BY track_artist_id, id""",
        (*ids, offset, offset + limit),
    ).fetchall()


def tracks_to_analyze(
    conn: apsw.Connection,
    ids: Sequence[int] | None = None,
    limit: int = 100_000,
    *,
    only_missing: bool = True,
) -> list[ToAnalyze]:
    """``{"track_id", "path"}`` of the given present tracks, or of every one without features
    (every present one with ``only_missing=False``)."""
    if ids is not None:
        if not ids:
            return []
        rows = conn.execute(
            f"SELECT id, path FROM tracks WHERE id IN ({sql.placeholders(ids)}) AND missing_since IS NULL",
            tuple(ids),
        ).fetchall()
    else:
        rows = conn.execute(
            f"""SELECT id, path FROM tracks
                WHERE missing_since IS NULL {"AND analyzed_at IS NULL" if only_missing else ""}
                ORDER BY id LIMIT ?""",
            (limit,),
        ).fetchall()
    return [{"track_id": r["id"], "path": os.fsdecode(r["path"])} for r in rows]


def random_tracks(
    conn: apsw.Connection,
    size: int,
    genre: str | None = None,
    from_year: int | None = None,
    to_year: int | None = None,
    within: Scope | None = None,
) -> list[Track]:
    where, params = track_where(
        {"genre": genre, "year_min": from_year, "year_max": to_year, "within": within}
    )
    # A random sample of ids first (an index walk), then their rows.
    return sql.dict_rows(
        conn,
        f"""SELECT * FROM tracks WHERE id IN (
              SELECT t.id FROM tracks t WHERE {" AND ".join(where)} ORDER BY random() LIMIT ?)""",
        (*params, size),
    )


def top_tracks(conn: apsw.Connection, artist_id: int, limit: int = 10) -> list[Track]:
    """The artist's most played tracks (everybody's plays), then their others by album order."""
    played = annotations.most_played(
        conn,
        "track",
        limit=limit,
        where="item_id IN (SELECT id FROM tracks WHERE track_artist_id = ? AND missing_since IS NULL)",
        params=(artist_id,),
    )
    rows = {r["id"]: r for r in tracks_by_ids(conn, played)}
    out = [rows[i] for i in played if i in rows]
    if len(out) < limit:
        out += sql.dict_rows(
            conn,
            f"""SELECT t.* FROM tracks t WHERE t.track_artist_id = ? AND t.missing_since IS NULL
                AND t.id NOT IN ({sql.placeholders(played) if played else "NULL"})
                ORDER BY t.year DESC, t.album_id, t.disc_number, t.track_number, t.id LIMIT ?""",
            (artist_id, *played, limit - len(out)),
        )
    return out
