"""Smart playlists: saved queries over the library, evaluated each time they are asked for, so
they follow the library as it changes. Exported as ``.m3u8`` for any player.

Enable with ``[plugin.smart_playlists] enabled = true``. A rule is any filter of
``GET /api/tracks`` (genre, artist, album, year and BPM ranges, key, scale, missing_features…)
or ``added_days``, ``limit``, ``sort``. With a write token::

    PUT    /api/plugins/smart_playlists/{name}        {"genre": "Jazz", "year_min": 1990,
                                                       "bpm_min": 90, "bpm_max": 120,
                                                       "key": "A", "scale": "minor",
                                                       "added_days": 30, "limit": 100,
                                                       "sort": "-date_added"}
    GET    /api/plugins/smart_playlists/               every saved playlist and its rules
    GET    /api/plugins/smart_playlists/{name}         its tracks, now
    GET    /api/plugins/smart_playlists/{name}.m3u8    the same as an M3U8 playlist
    DELETE /api/plugins/smart_playlists/{name}

The playlists are kept in the plugin's data folder (``playlists.json``), written atomically.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from soniquebay import Option, hookimpl
from soniquebay.errors import SoniqueBayError, Unprocessable

NAME = "smart_playlists"
PLAYLIST_NAME = re.compile(r"^[\w .-]{1,80}$")
# What a playlist adds to the library's own track filters (ctx.library.TRACK_FILTERS).
OWN_RULES: dict[str, type] = {"added_days": float, "limit": int, "sort": str}


def rule_types(filters: dict[str, type]) -> dict[str, type]:
    """The rules a playlist takes: the library's track filters (their names and types, but
    free text and a fixed date) and this plugin's own."""
    return {
        **{k: t for k, t in filters.items() if k not in ("q", "added_after")},
        **OWN_RULES,
    }


def check_rules(body: Any, max_tracks: int, library: Any) -> dict[str, Any]:
    """The rules, checked: known keys, right types, a sort the library knows."""
    allowed = rule_types(library.TRACK_FILTERS)
    if not isinstance(body, dict):
        raise Unprocessable("a playlist is a JSON object of rules", details={"field": "body"})
    rules = {}
    for key, value in body.items():
        kind = allowed.get(key)
        if kind is None:
            raise Unprocessable(
                f"unknown rule {key!r}", details={"field": key, "allowed": sorted(allowed)}
            )
        if value is None:
            continue
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise Unprocessable(f"{key} must be a {kind.__name__}", details={"field": key})
        rules[key] = value
    if not 0 < rules.get("limit", 1) <= max_tracks:
        raise Unprocessable(f"limit must be 1 to {max_tracks}", details={"field": "limit"})
    if rules.get("sort", "id").lstrip("-") not in library.TRACK_SORTS:
        raise Unprocessable(
            "unknown sort", details={"field": "sort", "allowed": sorted(library.TRACK_SORTS)}
        )
    return rules


class Store:
    """The saved playlists, in one JSON file; every change rewrites it atomically."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> dict[str, dict]:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def change(self, name: str, rules: dict | None) -> None:
        with self._lock:
            playlists = self.load()
            if rules is None:
                playlists.pop(name, None)
            else:
                playlists[name] = rules
            partial = self.path.with_suffix(".partial")
            partial.write_text(json.dumps(playlists, indent=1, sort_keys=True))
            os.replace(partial, self.path)


def evaluate(library: Any, rules: dict[str, Any], max_tracks: int) -> list[dict]:
    """The playlist's tracks now, through the web process's read-only ``ctx.library``."""
    filters = {k: rules[k] for k in library.TRACK_FILTERS if k in rules}
    if "added_days" in rules:
        filters["added_after"] = time.time() - rules["added_days"] * 86400
    sort = rules.get("sort", "id")
    try:
        return library.tracks(
            filters=filters,
            sort=sort.lstrip("-"),
            descending=sort.startswith("-"),
            limit=min(rules.get("limit", max_tracks), max_tracks),
        )
    except ValueError as exc:  # rules saved by an older version that no longer hold
        raise Unprocessable(str(exc)) from None


def m3u8(rows: list[dict]) -> str:
    lines = ["#EXTM3U"]
    for row in rows:
        who = row.get("artist_name") or "Unknown artist"
        title = (row.get("title") or "").replace("\n", " ")
        lines.append(f"#EXTINF:{int(row.get('duration') or -1)},{who} - {title}")
        lines.append(os.fsdecode(row["path"]))
    return "\n".join(lines) + "\n"


@hookimpl
def plugin_options():
    return [Option("max_tracks", int, 1000, help="the most tracks one playlist lists")]


@hookimpl
def register_routes(ctx):
    store = Store(ctx.data_dir / "playlists.json")
    limit = ctx.options["max_tracks"]
    base = f"/api/plugins/{NAME}"

    def name_of(request: web.Request) -> str:
        name = request.match_info["name"]
        if not PLAYLIST_NAME.match(name):
            raise Unprocessable(
                "a playlist name is 1 to 80 letters, digits, spaces, '.', '-' or '_'",
                details={"field": "name"},
            )
        return name

    def saved(name: str) -> dict:
        rules = store.load().get(name)
        if rules is None:
            raise web.HTTPNotFound(text=f"no smart playlist called {name!r}")
        return rules

    async def index(request: web.Request) -> web.Response:
        return web.json_response({"playlists": store.load()})

    async def put(request: web.Request) -> web.Response:
        name = name_of(request)
        try:
            body = await request.json()
        except ValueError:
            raise Unprocessable("the body must be JSON", details={"field": "body"}) from None
        store.change(name, check_rules(body, limit, ctx.library))
        return web.json_response({"name": name, "rules": store.load()[name]})

    async def delete(request: web.Request) -> web.Response:
        name = name_of(request)
        saved(name)
        store.change(name, None)
        return web.Response(status=204)

    async def show(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        export = name.endswith(".m3u8")
        name = name.removesuffix(".m3u8")
        if not PLAYLIST_NAME.match(name):
            raise web.HTTPNotFound()
        try:
            rows = evaluate(ctx.library, saved(name), limit)
        except SoniqueBayError as exc:  # rules saved by an older version that no longer hold
            raise Unprocessable(f"playlist {name!r}: {exc.message}") from None
        if export:
            return web.Response(
                text=m3u8(rows),
                content_type="audio/x-mpegurl",
                headers={"Content-Disposition": f'attachment; filename="{name}.m3u8"'},
            )
        tracks = [
            {k: r.get(k) for k in ("id", "title", "artist_name", "album_title", "genre", "year",
                                   "bpm", "key", "scale", "duration")}
            for r in rows
        ]  # fmt: skip
        return web.json_response({"name": name, "rules": saved(name), "tracks": tracks})

    return [
        web.get(f"{base}/", index),
        web.put(f"{base}/{{name}}", put),
        web.delete(f"{base}/{{name}}", delete),
        web.get(f"{base}/{{name}}", show),
    ]
