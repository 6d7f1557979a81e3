"""A track's lyrics: what any plugin's stages stored under the reserved ``lyrics`` and
``lyrics_synced`` fields (hookspecs), time-synced ones first. The player's lyrics panel, the
track page and Subsonic's ``getLyricsBySongId``/``getLyrics`` read them here."""

from __future__ import annotations

from typing import TypedDict

from soniquebay.catalog import Reads
from soniquebay.library import stage_data


class Lyrics(TypedDict):
    text: str | None  # the words, one line per line
    synced: list[tuple[float, str]] | None  # (seconds, line), in order, when the source has times
    source: str | None  # the plugin that found them (and how, when it says)


def of_track(db: Reads, track_id: int) -> Lyrics | None:
    """The track's lyrics, or None when no plugin found any."""
    data = db.read(stage_data.plugin_data, [track_id]).get(track_id) or {}
    best: Lyrics | None = None
    for plugin, fields in data.items():
        synced = _synced(fields.get("lyrics_synced"))
        text = fields.get("lyrics") if isinstance(fields.get("lyrics"), str) else None
        if not (synced or (text and text.strip())):
            continue
        if not text and synced:
            text = "\n".join(line for _, line in synced)
        source = fields.get("lyrics_source")
        found = Lyrics(text=text, synced=synced, source=f"{plugin}: {source}" if source else plugin)
        if synced:
            return found
        best = best or found
    return best


def _synced(raw: object) -> list[tuple[float, str]] | None:
    """``[[seconds, line], ...]`` as a plugin stored it, checked and in time order."""
    if not isinstance(raw, list):
        return None
    lines = [
        (float(item[0]), str(item[1]))
        for item in raw
        if isinstance(item, list | tuple)
        and len(item) == 2
        and isinstance(item[0], int | float)
        and item[0] >= 0
    ]
    return sorted(lines, key=lambda line: line[0]) or None
