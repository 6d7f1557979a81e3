"""Ingest writes: what the scan sends (tracks with their artist and album names, unreadable
files), moves recognised by identity, files gone missing, and their purge.

Nothing here touches the music files: the worker that read them sends everything the decisions
need (identity, size, content hash, and the previous path of a move it saw).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import apsw

from soniquebay.errors import InvalidInput, SoniqueBayError
from soniquebay.library import annotations, edits, grouping, sql
from soniquebay.library.fields import FILE_FIELDS, TAG_FIELDS

ARTIST_UPSERT = """
    INSERT INTO artists (name, name_key, musicbrainz_artistid, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (name_key) DO UPDATE SET
      musicbrainz_artistid = COALESCE(excluded.musicbrainz_artistid, musicbrainz_artistid),
      updated_at = excluded.updated_at
    RETURNING id, name, musicbrainz_artistid"""
ALBUM_UPSERT = """
    INSERT INTO albums (title, album_key, album_artist_id, year, musicbrainz_albumid,
                        created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (album_key) DO UPDATE SET
      year = COALESCE(excluded.year, year),
      musicbrainz_albumid = COALESCE(excluded.musicbrainz_albumid, musicbrainz_albumid),
      updated_at = excluded.updated_at
    RETURNING id, title, album_artist_id, year, musicbrainz_albumid"""


def _upsert_artist(conn: apsw.Connection, item: dict[str, Any], now: float) -> dict[str, Any]:
    name = (item.get("name") or "").strip()
    if not name:
        raise InvalidInput("an artist needs a name", details={"field": "name"})
    return conn.execute(
        ARTIST_UPSERT, (name, sql.name_key(name), item.get("musicbrainz_artistid"), now, now)
    ).fetchall()[0]


def _upsert_album(conn: apsw.Connection, item: dict[str, Any], now: float) -> dict[str, Any]:
    title = (item.get("title") or "").strip()
    if not title:
        raise InvalidInput("an album needs a title", details={"field": "title"})
    artist_id = item.get("album_artist_id")
    return conn.execute(
        ALBUM_UPSERT,
        (
            title,
            sql.album_key(title, artist_id),
            artist_id,
            item.get("year"),
            item.get("musicbrainz_albumid"),
            now,
            now,
        ),
    ).fetchall()[0]


def upsert_artists(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create artists by name (case-insensitive) or return the existing ones; idempotent."""
    now = time.time()
    return sql.run_batch(conn, items, lambda item: _upsert_artist(conn, item, now))


def upsert_albums(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create albums by (title, album artist) or return the existing ones; idempotent."""
    now = time.time()
    return sql.run_batch(conn, items, lambda item: _upsert_album(conn, item, now))


def _find_moved(
    conn: apsw.Connection, item: dict[str, Any], any_missing: bool = True
) -> dict[str, Any] | None:
    """The track this new file was before it moved, if any: its id and history carry over.

    The worker names the previous path of a rename it saw and checked is gone
    (``previous_path``). Otherwise identity decides among tracks already marked missing:
    (device, inode, size) for a rename on one file system, (quick_hash, size) for a copy
    elsewhere followed by a delete. A present track with the same content is another copy.
    """
    previous = item.get("previous_path")
    if previous:
        row = conn.execute(
            "SELECT id, path, quick_hash FROM tracks WHERE path = ?", (previous,)
        ).fetchall()
        if row:
            return row[0]
    if not any_missing:
        return None  # the common case, a library where nothing went missing: no lookup at all
    if item.get("quick_hash") is None and (item.get("device") is None or item.get("inode") is None):
        return None
    # Two indexed lookups, not one OR: SQLite scans the whole table for the OR form.
    candidates = conn.execute(
        """SELECT * FROM (
             SELECT id, path, quick_hash, missing_since FROM tracks
               WHERE device = ? AND inode = ? AND size = ? AND missing_since IS NOT NULL
             UNION
             SELECT id, path, quick_hash, missing_since FROM tracks
               WHERE quick_hash = ? AND size = ? AND missing_since IS NOT NULL)
           ORDER BY missing_since DESC LIMIT 1""",
        (item.get("device"), item.get("inode"), item["size"], item.get("quick_hash"), item["size"]),
    ).fetchall()
    return candidates[0] if candidates else None


TRACK_COLUMNS = ("path", "folder", *FILE_FIELDS, *TAG_FIELDS)
PLACED_BY_ID = ("track_artist_id", "album_id")
GROUPED = ", ".join(grouping.GROUPING_FIELDS)
MISSING = object()


def _upsert_track(
    conn: apsw.Connection,
    item: dict[str, Any],
    now: float,
    any_missing: bool = True,
    any_edits: bool = True,
) -> dict[str, Any]:
    if not isinstance(item.get("path"), bytes) or not item["path"]:
        raise InvalidInput("a track needs a path", details={"field": "path"})
    for field in ("size", "mtime_ns"):
        if not isinstance(item.get(field), int):
            raise InvalidInput(f"a track needs an integer {field}", details={"field": field})
    sql.check_ranges(item)
    existing = conn.execute(
        f"""SELECT id, path, size, mtime_ns, quick_hash, missing_since, {GROUPED}
            FROM tracks WHERE path = ?""",
        (item["path"],),
    ).fetchall()
    row = existing[0] if existing else _find_moved(conn, item, any_missing)
    if row is not None and any_edits:  # what people changed outlives the file's tags
        item = edits.keep_edits(conn, row["id"], item)
    item["folder"] = grouping.folder_of(item["path"])
    # The seed's create_tracks may name the album and artist by id: those are kept as sent.
    columns = TRACK_COLUMNS + tuple(c for c in PLACED_BY_ID if c in item)
    values = [item.get(c) for c in columns]
    if row is None:
        new_id = conn.execute(
            f"""INSERT INTO tracks ({", ".join(columns)}, date_added, updated_at)
                VALUES ({", ".join("?" * len(columns))}, ?, ?) RETURNING id""",
            (*values, now, now),
        ).fetchall()[0]["id"]
        result = {"id": new_id, "path": item["path"], "action": "added"}
        edits.pin_placement(conn, new_id, item, now)
    else:
        if row["path"] != item["path"]:
            action = "moved"
        elif (
            row["size"] == item["size"]
            and row["mtime_ns"] == item["mtime_ns"]
            and row["missing_since"] is None
        ):
            action = "unchanged"
        else:
            action = "updated"
        content_changed = row["quick_hash"] != item.get("quick_hash")
        assignments = ", ".join(f"{c} = ?" for c in columns)
        reset = ", analyzed_at = NULL" if content_changed else ""
        conn.execute(
            f"""UPDATE tracks SET {assignments}, missing_since = NULL, updated_at = ?{reset}
                WHERE id = ?""",
            (*values, now, row["id"]),
        )
        if content_changed:  # new content: every stage is due again, even after a crash
            conn.execute("DELETE FROM track_stages WHERE track_id = ?", (row["id"],))
        result = {"id": row["id"], "path": item["path"], "action": action}
        if action == "moved":
            result["previous_folder"] = grouping.folder_of(row["path"])
        elif all(row.get(f, MISSING) == item.get(f) for f in grouping.GROUPING_FIELDS):
            result["same_grouping"] = True  # a new mtime, the same tags: nothing to regroup
    conn.execute("DELETE FROM scan_errors WHERE path = ?", (item["path"],))
    return result


def upsert_tracks(
    conn: apsw.Connection,
    items: Sequence[dict[str, Any]],
    rules: grouping.Rules | None = None,
) -> list[dict[str, Any]]:
    """Create or update tracks by path; a moved file keeps its id. One transaction, all or nothing.

    Returns ``{"id", "path", "action"}`` per item, action being added, updated, moved or unchanged.
    """
    now = time.time()
    with conn:
        done = sql.run_batch(conn, items, lambda item: _upsert_track(conn, item, now))
        by_name = [
            d for d, i in zip(done, items, strict=True) if not any(c in i for c in PLACED_BY_ID)
        ]
        grouping.regroup(conn, _regrouped_folders(by_name), rules, now)
    return [_public(d) for d in done]


def _public(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("previous_folder", "same_grouping")}


def _regrouped_folders(done: Sequence[dict[str, Any]]) -> set[bytes]:
    """The folders whose grouping a chunk may change: those of new, changed and moved files,
    and those a move left (a file unchanged since the last scan changes nothing)."""
    folders = set()
    for result in done:
        if result["action"] in ("added", "updated", "moved") and not result.get("same_grouping"):
            folders.add(grouping.folder_of(result["path"]))
            if "previous_folder" in result:
                folders.add(result["previous_folder"])
    return folders


def ingest(
    conn: apsw.Connection,
    tracks: Sequence[dict[str, Any]],
    errors: Sequence[dict[str, Any]] = (),
    rules: grouping.Rules | None = None,
) -> list[dict[str, Any]]:
    """One scan chunk in one transaction: tracks created or updated (moves keep their ids),
    the folders they are in regrouped into albums and artists (:mod:`grouping`), unreadable
    files recorded.

    A track the database refuses does not sink the chunk: it is recorded as a scan error of
    stage ``store`` with the reason, and the others are stored. Returns, per track in order,
    ``{"id", "path", "action"}`` with action added, updated, moved, unchanged or refused
    (then with ``reason`` and no id).
    """
    now = time.time()
    results: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    warned: list[dict[str, Any]] = []
    with conn:
        any_missing = bool(
            conn.execute("SELECT 1 FROM tracks WHERE missing_since IS NOT NULL LIMIT 1").fetchall()
        )
        any_edits = bool(conn.execute("SELECT 1 FROM track_edits LIMIT 1").fetchall())
        for item in map(dict, tracks):
            try:
                # No savepoint needed: a track's one write (INSERT or UPDATE) is atomic, and a
                # refused one has written nothing.
                results.append(_upsert_track(conn, item, now, any_missing, any_edits))
                if item.get("warning"):  # stored, and said: a cut copy is not a whole track
                    warned.append({**item, "stage": "integrity", "reason": item["warning"]})
            except (SoniqueBayError, apsw.ConstraintError, UnicodeEncodeError) as exc:
                reason = (
                    exc.message
                    if isinstance(exc, SoniqueBayError)
                    else sql.constraint_message(exc)
                    if isinstance(exc, apsw.ConstraintError)
                    else f"cannot be stored: {exc}"
                )
                results.append(
                    {"id": None, "path": item.get("path"), "action": "refused", "reason": reason}
                )
                if isinstance(item.get("path"), bytes):
                    refused.append({**item, "stage": "store", "reason": reason})
        grouping.regroup(conn, _regrouped_folders(results), rules, now)
        if errors or refused or warned:
            record_scan_errors(conn, [*errors, *refused, *warned])
    return [_public(r) for r in results]


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
            annotations.forget_deleted(conn)
    return len(gone)


def file_states(conn: apsw.Connection) -> dict[bytes, tuple[int, int, bool]]:
    """path -> (size, mtime_ns, known_bad) for every present track and every recorded bad file."""
    states = {
        r["path"]: (r["size"], r["mtime_ns"], False)
        for r in conn.execute("SELECT path, size, mtime_ns FROM tracks WHERE missing_since IS NULL")
    }
    for r in conn.execute("SELECT path, size, mtime_ns FROM scan_errors WHERE stage = 'tags'"):
        states.setdefault(r["path"], (r["size"], r["mtime_ns"], True))
    return states


class DirectSink:
    """This module as a scan's sink, for ``soniquebay scan --direct`` when no web process runs
    (the command is then the only writer). :class:`soniquebay.daemon.api_client.ApiSink` is
    its twin."""

    def __init__(self, conn: apsw.Connection, rules: grouping.Rules | None = None):
        self.conn, self.rules = conn, rules

    def ingest(self, tracks: list[dict], errors: list[dict]) -> list[dict]:
        done = ingest(
            self.conn,
            [sql.from_wire(t) for t in tracks],
            [sql.from_wire(e) for e in errors],
            self.rules,
        )
        return [{"id": d["id"], "change": d["action"], "reason": d.get("reason")} for d in done]
