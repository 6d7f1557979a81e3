"""Reads and batch writes of the library: the only module that speaks SQL.

Every write function takes a whole batch and runs it in one transaction (all or nothing), as
SQLite on an SD card wants. Paths are bytes here; callers convert with ``os.fsencode``.
"""

from __future__ import annotations

import array
import base64
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import apsw

from soniquebay.errors import (
    BatchFailed,
    Conflict,
    InvalidInput,
    NotFound,
    SoniqueBayError,
)

TAG_FIELDS = (
    "title",
    "artist_name",
    "album_title",
    "album_artist_name",
    "track_number",
    "track_total",
    "disc_number",
    "disc_total",
    "year",
    "genre",
    "duration",
    "bitrate",
    "sample_rate",
    "channels",
    "format",
    "musicbrainz_id",
    "musicbrainz_trackid",
    "musicbrainz_albumid",
    "musicbrainz_artistid",
    "musicbrainz_albumartistid",
)
FILE_FIELDS = ("size", "mtime_ns", "inode", "device", "quick_hash")
FEATURE_FIELDS = (
    "bpm",
    "bpm_confidence",
    "key",
    "scale",
    "key_confidence",
    "loudness_lufs",
    "loudness_range",
    "replaygain_track_gain",
    "replaygain_track_peak",
    "danceability",
    "energy",
    "silence_start",
    "silence_end",
    "timbre",
    "features_extra",
    "analyzed_seconds",
    "analysis_backend",
    "analysis_version",
    "analysis_error",
)
JSON_FIELDS = ("timbre", "features_extra")
INTERNAL_FIELDS = ("inode", "device", "quick_hash")
TRACK_SORTS = {
    "id": "t.id",
    "title": "t.title COLLATE NOCASE",
    "artist": "t.artist_name COLLATE NOCASE",
    "album": "t.album_title COLLATE NOCASE, t.disc_number, t.track_number",
    "year": "t.year",
    "date_added": "t.date_added",
    "duration": "t.duration",
    "bpm": "t.bpm",
}


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def display_path(path: bytes) -> str:
    """A path for people to read; undecodable bytes become U+FFFD (ids, not paths, travel)."""
    return path.decode("utf-8", "replace")


def public_track(row: dict[str, Any]) -> dict[str, Any]:
    out = row.copy()  # a C-level copy, then drop a few keys: lists shape 50 of these per page
    for field in INTERNAL_FIELDS:
        out.pop(field, None)
    out["path"] = display_path(row["path"])
    out["missing"] = row.get("missing_since") is not None
    for field in JSON_FIELDS:
        if isinstance(out.get(field), str):
            out[field] = json.loads(out[field])
    return out


# ---------------------------------------------------------------- batch writes


def _constraint_message(exc: apsw.ConstraintError) -> str:
    text = str(exc)
    if "FOREIGN KEY" in text:
        return "refers to an artist, album or track that does not exist"
    if "UNIQUE" in text:
        return "conflicts with an existing row (" + text.rsplit(":", 1)[-1].strip() + ")"
    return "refused by the database: " + text.rsplit(":", 1)[-1].strip()


def _batch(conn: apsw.Connection, items: Sequence[Any], one: Callable[[Any], Any]) -> list[Any]:
    """Run ``one`` on every item in ONE transaction: all or nothing.

    Every item is tried, so the caller learns about each refused item at once (``BatchFailed``
    with ``details["items"]``: index, message, field); then the whole batch is rolled back.
    """
    results, problems = [], []
    with conn:
        for index, item in enumerate(items):
            try:
                results.append(one(item))
            except SoniqueBayError as exc:
                problem = {"index": index, "message": exc.message}
                if "field" in exc.details:
                    problem["field"] = exc.details["field"]
                problems.append(problem)
            except apsw.ConstraintError as exc:
                problems.append({"index": index, "message": _constraint_message(exc)})
        if problems:
            raise BatchFailed(
                f"{len(problems)} of {len(items)} items refused; nothing of the batch was written",
                details={"items": problems[:100], "refused": len(problems)},
            )
    return results


def upsert_artists(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create artists by name (case-insensitive) or return the existing ones; idempotent."""
    now = time.time()

    def one(item: dict[str, Any]) -> dict[str, Any]:
        name = (item.get("name") or "").strip()
        if not name:
            raise InvalidInput("an artist needs a name", details={"field": "name"})
        return conn.execute(
            """INSERT INTO artists (name, name_key, musicbrainz_artistid, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (name_key) DO UPDATE SET
                 musicbrainz_artistid = COALESCE(excluded.musicbrainz_artistid, musicbrainz_artistid),
                 updated_at = excluded.updated_at
               RETURNING id, name, musicbrainz_artistid""",
            (name, _key(name), item.get("musicbrainz_artistid"), now, now),
        ).fetchall()[0]

    return _batch(conn, items, one)


def upsert_albums(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create albums by (title, album artist) or return the existing ones; idempotent."""
    now = time.time()

    def one(item: dict[str, Any]) -> dict[str, Any]:
        title = (item.get("title") or "").strip()
        if not title:
            raise InvalidInput("an album needs a title", details={"field": "title"})
        artist_id = item.get("album_artist_id")
        return conn.execute(
            """INSERT INTO albums (title, album_key, album_artist_id, year, musicbrainz_albumid,
                                   created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (album_key) DO UPDATE SET
                 year = COALESCE(excluded.year, year),
                 musicbrainz_albumid = COALESCE(excluded.musicbrainz_albumid, musicbrainz_albumid),
                 updated_at = excluded.updated_at
               RETURNING id, title, album_artist_id, year, musicbrainz_albumid""",
            (
                title,
                _album_key(title, artist_id),
                artist_id,
                item.get("year"),
                item.get("musicbrainz_albumid"),
                now,
                now,
            ),
        ).fetchall()[0]

    return _batch(conn, items, one)


def _album_key(title: str, artist_id: int | None) -> str:
    return f"{_key(title)}\x1f{artist_id or ''}"


def _find_moved(conn: apsw.Connection, item: dict[str, Any]) -> dict[str, Any] | None:
    """A track whose file vanished and whose identity matches this new file: it was moved.

    Identity is (device, inode, size) for a rename on one file system, or (quick_hash, size) for
    a copy elsewhere followed by a delete. A candidate still present on disk is another copy,
    not a move.
    """
    previous = item.get("previous_path")
    if previous:
        row = conn.execute(
            "SELECT id, path, quick_hash FROM tracks WHERE path = ?", (previous,)
        ).fetchall()
        if row and not os.path.lexists(previous):
            return row[0]
    if item.get("quick_hash") is None and (item.get("device") is None or item.get("inode") is None):
        return None
    # Two indexed lookups, not one OR: SQLite scans the whole table for the OR form.
    candidates = conn.execute(
        """SELECT * FROM (
             SELECT id, path, quick_hash, missing_since FROM tracks
               WHERE device = ? AND inode = ? AND size = ?
             UNION
             SELECT id, path, quick_hash, missing_since FROM tracks
               WHERE quick_hash = ? AND size = ?)
           ORDER BY missing_since IS NULL, missing_since DESC LIMIT 8""",
        (item.get("device"), item.get("inode"), item["size"], item.get("quick_hash"), item["size"]),
    ).fetchall()
    for row in candidates:
        if row["path"] != item["path"] and (
            row["missing_since"] is not None or not os.path.lexists(row["path"])
        ):
            return row
    return None


def upsert_tracks(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create or update tracks by path; a moved file keeps its id. One transaction.

    Returns ``{"id", "path", "action"}`` per item, action being added, updated, moved or unchanged.
    """
    now = time.time()
    columns = ("path", *FILE_FIELDS, "track_artist_id", "album_id", *TAG_FIELDS)

    def one(item: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(item.get("path"), bytes) or not item["path"]:
            raise InvalidInput("a track needs a path", details={"field": "path"})
        for field in ("size", "mtime_ns"):
            if not isinstance(item.get(field), int):
                raise InvalidInput(f"a track needs an integer {field}", details={"field": field})
        existing = conn.execute(
            "SELECT id, path, size, mtime_ns, quick_hash, missing_since FROM tracks WHERE path = ?",
            (item["path"],),
        ).fetchall()
        action = "updated"
        row = existing[0] if existing else _find_moved(conn, item)
        if row is None:
            values = [item.get(c) for c in columns]
            new_id = conn.execute(
                f"""INSERT INTO tracks ({", ".join(columns)}, date_added, updated_at)
                    VALUES ({", ".join("?" * len(columns))}, ?, ?) RETURNING id""",
                (*values, now, now),
            ).fetchall()[0]["id"]
            result = {"id": new_id, "path": item["path"], "action": "added"}
        else:
            if row["path"] != item["path"]:
                action = "moved"
            elif (
                row["size"] == item["size"]
                and row["mtime_ns"] == item["mtime_ns"]
                and row["missing_since"] is None
            ):
                action = "unchanged"
            content_changed = row["quick_hash"] != item.get("quick_hash")
            assignments = ", ".join(f"{c} = ?" for c in columns)
            reset = ", analyzed_at = NULL" if content_changed else ""
            conn.execute(
                f"UPDATE tracks SET {assignments}, missing_since = NULL, updated_at = ?{reset} WHERE id = ?",
                (*[item.get(c) for c in columns], now, row["id"]),
            )
            result = {"id": row["id"], "path": item["path"], "action": action}
        conn.execute("DELETE FROM scan_errors WHERE path = ?", (item["path"],))
        return result

    return _batch(conn, items, one)


def record_scan_errors(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> int:
    now = time.time()
    with conn:
        for item in items:
            conn.execute(
                """INSERT INTO scan_errors (path, size, mtime_ns, stage, plugin, reason, first_seen, last_seen)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (path) DO UPDATE SET
                     size = excluded.size, mtime_ns = excluded.mtime_ns, stage = excluded.stage,
                     plugin = excluded.plugin, reason = excluded.reason,
                     last_seen = excluded.last_seen, occurrences = occurrences + 1""",
                (
                    item["path"],
                    item.get("size"),
                    item.get("mtime_ns"),
                    item.get("stage") or "tags",
                    item.get("plugin"),
                    str(item["reason"])[:2000],
                    now,
                    now,
                ),
            )
    return len(items)


def _prefix_range(prefix: bytes) -> tuple[bytes, bytes]:
    prefix = prefix.rstrip(b"/")
    # Every path under prefix/ sorts between "prefix/" and "prefix0" ('0' follows '/').
    return prefix + b"/", prefix + b"0"


def mark_missing(
    conn: apsw.Connection, paths: Iterable[bytes] = (), prefixes: Iterable[bytes] = ()
) -> list[dict[str, Any]]:
    """Flag tracks whose files are gone; never deletes (a purge does, after the grace period)."""
    now = time.time()
    changed = []
    with conn:
        for path in paths:
            changed += conn.execute(
                "UPDATE tracks SET missing_since = ? WHERE path = ? AND missing_since IS NULL RETURNING id, path",
                (now, path),
            ).fetchall()
            conn.execute("DELETE FROM scan_errors WHERE path = ?", (path,))
        for prefix in prefixes:
            low, high = _prefix_range(prefix)
            changed += conn.execute(
                """UPDATE tracks SET missing_since = ?
                   WHERE path >= ? AND path < ? AND missing_since IS NULL RETURNING id, path""",
                (now, low, high),
            ).fetchall()
            conn.execute("DELETE FROM scan_errors WHERE path >= ? AND path < ?", (low, high))
    return changed


def purge_missing(conn: apsw.Connection, older_than: float) -> int:
    """Delete tracks missing since before ``older_than`` (epoch seconds), then orphaned albums/artists."""
    with conn:
        gone = conn.execute(
            "DELETE FROM tracks WHERE missing_since IS NOT NULL AND missing_since < ? RETURNING id",
            (older_than,),
        ).fetchall()
        if gone:
            conn.execute(
                "DELETE FROM albums WHERE id NOT IN (SELECT album_id FROM tracks WHERE album_id IS NOT NULL)"
            )
            conn.execute(
                """DELETE FROM artists WHERE id NOT IN (SELECT track_artist_id FROM tracks WHERE track_artist_id IS NOT NULL)
                   AND id NOT IN (SELECT album_artist_id FROM albums WHERE album_artist_id IS NOT NULL)"""
            )
    return len(gone)


def update_features(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> list[int]:
    """Store analysis results; each item has ``track_id`` and any of FEATURE_FIELDS."""
    now = time.time()
    done = []
    with conn:
        for item in items:
            fields = [f for f in FEATURE_FIELDS if f in item]
            values = [
                json.dumps(item[f]) if f in JSON_FIELDS and item[f] is not None else item[f]
                for f in fields
            ]
            assignments = "".join(f"{f} = ?, " for f in fields)
            rows = conn.execute(
                # updated_at stays: it dates the file's tags, analyzed_at dates these features.
                f"UPDATE tracks SET {assignments}analyzed_at = ? WHERE id = ? RETURNING id",
                (*values, now, item["track_id"]),
            ).fetchall()
            if not rows:
                raise NotFound(
                    f"track {item['track_id']} does not exist",
                    details={"track_id": item["track_id"]},
                )
            done.append(item["track_id"])
    return done


# ---------------------------------------------------------------- reads


def get_track(conn: apsw.Connection, track_id: int) -> dict[str, Any]:
    rows = conn.execute("SELECT * FROM tracks WHERE id = ?", (track_id,)).fetchall()
    if not rows:
        raise NotFound(f"track {track_id} does not exist", details={"id": track_id})
    return rows[0]


def tracks_by_ids(conn: apsw.Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return _dicts(conn, f"SELECT * FROM tracks WHERE id IN ({marks})", ids)


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
}
ARTIST_SORTS = {"name": "a.name COLLATE NOCASE", "id": "a.id"}
ALBUM_SORTS = {"title": "al.title COLLATE NOCASE", "year": "al.year", "id": "al.id"}


def _fts_query(text: str) -> str:
    """Free text as an FTS5 query: each word a quoted prefix, so no input is FTS5 syntax."""
    words = text.split()[:16]
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words)


def _track_where(
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
        add("t.genre = ? COLLATE NOCASE", f["genre"])
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
    if f.get("q", "").strip():
        add(
            "t.id IN (SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?)",
            _fts_query(f["q"]),
        )
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
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of tracks: filters from TRACK_FILTERS, a sort from TRACK_SORTS, limit + offset or
    a keyset ``cursor`` from :func:`track_cursor`. ``total`` is None when not asked for."""
    if sort not in TRACK_SORTS:
        raise InvalidInput(
            f"cannot sort by {sort!r}", details={"field": "sort", "allowed": sorted(TRACK_SORTS)}
        )
    filters = {**(filters or {}), "album_id": album_id, "artist_id": artist_id} | {
        k: v for k, v in (filters or {}).items() if v is not None
    }
    where, params = _track_where(filters, include_missing)
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
    rows = _dicts(
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


def _dicts(conn: apsw.Connection, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows as dicts, naming the columns once per query rather than once per row."""
    cursor = conn.cursor()
    cursor.row_trace = None
    cursor.execute(sql, tuple(params))
    try:
        names = [column for column, _ in cursor.getdescription()]
    except apsw.ExecutionCompleteError:  # no row at all
        return []
    return [dict(zip(names, row, strict=True)) for row in cursor]


def count_tracks(
    conn: apsw.Connection, filters: dict[str, Any] | None = None, include_missing: bool = False
) -> int:
    where, params = _track_where(filters or {}, include_missing)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return conn.execute(f"SELECT count(*) AS n FROM tracks t {clause}", tuple(params)).fetchall()[
        0
    ]["n"]


# An artist is listed while one of its tracks (or a track of one of its albums) is present, or
# while it has no track at all (just created): an artist whose every file vanished is hidden.
_ARTIST_VISIBLE = """(EXISTS (SELECT 1 FROM tracks t WHERE t.track_artist_id = a.id AND t.missing_since IS NULL)
    OR EXISTS (SELECT 1 FROM albums al JOIN tracks t ON t.album_id = al.id
               WHERE al.album_artist_id = a.id AND t.missing_since IS NULL)
    OR NOT (EXISTS (SELECT 1 FROM tracks t WHERE t.track_artist_id = a.id)
            OR EXISTS (SELECT 1 FROM albums al JOIN tracks t ON t.album_id = al.id
                       WHERE al.album_artist_id = a.id)))"""
_ARTIST_COLUMNS = """a.id, a.name, a.musicbrainz_artistid, a.created_at, a.updated_at,
    (SELECT count(*) FROM tracks t WHERE t.track_artist_id = a.id AND t.missing_since IS NULL)
      AS track_count"""
_ALBUM_VISIBLE = """(EXISTS (SELECT 1 FROM tracks t WHERE t.album_id = al.id AND t.missing_since IS NULL)
    OR NOT EXISTS (SELECT 1 FROM tracks t WHERE t.album_id = al.id))"""
_ALBUM_COLUMNS = """al.id, al.title, al.album_artist_id, ar.name AS album_artist_name, al.year,
    al.musicbrainz_albumid, al.created_at, al.updated_at,
    (SELECT count(*) FROM tracks t WHERE t.album_id = al.id AND t.missing_since IS NULL)
      AS track_count"""


def _sort_order(sorts: dict[str, str], sort: str, descending: bool, tiebreak: str) -> str:
    if sort not in sorts:
        raise InvalidInput(
            f"cannot sort by {sort!r}", details={"field": "sort", "allowed": sorted(sorts)}
        )
    direction = "DESC" if descending else "ASC"
    return f"{sorts[sort]} {direction}, {tiebreak} {direction}"


def list_artists(
    conn: apsw.Connection,
    *,
    limit: int = 50,
    offset: int = 0,
    q: str | None = None,
    sort: str = "name",
    descending: bool = False,
) -> tuple[list[dict], int]:
    where, params = [_ARTIST_VISIBLE], []
    if q:
        where.append("a.name LIKE ? ESCAPE '\\'")
        params.append("%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    clause = " AND ".join(where)
    order = _sort_order(ARTIST_SORTS, sort, descending, "a.id")
    rows = conn.execute(
        f"SELECT {_ARTIST_COLUMNS} FROM artists a WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    total = conn.execute(
        f"SELECT count(*) AS n FROM artists a WHERE {clause}", tuple(params)
    ).fetchall()[0]["n"]
    return rows, total


def get_artist(conn: apsw.Connection, artist_id: int) -> dict[str, Any]:
    rows = conn.execute(
        f"SELECT {_ARTIST_COLUMNS} FROM artists a WHERE a.id = ?", (artist_id,)
    ).fetchall()
    if not rows:
        raise NotFound(f"artist {artist_id} does not exist", details={"id": artist_id})
    return rows[0]


def _album_where(
    artist_id: int | None, year_min: int | None, year_max: int | None, q: str | None
) -> tuple[str, list[Any]]:
    where, params = [_ALBUM_VISIBLE], []
    if artist_id is not None:
        where.append("al.album_artist_id = ?")
        params.append(artist_id)
    if year_min is not None:
        where.append("al.year >= ?")
        params.append(year_min)
    if year_max is not None:
        where.append("al.year <= ?")
        params.append(year_max)
    if q:
        where.append("al.title LIKE ? ESCAPE '\\'")
        params.append("%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    return " AND ".join(where), params


def list_albums(
    conn: apsw.Connection,
    *,
    limit: int = 50,
    offset: int = 0,
    artist_id: int | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    q: str | None = None,
    sort: str = "title",
    descending: bool = False,
    with_total: bool = True,
) -> tuple[list[dict], int | None]:
    clause, params = _album_where(artist_id, year_min, year_max, q)
    order = _sort_order(ALBUM_SORTS, sort, descending, "al.id")
    rows = conn.execute(
        f"""SELECT {_ALBUM_COLUMNS}
            FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
            WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?""",
        (*params, limit, offset),
    ).fetchall()
    total = count_albums(conn, artist_id, year_min, year_max, q) if with_total else None
    return rows, total


def count_albums(
    conn: apsw.Connection,
    artist_id: int | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    q: str | None = None,
) -> int:
    clause, params = _album_where(artist_id, year_min, year_max, q)
    return conn.execute(
        f"SELECT count(*) AS n FROM albums al WHERE {clause}", tuple(params)
    ).fetchall()[0]["n"]


def get_album(conn: apsw.Connection, album_id: int) -> dict[str, Any]:
    rows = conn.execute(
        f"""SELECT {_ALBUM_COLUMNS}
            FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id WHERE al.id = ?""",
        (album_id,),
    ).fetchall()
    if not rows:
        raise NotFound(f"album {album_id} does not exist", details={"id": album_id})
    return rows[0]


def list_scan_errors(
    conn: apsw.Connection, *, limit: int = 100, offset: int = 0
) -> tuple[list[dict], int]:
    rows = conn.execute(
        """SELECT id, path, size, stage, plugin, reason, first_seen, last_seen, occurrences
           FROM scan_errors ORDER BY last_seen DESC, id DESC LIMIT ? OFFSET ?""",
        (limit, offset),
    ).fetchall()
    for row in rows:
        row["path"] = display_path(row["path"])
    total = conn.execute("SELECT count(*) AS n FROM scan_errors").fetchall()[0]["n"]
    return rows, total


def file_states(conn: apsw.Connection) -> dict[bytes, tuple[int, int, bool]]:
    """path -> (size, mtime_ns, known_bad) for every present track and every recorded bad file."""
    states = {
        r["path"]: (r["size"], r["mtime_ns"], False)
        for r in conn.execute("SELECT path, size, mtime_ns FROM tracks WHERE missing_since IS NULL")
    }
    for r in conn.execute("SELECT path, size, mtime_ns FROM scan_errors WHERE stage = 'tags'"):
        states.setdefault(r["path"], (r["size"], r["mtime_ns"], True))
    return states


def counts(conn: apsw.Connection) -> dict[str, int]:
    row = conn.execute(
        """SELECT (SELECT count(*) FROM tracks WHERE missing_since IS NULL) AS tracks,
                  (SELECT count(*) FROM tracks WHERE missing_since IS NOT NULL) AS missing_tracks,
                  (SELECT count(*) FROM albums) AS albums,
                  (SELECT count(*) FROM artists) AS artists,
                  (SELECT count(*) FROM scan_errors) AS scan_errors"""
    ).fetchall()[0]
    return dict(row)


def from_wire(item: dict[str, Any]) -> dict[str, Any]:
    """An API/job item (paths as ``os.fsdecode`` strings) as the store wants it (paths as bytes)."""
    out = dict(item)
    for key in ("path", "previous_path"):
        if isinstance(out.get(key), str):
            out[key] = os.fsencode(out[key])
    return out


# ---------------------------------------------------------------- batched loads (GraphQL)


def _in(ids: Sequence[Any]) -> str:
    return ",".join("?" * len(ids))


def artists_by_ids(conn: apsw.Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    return conn.execute(
        f"SELECT {_ARTIST_COLUMNS} FROM artists a WHERE a.id IN ({_in(ids)})", tuple(ids)
    ).fetchall()


def albums_by_ids(conn: apsw.Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    return conn.execute(
        f"""SELECT {_ALBUM_COLUMNS} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
            WHERE al.id IN ({_in(ids)})""",
        tuple(ids),
    ).fetchall()


def albums_by_artist_ids(conn: apsw.Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    return conn.execute(
        f"""SELECT {_ALBUM_COLUMNS} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
            WHERE al.album_artist_id IN ({_in(ids)}) AND {_ALBUM_VISIBLE}
            ORDER BY al.title COLLATE NOCASE, al.id""",
        tuple(ids),
    ).fetchall()


def tracks_by_album_ids(conn: apsw.Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Present tracks of these albums, each album's in disc and track order."""
    if not ids:
        return []
    return _dicts(
        conn,
        f"""SELECT t.* FROM tracks t WHERE t.album_id IN ({_in(ids)}) AND t.missing_since IS NULL
            ORDER BY t.album_id, t.disc_number, t.track_number, t.id""",
        ids,
    )


def tracks_by_artist_ids(
    conn: apsw.Connection, ids: Sequence[int], limit: int, offset: int
) -> list[dict[str, Any]]:
    """A page of each artist's present tracks in one query; rows carry ``_total``."""
    if not ids:
        return []
    return conn.execute(
        f"""SELECT * FROM (
              SELECT t.*, row_number() OVER w AS _rank, count(*) OVER (PARTITION BY t.track_artist_id) AS _total
              FROM tracks t WHERE t.track_artist_id IN ({_in(ids)}) AND t.missing_since IS NULL
              WINDOW w AS (PARTITION BY t.track_artist_id ORDER BY t.id))
            WHERE _rank > ? AND _rank <= ? ORDER BY track_artist_id, id""",
        (*ids, offset, offset + limit),
    ).fetchall()


# ---------------------------------------------------------------- single-row CRUD (REST)

ARTIST_FIELDS = ("name", "musicbrainz_artistid")
ALBUM_FIELDS = ("title", "album_artist_id", "year", "musicbrainz_albumid")
TRACK_EDITABLE = ("track_artist_id", "album_id", *TAG_FIELDS)


def _returning_one(conn: apsw.Connection, sql: str, params: Sequence[Any], what: str) -> dict:
    try:
        rows = conn.execute(sql, tuple(params)).fetchall()
    except apsw.ConstraintError as exc:
        raise Conflict(f"{what}: {_constraint_message(exc)}") from None
    if not rows:
        raise NotFound(f"{what} does not exist")
    return rows[0]


def create_artist(conn: apsw.Connection, item: dict[str, Any]) -> dict[str, Any]:
    now, name = time.time(), item["name"].strip()
    with conn:
        row = _returning_one(
            conn,
            """INSERT INTO artists (name, name_key, musicbrainz_artistid, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?) RETURNING id""",
            (name, _key(name), item.get("musicbrainz_artistid"), now, now),
            f"artist {name!r}",
        )
    return get_artist(conn, row["id"])


def update_artist(conn: apsw.Connection, artist_id: int, fields: dict[str, Any]) -> dict:
    fields = {k: v for k, v in fields.items() if k in ARTIST_FIELDS}
    if "name" in fields:
        fields["name"] = fields["name"].strip()
        fields["name_key"] = _key(fields["name"])
    with conn:
        sets = "".join(f"{k} = ?, " for k in fields)
        _returning_one(
            conn,
            f"UPDATE artists SET {sets}updated_at = ? WHERE id = ? RETURNING id",
            (*fields.values(), time.time(), artist_id),
            f"artist {artist_id}",
        )
    return get_artist(conn, artist_id)


def delete_artist(conn: apsw.Connection, artist_id: int) -> None:
    """Delete an artist; its tracks and albums stay, without an artist."""
    with conn:
        _returning_one(
            conn,
            "DELETE FROM artists WHERE id = ? RETURNING id",
            (artist_id,),
            f"artist {artist_id}",
        )


def create_album(conn: apsw.Connection, item: dict[str, Any]) -> dict[str, Any]:
    now, title = time.time(), item["title"].strip()
    with conn:
        row = _returning_one(
            conn,
            """INSERT INTO albums (title, album_key, album_artist_id, year, musicbrainz_albumid,
                                   created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            (
                title,
                _album_key(title, item.get("album_artist_id")),
                item.get("album_artist_id"),
                item.get("year"),
                item.get("musicbrainz_albumid"),
                now,
                now,
            ),
            f"album {title!r}",
        )
    return get_album(conn, row["id"])


def update_album(conn: apsw.Connection, album_id: int, fields: dict[str, Any]) -> dict:
    fields = {k: v for k, v in fields.items() if k in ALBUM_FIELDS}
    with conn:
        current = get_album(conn, album_id)
        if "title" in fields:
            fields["title"] = fields["title"].strip()
        if "title" in fields or "album_artist_id" in fields:
            merged = {**current, **fields}
            fields["album_key"] = _album_key(merged["title"], merged["album_artist_id"])
        sets = "".join(f"{k} = ?, " for k in fields)
        _returning_one(
            conn,
            f"UPDATE albums SET {sets}updated_at = ? WHERE id = ? RETURNING id",
            (*fields.values(), time.time(), album_id),
            f"album {album_id}",
        )
    return get_album(conn, album_id)


def delete_album(conn: apsw.Connection, album_id: int) -> None:
    """Delete an album; its tracks stay, without an album."""
    with conn:
        _returning_one(
            conn, "DELETE FROM albums WHERE id = ? RETURNING id", (album_id,), f"album {album_id}"
        )


def create_track(conn: apsw.Connection, item: dict[str, Any]) -> dict[str, Any]:
    """Insert one track (path as bytes); a path already in the library is a Conflict."""
    now = time.time()
    item = {"size": 0, "mtime_ns": 0, **item}
    columns = [c for c in ("path", "size", "mtime_ns", *TRACK_EDITABLE) if c in item]
    with conn:
        row = _returning_one(
            conn,
            f"""INSERT INTO tracks ({", ".join(columns)}, date_added, updated_at)
                VALUES ({", ".join("?" * len(columns))}, ?, ?) RETURNING id""",
            [item[c] for c in columns] + [now, now],
            f"track {display_path(item['path'])!r}",
        )
    return get_track(conn, row["id"])


def update_tracks(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> list[int]:
    """Edit tracks: each item has ``id`` and any of TRACK_EDITABLE. One transaction."""
    now = time.time()

    def one(item: dict[str, Any]) -> int:
        fields = [f for f in TRACK_EDITABLE if f in item]
        sets = "".join(f"{f} = ?, " for f in fields)
        rows = conn.execute(
            f"UPDATE tracks SET {sets}updated_at = ? WHERE id = ? RETURNING id",
            (*[item[f] for f in fields], now, item["id"]),
        ).fetchall()
        if not rows:
            raise NotFound(f"track {item['id']} does not exist", details={"field": "id"})
        return item["id"]

    return _batch(conn, items, one)


def delete_tracks(conn: apsw.Connection, ids: Sequence[int]) -> list[int]:
    """Remove tracks from the library (their vectors go with them). One transaction."""

    def one(track_id: int) -> int:
        rows = conn.execute("DELETE FROM tracks WHERE id = ? RETURNING id", (track_id,)).fetchall()
        if not rows:
            raise NotFound(f"track {track_id} does not exist", details={"field": "id"})
        return track_id

    return _batch(conn, ids, one)


def tracks_to_analyze(
    conn: apsw.Connection,
    ids: Sequence[int] | None = None,
    limit: int = 100_000,
    *,
    only_missing: bool = True,
) -> list[dict[str, Any]]:
    """``{"track_id", "path"}`` of the given present tracks, or of every one without features
    (every present one with ``only_missing=False``)."""
    if ids is not None:
        if not ids:
            return []
        rows = conn.execute(
            f"SELECT id, path FROM tracks WHERE id IN ({_in(ids)}) AND missing_since IS NULL",
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


# ---------------------------------------------------------------- track vectors

VECTOR_COLUMNS = "id, track_id, name, dimension, created_at, updated_at"


def pack_vector(values: Sequence[float]) -> bytes:
    """float32 little-endian, sqlite-vec's format."""
    packed = array.array("f", values)
    if packed.itemsize != 4:  # pragma: no cover - every platform we ship on
        raise RuntimeError("float32 is not 4 bytes here")
    if sys.byteorder != "little":  # pragma: no cover
        packed.byteswap()
    return packed.tobytes()


def unpack_vector(blob: bytes) -> list[float]:
    values = array.array("f")
    values.frombytes(blob)
    if sys.byteorder != "little":  # pragma: no cover
        values.byteswap()
    return [v if math.isfinite(v) else None for v in values.tolist()]


def _vector_row(row: dict[str, Any], with_vector: bool = True) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "vector"}
    if with_vector and "vector" in row:
        out["vector"] = unpack_vector(row["vector"])
    return out


def get_vector(conn: apsw.Connection, vector_id: int) -> dict[str, Any]:
    rows = conn.execute(
        f"SELECT {VECTOR_COLUMNS}, vector FROM track_vectors WHERE id = ?", (vector_id,)
    ).fetchall()
    if not rows:
        raise NotFound(f"track vector {vector_id} does not exist", details={"id": vector_id})
    return _vector_row(rows[0])


def list_vectors(
    conn: apsw.Connection,
    *,
    limit: int = 50,
    offset: int = 0,
    track_id: int | None = None,
    name: str | None = None,
    with_vectors: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    where, params = [], []
    if track_id is not None:
        where.append("track_id = ?")
        params.append(track_id)
    if name is not None:
        where.append("name = ?")
        params.append(name)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    columns = VECTOR_COLUMNS + (", vector" if with_vectors else "")
    rows = conn.execute(
        f"SELECT {columns} FROM track_vectors {clause} ORDER BY id LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    total = conn.execute(
        f"SELECT count(*) AS n FROM track_vectors {clause}", tuple(params)
    ).fetchall()[0]["n"]
    return [_vector_row(r, with_vectors) for r in rows], total


def create_vector(conn: apsw.Connection, item: dict[str, Any]) -> dict[str, Any]:
    """``item``: track_id, name, vector (bytes), dimension. An existing (track, name) conflicts."""
    now = time.time()
    with conn:
        if not conn.execute("SELECT 1 FROM tracks WHERE id = ?", (item["track_id"],)).fetchall():
            raise NotFound(
                f"track {item['track_id']} does not exist", details={"field": "track_id"}
            )
        row = _returning_one(
            conn,
            """INSERT INTO track_vectors (track_id, name, dimension, vector, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?) RETURNING id""",
            (item["track_id"], item["name"], item["dimension"], item["vector"], now, now),
            f"a {item['name']!r} vector for track {item['track_id']}",
        )
    return get_vector(conn, row["id"])


def update_vector(conn: apsw.Connection, vector_id: int, item: dict[str, Any]) -> dict[str, Any]:
    with conn:
        _returning_one(
            conn,
            "UPDATE track_vectors SET vector = ?, dimension = ?, updated_at = ? WHERE id = ? RETURNING id",
            (item["vector"], item["dimension"], time.time(), vector_id),
            f"track vector {vector_id}",
        )
    return get_vector(conn, vector_id)


def delete_vector(conn: apsw.Connection, vector_id: int) -> None:
    with conn:
        _returning_one(
            conn,
            "DELETE FROM track_vectors WHERE id = ? RETURNING id",
            (vector_id,),
            f"track vector {vector_id}",
        )


def upsert_vectors(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> list[dict]:
    """Create or replace vectors by (track_id, name). One transaction, all or nothing."""
    now = time.time()

    def one(item: dict[str, Any]) -> dict[str, Any]:
        return conn.execute(
            f"""INSERT INTO track_vectors (track_id, name, dimension, vector, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (track_id, name) DO UPDATE SET
                  dimension = excluded.dimension, vector = excluded.vector,
                  updated_at = excluded.updated_at
                RETURNING {VECTOR_COLUMNS}""",
            (item["track_id"], item["name"], item["dimension"], item["vector"], now, now),
        ).fetchall()[0]

    return _batch(conn, items, one)


def vectors_by_track_ids(conn: apsw.Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = conn.execute(
        f"SELECT {VECTOR_COLUMNS}, vector FROM track_vectors WHERE track_id IN ({_in(ids)}) ORDER BY id",
        tuple(ids),
    ).fetchall()
    return [_vector_row(r) for r in rows]
