"""Jinja pages. Tag text is attacker-controlled: autoescape is on for every template."""

from __future__ import annotations

import json
import time
from importlib import resources

import jinja2
import redis.asyncio as aioredis
from aiohttp import web

from soniquebay import __version__, names
from soniquebay.library import duplicates, edits, layers, queries, sql, stages
from soniquebay.plugins import available
from soniquebay.web import enrichment, keys
from soniquebay.web.rest import int_param, path_id, with_display

PAGE_SIZE = 100
# Plugin fields shown in their own sections (or too long to show at all).
HIDDEN_PLUGIN_FIELDS = {"fingerprint", "enriched", "mb_suggestions", "mb_match"}


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("soniquebay.web", "templates"),
        autoescape=True,  # every template, whatever its name
        enable_async=False,
    )
    env.globals["version"] = __version__
    env.filters["duration"] = _duration
    env.filters["timestamp"] = _timestamp
    return env


def _timestamp(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch)) if epoch else ""


def _duration(seconds: float | None) -> str:
    if not seconds:
        return ""
    seconds = int(round(seconds))
    return (
        f"{seconds // 60}:{seconds % 60:02d}"
        if seconds < 3600
        else f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    )


def render(request: web.Request, template: str, **context) -> web.Response:
    principal = request.get("principal")
    context.setdefault("principal", principal)
    context.setdefault("csrf", principal.csrf if principal else "")
    html = request.app[keys.TEMPLATES].get_template(template).render(**context)
    return web.Response(
        text=html,
        content_type="text/html",
        headers={
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def index(request: web.Request) -> web.Response:
    offset = int_param(request, "offset", 0)
    database = request.app[keys.DB]
    rows, total = database.read(queries.list_tracks, limit=PAGE_SIZE, offset=offset, sort="artist")
    tracks = with_display(request.app, [sql.public_track(r) for r in rows])
    return render(
        request,
        "index.html",
        tracks=tracks,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        counts=database.read(queries.counts),
    )


async def track_page(request: web.Request) -> web.Response:
    database, track_id = request.app[keys.DB], path_id(request)
    track = sql.public_track(database.read(queries.get_track, track_id))
    plugin_data = database.read(stages.plugin_data, [track_id])[track_id]
    panels = []
    shown = {**track, "plugin_data": plugin_data}
    for plugin, panel in request.app[keys.PLUGINS].each("track_panels", track=shown):
        if isinstance(panel, dict) and panel.get("rows"):
            rows = [(str(label), str(value)) for label, value in panel["rows"]]
            panels.append(
                {"plugin": plugin, "title": str(panel.get("title") or plugin), "rows": rows}
            )
    layers.with_layers(
        track,
        plugin_data,
        request.app[keys.SETTINGS].metadata_prefer,
        database.read(edits.edits_of, track_id),
    )
    enrich = plugin_data.get("musicbrainz") or {}
    return render(
        request,
        "track.html",
        track=track,
        failures=database.read(stages.failures, track_id),
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
        cover=await enrichment.cover_source(request.app, track.get("album_id")),
        duplicates=[
            {**d, "path": sql.display_path(d["path"])}
            for d in database.read(duplicates.of_track, track_id)
        ],
    )


async def plugins_page(request: web.Request) -> web.Response:
    """Installed plugins, where they came from, their hooks, stages, options and failures."""
    plugins = request.app[keys.PLUGINS]
    settings = request.app[keys.SETTINGS]
    loaded = {p.name: p for p in plugins.infos()}
    failed = {e.name: e.error for e in plugins.load_errors}
    rows = []
    for plugin in available(settings):
        info = loaded.get(plugin.name)
        state = (
            "enabled"
            if info
            else "failed: " + failed[plugin.name]
            if plugin.name in failed
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
    content_type = {"css": "text/css", "js": "application/javascript"}.get(
        name.rsplit(".", 1)[-1], "application/octet-stream"
    )
    return web.Response(
        body=folder.joinpath(name).read_bytes(),
        content_type=content_type,
        headers={"Cache-Control": "public, max-age=3600"},
    )
