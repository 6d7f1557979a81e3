"""Pages about the library's workings: activity, users, plugins, scan errors, each user's
settings; the static files. (A track's page is :mod:`track_pages`, browsing
:mod:`browse_pages`, playlists :mod:`listening_pages`.)"""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import redis.asyncio as aioredis
from aiohttp import web

from soniquebay import credentials, library, names, queueing
from soniquebay.errors import InvalidInput, NotFound
from soniquebay.library import accounts, shares
from soniquebay.plugins import available
from soniquebay.web import keys
from soniquebay.web.health import disabled_plugins, health_report
from soniquebay.web.params import path_id, safe_next
from soniquebay.web.render import confirmed, render
from soniquebay.web.viewer import refuse_listeners


async def activity_page(request: web.Request) -> web.Response:
    """What the library is doing: queues, workers, the watcher, recent errors; live progress
    arrives over the event stream."""
    refuse_listeners(request, "the activity page")
    report = await health_report(request.app)
    errors, total = request.app[keys.DB].read(library.scan_errors.list_scan_errors, limit=10)
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


async def users_page(
    request: web.Request, created: str | None = None, reset_for: str | None = None
) -> web.Response:
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
        reset_for=reset_for,
        me=request["principal"].user_id,
    )


async def users_folders_form(request: web.Request) -> web.Response:
    """Admin: the music folders a listener sees (every box ticked: every folder, those
    added later too)."""
    form, database, user_id = await request.post(), request.app[keys.DB], path_id(request)
    name = _user_name(database, user_id)
    configured = request.app[keys.SETTINGS].folders
    known = {f.name for f in configured}
    chosen = sorted({str(v) for v in form.getall("folder", [])} & known)
    await database.write(
        accounts.set_folders, name, None if len(chosen) == len(configured) else chosen
    )
    raise web.HTTPSeeOther("/users")


async def users_downloads_form(request: web.Request) -> web.Response:
    """Admin: whether a user may download files (streaming is not affected)."""
    form, database, user_id = await request.post(), request.app[keys.DB], path_id(request)
    name = _user_name(database, user_id)
    await database.write(accounts.set_downloads, name, form.get("allowed") == "1")
    raise web.HTTPSeeOther("/users")


async def users_shares_form(request: web.Request) -> web.Response:
    """Admin: whether a user may share links (their links stop answering while it is off)."""
    form, database, user_id = await request.post(), request.app[keys.DB], path_id(request)
    name = _user_name(database, user_id)
    await database.write(shares.set_allowed, name, form.get("allowed") == "1")
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
    name = _user_name(database, user_id)
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
    refuse_listeners(request, "the scan errors page")
    rows, total = request.app[keys.DB].read(library.scan_errors.list_scan_errors, limit=500)
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
        plugin_settings=plugin_settings(request.app),
    )


def plugin_settings(app: web.Application) -> list[tuple[str, str]]:
    """(plugin, path) of each plugin that serves a settings page of its own for a user
    (``GET /plugins/<name>/settings``, through ``register_routes``)."""
    return sorted(
        (route.path.split("/")[2], route.path)
        for route in app[keys.ROUTES]
        if route.method == "GET"
        and route.path.startswith("/plugins/")
        and route.path.count("/") == 3
        and route.path.endswith("/settings")
    )


async def password_form(request: web.Request) -> web.Response:
    """``POST /settings/password``: your own login password, the current one asked; every
    session of yours ends (this one too: log in again with the new one)."""
    principal, form = request["principal"], await request.post()
    database, loop = request.app[keys.DB], asyncio.get_running_loop()
    user = database.read(accounts.user_by_name, principal.name)
    current, new = str(form.get("current", "")), str(form.get("password", ""))
    ok = user and await loop.run_in_executor(
        None, credentials.check_password, current, user["password_hash"]
    )
    if not ok:
        raise InvalidInput("the current password is not that", details={"field": "current"})
    _check_new_password(new, str(form.get("again", "")))
    hashed = await loop.run_in_executor(None, credentials.hash_password, new)
    await database.write(accounts.set_password, principal.name, hashed)
    raise web.HTTPSeeOther("/login?changed=1")


def _check_new_password(password: str, again: str) -> None:
    if len(password) < 8:
        raise InvalidInput("a password has at least 8 characters", details={"field": "password"})
    if password != again:
        raise InvalidInput("the two passwords differ", details={"field": "again"})


async def users_password_form(request: web.Request) -> web.Response:
    """Admin: a user's new login password (given, or generated and shown once); their
    sessions end."""
    form, database, user_id = await request.post(), request.app[keys.DB], path_id(request)
    name = _user_name(database, user_id)
    password = str(form.get("password", "")) or credentials.new_password()
    _check_new_password(password, str(form.get("again", "")) if form.get("password") else password)
    hashed = await asyncio.get_running_loop().run_in_executor(
        None, credentials.hash_password, password
    )
    await database.write(accounts.set_password, name, hashed)
    if form.get("password"):
        raise web.HTTPSeeOther("/users")
    return await users_page(request, created=password, reset_for=name)


async def users_role_form(request: web.Request) -> web.Response:
    """Admin: a user becomes an administrator or a listener (the last administrator stays)."""
    form, database, user_id = await request.post(), request.app[keys.DB], path_id(request)
    await database.write(
        accounts.set_admin, _user_name(database, user_id), form.get("role") == "admin"
    )
    raise web.HTTPSeeOther("/users")


def _user_name(database, user_id: int) -> str:
    name = next((u["username"] for u in database.read(accounts.list_users) if u["id"] == user_id),
                None)  # fmt: skip
    if name is None:
        raise NotFound(f"user {user_id} does not exist", details={"id": user_id})
    return name


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
