"""Pages about the library's workings: a track in detail, plugins, scan errors, activity,
users; the static files. (Browsing is :mod:`browse_pages`, playlists :mod:`listening_pages`.)"""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import redis.asyncio as aioredis
from aiohttp import web

from soniquebay import credentials, names, queueing
from soniquebay.catalog import tracks as catalog_tracks
from soniquebay.errors import BatchFailed, InvalidInput, NotFound
from soniquebay.library import (
    accounts,
    edits,
    layers,
    queries,
    sql,
    stages,
)
from soniquebay.plugins import available
from soniquebay.web import covers, keys
from soniquebay.web.auth import safe_next
from soniquebay.web.health import disabled_plugins, health_report
from soniquebay.web.params import path_id
from soniquebay.web.render import confirmed, render
from soniquebay.web.sounds_like import mix_ids
from soniquebay.web.viewer import check_track, held, my_playlists, rating_of, shown_tracks, stars_of

# Tags a person may correct on the track page (the API edits every field of TRACK_EDITABLE).
EDITABLE_ON_PAGE = (
    "title", "artist_name", "album_title", "album_artist_name", "track_number", "disc_number",
    "year", "genre",
)  # fmt: skip
# Audio features drawn as bars on the track page: (field, label, low, high, how it reads).
FEATURE_SCALES = (
    ("bpm", "Tempo", 40, 200, "bpm"),
    ("energy", "Energy", 0, 1, "percent"),
    ("danceability", "Danceability", 0, 3, None),
    ("loudness_lufs", "Loudness", -40, 0, "lufs"),
    ("loudness_range", "Dynamic range", 0, 25, "lu"),
)
# Plugin fields shown in their own sections (or too long to show at all).
HIDDEN_PLUGIN_FIELDS = {"fingerprint", "enriched", "mb_suggestions", "mb_match"}


async def track_page(request: web.Request) -> web.Response:
    database, track_id = request.app[keys.DB], path_id(request)
    row = check_track(request, database.read(queries.get_track, track_id))
    track = catalog_tracks.detail(
        database, track_id, None, request.app[keys.SETTINGS].metadata_prefer
    )
    plugin_data = track["plugin_data"]
    panels = []
    shown = dict(track)  # as GET /api/tracks/{id} shows it (hookspecs.track_panels)
    for plugin, panel in request.app[keys.PLUGINS].each("track_panels", track=shown):
        if isinstance(panel, dict) and panel.get("rows"):
            rows = [(str(label), str(value)) for label, value in panel["rows"]]
            panels.append(
                {"plugin": plugin, "title": str(panel.get("title") or plugin), "rows": rows}
            )
    enrich = plugin_data.get("musicbrainz") or {}
    return render(
        request,
        "track.html",
        track=track,
        failures=track["stage_failures"],
        scan_errors=database.read(queries.scan_errors_of_path, row["path"]),
        similar=await sounds_like(request, track_id) if row["analyzed_at"] else [],
        mix=await mix_ids(request.app, row, 25),
        plugin_data={
            plugin: {k: v for k, v in data.items() if k not in HIDDEN_PLUGIN_FIELDS}
            for plugin, data in plugin_data.items()
        },
        panels=panels,
        layer_rows=[
            (
                field,
                track["layers"]["tags"].get(field),
                track["layers"]["edits"].get(field),
                track["layers"]["enriched"].get(field),
            )
            for field in layers.LAYER_FIELDS
            if any(track["layers"][layer].get(field) is not None for layer in track["layers"])
        ],
        match=enrich.get("mb_match"),
        suggestions=enrich.get("mb_suggestions") or [],
        cover=await covers.cover_source(request.app, track.get("album_id")),
        starred=stars_of(request, "track", [track_id]),
        my_rating=rating_of(request, "track", track_id),
        playlists=my_playlists(request),
        editable=[(f, track["display"].get(f)) for f in EDITABLE_ON_PAGE],
        feature_bars=feature_bars(track),
        duplicates=track["duplicates"],
    )


async def sounds_like(request: web.Request, track_id: int, count: int = 8) -> list[dict]:
    """The tracks most like this one (:meth:`SoundsLike.similar`)."""
    database = request.app[keys.DB]
    ids = await request.app[keys.SOUNDS_LIKE].similar(request.app, track_id, count)
    rows = {r["id"]: r for r in database.read(queries.tracks_by_ids, ids)}
    return shown_tracks(request.app, held(request, [rows[i] for i in ids if i in rows]))


def feature_bars(track: dict) -> list[dict]:
    """The audio features as bars of 0–100 % on a fixed scale per feature (for the SVG)."""
    bars = []
    for field, label, low, high, unit in FEATURE_SCALES:
        value = track.get(field)
        if value is None:
            continue
        share = min(1.0, max(0.0, (value - low) / (high - low)))
        bars.append({"label": label, "value": value, "unit": unit, "width": round(share * 100, 1)})
    return bars


async def track_edit_form(request: web.Request) -> web.Response:
    """The track page's tag form: each changed field becomes an edit (kept over rescans); an
    emptied field reverts to the file's value."""
    track_id, form = path_id(request), await request.post()
    database = request.app[keys.DB]
    track = database.read(queries.get_track, track_id)
    layered = layers.with_layers(
        sql.public_track(track),
        database.read(stages.plugin_data, [track_id])[track_id],
        request.app[keys.SETTINGS].metadata_prefer,
        database.read(edits.edits_of, track_id),
    )
    changes, reverts = {}, []
    for field in EDITABLE_ON_PAGE:
        if field not in form:
            continue
        raw = str(form[field]).strip()
        current = layered["display"].get(field)
        if raw == "":
            if field in layered["edits"]:
                reverts.append(field)
            continue
        value: object = raw
        if field in ("track_number", "disc_number", "year"):
            if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
                raise InvalidInput(f"{field} must be a whole number", details={"field": field})
            value = int(raw)
        if value != current:
            changes[field] = value
    try:
        if changes:
            await database.write(
                edits.update_tracks, [{"id": track_id, **changes}], request.app[keys.GROUPING]
            )
        if reverts:
            await database.write(edits.revert, track_id, reverts, request.app[keys.GROUPING])
    except BatchFailed as exc:
        raise exc.single() from None
    if changes or reverts:
        fresh = sql.public_track(database.read(queries.get_track, track_id))
        request.app[keys.PIPELINE].stored([{**fresh, "change": "edited"}])
    raise web.HTTPSeeOther(f"/tracks/{track_id}")


ALBUM_FORM_TEXT = ("title", "album_artist_name", "genre")


async def album_edit_form(request: web.Request) -> web.Response:
    """The album page's form: each field set on every track of the album (one transaction);
    the tracks regroup, so the page it leads to may be the album they merged into."""
    album_id, form = path_id(request), await request.post()
    database = request.app[keys.DB]
    album = database.read(queries.get_album, album_id)
    changes: dict[str, object] = {}
    for field in ALBUM_FORM_TEXT:
        if field in form:
            raw = " ".join(str(form[field]).split())[:500]
            if field == "title" and not raw:
                raise InvalidInput("an album needs a title", details={"field": "title"})
            changes[field] = raw or None
    raw_year = str(form.get("year", "")).strip()
    if raw_year and not (raw_year.isascii() and raw_year.isdigit() and len(raw_year) <= 4):
        raise InvalidInput("year must be a year, like 1999", details={"field": "year"})
    changes["year"] = int(raw_year) if raw_year else None
    changes["compilation"] = 1 if form.get("compilation") == "1" else 0
    same = {"title": album["title"], "album_artist_name": album["album_artist_name"],
            "year": album["year"], "compilation": album.get("compilation") or 0}  # fmt: skip
    if changes.get("genre") is None:
        changes.pop("genre", None)  # an empty genre box is no edit: genres stay per track
    wanted = {k: v for k, v in changes.items() if k == "genre" or same.get(k) != v}
    now = await database.write(edits.update_album, album_id, wanted, request.app[keys.GROUPING])
    _announce_album(request, now["id"])
    raise web.HTTPSeeOther(f"/albums/{now['id']}")


async def album_revert_form(request: web.Request) -> web.Response:
    """Undo the album's edits: its tracks get their files' album tags back and regroup."""
    database = request.app[keys.DB]
    now = await database.write(edits.revert_album, path_id(request), request.app[keys.GROUPING])
    _announce_album(request, now["id"])
    raise web.HTTPSeeOther(f"/albums/{now['id']}")


def _announce_album(request: web.Request, album_id: int) -> None:
    rows = request.app[keys.DB].read(queries.tracks_by_album_ids, [album_id])
    request.app[keys.PIPELINE].stored([{**sql.public_track(r), "change": "edited"} for r in rows])


async def activity_page(request: web.Request) -> web.Response:
    """What the library is doing: queues, workers, the watcher, recent errors; live progress
    arrives over the event stream."""
    report = await health_report(request.app)
    errors, total = request.app[keys.DB].read(queries.list_scan_errors, limit=10)
    return render(
        request, "activity.html", report=report, errors=errors, error_total=total,
        rescanned=request.query.get("rescan") == "1",
    )  # fmt: skip


async def rescan_form(request: web.Request) -> web.Response:
    """Admin: read every library folder again (new, changed and moved files)."""
    app = request.app
    await asyncio.get_running_loop().run_in_executor(
        None, queueing.enqueue_rescan, app[keys.RQ_REDIS], app[keys.SETTINGS]
    )
    raise web.HTTPSeeOther("/activity?rescan=1")


async def users_page(request: web.Request, created: str | None = None) -> web.Response:
    users = [
        {**u, "folders": accounts.folders_of(u)}
        for u in request.app[keys.DB].read(accounts.list_users)
    ]
    return render(
        request,
        "users.html",
        users=users,
        folders=request.app[keys.SETTINGS].folders,
        created=created,
        me=request["principal"].user_id,
    )


async def users_folders_form(request: web.Request) -> web.Response:
    """Admin: the music folders a listener sees (every box ticked: every folder, those
    added later too)."""
    form, database, user_id = await request.post(), request.app[keys.DB], path_id(request)
    name = next((u["username"] for u in database.read(accounts.list_users) if u["id"] == user_id),
                None)  # fmt: skip
    if name is None:
        raise NotFound(f"user {user_id} does not exist", details={"id": user_id})
    configured = request.app[keys.SETTINGS].folders
    known = {f.name for f in configured}
    chosen = sorted({str(v) for v in form.getall("folder", [])} & known)
    await database.write(
        accounts.set_folders, name, None if len(chosen) == len(configured) else chosen
    )
    raise web.HTTPSeeOther("/users")


async def users_create_form(request: web.Request) -> web.Response:
    """Admin: a new user, with the password given or a generated one shown once."""
    form = await request.post()
    name = str(form.get("username", "")).strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise InvalidInput(
            "a user name is 1 to 64 printable characters", details={"field": "username"}
        )
    password = str(form.get("password", "")) or credentials.new_password()
    if len(password) < 8:
        raise InvalidInput("a password has at least 8 characters", details={"field": "password"})
    hashed = await asyncio.get_running_loop().run_in_executor(
        None, credentials.hash_password, password
    )
    await request.app[keys.DB].write(
        accounts.create_user, name, hashed, is_admin=form.get("is_admin") == "1"
    )
    shown = None if form.get("password") else f"{name}: {password}"
    return await users_page(request, created=shown)


async def users_delete_form(request: web.Request) -> web.Response:
    database, user_id = request.app[keys.DB], path_id(request)
    name = next((u["username"] for u in database.read(accounts.list_users) if u["id"] == user_id),
                None)  # fmt: skip
    if name is None:
        raise NotFound(f"user {user_id} does not exist", details={"id": user_id})
    asking = await confirmed(
        request, f"Remove the user “{name}”?",
        "Their playlists, stars, ratings, plays and tokens go with them.",
        "Remove them", "/users",
    )  # fmt: skip
    if asking is not None:
        return asking
    await database.write(accounts.delete_user, user_id)
    raise web.HTTPSeeOther("/users")


async def plugins_page(request: web.Request) -> web.Response:
    """Installed plugins, where they came from, their hooks, stages, options and failures."""
    plugins = request.app[keys.PLUGINS]
    settings = request.app[keys.SETTINGS]
    loaded = {p.name: p for p in plugins.infos()}
    failed = {e.name: e.error for e in plugins.load_errors}
    for entry in await disabled_plugins(request.app):
        failed.setdefault(entry["plugin"], entry["reason"])
    rows = []
    for plugin in available(settings):
        info = loaded.get(plugin.name)
        state = (  # a plugin a worker disabled is loaded here, and failed all the same
            "failed: " + failed[plugin.name]
            if plugin.name in failed
            else "enabled"
            if info
            else "disabled"
        )
        rows.append(
            {
                "name": plugin.name,
                "source": plugin.source,
                "location": info.location if info else plugin.location,
                "state": state,
                "hooks": info.hooks if info else (),
                "stages": [s for s in plugins.stages if plugin.name in s.plugins],
                "options": plugins.options.get(plugin.name, {}),
                "failures": plugins.failure_counts[plugin.name],
                "recent": list(plugins.failures[plugin.name])[-5:],
            }
        )
    return render(request, "plugins.html", plugins=rows, plugins_dir=settings.plugins_dir)


async def errors_page(request: web.Request) -> web.Response:
    rows, total = request.app[keys.DB].read(queries.list_scan_errors, limit=500)
    try:
        raw = await request.app[keys.REDIS].hget(names.WATCHER, "unreadable")
    except (aioredis.RedisError, OSError):
        raw = None  # Redis down: the health page says so; the errors below still show
    unreadable = json.loads(raw or "[]")
    return render(request, "errors.html", errors=rows, total=total, unreadable=unreadable)


async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    folder = resources.files("soniquebay.web").joinpath("static")
    if "/" in name or name.startswith(".") or not folder.joinpath(name).is_file():
        raise web.HTTPNotFound()
    content_type = {
        "css": "text/css",
        "js": "application/javascript",
        "svg": "image/svg+xml",
        "png": "image/png",
        "webmanifest": "application/manifest+json",
    }.get(name.rsplit(".", 1)[-1], "application/octet-stream")
    return web.Response(
        body=folder.joinpath(name).read_bytes(),
        content_type=content_type,
        headers={"Cache-Control": "public, max-age=3600"},
    )


async def settings_page(request: web.Request, notice: str | None = None, key: str | None = None):
    """The signed-in user's own settings: the password apps use, API keys."""
    principal = request["principal"]
    if principal.user_id is None:
        raise InvalidInput("settings belong to a signed-in user", details={"needs": "user"})
    database = request.app[keys.DB]
    row = database.read(accounts.subsonic_user, principal.name)
    return render(
        request,
        "settings.html",
        has_subsonic_password=bool(row and row["subsonic_password"]),
        api_keys=database.read(accounts.api_key_count, principal.user_id),
        notice=notice,
        new_key=key,
        server_url=f"{request.scheme}://{request.host}",
    )


async def subsonic_password_form(request: web.Request) -> web.Response:
    form = await request.post()
    password = str(form.get("password", ""))
    if len(password) < 8:
        raise InvalidInput("a password has at least 8 characters", details={"field": "password"})
    if password != str(form.get("again", "")):
        raise InvalidInput("the two passwords differ", details={"field": "again"})
    sealed = await asyncio.get_running_loop().run_in_executor(
        None, credentials.seal, request.app[keys.SETTINGS], password
    )
    await request.app[keys.DB].write(
        accounts.set_subsonic_password, request["principal"].name, sealed
    )
    return await settings_page(request, notice="Your apps' password is set.")


async def theme_form(request: web.Request) -> web.Response:
    """The header's colours button: auto (the system's), dark or light, kept for this user."""
    form = await request.post()
    await request.app[keys.DB].write(
        accounts.set_theme, request["principal"].user_id, str(form.get("theme", ""))
    )
    raise web.HTTPSeeOther(safe_next(str(form.get("next") or "/")))


async def api_key_form(request: web.Request) -> web.Response:
    if str((await request.post()).get("revoke", "")) == "1":
        await request.app[keys.DB].write(accounts.revoke_api_keys, request["principal"].user_id)
        return await settings_page(request, notice="Every API key of yours is revoked.")
    key = credentials.new_api_key()
    await request.app[keys.DB].write(
        accounts.create_api_key, request["principal"].name, credentials.hash_token(key)
    )
    return await settings_page(request, key=key)
