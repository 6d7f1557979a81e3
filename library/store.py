"""Reads and batch writes of the library: the only module that speaks SQL.

Every write function takes a whole batch and runs it in one transaction (all or nothing), as
SQLite on an SD card wants. Paths are bytes here; callers convert with ``os.fsencode``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

import apsw

from soniquebay.errors import InvalidInput, NotFound

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
    out = {k: v for k, v in row.items() if k not in INTERNAL_FIELDS}
    out["path"] = display_path(row["path"])
    out["missing"] = row.get("missing_since") is not None
    for field in JSON_FIELDS:
        if isinstance(out.get(field), str):
            out[field] = json.loads(out[field])
    return out


# ---------------------------------------------------------------- batch writes


def upsert_artists(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create artists by name (case-insensitive) or return the existing ones; idempotent."""
    now = time.time()
    out = []
    with conn:
        for item in items:
            name = (item.get("name") or "").strip()
            if not name:
                raise InvalidInput("an artist needs a name", details={"field": "name"})
            row = conn.execute(
                """INSERT INTO artists (name, name_key, musicbrainz_artistid, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (name_key) DO UPDATE SET
                     musicbrainz_artistid = COALESCE(excluded.musicbrainz_artistid, musicbrainz_artistid),
                     updated_at = excluded.updated_at
                   RETURNING id, name, musicbrainz_artistid""",
                (name, _key(name), item.get("musicbrainz_artistid"), now, now),
            ).fetchall()[0]
            out.append(row)
    return out


def upsert_albums(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create albums by (title, album artist) or return the existing ones; idempotent."""
    now = time.time()
    out = []
    with conn:
        for item in items:
            title = (item.get("title") or "").strip()
            if not title:
                raise InvalidInput("an album needs a title", details={"field": "title"})
            artist_id = item.get("album_artist_id")
            row = conn.execute(
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
                    f"{_key(title)}\x1f{artist_id or ''}",
                    artist_id,
                    item.get("year"),
                    item.get("musicbrainz_albumid"),
                    now,
                    now,
                ),
            ).fetchall()[0]
            out.append(row)
    return out


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
    candidates = conn.execute(
        """SELECT id, path, quick_hash, missing_since FROM tracks
           WHERE ((device = ? AND inode = ?) OR quick_hash = ?) AND size = ?
           ORDER BY missing_since IS NULL, missing_since DESC LIMIT 8""",
        (item.get("device"), item.get("inode"), item.get("quick_hash"), item["size"]),
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
    out = []
    with conn:
        for item in items:
            if not isinstance(item.get("path"), bytes) or not item["path"]:
                raise InvalidInput("a track needs a path", details={"field": "path"})
            for field in ("size", "mtime_ns"):
                if not isinstance(item.get(field), int):
                    raise InvalidInput(
                        f"a track needs an integer {field}", details={"field": field}
                    )
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
                out.append({"id": new_id, "path": item["path"], "action": "added"})
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
                out.append({"id": row["id"], "path": item["path"], "action": action})
            conn.execute("DELETE FROM scan_errors WHERE path = ?", (item["path"],))
    return out


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
    return conn.execute(f"SELECT * FROM tracks WHERE id IN ({marks})", tuple(ids)).fetchall()


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
) -> tuple[list[dict[str, Any]], int]:
    if sort not in TRACK_SORTS:
        raise InvalidInput(
            f"cannot sort by {sort!r}", details={"field": "sort", "allowed": sorted(TRACK_SORTS)}
        )
    where, params = [], []
    if not include_missing:
        where.append("t.missing_since IS NULL")
    if album_id is not None:
        where.append("t.album_id = ?")
        params.append(album_id)
    if artist_id is not None:
        where.append("t.track_artist_id = ?")
        params.append(artist_id)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    direction = "DESC" if descending else "ASC"
    order = ", ".join(f"{part} {direction}" for part in TRACK_SORTS[sort].split(", "))
    rows = conn.execute(
        f"SELECT t.* FROM tracks t {clause} ORDER BY {order}, t.id {direction} LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM tracks t {clause}", tuple(params)).fetchall()[
        0
    ]["n"]
    return rows, total


def list_artists(
    conn: apsw.Connection, *, limit: int = 50, offset: int = 0
) -> tuple[list[dict], int]:
    # An artist is listed while one of its tracks (or a track of one of its albums) is present.
    visible = """EXISTS (SELECT 1 FROM tracks t WHERE t.track_artist_id = a.id AND t.missing_since IS NULL)
                 OR EXISTS (SELECT 1 FROM albums al JOIN tracks t ON t.album_id = al.id
                            WHERE al.album_artist_id = a.id AND t.missing_since IS NULL)"""
    rows = conn.execute(
        f"""SELECT a.id, a.name, a.musicbrainz_artistid,
                  (SELECT count(*) FROM tracks t WHERE t.track_artist_id = a.id AND t.missing_since IS NULL)
                    AS track_count
           FROM artists a WHERE {visible} ORDER BY a.name COLLATE NOCASE, a.id LIMIT ? OFFSET ?""",
        (limit, offset),
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM artists a WHERE {visible}").fetchall()[0]["n"]
    return rows, total


def get_artist(conn: apsw.Connection, artist_id: int) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT id, name, musicbrainz_artistid FROM artists WHERE id = ?", (artist_id,)
    ).fetchall()
    if not rows:
        raise NotFound(f"artist {artist_id} does not exist", details={"id": artist_id})
    return rows[0]


def list_albums(
    conn: apsw.Connection, *, limit: int = 50, offset: int = 0, artist_id: int | None = None
) -> tuple[list[dict], int]:
    where = (
        "WHERE EXISTS (SELECT 1 FROM tracks t WHERE t.album_id = al.id AND t.missing_since IS NULL)"
    )
    if artist_id is not None:
        where += " AND al.album_artist_id = ?"
    params: tuple = (artist_id,) if artist_id is not None else ()
    rows = conn.execute(
        f"""SELECT al.id, al.title, al.album_artist_id, ar.name AS album_artist_name, al.year,
                   al.musicbrainz_albumid,
                   (SELECT count(*) FROM tracks t WHERE t.album_id = al.id AND t.missing_since IS NULL)
                     AS track_count
            FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id {where}
            ORDER BY al.title COLLATE NOCASE, al.id LIMIT ? OFFSET ?""",
        (*params, limit, offset),
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM albums al {where}", params).fetchall()[0]["n"]
    return rows, total


def get_album(conn: apsw.Connection, album_id: int) -> dict[str, Any]:
    rows = conn.execute(
        """SELECT al.id, al.title, al.album_artist_id, ar.name AS album_artist_name, al.year,
                  al.musicbrainz_albumid
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


def tracks_to_analyse(
    conn: apsw.Connection, *, ids: Sequence[int] | None = None, only_missing: bool = True
) -> list[dict[str, Any]]:
    """``{"track_id", "path"}`` of present tracks to analyse: given ids, or those without features."""
    where = ["missing_since IS NULL"]
    params: list[Any] = []
    if ids:
        where.append(f"id IN ({','.join('?' * len(ids))})")
        params.extend(ids)
    elif only_missing:
        where.append("analyzed_at IS NULL")
    rows = conn.execute(
        f"SELECT id, path FROM tracks WHERE {' AND '.join(where)} ORDER BY id", tuple(params)
    ).fetchall()
    return [{"track_id": r["id"], "path": os.fsdecode(r["path"])} for r in rows]
