"""Downloads: a track's original file, an album or a playlist as a zip streamed while it is
built (no temporary file: a Pi's SD card has little room and wears), each under a safe name.

The zip is written by :mod:`zipfile` on a thread (it is blocking code) into a small bounded
queue the response drains, so memory stays a few chunks whatever the album's size, and a
listener who stops reading stops the writing. Entries are stored, not deflated: music is
compressed already. ZIP64 is on, so an album past 4 GB is one too.
"""

from __future__ import annotations

import asyncio
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from soniquebay import library
from soniquebay.errors import Forbidden, NotFound
from soniquebay.library import playlists
from soniquebay.library_roots import root_of
from soniquebay.web import keys
from soniquebay.web.params import known_params, path_id
from soniquebay.web.stream import content_type, playable_path
from soniquebay.web.viewer import check_album, check_track, held, user_of

CHUNK = 1024 * 1024
QUEUED_CHUNKS = 4  # what the writer may run ahead of the listener
STALL_SECONDS = 60.0  # a listener who reads nothing for this long ends the zip
UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def check_allowed(principal: Any) -> None:
    """A user whose downloads an admin turned off gets a 403 (streaming still plays)."""
    if not getattr(principal, "downloads", True):
        raise Forbidden("downloads are off for this account; ask an administrator")


def safe_name(text: str, fallback: str = "download") -> str:
    """A file name every system takes: no separators, control or reserved characters, no
    leading dots, at most 120 characters."""
    name = UNSAFE.sub(" ", unicodedata.normalize("NFC", text or "")).strip().lstrip(".").strip()
    name = " ".join(name.split())[:120].rstrip(". ")
    return name or fallback


def attachment(name: str) -> str:
    """``Content-Disposition`` for ``name``: an ASCII fallback and the UTF-8 original
    (RFC 6266 / 5987), so "Café – Été.flac" arrives whole in every browser."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode() or "download"
    plain = plain.replace('"', "").replace("\\", "")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def extension(path: bytes) -> str:
    return os.path.splitext(os.fsdecode(path))[1].lower()[:10]


def download_name(track: dict[str, Any], path: bytes) -> str:
    """ "Artist - Title.ext", else the file's own name."""
    title, artist = track.get("title"), track.get("artist_name")
    if not title:
        return safe_name(os.path.basename(os.fsdecode(path)))
    stem = f"{artist} - {title}" if artist else title
    return safe_name(stem) + extension(path)


def entry_names(tracks: list[dict[str, Any]], *, numbered_by: str) -> list[str]:
    """Names inside a zip, unique: an album's "01 - Title.ext" (its disc and track numbers,
    "2-01" past the first disc), a playlist's "001 - Artist - Title.ext" (its order)."""
    names, seen = [], set()
    discs = {t.get("disc_number") or 1 for t in tracks}
    width = max(3, len(str(len(tracks))))
    for n, track in enumerate(tracks, 1):
        path = track["path"]
        if numbered_by == "album":
            number = f"{track.get('track_number') or n:02d}"
            if len(discs) > 1:
                number = f"{track.get('disc_number') or 1}-{number}"
            stem = f"{number} - {track.get('title') or os.path.basename(os.fsdecode(path))}"
        else:
            stem = f"{n:0{width}d} - {download_name(track, path).rsplit('.', 1)[0]}"
        name = safe_name(stem) + extension(path)
        base, k = name, 2
        while name.casefold() in seen:
            name = f"{base.rsplit('.', 1)[0]} ({k}){extension(path)}"
            k += 1
        seen.add(name.casefold())
        names.append(name)
    return names


class _QueueWriter:
    """A write-only file over an asyncio queue, for zipfile on a thread; not seekable, so
    zipfile writes data descriptors after each entry. ``stop`` (the listener left) makes the
    next write fail, which ends the thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue):
        self.loop, self.queue, self.stop = loop, queue, False

    def put(self, item: object) -> None:
        if self.stop:
            raise OSError("the listener is gone")
        # Waits while the listener is behind; never for good (a stuck loop ends the zip).
        put = asyncio.wait_for(self.queue.put(item), STALL_SECONDS)
        asyncio.run_coroutine_threadsafe(put, self.loop).result()

    def write(self, data: bytes) -> int:
        if data:
            self.put(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _write_zip(out: _QueueWriter, files: Iterable[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, path in files:
            info = zipfile.ZipInfo.from_file(path, arcname=name)
            info.compress_type = zipfile.ZIP_STORED
            with open(path, "rb") as source, archive.open(info, "w", force_zip64=True) as dest:
                while chunk := source.read(CHUNK):
                    dest.write(chunk)


async def send_zip(
    request: web.Request, name: str, files: list[tuple[str, bytes]]
) -> web.StreamResponse:
    """Stream a zip of ``files`` (entry name, real path) as ``name``, built while it is sent."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": attachment(name),
            "Cache-Control": "private, no-store",
        }
    )
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue(QUEUED_CHUNKS)
    out, done = _QueueWriter(loop, queue), object()

    def build() -> None:
        try:
            _write_zip(out, files)
        finally:
            out.stop = False
            out.put(done)

    writer = loop.run_in_executor(None, build)
    try:
        while (chunk := await queue.get()) is not done:
            await response.write(chunk)
        await writer  # a file that vanished meanwhile raises here: the zip ends short
    except BaseException:
        out.stop = True  # the thread's next write fails; what it queued meanwhile is dropped
        while not writer.done():
            while not queue.empty():
                queue.get_nowait()
            await asyncio.sleep(0.01)
        raise
    await response.write_eof()
    return response


# ---------------------------------------------------------------- the routes


async def track_download(request: web.Request) -> web.StreamResponse:
    """``GET /api/tracks/{id}/download``: the original file, as "Artist - Title.ext"."""
    known_params(request)
    check_allowed(request["principal"])
    track, path = playable_path(request.app, path_id(request))
    check_track(request, track)
    return web.FileResponse(
        path.decode("utf-8", "surrogateescape"),
        headers={
            "Content-Type": content_type(path),
            "Content-Disposition": attachment(download_name(track, path)),
            "Cache-Control": "private, max-age=0",
        },
    )


async def album_download(request: web.Request) -> web.StreamResponse:
    """``GET /api/albums/{id}/download``: the album's files in one zip, in disc and track
    order, as "Album artist - Title.zip"."""
    known_params(request)
    check_allowed(request["principal"])
    database, album_id = request.app[keys.DB], path_id(request)
    album = database.read(library.albums.get_album, album_id)
    check_album(request, album_id)
    rows = held(request, database.read(library.tracks.tracks_by_album_ids, [album_id]))
    stem = " - ".join(p for p in (album["album_artist_name"], album["title"]) if p)
    return await zip_of(request, rows, "album", safe_name(stem, "album") + ".zip")


async def playlist_download(request: web.Request) -> web.StreamResponse:
    """``GET /api/playlists/{id}/download``: one of your playlists' files in one zip, in its
    order, numbered."""
    known_params(request)
    check_allowed(request["principal"])
    database = request.app[keys.DB]
    playlist = database.read(playlists.get_playlist, user_of(request), path_id(request))
    rows = held(request, [t for t in playlist["tracks"] if t["missing_since"] is None])
    return await zip_of(request, rows, "playlist", safe_name(playlist["name"], "playlist") + ".zip")


async def zip_of(
    request: web.Request, rows: list[dict[str, Any]], numbered_by: str, name: str
) -> web.StreamResponse:
    """A zip of the tracks' files that can be read (album order, or numbered as a list)."""
    roots = request.app[keys.SETTINGS].library
    readable = []
    for row in rows:  # files gone or moved outside the library folders are left out
        real = os.path.realpath(row["path"])
        if root_of(real, roots) is not None and os.path.isfile(real):
            readable.append({**row, "path": real})
    if not readable:
        raise NotFound("none of these tracks' files can be read")
    names = entry_names(readable, numbered_by=numbered_by)
    return await send_zip(
        request, name, [(n, r["path"]) for n, r in zip(names, readable, strict=True)]
    )
