"""Playing a track: the original file with HTTP Range, or transcoded by ffmpeg as it encodes.

Files are served by track id only, after checking that the file's real path (links resolved)
is under a library folder: a row, a link or a tag never makes this serve another file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from aiohttp import web

from soniquebay import library
from soniquebay.errors import Forbidden, InvalidInput, NotFound, ServiceUnavailable
from soniquebay.library_roots import root_of
from soniquebay.web import keys
from soniquebay.web.params import known_params, path_id
from soniquebay.web.validation import query_value
from soniquebay.web.viewer import check_track

log = logging.getLogger(__name__)

AUDIO_TYPES = {
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg; codecs=opus",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".wav": "audio/wav",
    ".aif": "audio/aiff",
    ".aiff": "audio/aiff",
    ".wma": "audio/x-ms-wma",
}
# format -> (Content-Type, ffmpeg output options, default kbps)
TRANSCODES = {
    "opus": ("audio/ogg; codecs=opus", ["-c:a", "libopus", "-vbr", "on", "-f", "ogg"], 128),
    "mp3": ("audio/mpeg", ["-c:a", "libmp3lame", "-f", "mp3"], 192),
    "ogg": ("audio/ogg; codecs=vorbis", ["-c:a", "libvorbis", "-f", "ogg"], 160),
    "aac": ("audio/aac", ["-c:a", "aac", "-f", "adts"], 192),
}
ORIGINAL = ("raw", "original")
CHUNK = 64 * 1024


def content_type(path: str | bytes) -> str:
    extension = os.path.splitext(os.fsdecode(path))[1].lower()
    return AUDIO_TYPES.get(extension, "application/octet-stream")


def playable_path(app: web.Application, track_id: int) -> tuple[dict, bytes]:
    """(track row, real path) of a track whose file exists under a library folder."""
    track = app[keys.DB].read(library.tracks.get_track, track_id)
    if track["missing_since"] is not None:
        raise NotFound(f"track {track_id}'s file is missing", details={"id": track_id})
    real = os.path.realpath(track["path"])
    if root_of(real, app[keys.SETTINGS].library) is None:
        log.warning("track %d: %r is outside the library folders; not served", track_id, real)
        raise Forbidden(f"track {track_id}'s file is outside the library folders")
    if not os.path.isfile(real):
        raise NotFound(f"track {track_id}'s file is not there", details={"id": track_id})
    return track, real


def transcode_params(request: web.Request) -> tuple[str | None, int, float]:
    """(format or None for the original, kbps, start offset in seconds)."""
    fmt = request.query.get("format") or None
    if fmt in ORIGINAL:
        fmt = None
    if fmt is not None and fmt not in TRANSCODES:
        raise InvalidInput(
            f"format must be one of {', '.join((*TRANSCODES, *ORIGINAL))}",
            details={"field": "format", "allowed": [*TRANSCODES, *ORIGINAL]},
        )
    kbps = query_value(request, "bitrate", int)
    if kbps is not None and not 32 <= kbps <= 320:
        raise InvalidInput(
            "bitrate must be between 32 and 320 (kbps)", details={"field": "bitrate"}
        )
    offset = query_value(request, "offset", float) or 0.0
    if not 0 <= offset < 86400:
        raise InvalidInput("offset must be a number of seconds from 0", details={"field": "offset"})
    return fmt, kbps or (TRANSCODES[fmt][2] if fmt else 0), offset


async def stream(request: web.Request) -> web.StreamResponse:
    """``GET /api/tracks/{id}/stream[?format=opus|mp3&bitrate=K&offset=S]``."""
    known_params(request, "format", "bitrate", "offset")
    fmt, kbps, offset = transcode_params(request)
    track, path = playable_path(request.app, path_id(request))
    check_track(request, track)  # a folder this account does not see: as if not there
    if fmt is None:
        return web.FileResponse(
            path.decode("utf-8", "surrogateescape"),
            headers={"Content-Type": content_type(path), "Cache-Control": "private, max-age=0"},
        )
    return await send_transcoded(request, path, fmt, kbps, offset)


class Transcoders:
    """How many ffmpeg encodes run at once (``max_transcodes``): beyond that, a 503. One whose
    listener stopped reading for ``stall`` seconds is ended: its slot goes to the next."""

    def __init__(self, limit: int, stall: float = 30.0):
        self.limit, self.running, self.stall = max(1, limit), 0, stall


async def transcoders_ctx(app: web.Application):
    settings = app[keys.SETTINGS]
    app[keys.TRANSCODERS] = Transcoders(settings.max_transcodes, settings.transcode_stall_seconds)
    yield


class StalledListener(Exception):
    """The listener has read nothing for a while (a paused player holding the connection)."""


async def _write(response: web.StreamResponse, data: bytes, stall: float) -> None:
    try:
        await asyncio.wait_for(response.write(data), stall)
    except TimeoutError:
        raise StalledListener from None


def estimated_length(seconds: float, kbps: int) -> int:
    """The bytes a transcode of ``seconds`` at ``kbps`` is announced as (Subsonic's
    ``estimateContentLength``): a little over what the encoder makes, the rest sent as zeros,
    which decoders skip as padding."""
    return int(max(seconds, 1.0) * kbps * 125 * 1.05) + 16 * 1024


async def send_transcoded(
    request: web.Request,
    path: bytes,
    fmt: str,
    kbps: int,
    offset: float = 0.0,
    length: int | None = None,
) -> web.StreamResponse:
    """Encode with ffmpeg and send the bytes as they come; ffmpeg is stopped when the listener
    goes away. With ``length`` (an estimate, :func:`estimated_length`) the answer has that
    Content-Length: what the encoder makes beyond it is cut, what it falls short is zeros."""
    mime, options, _ = TRANSCODES[fmt]
    headers = {"Content-Type": mime, "Cache-Control": "no-store", "Accept-Ranges": "none"}
    if length is not None:
        headers["Content-Length"] = str(length)
    response = web.StreamResponse(headers=headers)
    if request.method == "HEAD":
        await response.prepare(request)
        return response
    slots: Transcoders = request.app[keys.TRANSCODERS]
    if slots.running >= slots.limit:
        raise ServiceUnavailable(
            f"{slots.limit} transcodes are running already; try again, or play the original",
            details={"retry_after": 5},
        )
    slots.running += 1
    process = None
    try:
        args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error"]
        if offset:
            args += ["-ss", f"{offset:.3f}"]
        args += ["-i", b"file:" + path, "-map", "0:a:0", "-vn", "-map_metadata", "-1"]
        args += [*options, "-b:a", f"{kbps}k", "pipe:1"]
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        first = await process.stdout.read(CHUNK)
        if not first:
            error = (await process.stderr.read()).decode("utf-8", "replace").strip()
            await process.wait()
            raise ServiceUnavailable(
                f"ffmpeg could not encode this file: {error[-300:] or 'no output'}"
            )
        await response.prepare(request)
        left = length if length is not None else -1
        chunk = first
        while chunk:
            if left >= 0:
                chunk = chunk[:left]
                left -= len(chunk)
            await _write(response, chunk, slots.stall)
            if left == 0:
                break
            chunk = await process.stdout.read(CHUNK)
        while left > 0:  # the estimate was over: padding
            pad = min(left, CHUNK)
            await _write(response, bytes(pad), slots.stall)
            left -= pad
        await response.write_eof()
        return response
    except StalledListener:
        log.info("a listener stopped reading for %gs: transcode ended, its slot freed", slots.stall)
        if request.transport is not None:
            request.transport.abort()  # nothing more is sent on this connection
        raise ConnectionResetError("the listener stopped reading") from None
    except (ConnectionResetError, asyncio.CancelledError):
        raise  # the listener left: the finally below stops ffmpeg
    finally:
        slots.running -= 1
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            # What is left in its pipes is read: wait() alone waits for them to close, which a
            # pipe paused while the listener stopped reading never does.
            await process.communicate()
