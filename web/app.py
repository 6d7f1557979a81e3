"""The aiohttp application factory and the `soniquebay web` entry.

The web process is the only writer of the library database. Its resources (database, Redis,
event hub, maintenance task) are each opened and closed by one ``cleanup_ctx`` generator.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time

import redis
import redis.asyncio as aioredis
from aiohttp import web

from soniquebay import library
from soniquebay.catalog.view import LibraryView
from soniquebay.config import Settings
from soniquebay.library import db, grouping, ingest
from soniquebay.plugins import Plugins, load_plugins
from soniquebay.systemd_notify import notify
from soniquebay.web import auth, keys, render, routes
from soniquebay.web.covers import covers_ctx
from soniquebay.web.database import Database
from soniquebay.web.events_stream import EventHub
from soniquebay.web.gql.schema import load_schema
from soniquebay.web.listens import listens_ctx
from soniquebay.web.metrics import WebMetrics
from soniquebay.web.middleware import (
    configure_access_log,
    errors_middleware,
    observe_middleware,
    on_response_prepare,
)
from soniquebay.web.pipeline import pipeline_ctx
from soniquebay.web.semantic import semantic_ctx
from soniquebay.web.sounds_like import sounds_like_ctx
from soniquebay.web.stream import transcoders_ctx

log = logging.getLogger(__name__)

MAINTENANCE_EVERY = 60.0
BACKUP_EVERY = 24 * 3600.0
THUMB_SWEEP_EVERY = 3600.0


async def database_ctx(app: web.Application):
    settings = app[keys.SETTINGS]
    database = Database(settings.db_path, settings.data_dir / "backups")
    app[keys.DB] = database
    plugins = app[keys.PLUGINS]
    plugins.library = LibraryView(  # ctx.library, for web-process hooks
        database,
        announce=lambda changes: app[keys.PIPELINE].stored(changes),
        stages_of=lambda plugin: [s.name for s in plugins.stages if plugin in s.plugins],
    )
    app[keys.GROUPING] = grouping.Rules.from_settings(settings)
    # An upgrade, or changed grouping settings: every folder is regrouped once, ids kept.
    started = time.monotonic()
    regrouped = database.writer_call(
        grouping.regroup_library, grouping.Rules.from_settings(settings)
    )
    if regrouped:
        log.info(
            "regrouped the library's %d folders into albums and artists (%.1f s)",
            regrouped,
            time.monotonic() - started,
        )
    yield
    app[keys.PLUGINS].library = None
    database.close()


async def readers_ctx(app: web.Application):
    from soniquebay.web.readers import Readers

    readers = app[keys.READERS] = Readers(
        app[keys.SETTINGS], app[keys.SETTINGS].graphql_reader_count
    )
    yield
    readers.close()


REDIS_CONNECTIONS = 64  # the web process's commands at once (the hub has its own connection)
REDIS_WAIT = 20.0  # seconds a command waits for a free connection before it fails


async def redis_ctx(app: web.Application):
    url = app[keys.SETTINGS].effective_redis_url
    # A bounded pool that waits for a free connection: redis-py 6+ caps a plain pool at 100
    # and fails the 101st command at once, which 500 live-event clients replaying together
    # after a reconnection reached (each a 500).
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT,
        decode_responses=True, socket_connect_timeout=5, socket_timeout=10,
    )  # fmt: skip
    client = aioredis.Redis.from_pool(pool)
    # The hub blocks on XREAD: it gets its own connection with no read timeout.
    hub_client = aioredis.Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=5, socket_timeout=60
    )
    app[keys.REDIS] = client
    app[keys.RQ_REDIS] = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)
    hub = EventHub(hub_client)
    app[keys.HUB] = hub
    hub.start()
    yield
    await hub.stop()
    for each in (hub_client, client):
        with contextlib.suppress(aioredis.RedisError, OSError, TimeoutError):
            await asyncio.wait_for(each.aclose(), timeout=0.5)
    app[keys.RQ_REDIS].close()


async def maintenance_ctx(app: web.Application):
    """Purge long-missing tracks, checkpoint the WAL, take a daily online backup."""
    settings = app[keys.SETTINGS]
    database = app[keys.DB]

    async def loop() -> None:
        last_checkpoint = last_backup = last_sweep = time.monotonic()
        while True:
            await asyncio.sleep(MAINTENANCE_EVERY)
            try:
                cutoff = time.time() - settings.missing_grace_days * 86400
                purged = await database.write(ingest.purge_missing, cutoff)
                if purged:
                    log.info(
                        "purged %d tracks missing for more than %g days",
                        purged,
                        settings.missing_grace_days,
                    )
                if time.monotonic() - last_checkpoint >= settings.checkpoint_seconds:
                    await database.write(lambda conn: db.checkpoint(conn))
                    last_checkpoint = time.monotonic()
                if time.monotonic() - last_sweep >= THUMB_SWEEP_EVERY:
                    last_sweep = time.monotonic()
                    covers = app[keys.COVERS]
                    gone = await asyncio.get_running_loop().run_in_executor(
                        None,
                        covers.sweep,
                        lambda kind, ids: database.read(library.tracks.existing_ids, kind, ids),
                    )
                    if gone:
                        log.info("deleted %d thumbnails whose cover changed or went", gone)
                if time.monotonic() - last_backup >= BACKUP_EVERY:
                    await database.write(
                        lambda conn: db.backup(
                            conn, settings.data_dir / "backups", keep=settings.backup_keep
                        )
                    )
                    last_backup = time.monotonic()
            except Exception:
                log.exception("maintenance failed; will try again")

    task = asyncio.create_task(loop(), name="maintenance")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def announce_url(app: web.Application) -> None:
    """Tell the command line where this instance answers (see ``Settings.running_api_url``)."""
    settings = app[keys.SETTINGS]
    try:
        settings.web_url_path.write_text(settings.effective_api_url + "\n")
    except OSError as exc:
        log.warning("cannot write %s: %s", settings.web_url_path, exc)


async def forget_url(app: web.Application) -> None:
    app[keys.SETTINGS].web_url_path.unlink(missing_ok=True)


async def freeze_start_up(app: web.Application) -> None:
    """What start-up built (modules, the schema, templates, plugins) lives as long as the
    process: out of the garbage collector's sight. Under load (GraphQL at concurrency 32) a
    full collection came every 0.4 s and walked all of it, 40-60 ms each with every request
    waiting; frozen, the same collections take 0.2-4 ms."""
    gc.freeze()


async def close_event_streams(app: web.Application) -> None:
    app[keys.HUB].close_all()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[observe_middleware, errors_middleware, auth.auth_middleware],
        client_max_size=32 * 1024**2,
    )
    app[keys.SETTINGS] = settings
    app[keys.METRICS] = WebMetrics()
    plugins = app[keys.PLUGINS] = load_plugins(settings, "web")
    app[keys.SCHEMA] = load_schema()
    app[keys.TEMPLATES] = render.make_environment()
    app[keys.NOW_PLAYING] = {}
    app.cleanup_ctx.extend(
        [
            database_ctx,
            readers_ctx,
            auth.auth_ctx,
            redis_ctx,
            covers_ctx,
            transcoders_ctx,
            sounds_like_ctx,
            semantic_ctx,
            pipeline_ctx,
            listens_ctx,
            maintenance_ctx,
        ]
    )
    app.on_response_prepare.append(on_response_prepare)
    app.on_shutdown.append(close_event_streams)
    app.on_startup.append(announce_url)
    app.on_startup.append(freeze_start_up)  # last: after every cleanup_ctx has opened
    app.on_cleanup.append(forget_url)
    routes.install(app, routes.table(settings) + plugin_routes(plugins))
    return app


def plugin_routes(plugins: Plugins) -> list[routes.Route]:
    """The routes plugins add (``register_routes``), each under a prefix of its own."""
    out = []
    for plugin, added in plugins.each("register_routes"):
        prefixes = (f"/plugins/{plugin}/", f"/api/plugins/{plugin}/")
        for route in added if isinstance(added, list) else ():
            if isinstance(route, web.RouteDef) and route.path.startswith(prefixes):
                out.append(routes.plugin_route(route))
            else:
                plugins.record(
                    plugin, "register_routes", f"refused route {route!r}: not under {prefixes[0]}"
                )
                log.error(
                    "plugin %s: route %r refused (must start with %s)", plugin, route, prefixes[0]
                )
    return out


def _serving(message: str) -> None:
    """run_app calls this once every socket listens: the moment to tell systemd we are ready."""
    log.info("%s", message.strip())
    notify("READY=1")


def run_web(settings: Settings) -> None:
    configure_access_log(settings)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=_serving,
        shutdown_timeout=5,
    )
