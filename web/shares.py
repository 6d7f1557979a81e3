"""Shares in the web process: the link (a share's id signed with the server's key, so it can be
shown again and cannot be guessed), the owner's "Share" form and list, and what a visitor
without an account opens: a small page with a player, the streams (original, or the transcode
the owner chose), the cover and, when allowed, the download. A revoked or expired link answers
410 at once, page and streams alike."""

from __future__ import annotations

import hmac
import time
from typing import Any

from aiohttp import web

from soniquebay import credentials, library
from soniquebay.errors import Forbidden, InvalidInput, NotFound
from soniquebay.library import playlists, shares
from soniquebay.web import covers, downloads, keys
from soniquebay.web.params import path_id
from soniquebay.web.render import render
from soniquebay.web.stream import TRANSCODES, content_type, playable_path, send_transcoded
from soniquebay.web.viewer import check_album, check_track, user_of

EXPIRY_DAYS = (0, 1, 7, 30, 365)  # 0: until revoked
QUALITIES = ("", "opus:128", "mp3:192")  # "": the original files


def link(settings: Any, share_id: int) -> str:
    """The share's path: ``/s/<id>-<signature>``."""
    return f"/s/{share_id}-{credentials.sign(settings, f'share:{share_id}')}"


def _opened(request: web.Request, *, visit: bool = False) -> dict[str, Any]:
    """The share a link names, checked: a forged or unknown link is a 404, a revoked or
    expired one a 410."""
    raw = request.match_info["link"]
    number, _, signature = raw.partition("-")
    if not number.isdigit() or len(number) > 18:
        raise NotFound("no such share")
    expected = credentials.sign(request.app[keys.SETTINGS], f"share:{int(number)}")
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise NotFound("no such share")
    return request.app[keys.DB].read(shares.opened, int(number), visit=visit)


def check_allowed(principal: Any) -> None:
    if not getattr(principal, "shares", True):
        raise Forbidden("sharing is off for this account; ask an administrator")


def title_of(database: Any, share: dict[str, Any]) -> str:
    """What a share is of, in words: "Title — Artist"."""
    try:
        if share["kind"] == "track":
            row = database.read(library.tracks.get_track, share["item_id"])
            return " — ".join(p for p in (row["title"], row["artist_name"]) if p) or "A track"
        if share["kind"] == "album":
            row = database.read(library.albums.get_album, share["item_id"])
            return " — ".join(p for p in (row["title"], row["album_artist_name"]) if p)
        row = database.read(playlists.get_playlist, share["user_id"], share["item_id"])
        return row["name"]
    except NotFound:
        return "(gone from the library)"


# ---------------------------------------------------------------- the owner's


async def share_form(request: web.Request) -> web.Response:
    """``POST /shares`` (a page's Share form): kind, id, days (0: until revoked), downloads,
    quality, description; then the user's shares, the new one first."""
    check_allowed(request["principal"])
    form = await request.post()
    kind, raw_id = str(form.get("kind", "")), str(form.get("id", ""))
    if kind not in shares.KINDS or not raw_id.isdigit():
        raise InvalidInput(
            "a share is of a track, an album or a playlist", details={"field": "kind"}
        )
    item_id = int(raw_id)
    database = request.app[keys.DB]
    if kind == "track":
        check_track(request, database.read(library.tracks.get_track, item_id))
    elif kind == "album":
        database.read(library.albums.get_album, item_id)
        check_album(request, item_id)
    days = int(form["days"]) if str(form.get("days", "0")).isdigit() else -1
    quality = str(form.get("quality", ""))
    if days not in EXPIRY_DAYS or quality not in QUALITIES:
        raise InvalidInput("pick an expiry and a quality from the form", details={"field": "days"})
    made = await database.write(
        shares.create, user_of(request), kind, item_id,
        description=" ".join(str(form.get("description", "")).split()),
        expires_at=time.time() + days * 86400 if days else None,
        transcode=quality or None,
        downloads=form.get("downloads") == "1",
    )  # fmt: skip
    raise web.HTTPSeeOther(f"/shares#share-{made['id']}")


async def shares_page(request: web.Request) -> web.Response:
    """``GET /shares``: the user's links, with their visits; revoke any."""
    database, settings = request.app[keys.DB], request.app[keys.SETTINGS]
    base = f"{request.scheme}://{request.host}"
    mine = [
        {**s, "url": base + link(settings, s["id"]), "title": title_of(database, s),
         "expired": s["expires_at"] is not None and s["expires_at"] <= time.time()}
        for s in database.read(shares.of_user, user_of(request))
    ]  # fmt: skip
    return render(request, "shares.html", shares=mine)


async def revoke_form(request: web.Request) -> web.Response:
    """``POST /shares/{id}/revoke``: the link answers 410 from now on."""
    await request.app[keys.DB].write(shares.revoke, user_of(request), path_id(request))
    raise web.HTTPSeeOther("/shares")


# ---------------------------------------------------------------- the visitor's


def _tracks(request: web.Request, share: dict[str, Any]) -> list[dict[str, Any]]:
    database = request.app[keys.DB]
    ids = database.read(shares.track_ids, share)
    rows = {r["id"]: r for r in database.read(library.tracks.tracks_by_ids, ids)}
    return [rows[i] for i in ids if i in rows and rows[i]["missing_since"] is None]


async def visit_page(request: web.Request) -> web.Response:
    """``GET /s/{link}``: the shared tracks on a small page with a player; counts a visit."""
    share = _opened(request, visit=True)
    tracks = _tracks(request, share)
    base = f"/s/{request.match_info['link']}"
    return render(
        request,
        "share.html",
        share=share,
        title=title_of(request.app[keys.DB], share),
        base=base,
        tracks=[
            {
                "id": t["id"],
                "title": t["title"] or "(untitled)",
                "artist": t["artist_name"] or "",
                "duration": t["duration"],
                "stream": f"{base}/tracks/{t['id']}/stream",
            }
            for t in tracks
        ],  # fmt: skip
    )


def _shared_track(request: web.Request) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    share = _opened(request)
    track_id = path_id(request, "track_id")
    if track_id not in request.app[keys.DB].read(shares.track_ids, share):
        raise NotFound("this track is not in this share")
    track, path = playable_path(request.app, track_id)
    return share, track, path


async def visit_stream(request: web.Request) -> web.StreamResponse:
    """``GET /s/{link}/tracks/{track_id}/stream``: a shared track, as its owner chose."""
    share, _track, path = _shared_track(request)
    if share["transcode"]:
        fmt, kbps = share["transcode"].split(":")
        if fmt in TRANSCODES:
            return await send_transcoded(request, path, fmt, int(kbps), 0.0)
    return web.FileResponse(
        path.decode("utf-8", "surrogateescape"),
        headers={"Content-Type": content_type(path), "Cache-Control": "private, max-age=0"},
    )


async def visit_cover(request: web.Request) -> web.StreamResponse:
    """``GET /s/{link}/cover``: the shared album's cover (a track's: its album's)."""
    share = _opened(request)
    tracks = _tracks(request, share)
    source = await covers.track_source(request.app, tracks[0]) if tracks else None
    return await covers.answer(request, source, "", f"share {share['id']}", 300)


async def visit_download(request: web.Request) -> web.StreamResponse:
    """``GET /s/{link}/download``: when the owner allowed it, the file or a zip."""
    share = _opened(request)
    if not share["downloads"]:
        raise Forbidden("whoever shared this did not allow downloads")
    tracks = _tracks(request, share)
    if share["kind"] == "track" and tracks:
        _, path = playable_path(request.app, tracks[0]["id"])
        return web.FileResponse(
            path.decode("utf-8", "surrogateescape"),
            headers={"Content-Type": content_type(path),
                     "Content-Disposition": downloads.attachment(downloads.download_name(tracks[0], path))},
        )  # fmt: skip
    name = downloads.safe_name(title_of(request.app[keys.DB], share), "shared") + ".zip"
    return await downloads.zip_of(request, tracks, share["kind"], name)
