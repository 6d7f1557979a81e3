"""Playlists as people bring them: a ``.m3u8`` file matched against the library."""

from __future__ import annotations

from typing import Any

from soniquebay.catalog import Writes
from soniquebay.errors import InvalidInput
from soniquebay.library import playlists

MAX_FILE_BYTES = 4 * 1024 * 1024


async def import_m3u8(
    db: Writes, user_id: int, raw: bytes, name: str | None, roots: list[str], filename: str = ""
) -> dict[str, Any]:
    """A new playlist of ``user_id`` from a playlist file: each entry matched by path, path
    under a library folder, path tail or ``#EXTINF`` label; what matched nothing is reported
    (the first 100 entries of it), not dropped silently."""
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidInput("a playlist file is at most 4 MB", details={"field": "body"})
    title, entries = playlists.parse_playlist(raw.decode("utf-8", "surrogateescape"), filename)
    ids, missed, matched = db.read(playlists.resolve, entries, roots)
    row = await db.write(
        playlists.create, user_id, name or title or "Imported playlist", ids[: playlists.MAX_TRACKS]
    )
    return {
        **row,
        "entries": len(entries),
        "matched": matched,
        "unknown": [m["location"] for m in missed[:100]],
        "not_matched": missed[:100],
        "unknown_count": len(missed),
    }
