"""Lyrics: from a ``.lrc`` (time-synced) or ``.txt`` file beside the track, else embedded in
it (ID3 USLT/SYLT, Vorbis/FLAC ``LYRICS``, MP4 ``©lyr``). Served at
``GET /api/plugins/lyrics/{track id}`` and shown on the track page, line by line with times
when the source has them.

Enable with::

    [plugin.lyrics]
    enabled = true
    max_chars = 100000     ; longer lyrics are cut (tags are attacker-controlled)

A ``.lrc`` or ``.txt`` added, changed or removed later is noticed by the watcher, and the stage
runs again for that track (the stage declares them as ``sidecars``).
"""

from __future__ import annotations

import os
import re
from typing import Any

import mutagen
from aiohttp import web
from mutagen._vorbis import VComment
from mutagen.apev2 import APEv2
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Tags

from soniquebay import Option, hookimpl, stage
from soniquebay.errors import BadAudioFile

NAME = "lyrics"
TIMESTAMP = re.compile(r"\[(\d{1,3}):(\d{1,2}(?:[.:]\d{1,3})?)\]")
METADATA = re.compile(r"^\[(ar|ti|al|au|by|length|offset|re|ve):.*\]$", re.I)
TEXT_ENCODINGS = ("utf-8-sig", "utf-16", "latin-1")


def parse_lrc(text: str) -> tuple[str, list[list[Any]] | None]:
    """Plain lyrics, and ``[[seconds, line], ...]`` when the text carries LRC timestamps."""
    plain, synced = [], []
    for raw in text.splitlines():
        line = raw.strip()
        if METADATA.match(line):
            continue
        stamps = TIMESTAMP.findall(line)
        words = TIMESTAMP.sub("", line).strip()
        for minutes, seconds in stamps:  # "[00:12.00][01:30.00] chorus": the line comes back
            synced.append([round(int(minutes) * 60 + float(seconds.replace(":", ".")), 2), words])
        plain.append(words)
    synced.sort(key=lambda pair: pair[0])
    return "\n".join(plain).strip(), (synced or None)


def _read_text(path: str) -> str | None:
    try:
        data = open(path, "rb").read(1_000_000)
    except OSError:
        return None
    for encoding in TEXT_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _beside(path: str) -> tuple[str, str] | None:
    stem = os.path.splitext(path)[0]
    for ext, source in ((".lrc", "lrc file"), (".txt", "text file")):
        text = _read_text(stem + ext)
        if text and text.strip():
            return text, source
    return None


def _embedded(path: str) -> tuple[str, str] | None:
    """Lyrics in the file's own tags, read the way each tag format names them."""
    try:
        audio = mutagen.File(path)
    except (mutagen.MutagenError, OSError) as exc:
        raise BadAudioFile(f"cannot read the file's tags for lyrics: {exc}") from None
    tags = getattr(audio, "tags", None)
    if not tags:
        return None
    if isinstance(tags, ID3):
        return _from_id3(tags)
    if isinstance(tags, MP4Tags):
        return _first_text(tags.get("\xa9lyr"), "embedded (MP4)")
    if isinstance(tags, VComment):  # Ogg Vorbis, Opus, FLAC: keys are case-insensitive
        for key in ("LYRICS", "UNSYNCEDLYRICS", "UNSYNCED LYRICS"):
            found = _first_text(tags.get(key), f"embedded ({key})")
            if found:
                return found
        return None
    if isinstance(tags, APEv2):  # Monkey's Audio, WavPack, APE on MP3
        return _first_text([str(tags[k]) for k in tags.keys() if k.lower() == "lyrics"], "embedded")
    return None


def _from_id3(tags: ID3) -> tuple[str, str] | None:
    synced = tags.getall("SYLT")
    if synced and synced[0].text and synced[0].format == 2:  # 2: milliseconds
        lines = [f"[{int(t / 1000 // 60):02d}:{t / 1000 % 60:05.2f}]{w}" for w, t in synced[0].text]
        return "\n".join(lines), "embedded (SYLT)"
    plain = tags.getall("USLT")
    if plain and plain[0].text.strip():
        return plain[0].text, "embedded (USLT)"
    return None


def _first_text(values: Any, source: str) -> tuple[str, str] | None:
    if not values:
        return None
    text = values[0] if isinstance(values, list) else values
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return (text, source) if text.strip() else None


@hookimpl
def plugin_options():
    return [Option("max_chars", int, 100_000, help="longer lyrics are cut")]


@hookimpl
@stage(
    needs=("file",),
    produces=("lyrics", "lyrics_synced", "lyrics_source"),
    version="2",  # 2: every tag format read by its own names (Ogg, Opus and FLAC failed)
    sidecars=(".lrc", ".txt"),
)
def process_track(ctx, path):
    found = _beside(path) or _embedded(path)
    if found is None:
        return None  # no lyrics: nothing to store, and not an error
    text, source = found
    plain, synced = parse_lrc(text[: ctx.options["max_chars"]])
    return {"lyrics": plain, "lyrics_synced": synced, "lyrics_source": source}


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:05.2f}"


@hookimpl
def track_panels(track):
    data = track.get("plugin_data", {}).get(NAME)
    if not data or not data.get("lyrics"):
        return None
    if data.get("lyrics_synced"):
        rows = [(_clock(at), line) for at, line in data["lyrics_synced"]]
    else:
        rows = [("", line) for line in data["lyrics"].splitlines()]
    return {"title": f"Lyrics ({data.get('lyrics_source', '?')})", "rows": rows}


@hookimpl
def register_routes(ctx):
    async def lyrics(request: web.Request) -> web.Response:
        raw = request.match_info["id"]
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            raise web.HTTPBadRequest(text="a track id is a positive integer")
        track_id = int(raw)
        data = ctx.library.plugin_data(track_id, NAME)
        if not data or not data.get("lyrics"):
            raise web.HTTPNotFound(text=f"no lyrics for track {track_id}")
        return web.json_response(
            {
                "track_id": track_id,
                "lyrics": data["lyrics"],
                "synced": data.get("lyrics_synced"),
                "source": data.get("lyrics_source"),
            }
        )

    return [web.get(f"/api/plugins/{NAME}/{{id}}", lyrics)]
