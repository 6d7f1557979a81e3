"""Media retrieval: streams (originals, transcodes, offsets), downloads, cover art, lyrics,
avatars."""

from __future__ import annotations

import asyncio
import os

from aiohttp import web

from soniquebay import artwork, library
from soniquebay.catalog import lyrics
from soniquebay.errors import Forbidden, InvalidInput, NotFound
from soniquebay.library import playlists
from soniquebay.web import covers, downloads
from soniquebay.web.stream import (
    TRANSCODES,
    content_type,
    estimated_length,
    playable_path,
    send_transcoded,
)
from soniquebay.web.subsonic.context import Call
from soniquebay.web.subsonic.protocol import SubsonicError, not_found, parse_id
from soniquebay.web.subsonic.user_management import AVATAR_SIZE, user_row


def _playable(call: Call) -> tuple[dict, bytes]:
    _, track_id = parse_id(call.params.required("id"), "track")
    try:
        track, path = playable_path(call.app, track_id)
    except NotFound as exc:
        raise not_found(exc.message) from None
    except Forbidden as exc:
        raise SubsonicError(SubsonicError.NOT_AUTHORIZED, exc.message) from None
    if not call.holds(path):  # a folder this user does not see: as if it did not exist
        raise not_found(f"track {track_id}")
    return track, path


async def stream(call: Call) -> web.StreamResponse:
    """The original unless the app asks for less: ``format`` (mp3, opus, ogg, aac; ``raw`` is
    the original) and ``maxBitRate`` (kbps). ``timeOffset`` (seconds; the transcodeOffset
    extension) starts a transcode later; asked of an original, the original's format is
    transcoded from there (at its bit rate, within 320 kbps), since a file cannot be cut at a
    time by bytes. ``estimateContentLength`` announces a Content-Length."""
    track, path = _playable(call)
    p = call.params
    fmt = (p.get("format") or "").lower() or None
    max_kbps = p.int("maxBitRate", 0, 0, 320)
    own_kbps = round((track["bitrate"] or 0) / 1000)
    offset = float(p.int("timeOffset", 0, 0, 7 * 86400))
    if fmt not in (None, "raw", *TRANSCODES):
        fmt = "mp3"  # a format we do not make: the one every app plays
    small_enough = not max_kbps or (own_kbps and own_kbps <= max_kbps)
    if not offset and (fmt == "raw" or (fmt is None and small_enough)):
        return _original(path)
    if fmt in (None, "raw"):
        fmt = _nearest_transcode(path)
        max_kbps = max_kbps or own_kbps
    kbps = max(32, min(max_kbps or TRANSCODES[fmt][2], 320))
    length = None
    if p.bool("estimateContentLength"):
        length = estimated_length((track["duration"] or 0) - offset, kbps)
    try:
        return await send_transcoded(call.request, path, fmt, kbps, offset, length)
    except InvalidInput as exc:
        raise SubsonicError(SubsonicError.GENERIC, exc.message) from None


def _nearest_transcode(path: bytes) -> str:
    """What an original is transcoded to when only its start moves: its own codec when we
    make it (an Opus stays Opus), else MP3."""
    extension = os.path.splitext(path)[1].decode("ascii", "replace").lower().lstrip(".")
    return {"opus": "opus", "ogg": "ogg", "oga": "ogg", "aac": "aac"}.get(extension, "mp3")


def _original(path: bytes, download: bool = False, name: str = "") -> web.FileResponse:
    headers = {"Content-Type": content_type(path), "Cache-Control": "private, max-age=0"}
    if download:
        headers["Content-Disposition"] = downloads.attachment(name)
    return web.FileResponse(path.decode("utf-8", "surrogateescape"), headers=headers)


async def download(call: Call) -> web.StreamResponse:
    if not call.user.downloads:
        raise SubsonicError(SubsonicError.NOT_AUTHORIZED, "downloads are off for this user")
    track, path = _playable(call)
    return _original(path, download=True, name=downloads.download_name(track, path))


async def get_cover_art(call: Call) -> web.StreamResponse:
    """``al-``, ``tr-``, ``ar-`` (an album of theirs) or ``pl-`` (its first track's) ids."""
    kind, number = parse_id(call.params.required("id"))
    size = covers.size_param(call.request, call.params.get("size") or "")
    source, title = None, ""
    if kind == "album":
        rows = call.read(library.albums.grid_by_ids, [number])
        if not rows or not call.albums(rows):
            raise not_found(f"album {number}")
        source, title = await covers.album_source(call.app, number), rows[0]["title"]
    elif kind == "artist":
        rows = call.read(library.artists.artist_cards, ids=[number], limit=1, within=call.scope)
        if not rows:
            raise not_found(f"artist {number}")
        title = rows[0]["name"]
        if rows[0]["cover_album_id"]:
            source = await covers.album_source(call.app, rows[0]["cover_album_id"])
    else:
        if kind == "playlist":
            ids = _found_playlist(call, number)
            number = ids[0] if ids else 0
        rows = [
            r for r in call.read(library.tracks.tracks_by_ids, [number]) if call.holds(r["path"])
        ]
        if not rows:
            raise not_found(f"{kind} {number}")
        source, title = await covers.track_source(call.app, rows[0]), rows[0]["title"] or ""
    if source is None:  # no art: the drawn placeholder (apps then show something, not a gap),
        size = size or 600  # as a PNG: Android's image decoders cannot read SVG
    return await covers.answer(call.request, source, title, f"{kind} {number}", size, raster=True)


def _found_playlist(call: Call, number: int) -> list[int]:
    try:
        return call.read(playlists.track_ids, call.user.id, number)
    except NotFound:
        raise not_found(f"playlist {number}") from None


async def get_lyrics_by_song_id(call: Call) -> dict:
    """OpenSubsonic ``songLyrics``: from the lyrics plugin (time-synced when it has times)."""
    _, track_id = parse_id(call.params.required("id"), "track")
    songs = call.songs_by_ids([track_id])
    if not songs:
        raise not_found(f"song {track_id}")
    found = lyrics.of_track(call, track_id)
    items = []
    if found:
        synced = found["synced"]
        lines = (
            [{"start": round(at * 1000), "value": words} for at, words in synced]
            if synced
            else [{"value": line} for line in (found["text"] or "").splitlines()]
        )
        items.append(
            {
                "displayArtist": songs[0].get("artist"),
                "displayTitle": songs[0].get("title"),
                "lang": "xxx",
                "synced": bool(synced),
                "line": lines,
            }
        )
    return {"lyricsList": {"structuredLyrics": items}}


async def get_lyrics(call: Call) -> dict:
    """The older call: lyrics by artist and title (the first track that has them)."""
    artist, title = call.params.get("artist") or "", call.params.get("title") or ""
    filters = {"artist": artist or None}
    rows, _ = call.read(
        library.tracks.list_tracks,
        limit=20,
        filters={**filters, "q": title or None, "within": call.scope},
        with_total=False,
    )
    for row in rows:
        found = lyrics.of_track(call, row["id"])
        if found and found["text"]:
            return {
                "lyrics": {
                    "artist": row["artist_name"],
                    "title": row["title"],
                    "value": found["text"],
                }
            }
    return {"lyrics": {"artist": artist or None, "title": title or None}}


async def get_avatar(call: Call) -> web.Response:
    """A drawn avatar (the name's initials on its colour): SoniqueBay keeps no pictures of
    people. A PNG, which every app can show."""
    name = call.params.required("username")
    user_row(call, name)
    loop = asyncio.get_running_loop()
    body = await loop.run_in_executor(None, artwork.placeholder_png, name, AVATAR_SIZE)
    return web.Response(
        body=body, content_type="image/png", headers={"Cache-Control": "private, max-age=3600"}
    )
