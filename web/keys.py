"""Typed application keys: what the web app holds, opened and closed in ``app.cleanup_ctx``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jinja2
import redis.asyncio as aioredis
from aiohttp import web
from graphql import GraphQLSchema

from soniquebay.config import Settings
from soniquebay.library.grouping import Rules

if TYPE_CHECKING:
    import redis

    from soniquebay.plugins import Plugins
    from soniquebay.web.auth import AuthState
    from soniquebay.web.covers import Covers
    from soniquebay.web.database import Database
    from soniquebay.web.events_stream import EventHub
    from soniquebay.web.listens import ListenHooks
    from soniquebay.web.metrics import WebMetrics
    from soniquebay.web.pipeline import Pipeline
    from soniquebay.web.readers import Readers
    from soniquebay.web.semantic import SemanticIndex
    from soniquebay.web.sounds_like import SoundsLike
    from soniquebay.web.stream import Transcoders

SETTINGS = web.AppKey("settings", Settings)
GROUPING = web.AppKey("grouping", Rules)  # how tracks group into albums
DB: web.AppKey[Database] = web.AppKey("db")
REDIS = web.AppKey("redis", aioredis.Redis)
HUB: web.AppKey[EventHub] = web.AppKey("hub")
PLUGINS: web.AppKey[Plugins] = web.AppKey("plugins")
PIPELINE: web.AppKey[Pipeline] = web.AppKey("pipeline")
LISTENS: web.AppKey[ListenHooks] = web.AppKey("listens")  # on_listen, off the event loop
# (method, route path) -> the scope it needs: see soniquebay.web.routes.
SCOPES: web.AppKey[dict[tuple[str, str], str]] = web.AppKey("scopes")
# Routes that answer within the asking account's music folders (routes.Route.folders).
FOLDER_AWARE: web.AppKey[set[tuple[str, str]]] = web.AppKey("folder_aware")
# Every route as the table gave it (the OpenAPI document is built from their docs).
ROUTES: web.AppKey[list[Any]] = web.AppKey("routes")
SCHEMA = web.AppKey("schema", GraphQLSchema)
READERS: web.AppKey[Readers] = web.AppKey("readers")
TEMPLATES = web.AppKey("templates", jinja2.Environment)
AUTH: web.AppKey[AuthState] = web.AppKey("auth")
COVERS: web.AppKey[Covers] = web.AppKey("covers")
TRANSCODERS: web.AppKey[Transcoders] = web.AppKey("transcoders")
SOUNDS_LIKE: web.AppKey[SoundsLike] = web.AppKey("sounds_like")
SEMANTIC: web.AppKey[SemanticIndex] = web.AppKey("semantic")
# Subsonic's "now playing": user name -> (track id, since when, client name).
NOW_PLAYING: web.AppKey[dict[str, tuple[int, float, str]]] = web.AppKey("now_playing")
METRICS: web.AppKey[WebMetrics] = web.AppKey("metrics")
# RQ speaks synchronous redis-py (bytes, no decoding): the jobs API calls it in a thread.
RQ_REDIS: web.AppKey[redis.Redis] = web.AppKey("rq_redis")
