"""What enrichment adds to the API: metadata layers, duplicates, suggested matches, album covers.

- **Layers** (:mod:`soniquebay.library.layers`): ``GET /api/tracks/{id}`` shows each.
- **Duplicates**: tracks whose fingerprints match (:mod:`soniquebay.library.duplicates`).
- **Matches**: accepting a suggestion re-runs the MusicBrainz stage on that recording.
- **Covers**: one image per album in ``<data_dir>/covers``, sent by the cover art stage; served
  with the album folder's own image or the file's embedded picture first.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from soniquebay.errors import InvalidInput, NotFound
from soniquebay.library import duplicates, queries, sql, stages
from soniquebay.plugins.builtin.coverart import embedded_cover, folder_cover
from soniquebay.web import keys
from soniquebay.web.rest import int_param, path_id
from soniquebay.web.validation import json_object

MUSICBRAINZ = "musicbrainz"
MATCH_STAGE = "musicbrainz.enrich_track"
MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
IMAGE_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png", b"RIFF": "image/webp"}


# ---------------------------------------------------------------- duplicates and matches


async def track_duplicates(request: web.Request) -> web.Response:
    database, track_id = request.app[keys.DB], path_id(request)
    database.read(queries.get_track, track_id)  # 404 for an unknown track
    return web.json_response({"items": _public(database.read(duplicates.of_track, track_id))})


async def list_duplicates(request: web.Request) -> web.Response:
    """Groups of duplicates: ``{"items": [[track, ...], ...]}`` by their first track's id."""
    limit = int_param(request, "limit", 50, low=1, high=500)
    after = int_param(request, "after_id", 0, high=2**62)
    database = request.app[keys.DB]
    groups = database.read(duplicates.groups, limit, after)
    ids = [i for g in groups for i in g]
    rows = {r["id"]: r for r in database.read(queries.tracks_by_ids, ids)}
    items = [
        [{"id": i, "title": rows[i]["title"], "path": sql.display_path(rows[i]["path"]),
          "format": rows[i]["format"]} for i in g if i in rows]
        for g in groups
    ]  # fmt: skip
    return web.json_response({"items": items, "next_after_id": groups[-1][0] if groups else None})


def _public(rows: list[dict]) -> list[dict]:
    return [{**r, "path": sql.display_path(r["path"])} for r in rows]


async def accept_match(request: web.Request) -> web.Response:
    """``POST /api/tracks/{id}/match`` ``{"recording_id": mbid}``: apply this MusicBrainz
    recording to the track (its enrichment runs again on it)."""
    track_id = path_id(request)
    body = await json_object(request)
    recording = await _accept(request, track_id, body.get("recording_id"))
    return web.json_response({"track_id": track_id, "recording_id": recording}, status=202)


async def accept_match_form(request: web.Request) -> web.Response:
    """The track page's "Use this" buttons."""
    track_id = path_id(request)
    form = await request.post()
    await _accept(request, track_id, form.get("recording_id"))
    raise web.HTTPSeeOther(f"/tracks/{track_id}")


async def _accept(request: web.Request, track_id: int, recording: Any) -> str:
    if not isinstance(recording, str) or not MBID.match(recording.strip().lower()):
        raise InvalidInput(
            "recording_id must be a MusicBrainz id (a UUID)", details={"field": "recording_id"}
        )
    recording = recording.strip().lower()
    app = request.app
    if not any(s.name == MATCH_STAGE for s in app[keys.PLUGINS].stages):
        raise NotFound("the musicbrainz plugin is not enabled", details={"plugin": MUSICBRAINZ})
    database = app[keys.DB]
    track = database.read(queries.get_track, track_id)
    await database.write(
        stages.set_plugin_fields,
        track_id,
        MUSICBRAINZ,
        {"mb_accepted_recording_id": recording},
        rerun=MATCH_STAGE,
    )
    app[keys.PIPELINE].stored([{**track, "change": "match accepted"}])
    return recording


# ---------------------------------------------------------------- covers


def covers_dir(settings: Any) -> Path:
    return Path(settings.data_dir) / "covers"


def image_type(data: bytes) -> str | None:
    return next((t for magic, t in IMAGE_TYPES.items() if data.startswith(magic)), None)


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
        if image_type(image):
            images.append((result["track_id"], image))
    return images


async def save_cover_images(app: web.Application, images: list[tuple[int, bytes]]) -> None:
    """Keep one image per album (the first that arrives); never replace one."""
    if not images:
        return
    rows = app[keys.DB].read(queries.tracks_by_ids, [t for t, _ in images])
    albums = {r["id"]: r["album_id"] for r in rows if r["album_id"]}
    folder = covers_dir(app[keys.SETTINGS])
    wanted = {albums[t]: image for t, image in images if t in albums}
    await asyncio.get_running_loop().run_in_executor(None, _write_covers, folder, wanted)


def _write_covers(folder: Path, images: dict[int, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for album_id, image in images.items():
        target = folder / str(album_id)
        if target.exists():
            continue
        tmp = folder / f".{album_id}.{os.getpid()}.tmp"
        tmp.write_bytes(image)
        os.replace(tmp, target)


def _cover_finder(app: web.Application, album_id: int, *, read: bool = True):
    """A function (for an executor thread) giving (image, source) of the album's cover: the
    folder's image, else the file's embedded picture, else the Cover Art Archive's; (None, "")
    when there is none. Without ``read``, only where it would come from (image b"")."""
    rows = app[keys.DB].read(queries.album_track_paths, album_id, 1)
    paths = [os.fsdecode(r["path"]) for r in rows]
    stored = covers_dir(app[keys.SETTINGS]) / str(album_id)

    def find() -> tuple[bytes | None, str]:
        for path in paths:
            beside = folder_cover(path)
            if beside:
                try:
                    with open(beside, "rb") as fh:
                        return (fh.read(8 * 1024 * 1024) if read else b""), "folder"
                except OSError:
                    pass
            embedded = embedded_cover(path)
            if embedded:
                return embedded, "embedded"
        if not read:
            return (b"", "coverartarchive") if stored.exists() else (None, "")
        try:
            return stored.read_bytes(), "coverartarchive"
        except OSError:
            return None, ""

    return find


async def cover_source(app: web.Application, album_id: int | None) -> str | None:
    """Where the album's cover would come from, or None (pages show an image only then)."""
    if not album_id:
        return None
    find = _cover_finder(app, album_id, read=False)
    _image, source = await asyncio.get_running_loop().run_in_executor(None, find)
    return source or None


async def album_cover(request: web.Request) -> web.Response:
    """``GET /api/albums/{id}/cover``: the folder's image, else the file's embedded picture,
    else the Cover Art Archive's (stored by the cover art stage); 404 when there is none."""
    album_id = path_id(request)
    request.app[keys.DB].read(queries.get_album, album_id)  # 404 for an unknown album
    find = _cover_finder(request.app, album_id)
    image, source = await asyncio.get_running_loop().run_in_executor(None, find)
    if not image or not image_type(image):
        raise NotFound(f"album {album_id} has no cover", details={"album_id": album_id})
    return web.Response(
        body=image,
        content_type=image_type(image),
        headers={"Cache-Control": "private, max-age=3600", "X-Cover-Source": source},
    )
