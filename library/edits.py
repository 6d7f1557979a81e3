"""Changes people make through the API: create, edit and delete artists, albums and tracks."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import apsw

from soniquebay import library
from soniquebay.errors import NotFound
from soniquebay.library import grouping, sql
from soniquebay.library.fields import ALBUM_FIELDS, ARTIST_FIELDS, TRACK_EDITABLE
from soniquebay.records import Album, Artist, Track


def _sort_name(name: str) -> str:
    return grouping.sort_name(name, None, grouping.default_rules().sort_articles)


def create_artist(conn: apsw.Connection, item: dict[str, Any]) -> Artist:
    now, name = time.time(), item["name"].strip()
    with conn:
        row = sql.returning_one(
            conn,
            """INSERT INTO artists (name, name_key, sort_name, musicbrainz_artistid, created_at,
                                    updated_at)
               VALUES (?, ?, ?, ?, ?, ?) RETURNING id""",
            (
                name,
                sql.name_key(name),
                _sort_name(name),
                item.get("musicbrainz_artistid"),
                now,
                now,
            ),
            f"artist {name!r}",
        )
    return library.artists.get_artist(conn, row["id"])


def update_artist(conn: apsw.Connection, artist_id: int, fields: dict[str, Any]) -> Artist:
    fields = {k: v for k, v in fields.items() if k in ARTIST_FIELDS}
    if "name" in fields:
        fields["name"] = fields["name"].strip()
        fields["name_key"] = sql.name_key(fields["name"])
        fields["sort_name"] = _sort_name(fields["name"])
    with conn:
        _update_row(conn, "artist", artist_id, fields)
    return library.artists.get_artist(conn, artist_id)


def _update_row(conn: apsw.Connection, kind: str, row_id: int, fields: dict[str, Any]) -> None:
    """Set ``fields`` on one artist or album row (a 404 when there is none)."""
    sets = "".join(f"{k} = ?, " for k in fields)
    sql.returning_one(
        conn,
        f"UPDATE {kind}s SET {sets}updated_at = ? WHERE id = ? RETURNING id",
        (*fields.values(), time.time(), row_id),
        f"{kind} {row_id}",
    )


def delete_artist(conn: apsw.Connection, artist_id: int) -> None:
    """Delete an artist; its tracks and albums stay, without an artist."""
    with conn:
        sql.returning_one(
            conn,
            "DELETE FROM artists WHERE id = ? RETURNING id",
            (artist_id,),
            f"artist {artist_id}",
        )


def create_album(conn: apsw.Connection, item: dict[str, Any]) -> Album:
    now, title = time.time(), item["title"].strip()
    with conn:
        row = sql.returning_one(
            conn,
            """INSERT INTO albums (title, album_key, album_artist_id, year, musicbrainz_albumid,
                                   created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            (
                title,
                sql.album_key(title, item.get("album_artist_id")),
                item.get("album_artist_id"),
                item.get("year"),
                item.get("musicbrainz_albumid"),
                now,
                now,
            ),
            f"album {title!r}",
        )
    return library.albums.get_album(conn, row["id"])


# An album's fields as its tracks hold them: editing an album sets them on every track.
ALBUM_ON_TRACKS = {
    "title": "album_title",
    "album_artist_name": "album_artist_name",
    "year": "year",
    "original_year": "original_year",
    "musicbrainz_albumid": "musicbrainz_albumid",
    "genre": "genre",
    "compilation": "compilation",
    "disc_total": "disc_total",
    "release_type": "release_type",
    "album_version": "album_version",
}


def update_album(
    conn: apsw.Connection,
    album_id: int,
    fields: dict[str, Any],
    rules: grouping.Rules | None = None,
) -> Album:
    """Edit a whole album at once: each field is set on every one of its tracks as an edit
    (kept over rescans, undone per track), in one transaction, and the tracks regroup — a new
    title or album artist renames the album, or merges it into the one that already has them.
    Returns the album the tracks are in now. An album with no track (made by hand) is edited
    as a row."""
    with conn:
        library.albums.get_album(conn, album_id)  # 404 first
        fields = dict(fields)
        if "album_artist_id" in fields:
            artist = fields.pop("album_artist_id")
            fields["album_artist_name"] = (
                None if artist is None else library.artists.get_artist(conn, artist)["name"]
            )
        if "title" in fields:
            fields["title"] = fields["title"].strip()
        ids = [
            r["id"] for r in conn.execute("SELECT id FROM tracks WHERE album_id = ?", (album_id,))
        ]
        if not ids:
            return _update_album_row(conn, album_id, fields)
        changes = {ALBUM_ON_TRACKS[k]: v for k, v in fields.items() if k in ALBUM_ON_TRACKS}
        if changes:
            update_tracks(conn, [{"id": i, **changes} for i in ids], rules)
        now_in = conn.execute("SELECT album_id FROM tracks WHERE id = ?", (ids[0],)).fetchall()
        pinned = conn.execute(
            f"""SELECT 1 FROM track_edits WHERE field = 'album_id'
                AND track_id IN ({sql.placeholders(ids)}) LIMIT 1""",
            tuple(ids),
        ).fetchall()
        if pinned and now_in[0]["album_id"] == album_id:  # tracks placed by id: the row too
            return _update_album_row(conn, album_id, fields)
    return library.albums.get_album(conn, now_in[0]["album_id"])


def album_edited(conn: apsw.Connection, track_ids: Sequence[int]) -> bool:
    """Whether any of these tracks has an edit of an album-wide field."""
    if not track_ids:
        return False
    fields = tuple(ALBUM_ON_TRACKS.values())
    return bool(
        conn.execute(
            f"""SELECT 1 FROM track_edits WHERE track_id IN ({sql.placeholders(track_ids)})
                AND field IN ({sql.placeholders(fields)}) LIMIT 1""",
            (*track_ids, *fields),
        ).fetchall()
    )


def revert_album(
    conn: apsw.Connection, album_id: int, rules: grouping.Rules | None = None
) -> Album:
    """Undo an album edit: every track of the album gets its files' album-wide tags back (its
    other edits stay) and regroups. One transaction; returns the album its first track is in."""
    with conn:
        library.albums.get_album(conn, album_id)
        ids = [
            r["id"] for r in conn.execute("SELECT id FROM tracks WHERE album_id = ?", (album_id,))
        ]
        for track_id in ids:
            _revert(conn, track_id, tuple(ALBUM_ON_TRACKS.values()))
        if not ids:  # an album with no track (made through the API): nothing to undo
            return library.albums.get_album(conn, album_id)
        grouping.regroup(conn, grouping.folders_of(conn, ids), rules)
        now_in = conn.execute("SELECT album_id FROM tracks WHERE id = ?", (ids[0],)).fetchall()
    return library.albums.get_album(conn, now_in[0]["album_id"])


def _update_album_row(conn: apsw.Connection, album_id: int, fields: dict[str, Any]) -> Album:
    if "album_artist_name" in fields:
        name = fields.pop("album_artist_name")
        fields["album_artist_id"] = (
            create_or_find_artist(conn, name) if name and name.strip() else None
        )
    fields = {k: v for k, v in fields.items() if k in ALBUM_FIELDS}
    current = library.albums.get_album(conn, album_id)
    if "title" in fields or "album_artist_id" in fields:
        merged = {**current, **fields}
        fields["album_key"] = sql.album_key(merged["title"], merged["album_artist_id"])
    _update_row(conn, "album", album_id, fields)
    return library.albums.get_album(conn, album_id)


def create_or_find_artist(conn: apsw.Connection, name: str) -> int:
    return grouping.Grouper(conn, grouping.default_rules()).artist_id(name.strip())


def delete_album(conn: apsw.Connection, album_id: int) -> None:
    """Delete an album; its tracks stay, without an album."""
    with conn:
        sql.returning_one(
            conn, "DELETE FROM albums WHERE id = ? RETURNING id", (album_id,), f"album {album_id}"
        )


def create_track(
    conn: apsw.Connection, item: dict[str, Any], rules: grouping.Rules | None = None
) -> Track:
    """Insert one track (path as bytes); a path already in the library is a Conflict. It is
    grouped as a scanned file would be, unless its album and artist are given by id."""
    now = time.time()
    item = {"size": 0, "mtime_ns": 0, **item, "folder": grouping.folder_of(item["path"])}
    sql.check_ranges(item)
    columns = [c for c in ("path", "folder", "size", "mtime_ns", *TRACK_EDITABLE) if c in item]
    with conn:
        row = sql.returning_one(
            conn,
            f"""INSERT INTO tracks ({", ".join(columns)}, date_added, updated_at)
                VALUES ({", ".join("?" * len(columns))}, ?, ?) RETURNING id""",
            [item[c] for c in columns] + [now, now],
            f"track {sql.display_path(item['path'])!r}",
        )
        pin_placement(conn, row["id"], item, now)
        grouping.regroup(conn, [item["folder"]], rules, now)
    return library.tracks.get_track(conn, row["id"])


def pin_placement(conn: apsw.Connection, track_id: int, item: dict[str, Any], now: float) -> None:
    """An album or artist named by id when a track is created is a person's (or a client's)
    choice: kept as an edit, so the grouping leaves the track there (until reverted)."""
    for field in ("album_id", "track_artist_id"):
        if item.get(field) is not None:
            conn.execute(
                """INSERT INTO track_edits (track_id, field, value, file_value, edited_at)
                   VALUES (?, ?, ?, NULL, ?)
                   ON CONFLICT (track_id, field) DO UPDATE SET
                     value = excluded.value, edited_at = excluded.edited_at""",
                (track_id, field, item[field], now),
            )


def update_tracks(
    conn: apsw.Connection,
    items: Sequence[dict[str, Any]],
    rules: grouping.Rules | None = None,
) -> list[int]:
    """Edit tracks: each item has ``id`` and any of TRACK_EDITABLE. One transaction.

    Every field set is recorded as an edit (``track_edits``) with the file's value beside it, so
    a rescan keeps the edit (:func:`keep_edits`) and :func:`revert` can bring the file's back.
    The edited tracks' folders are regrouped: a new album or artist moves the track to the album
    it now names (merging or splitting albums; empty ones go).
    """
    now = time.time()

    def one(item: dict[str, Any]) -> int:
        sql.check_ranges(item)
        fields = [f for f in TRACK_EDITABLE if f in item]
        current = conn.execute(
            f"SELECT {', '.join(['id', *fields])} FROM tracks WHERE id = ?", (item["id"],)
        ).fetchall()
        if not current:
            raise NotFound(f"track {item['id']} does not exist", details={"field": "id"})
        for field in fields:  # the file's value is the column's until a first edit
            conn.execute(
                """INSERT INTO track_edits (track_id, field, value, file_value, edited_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (track_id, field) DO UPDATE SET
                     value = excluded.value, edited_at = excluded.edited_at""",
                (item["id"], field, item[field], current[0][field], now),
            )
        sets = "".join(f"{f} = ?, " for f in fields)
        conn.execute(
            f"UPDATE tracks SET {sets}updated_at = ? WHERE id = ?",
            (*[item[f] for f in fields], now, item["id"]),
        )
        return item["id"]

    with conn:
        ids = sql.run_batch(conn, items, one)
        grouping.regroup(conn, grouping.folders_of(conn, ids), rules, now)
    return ids


def keep_edits(conn: apsw.Connection, track_id: int, from_file: dict[str, Any]) -> dict[str, Any]:
    """A rescan read ``from_file``: record the file's new values under the track's edits and
    return the values to store, the edits winning. (Inside the caller's transaction.)"""
    rows = conn.execute(
        "SELECT field, value FROM track_edits WHERE track_id = ?", (track_id,)
    ).fetchall()
    if not rows:
        return from_file
    out = dict(from_file)
    for row in rows:
        field = row["field"]
        if field not in TRACK_EDITABLE:
            continue
        conn.execute(
            "UPDATE track_edits SET file_value = ? WHERE track_id = ? AND field = ?",
            (from_file.get(field), track_id, field),
        )
        out[field] = row["value"]
    return out


def revert(
    conn: apsw.Connection,
    track_id: int,
    fields: Sequence[str] | None = None,
    rules: grouping.Rules | None = None,
) -> list[str]:
    """Drop a track's edits (all, or ``fields``): the file's values come back, and the track
    the album they name. One transaction."""
    with conn:
        library.tracks.get_track(conn, track_id)  # 404 first
        reverted = _revert(conn, track_id, fields)
        if reverted:
            grouping.regroup(conn, grouping.folders_of(conn, [track_id]), rules)
    return reverted


def _revert(conn: apsw.Connection, track_id: int, fields: Sequence[str] | None) -> list[str]:
    rows = conn.execute(
        "SELECT field, file_value FROM track_edits WHERE track_id = ?", (track_id,)
    ).fetchall()
    reverted = []
    for row in rows:
        field = row["field"]
        if (fields is not None and field not in fields) or field not in TRACK_EDITABLE:
            continue
        conn.execute(
            f"UPDATE tracks SET {field} = ?, updated_at = ? WHERE id = ?",
            (row["file_value"], time.time(), track_id),
        )
        conn.execute("DELETE FROM track_edits WHERE track_id = ? AND field = ?", (track_id, field))
        reverted.append(field)
    return reverted


def edits_of_many(conn: apsw.Connection, ids: Sequence[int]) -> dict[int, dict[str, dict]]:
    """track id -> its edits (as :func:`edits_of`), for a page of tracks."""
    out: dict[int, dict[str, dict]] = {i: {} for i in ids}
    if ids:
        for r in conn.execute(
            f"SELECT track_id, field, value, file_value, edited_at FROM track_edits"
            f" WHERE track_id IN ({sql.placeholders(ids)})",
            tuple(ids),
        ):
            out[r["track_id"]][r["field"]] = {
                "value": r["value"], "file_value": r["file_value"], "edited_at": r["edited_at"]
            }  # fmt: skip
    return out


def edits_of(conn: apsw.Connection, track_id: int) -> dict[str, dict[str, Any]]:
    """field -> {"value", "file_value", "edited_at"} for a track's edits."""
    return {
        r["field"]: {
            "value": r["value"],
            "file_value": r["file_value"],
            "edited_at": r["edited_at"],
        }
        for r in conn.execute(
            "SELECT field, value, file_value, edited_at FROM track_edits WHERE track_id = ?"
            " ORDER BY field",
            (track_id,),
        )
    }


def delete_tracks(conn: apsw.Connection, ids: Sequence[int]) -> list[int]:
    """Remove tracks from the library (their vectors go with them). One transaction."""

    def one(track_id: int) -> int:
        rows = conn.execute("DELETE FROM tracks WHERE id = ? RETURNING id", (track_id,)).fetchall()
        if not rows:
            raise NotFound(f"track {track_id} does not exist", details={"field": "id"})
        return track_id

    return sql.run_batch(conn, ids, one)
