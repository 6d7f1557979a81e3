"""The OpenAPI 3 description of the HTTP API, served at /api/openapi.json and /api/docs.

Generated from the route table: each API route declares its summary, parameters and body
(``doc=``, :mod:`soniquebay.web.api_doc`) where its path, handler and scope are
(:mod:`soniquebay.web.routes`); this module adds the shared schemas. A test checks that every
route the server answers under ``/api/`` is described.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web

from soniquebay import __version__
from soniquebay.web import keys, params
from soniquebay.web.api_doc import TYPES
from soniquebay.web.jsonbody import json_response
from soniquebay.web.render import render
from soniquebay.web.validation import JSON


def _schema_of(spec: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    props = {
        name: ({} if kind is JSON else {**TYPES[kind], "nullable": name not in required})
        for name, kind in spec.items()
    }
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


def _patch_schema(spec: dict[str, Any], not_null: str) -> dict[str, Any]:
    """A PATCH body: every field optional, ``not_null`` never null."""
    schema = _schema_of(spec)
    schema["properties"][not_null]["nullable"] = False
    return schema


ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object", "description": "details.field names the culprit"},
            },
        }
    },
}


def _components() -> dict[str, Any]:
    page = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}},
            "total": {"type": "integer"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "next_cursor": {"type": "string", "nullable": True},
        },
    }
    return {
        "schemas": {
            "Error": ERROR,
            "Page": page,
            "Playlist": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 200},
                    "comment": {"type": "string"},
                    "track_ids": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                },
                "additionalProperties": False,
            },
            "TrackIds": {
                "type": "object",
                "required": ["track_ids"],
                "properties": {"track_ids": {"type": "array", "items": {"type": "integer"}}},
                "additionalProperties": False,
            },
            "Rating": {
                "type": "object",
                "required": ["rating"],
                "properties": {"rating": {"type": "integer", "minimum": 0, "maximum": 5}},
                "additionalProperties": False,
            },
            "PlaybackError": {
                "type": "object",
                "required": ["reason"],
                "properties": {
                    "reason": {"type": "string", "maxLength": 2000},
                    "transcoded": {"type": "boolean"},
                },
                "additionalProperties": False,
            },
            "Track": {"type": "object", "description": "Every column of a track, path as text."},
            "TrackCreate": _schema_of(params.TRACK_CREATE_SPEC, ("path",)),
            "TrackUpdate": _schema_of(params.TRACK_SPEC),
            "Features": _schema_of(params.FEATURE_SPEC),
            "Artist": _schema_of(params.ARTIST_SPEC, ("name",)),
            "Album": _schema_of(params.ALBUM_SPEC, ("title",)),
            "AlbumPatch": _patch_schema(params.ALBUM_PATCH_SPEC, "title"),
            "ArtistPatch": _patch_schema(params.ARTIST_SPEC, "name"),
            "TrackVectorCreate": {
                "type": "object",
                "required": ["track_id", "vector"],
                "properties": {
                    "track_id": {"type": "integer"},
                    "name": {"type": "string", "default": "default"},
                    "vector": {
                        "type": "array",
                        "items": {"type": "number"},
                        "description": "exactly EMBEDDING_DIMENSION numbers",
                    },
                },
            },
            "TrackVectorUpdate": {
                "type": "object",
                "required": ["vector"],
                "properties": {"vector": {"type": "array", "items": {"type": "number"}}},
            },
            "AnalyzeAudio": {
                "type": "object",
                "properties": {
                    "track_ids": {"type": "array", "items": {"type": "integer"}},
                },
                "description": "Without track_ids: every present track without features.",
            },
            "TokenCreate": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "scope": {"type": "string", "enum": ["read", "write", "admin"]},
                },
            },
            "PlayQueue": {
                "type": "object",
                "required": ["track_ids"],
                "properties": {
                    "track_ids": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                    "current_id": {"type": "integer", "nullable": True},
                    "position_ms": {"type": "integer", "minimum": 0},
                },
            },
            "LibraryRoot": {
                "type": "object",
                "required": ["root"],
                "properties": {"root": {"type": "string"}},
            },
            "GraphQLRequest": {
                "type": "object",
                "required": ["query"],
                "properties": {
                    "query": {"type": "string"},
                    "variables": {"type": "object"},
                    "operationName": {"type": "string"},
                },
            },
        },
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "soniquebay_session"},
        },
    }


def paths(routes: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """``{path: {method: operation}}`` of the routes that describe themselves (``doc``)."""
    out: dict[str, dict[str, Any]] = {}
    for route in routes:
        if route.doc is not None:
            out.setdefault(route.path, {})[route.method.lower()] = route.doc
    return out


def document(routes: Iterable[Any]) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "SoniqueBay API",
            "version": __version__,
            "description": (
                'Errors are always {"error": {"code", "message", "details"}}. Authenticate '
                "with 'Authorization: Bearer <token>' (tokens: `soniquebay token create NAME`) or "
                "the login session (then send X-CSRF-Token on writes)."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths(routes),
        "components": _components(),
    }


async def handle_openapi(request: web.Request) -> web.Response:
    return json_response(document(request.app[keys.ROUTES]))


async def handle_docs(request: web.Request) -> web.Response:
    doc = document(request.app[keys.ROUTES])
    operations = [
        (method.upper(), path, op)
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
    ]
    return render(request, "api_docs.html", doc=doc, operations=operations)
