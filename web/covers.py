"""Cover art over HTTP: the original image, thumbnails made once and kept, a placeholder.

Where an album's cover comes from, first found wins: an image beside its files (``cover.jpg``,
``folder.png``, ``front.webp``…), the best picture embedded in any of its first
:data:`EMBEDDED_LOOKS` files (a front cover first, then the largest), the Cover Art Archive's
(fetched by the cover art stage, kept one per album in ``<data_dir>/covers``). Thumbnails
(64, 300, 600 px) are made with Pillow the first time they are asked for and kept in
``<data_dir>/thumbs`` under a digest of the source's path, size and mtime, so a changed cover
gets new thumbnails and an unchanged one is never decoded twice. Images are decoded in
decoder processes (:mod:`soniquebay.web.cover_decoder`), never in the web process's heap.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from soniquebay import artwork, library
from soniquebay.errors import InvalidInput, NotFound
from soniquebay.library_roots import root_of
from soniquebay.web import keys
from soniquebay.web.cover_decoder import CoverDecoder
from soniquebay.web.params import path_id
from soniquebay.web.viewer import check_album, check_track

log = logging.getLogger(__name__)

SOURCE_SECONDS = 60.0  # how long "where is album N's cover" is remembered
EMBEDDED_LOOKS = 8  # an album's files opened to find its best embedded picture
MAX_SOURCES = 4096


@dataclass(frozen=True)
class Source:
    kind: str  # embedded, folder, coverartarchive
    path: str  # the audio file (embedded) or the image file
    identity: str  # changes whenever the image may have

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.identity.encode("utf-8", "surrogateescape")).hexdigest()[:24]


class Covers:
    """The web process's covers: where each album's is, and its thumbnails on disk."""

    def __init__(self, data_dir: Path, roots: tuple[Path, ...], decoders: int = 1):
        self.decoder = CoverDecoder(decoders)
        self.stored = data_dir / "covers"
        self.thumbs = data_dir / "thumbs"
        self.roots = roots
        self._sources: OrderedDict[tuple[str, int], tuple[float, Source | None]] = OrderedDict()

    def stored_path(self, album_id: int) -> Path:
        return self.stored / str(album_id)

    async def source(
        self, key: tuple[str, int], paths: list[str], album_id: int | None
    ) -> Source | None:
        now = time.monotonic()
        cached = self._sources.get(key)
        if cached and cached[0] > now:
            return cached[1]
        stored = self.stored_path(album_id) if album_id else None
        found = await asyncio.get_running_loop().run_in_executor(
            None, self._find_and_note, key, paths, stored
        )
        self._sources[key] = (now + SOURCE_SECONDS, found)
        self._sources.move_to_end(key)
        while len(self._sources) > MAX_SOURCES:
            self._sources.popitem(last=False)
        return found

    def forget(self, album_id: int) -> None:
        self._sources.pop(("album", album_id), None)

    def _find_and_note(
        self, key: tuple[str, int], paths: list[str], stored: Path | None
    ) -> Source | None:
        found = self._find(paths, stored)
        self._note(key, found)
        return found

    def _marker(self, key: tuple[str, int]) -> Path:
        return self.thumbs / f"{key[0]}-{key[1]}.src"

    def _note(self, key: tuple[str, int], found: Source | None) -> None:
        """Remember which source an album's (or a track's) thumbnails are made from: when it
        changes (a new cover.jpg, a re-tagged picture) the old thumbnails are deleted."""
        marker = self._marker(key)
        try:
            before = marker.read_text().strip()
        except OSError:
            before = None
        now = found.digest if found else None
        if before == now:
            return
        if before:
            self._drop(before)
        try:
            if now:
                self.thumbs.mkdir(parents=True, exist_ok=True)
                marker.write_text(now)
            else:
                marker.unlink(missing_ok=True)
        except OSError as exc:  # a full disk: the next look tries again
            log.warning("cannot note the cover source of %s %s: %s", *key, exc)

    def _drop(self, digest: str) -> None:
        for size in artwork.THUMB_SIZES:
            (self.thumbs / f"{digest}-{size}.jpg").unlink(missing_ok=True)

    def sweep(self, existing: Callable[[str, list[int]], set[int]], grace: float = 3600.0) -> int:
        """Delete thumbnails nothing uses any more: those of albums and tracks that are gone
        (``existing(kind, ids)`` says which still are), and any no source marker names (older
        than ``grace`` seconds: one being made right now is not named yet). Returns how many
        thumbnails went."""
        if not self.thumbs.is_dir():
            return 0
        markers: dict[tuple[str, int], Path] = {}
        for marker in self.thumbs.glob("*.src"):
            kind, _, number = marker.stem.partition("-")
            if kind in ("album", "track") and number.isdigit():
                markers[(kind, int(number))] = marker
            else:
                marker.unlink(missing_ok=True)
        named, removed = set(), 0
        for kind in ("album", "track"):
            ids = [i for k, i in markers if k == kind]
            alive = existing(kind, ids) if ids else set()
            for i in ids:
                marker = markers[(kind, i)]
                if i in alive:
                    named.add(marker.read_text().strip())
                else:
                    marker.unlink(missing_ok=True)
        cutoff = time.time() - grace
        for thumb in self.thumbs.glob("*.jpg"):
            digest = thumb.stem.rpartition("-")[0]
            if digest not in named and thumb.stat().st_mtime < cutoff:
                thumb.unlink(missing_ok=True)
                removed += 1
        return removed

    def _find(self, paths: list[str], stored: Path | None) -> Source | None:
        paths = [p for p in paths if root_of(p, self.roots) is not None]  # files now elsewhere
        for folder in dict.fromkeys(os.path.dirname(p) for p in paths):
            beside = artwork.folder_cover(os.path.join(folder, "-"))
            if beside and root_of(beside, self.roots) is not None:
                return Source("folder", beside, "folder:" + _stamp(beside))
        best: tuple[tuple[bool, int], str] | None = None
        for path in paths[:EMBEDDED_LOOKS]:
            found = artwork.best_embedded(path)
            if found:
                rank = (found[0], len(found[1]))
                if best is None or rank > best[0]:
                    best = (rank, path)
        if best is not None:
            return Source("embedded", best[1], "embedded:" + _stamp(best[1]))
        if stored is not None and stored.exists():
            return Source("coverartarchive", str(stored), "caa:" + _stamp(str(stored)))
        return None

    def original(self, source: Source) -> bytes:
        if source.kind == "embedded":
            data = artwork.embedded_cover(source.path) or b""
        else:
            with open(source.path, "rb") as fh:
                data = fh.read(artwork.MAX_IMAGE_BYTES + 1)
        if len(data) > artwork.MAX_IMAGE_BYTES or not artwork.image_type(data):
            raise artwork.BadImage(f"{source.kind} cover is not a usable image")
        return data

    async def thumbnail_path(self, source: Source, size: int) -> Path:
        """The thumbnail's file, made now (decoded in a decoder process) if it does not
        exist yet."""
        target = self.thumbs / f"{source.digest}-{size}.jpg"
        if target.exists():
            return target
        loop = asyncio.get_running_loop()
        data = await loop.run_in_executor(None, self.original, source)
        image = await self.decoder.thumbnail(data, size)
        await loop.run_in_executor(None, self._keep, target, image)
        return target

    def _keep(self, target: Path, image: bytes) -> None:
        self.thumbs.mkdir(parents=True, exist_ok=True)
        tmp = self.thumbs / f".{target.stem}.{os.getpid()}.tmp"
        tmp.write_bytes(image)
        os.replace(tmp, target)


def _stamp(path: str) -> str:
    st = os.stat(path)
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


async def covers_ctx(app: web.Application):
    settings = app[keys.SETTINGS]
    covers = Covers(settings.data_dir, settings.library, 1 if settings.low_memory else 2)
    app[keys.COVERS] = covers
    yield
    covers.decoder.close()


def size_param(request: web.Request, raw: str | None = None) -> int | None:
    """``?size=N``: the smallest thumbnail at least N px (apps ask for any size), at most 600."""
    raw = request.query.get("size") if raw is None else raw
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= 10_000:
        raise InvalidInput(
            "size must be a number of pixels from 1 to 10000", details={"field": "size"}
        )
    return next((s for s in artwork.THUMB_SIZES if s >= int(raw)), artwork.THUMB_SIZES[-1])


async def album_source(app: web.Application, album_id: int) -> Source | None:
    rows = app[keys.DB].read(library.tracks.album_track_paths, album_id, 500)
    paths = [os.fsdecode(r["path"]) for r in rows]
    return await app[keys.COVERS].source(("album", album_id), paths, album_id)


async def cover_source(app: web.Application, album_id: int | None) -> str | None:
    """Where the album's cover comes from (``embedded``, ``folder``, ``coverartarchive``), or
    None: pages show the image only then."""
    if not album_id:
        return None
    source = await album_source(app, album_id)
    return source.kind if source else None


async def album_cover(request: web.Request) -> web.StreamResponse:
    """``GET /api/albums/{id}/cover[?size=N]``: the original image, or a JPEG thumbnail; with
    ``size``, an album with no cover gets a drawn placeholder instead of a 404."""
    album_id = path_id(request)
    album = request.app[keys.DB].read(
        library.albums.get_album, album_id
    )  # 404 for an unknown album
    check_album(request, album_id)
    source = await album_source(request.app, album_id)
    return await answer(
        request, source, album["title"] or "", f"album {album_id}", size_param(request)
    )


async def track_cover(request: web.Request) -> web.StreamResponse:
    """``GET /api/tracks/{id}/cover[?size=N]``: its album's cover, else its own picture."""
    track_id = path_id(request)
    track = check_track(request, request.app[keys.DB].read(library.tracks.get_track, track_id))
    source = await track_source(request.app, track)
    return await answer(
        request, source, track["title"] or "", f"track {track_id}", size_param(request)
    )


async def track_source(app: web.Application, track: dict) -> Source | None:
    """The cover a track shows: its album's, else its own embedded picture."""
    if track["album_id"]:
        return await album_source(app, track["album_id"])
    return await app[keys.COVERS].source(("track", track["id"]), [os.fsdecode(track["path"])], None)


async def answer(
    request: web.Request,
    source: Source | None,
    title: str,
    what: str,
    size: int | None,
    raster: bool = False,
) -> web.StreamResponse:
    """The original (size None: 404 when there is none), a thumbnail, or the placeholder (an
    SVG, or with ``raster`` a PNG: for apps whose image decoders cannot read SVG)."""
    covers: Covers = request.app[keys.COVERS]
    if source is not None:
        try:
            if size is None:
                return await _original(request, covers, source)
            path = await covers.thumbnail_path(source, size)
            return web.FileResponse(
                path,
                headers={
                    "Content-Type": "image/jpeg",
                    "Cache-Control": "private, max-age=3600",
                    "X-Cover-Source": source.kind,
                },
            )
        except (artwork.BadImage, OSError) as exc:
            log.warning("%s: cover from %s unusable: %s", what, source.kind, exc)
    if size is None:
        raise NotFound(f"{what} has no cover", details={"what": what})
    headers = {"Cache-Control": "private, max-age=300", "X-Cover-Source": "placeholder"}
    if raster:
        loop = asyncio.get_running_loop()
        drawn = await loop.run_in_executor(None, artwork.placeholder_png, title, min(size, 600))
        return web.Response(body=drawn, content_type="image/png", headers=headers)
    return web.Response(
        body=artwork.placeholder_svg(title, size), content_type="image/svg+xml", headers=headers
    )


async def _original(request: web.Request, covers: Covers, source: Source) -> web.Response:
    etag = f'"{source.digest}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=3600",
        "X-Cover-Source": source.kind,
    }
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    data = await asyncio.get_running_loop().run_in_executor(None, covers.original, source)
    return web.Response(body=data, content_type=artwork.image_type(data), headers=headers)


# ---------------------------------------------------------------- the Cover Art Archive's


def take_cover_images(results: list[dict[str, Any]]) -> list[tuple[int, bytes]]:
    """Remove the images cover stages sent from their results: (track id, image bytes)."""
    images = []
    for result in results:
        data = (result.get("fields") or {}).pop("cover_image", None)
        if not data:
            continue
        try:
            image = base64.b64decode(data, validate=True)
        except (ValueError, TypeError):
            continue
        if artwork.image_type(image):
            images.append((result["track_id"], image))
    return images


async def save_cover_images(app: web.Application, images: list[tuple[int, bytes]]) -> None:
    """Keep one image per album (the first that arrives); never replace one."""
    if not images:
        return
    rows = app[keys.DB].read(library.tracks.tracks_by_ids, [t for t, _ in images])
    albums = {r["id"]: r["album_id"] for r in rows if r["album_id"]}
    covers: Covers = app[keys.COVERS]
    wanted = {albums[t]: image for t, image in images if t in albums}
    await asyncio.get_running_loop().run_in_executor(None, _write_stored, covers, wanted)
    for album_id in wanted:
        covers.forget(album_id)


def _write_stored(covers: Covers, images: dict[int, bytes]) -> None:
    covers.stored.mkdir(parents=True, exist_ok=True)
    for album_id, image in images.items():
        target = covers.stored_path(album_id)
        if target.exists():
            continue
        tmp = covers.stored / f".{album_id}.{os.getpid()}.tmp"
        tmp.write_bytes(image)
        os.replace(tmp, target)
