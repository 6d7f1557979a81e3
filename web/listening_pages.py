"""Pages and forms for each user's own listening: playlists, favourites, stars.

Every form works without JavaScript (a POST, then a redirect to the page to show, 303); the
page script sends the same forms with fetch so the player keeps playing.
"""

from __future__ import annotations

import re

from aiohttp import web

from soniquebay import library
from soniquebay.catalog import playlists as catalog_playlists
from soniquebay.catalog.starred import starred
from soniquebay.errors import Conflict, InvalidInput
from soniquebay.library import annotations, playlists
from soniquebay.web import keys
from soniquebay.web.params import path_id, safe_next
from soniquebay.web.render import confirmed, render
from soniquebay.web.validation import query_value
from soniquebay.web.viewer import check_track, held, scope, shown_tracks, stars_of, user_of


def _back(form, default: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(safe_next(str(form.get("next") or "")) if form.get("next") else default)


def _int(form, name: str) -> int:
    raw = str(form.get(name, ""))
    if not (raw.isascii() and raw.lstrip("-").isdigit()) or len(raw) > 12:
        raise InvalidInput(f"{name} must be a number", details={"field": name})
    return int(raw)


def _ids(form, name: str = "track_ids") -> list[int]:
    parts = [p for p in re.split(r"[,\s]+", str(form.get(name, ""))) if p]
    if not parts or not all(p.isascii() and p.isdigit() and len(p) < 18 for p in parts):
        raise InvalidInput("choose one or more tracks", details={"field": name})
    return [int(p) for p in parts[: playlists.MAX_TRACKS]]


async def playlists_page(request: web.Request) -> web.Response:
    rows = request.app[keys.DB].read(playlists.list_playlists, user_of(request))
    return render(request, "playlists.html", playlists=rows)


async def playlist_page(
    request: web.Request, report: dict | None = None, playlist_id: int | None = None
) -> web.Response:
    """A playlist; after an import, what it matched and what it did not (``report``)."""
    playlist = request.app[keys.DB].read(
        playlists.get_playlist, user_of(request), playlist_id or path_id(request)
    )
    tracks = shown_tracks(request.app, held(request, playlist["tracks"]))
    return render(
        request,
        "playlist.html",
        playlist=playlist,
        tracks=tracks,
        report=report,
        starred_tracks=stars_of(request, "track", [t["id"] for t in tracks]),
    )


async def create_form(request: web.Request) -> web.Response:
    form = await request.post()
    ids = _ids(form) if form.get("track_ids") else []
    row = await request.app[keys.DB].write(
        playlists.create, user_of(request), str(form.get("name", "")), ids
    )
    raise web.HTTPSeeOther(f"/playlists/{row['id']}")


async def rename_form(request: web.Request) -> web.Response:
    form, playlist_id = await request.post(), path_id(request)
    await request.app[keys.DB].write(
        playlists.update, user_of(request), playlist_id, name=str(form.get("name", ""))
    )
    raise web.HTTPSeeOther(f"/playlists/{playlist_id}")


async def delete_form(request: web.Request) -> web.Response:
    database, playlist_id = request.app[keys.DB], path_id(request)
    playlist = database.read(playlists.get_playlist, user_of(request), playlist_id)
    asking = await confirmed(
        request, f"Delete the playlist “{playlist['name']}”?",
        "Its tracks stay in the library; the playlist cannot be brought back.",
        "Delete it", f"/playlists/{playlist_id}",
    )  # fmt: skip
    if asking is not None:
        return asking
    await database.write(playlists.delete, user_of(request), playlist_id)
    raise web.HTTPSeeOther("/playlists")


async def move_form(request: web.Request) -> web.Response:
    form, playlist_id = await request.post(), path_id(request)
    await request.app[keys.DB].write(
        playlists.move, user_of(request), playlist_id, _int(form, "position"), _int(form, "to")
    )
    raise web.HTTPSeeOther(f"/playlists/{playlist_id}")


async def remove_form(request: web.Request) -> web.Response:
    form, playlist_id = await request.post(), path_id(request)
    await request.app[keys.DB].write(
        playlists.remove_positions, user_of(request), playlist_id, [_int(form, "position")]
    )
    raise web.HTTPSeeOther(f"/playlists/{playlist_id}")


async def add_form(request: web.Request) -> web.Response:
    """Add tracks to a playlist of the user's (then back to ``next``), or to a new one named
    ``new_name`` (then to it)."""
    form = await request.post()
    ids, database, uid = _ids(form), request.app[keys.DB], user_of(request)
    if str(form.get("playlist_id", "")) in ("", "new"):  # a new one: show it
        row = await database.write(
            playlists.create, uid, str(form.get("new_name") or "New playlist"), ids
        )
        raise web.HTTPSeeOther(f"/playlists/{row['id']}")
    row = await database.write(playlists.add_tracks, uid, _int(form, "playlist_id"), ids)
    raise _back(form, f"/playlists/{row['id']}")


async def import_form(request: web.Request) -> web.Response:
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise InvalidInput(
            "choose a playlist file (.m3u, .m3u8, .pls, .xspf)", details={"field": "file"}
        )
    created = await catalog_playlists.import_m3u8(
        request.app[keys.DB],
        user_of(request),
        upload.file.read(catalog_playlists.MAX_FILE_BYTES + 1),
        str(form.get("name") or "") or None,
        [str(r) for r in request.app[keys.SETTINGS].library],
        upload.filename or "",
    )
    # the new playlist, with what the import matched and what it did not
    return await playlist_page(request, report=created, playlist_id=created["id"])


async def favourites_page(request: web.Request) -> web.Response:
    found = starred(request.app[keys.DB], user_of(request), scope(request))
    return render(
        request,
        "favourites.html",
        tracks=shown_tracks(request.app, found["track"]),
        albums=found["album"],
        artists=found["artist"],
        starred={a["id"] for a in found["album"]},
        starred_tracks={t["id"] for t in found["track"]},
    )


async def star_form(request: web.Request) -> web.Response:
    """``POST /stars/{kind}/{id}`` with ``on`` = 1 or 0."""
    form, kind = await request.post(), request.match_info["kind"]
    on = str(form.get("on", "1")) == "1"
    await request.app[keys.DB].write(
        annotations.set_star, user_of(request), kind, [path_id(request)], on
    )
    raise _back(form, "/favourites")


async def rating_form(request: web.Request) -> web.Response:
    """``POST /ratings/{kind}/{id}`` with ``rating`` 1 to 5 (0 clears it): the pages' stars,
    the same rating Subsonic apps set and see."""
    form = await request.post()
    await request.app[keys.DB].write(
        annotations.set_rating, user_of(request), request.match_info["kind"],
        path_id(request), _int(form, "rating"),
    )  # fmt: skip
    raise _back(form, "/favourites")


PATH_LENGTH = 15  # tracks in a path the track page builds


async def path_page(request: web.Request) -> web.Response:
    """``/tracks/{id}/path``: "Path to…" — find the track to end on (``q``), then the route
    that eases from one sound to the other (``to``), to play as a queue. Works without
    JavaScript: a search form, links, and the play button."""
    database = request.app[keys.DB]
    first = check_track(request, database.read(library.tracks.get_track, path_id(request)))
    start = shown_tracks(request.app, [first])[0]
    text = (request.query.get("q") or "").strip()[:200]
    to = query_value(request, "to", int)
    choices, route, problem = [], [], None
    if to is not None:
        check_track(request, database.read(library.tracks.get_track, to))  # 404 for an unknown end
        try:
            found = await request.app[keys.SOUNDS_LIKE].sonic_path(start["id"], to, PATH_LENGTH)
        except Conflict as exc:
            problem = exc.message
        else:
            rows = {
                r["id"]: r
                for r in database.read(library.tracks.tracks_by_ids, [i for i, _ in found])
            }
            route = shown_tracks(
                request.app, held(request, [rows[i] for i, _ in found if i in rows])
            )
    elif text:
        found = database.read(
            library.search.paged_search,
            text,
            {"artist": (0, 0), "album": (0, 0), "song": (20, 0)},
            scope(request),
        )
        choices = shown_tracks(request.app, [t for t in found["tracks"] if t["id"] != start["id"]])
    return render(
        request,
        "path.html",
        start=start,
        q=text,
        choices=choices,
        route=route,
        problem=problem,
        starred_tracks=stars_of(request, "track", [t["id"] for t in route]),
    )
