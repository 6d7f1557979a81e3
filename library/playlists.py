"""Playlists: each belongs to one user, holds tracks in order, and is read and written only by
its owner (another user's playlist is a NotFound, so ids do not tell who has what)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import apsw

from soniquebay.errors import InvalidInput, NotFound
from soniquebay.library import sql

MAX_TRACKS = 10_000
NAME_MAX = 200

SUMMARY = """p.id, p.name, p.comment, p.created_at, p.updated_at,
    (SELECT count(*) FROM playlist_tracks pt WHERE pt.playlist_id = p.id) AS track_count,
    (SELECT coalesce(sum(t.duration), 0) FROM playlist_tracks pt JOIN tracks t ON t.id = pt.track_id
      WHERE pt.playlist_id = p.id) AS duration"""


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        raise InvalidInput(
            f"a playlist needs a name of 1 to {NAME_MAX} characters", details={"field": "name"}
        )
    return " ".join(name.split())


def _owned(conn: apsw.Connection, user_id: int, playlist_id: int) -> dict[str, Any]:
    rows = conn.execute(
        f"SELECT {SUMMARY} FROM playlists p WHERE p.id = ? AND p.user_id = ?",
        (playlist_id, user_id),
    ).fetchall()
    if not rows:
        raise NotFound(f"playlist {playlist_id} does not exist", details={"id": playlist_id})
    return rows[0]


def _check_tracks(conn: apsw.Connection, track_ids: Sequence[int]) -> None:
    if len(track_ids) > MAX_TRACKS:
        raise InvalidInput(
            f"a playlist holds at most {MAX_TRACKS} tracks", details={"field": "track_ids"}
        )
    wanted = set(track_ids)
    if not wanted:
        return
    found = {
        r["id"]
        for r in conn.execute(
            f"SELECT id FROM tracks WHERE id IN ({sql.placeholders(list(wanted))})",
            tuple(wanted),
        )
    }
    missing = sorted(wanted - found)
    if missing:
        raise NotFound(
            f"track {missing[0]} does not exist", details={"field": "track_ids", "id": missing[0]}
        )


def list_playlists(conn: apsw.Connection, user_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {SUMMARY} FROM playlists p WHERE p.user_id = ? ORDER BY p.name COLLATE NOCASE, p.id",
        (user_id,),
    ).fetchall()


def get_playlist(conn: apsw.Connection, user_id: int, playlist_id: int) -> dict[str, Any]:
    """The playlist with ``tracks`` (full rows, in order, each with its ``position``)."""
    playlist = _owned(conn, user_id, playlist_id)
    playlist["tracks"] = sql.dict_rows(
        conn,
        """SELECT t.*, pt.position FROM playlist_tracks pt JOIN tracks t ON t.id = pt.track_id
           WHERE pt.playlist_id = ? ORDER BY pt.position""",
        (playlist_id,),
    )
    return playlist


def track_ids(conn: apsw.Connection, user_id: int, playlist_id: int) -> list[int]:
    _owned(conn, user_id, playlist_id)
    return [
        r["track_id"]
        for r in conn.execute(
            "SELECT track_id FROM playlist_tracks WHERE playlist_id = ? ORDER BY position",
            (playlist_id,),
        )
    ]


def create(
    conn: apsw.Connection, user_id: int, name: Any, track_ids: Sequence[int] = (), comment: str = ""
) -> dict[str, Any]:
    name = _name(name)
    now = time.time()
    with conn:
        _check_tracks(conn, track_ids)
        playlist_id = conn.execute(
            """INSERT INTO playlists (user_id, name, comment, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?) RETURNING id""",
            (user_id, name, comment[:2000], now, now),
        ).fetchall()[0]["id"]
        _write_tracks(conn, playlist_id, track_ids)
    return _owned(conn, user_id, playlist_id)


def update(
    conn: apsw.Connection,
    user_id: int,
    playlist_id: int,
    *,
    name: Any = None,
    comment: str | None = None,
    track_ids: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Rename, re-comment, or replace the whole order (a reorder sends every id again)."""
    with conn:
        _owned(conn, user_id, playlist_id)
        if name is not None:
            conn.execute("UPDATE playlists SET name = ? WHERE id = ?", (_name(name), playlist_id))
        if comment is not None:
            conn.execute(
                "UPDATE playlists SET comment = ? WHERE id = ?", (comment[:2000], playlist_id)
            )
        if track_ids is not None:
            _check_tracks(conn, track_ids)
            _write_tracks(conn, playlist_id, track_ids)
        conn.execute("UPDATE playlists SET updated_at = ? WHERE id = ?", (time.time(), playlist_id))
    return _owned(conn, user_id, playlist_id)


def add_tracks(conn: apsw.Connection, user_id: int, playlist_id: int, ids: Sequence[int]) -> dict:
    current = track_ids(conn, user_id, playlist_id)
    return update(conn, user_id, playlist_id, track_ids=[*current, *ids])


def remove_positions(
    conn: apsw.Connection, user_id: int, playlist_id: int, positions: Sequence[int]
) -> dict:
    current = track_ids(conn, user_id, playlist_id)
    drop = set(positions)
    return update(
        conn, user_id, playlist_id, track_ids=[t for i, t in enumerate(current) if i not in drop]
    )


def move(conn: apsw.Connection, user_id: int, playlist_id: int, position: int, to: int) -> dict:
    """Move the track at ``position`` to ``to`` (both counted from 0; ``to`` is clamped)."""
    current = track_ids(conn, user_id, playlist_id)
    if not 0 <= position < len(current):
        raise InvalidInput(
            f"position must be between 0 and {len(current) - 1}", details={"field": "position"}
        )
    track = current.pop(position)
    current.insert(max(0, min(to, len(current))), track)
    return update(conn, user_id, playlist_id, track_ids=current)


def delete(conn: apsw.Connection, user_id: int, playlist_id: int) -> None:
    with conn:
        _owned(conn, user_id, playlist_id)
        conn.execute("DELETE FROM playlists WHERE id = ?", (playlist_id,))


def _write_tracks(conn: apsw.Connection, playlist_id: int, track_ids: Sequence[int]) -> None:
    conn.execute("DELETE FROM playlist_tracks WHERE playlist_id = ?", (playlist_id,))
    conn.executemany(
        "INSERT INTO playlist_tracks (playlist_id, position, track_id) VALUES (?, ?, ?)",
        [(playlist_id, i, t) for i, t in enumerate(track_ids)],
    )


# ---------------------------------------------------------------- .m3u8


def to_m3u8(playlist: dict[str, Any]) -> str:
    """Extended M3U, UTF-8: ``#EXTINF`` lines and the files' absolute paths, so a player on the
    same machine (or with the library mounted at the same path) opens it as it is."""
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(playlist['name'])}"]
    for t in playlist["tracks"]:
        artist, title = _one_line(t.get("artist_name") or ""), _one_line(t.get("title") or "")
        label = f"{artist} - {title}" if artist else title
        lines.append(f"#EXTINF:{round(t.get('duration') or -1)},{label}")
        lines.append(sql.display_path(t["path"]))
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@dataclass
class Entry:
    """One line of a playlist file: where it says the file is, and its ``#EXTINF`` label."""

    location: str
    label: str = ""


def parse_m3u8(text: str) -> tuple[str | None, list[Entry]]:
    """(name from ``#PLAYLIST``, the entries in order, each with the ``#EXTINF`` label before
    it). Locations are kept as written (``file://`` URLs decoded): :func:`resolve` decides
    what they name."""
    name, entries, label = None, [], ""
    for raw in text.splitlines():
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        if line.startswith("#"):
            upper = line.upper()
            if upper.startswith("#PLAYLIST:"):  # a name people read: bad bytes as U+FFFD
                raw_name = line.split(":", 1)[1].strip()
                name = raw_name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                name = name or None
            elif upper.startswith("#EXTINF:"):
                label = line.split(",", 1)[1].strip() if "," in line else ""
            continue
        if line.startswith("file://"):
            line = unquote(urlsplit(line).path)
        entries.append(Entry(line, label))
        label = ""
    return name, entries


def parse_pls(text: str) -> tuple[str | None, list[Entry]]:
    """A ``.pls``: ``FileN=`` locations with ``TitleN=`` labels, in N's order."""
    files: dict[int, str] = {}
    titles: dict[int, str] = {}
    name = None
    for raw in text.splitlines():
        line = raw.strip().lstrip("\ufeff")
        key, sep, value = line.partition("=")
        if not sep:
            continue
        key = key.strip().lower()
        number = key[4:] if key.startswith("file") else key[5:] if key.startswith("title") else ""
        if key == "playlistname":
            name = value.strip() or None
        elif number.isdigit():
            (files if key.startswith("file") else titles)[int(number)] = value.strip()
    entries = []
    for n in sorted(files):
        location = files[n]
        if location.startswith("file://"):
            location = unquote(urlsplit(location).path)
        entries.append(Entry(location, titles.get(n, "")))
    return name, entries


XSPF_NS = "{http://xspf.org/ns/0/}"


def parse_xspf(text: str) -> tuple[str | None, list[Entry]]:
    """An XSPF playlist: each track's ``location`` (``file://`` URLs decoded), labelled
    "creator - title" for matching by artist and title. No DTD or entity is read."""
    import xml.etree.ElementTree as ElementTree

    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise InvalidInput("an XSPF playlist declares no DTD or entity", details={"field": "body"})
    try:
        root = ElementTree.fromstring(text.encode("utf-8", "surrogateescape"))
    except ElementTree.ParseError as exc:
        raise InvalidInput(f"not an XSPF playlist: {exc}", details={"field": "body"}) from None
    ns = XSPF_NS if root.tag.startswith(XSPF_NS) else ""

    def child(node, tag: str) -> str:
        found = node.find(ns + tag)
        return (found.text or "").strip() if found is not None else ""

    entries = []
    for track in root.iter(ns + "track"):
        location = child(track, "location")
        if location.startswith("file://"):
            location = unquote(urlsplit(location).path)
        label = " - ".join(p for p in (child(track, "creator"), child(track, "title")) if p)
        if location or label:
            entries.append(Entry(location, label))
    return child(root, "title") or None, entries


def parse_playlist(text: str, filename: str = "") -> tuple[str | None, list[Entry]]:
    """Any playlist file people have: XSPF, PLS or M3U/M3U8, by its name or its first line."""
    head = text.lstrip("\ufeff \t\r\n")[:200].lower()
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix == "xspf" or head.startswith("<?xml") or head.startswith("<playlist"):
        return parse_xspf(text)
    if suffix == "pls" or head.startswith("[playlist]"):
        return parse_pls(text)
    return parse_m3u8(text)


HOW = ("by path", "relative to a library folder", "by folders and file name", "by artist and title")


def resolve(
    conn: apsw.Connection, entries: Sequence[Entry], roots: Sequence[str]
) -> tuple[list[int], list[dict[str, str]], dict[str, int]]:
    """What each entry names, trying in order: this library's absolute path; a path relative to
    a library folder; a path from another machine, by its longest tail of folders and file name
    that names one track here; the ``#EXTINF`` "Artist - Title". Returns the track ids in order,
    the entries matched by none (``location`` and ``why``), and how many each way matched."""
    ids: list[int] = []
    missed: list[dict[str, str]] = []
    counts = dict.fromkeys(HOW, 0)
    for entry in entries:
        found, how = _resolve_one(conn, entry, roots)
        if found is None:
            why = "no track here has this path, a path ending like it, or this artist and title"
            missed.append({"location": sql.display_path(os.fsencode(entry.location)), "why": why})
        else:
            ids.append(found)
            counts[how] += 1
    return ids, missed, counts


def _by_path(conn: apsw.Connection, path: bytes) -> int | None:
    rows = conn.execute(
        "SELECT id FROM tracks WHERE path = ? AND missing_since IS NULL", (path,)
    ).fetchall()
    return rows[0]["id"] if rows else None


def _parts(location: str) -> list[str]:
    """A path's folders and file name, whatever wrote it (``C:\\Music\\a.mp3`` too)."""
    return [p for p in location.replace("\\", "/").split("/") if p and p not in (".", "..")]


def _resolve_one(conn, entry: Entry, roots: Sequence[str]) -> tuple[int | None, str]:
    location = entry.location
    if os.path.isabs(location):
        found = _by_path(conn, os.fsencode(os.path.normpath(location)))
        if found is not None:
            return found, HOW[0]
    parts = _parts(location)
    if parts and not os.path.isabs(location) and ":" not in parts[0]:
        for root in roots:
            found = _by_path(conn, os.fsencode(os.path.normpath(os.path.join(root, *parts))))
            if found is not None:
                return found, HOW[1]
    if parts:
        found = _by_tail(conn, parts)
        if found is not None:
            return found, HOW[2]
    if " - " in entry.label:
        artist, title = (x.strip() for x in entry.label.split(" - ", 1))
        rows = conn.execute(
            """SELECT id FROM tracks WHERE missing_since IS NULL AND title = ? COLLATE NOCASE
               AND (artist_name = ? COLLATE NOCASE OR display_artist = ? COLLATE NOCASE)
               ORDER BY id LIMIT 2""",
            (title, artist, artist),
        ).fetchall()
        if len(rows) == 1:
            return rows[0]["id"], HOW[3]
    return None, ""


def _by_tail(conn: apsw.Connection, parts: list[str]) -> int | None:
    """The one track whose path ends with the most of ``parts`` (at least the file name)."""
    name = os.fsencode(parts[-1])
    candidates = conn.execute(
        "SELECT id, path FROM tracks WHERE missing_since IS NULL AND substr(path, -?) = ?",
        (len(name), name),
    ).fetchall()
    best, best_len, tie = None, 0, False
    for row in candidates:
        theirs = os.fsdecode(row["path"]).split("/")
        if theirs[-1] != parts[-1]:
            continue
        common = 0
        while common < min(len(theirs), len(parts)) and (
            theirs[-1 - common].casefold() == parts[-1 - common].casefold()
        ):
            common += 1
        if common > best_len:
            best, best_len, tie = row["id"], common, False
        elif common == best_len:
            tie = True
    return None if tie else best
