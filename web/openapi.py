"""The OpenAPI 3 description of the HTTP API, served at /api/openapi.json and /api/docs.

Written from the same tables the handlers validate with (filters, sorts, field types), so it
cannot drift far; a test checks that every route the server answers is described here.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from soniquebay import __version__, library
from soniquebay.web import params
from soniquebay.web.jsonbody import json_response
from soniquebay.web.render import render
from soniquebay.web.validation import JSON

TYPES = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
}


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


def _q(name: str, kind: type = str, description: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {**TYPES[kind], **extra},
        "description": description,
    }


def _path_param(name: str = "id", kind: type = int) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": TYPES[kind]}


PAGE = [
    _q("limit", int, "page size, 1 to 500", default=50),
    _q("offset", int, "rows to skip", default=0),
]


def _sort(allowed: list[str], default: str) -> dict[str, Any]:
    values = allowed + ["-" + a for a in allowed]
    return _q("sort", str, "field; a leading '-' sorts descending", enum=values, default=default)


TRACK_LIST = [
    *PAGE,
    _sort(sorted(library.tracks.TRACK_SORTS), "id"),
    _q("cursor", str, "next_cursor of the previous page (keyset pagination)"),
    *[_q(name, kind, "filter") for name, kind in library.tracks.TRACK_FILTERS.items()],
]


SIZE = _q(
    "size", int, "pixels: the smallest thumbnail of at least this size", minimum=1, maximum=10000
)
KIND_ID = [
    {
        "name": "kind",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["track", "album", "artist"]},
    },
    _path_param(),
]


def _body(schema: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _json(description: str, schema: str | None = None) -> dict[str, Any]:
    content = {"schema": {"$ref": f"#/components/schemas/{schema}"}} if schema else {"schema": {}}
    return {"description": description, "content": {"application/json": content}}


def _op(
    summary: str,
    tag: str,
    *,
    params: list | None = None,
    body: str | None = None,
    ok: int = 200,
    result: str | None = None,
    public: bool = False,
    content_type: str | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(ok): (
            {"description": "no content"}
            if ok == 204
            else {"description": summary, "content": {content_type: {"schema": {}}}}
            if content_type
            else _json(summary, result)
        )
    }
    if params or body:
        responses["400"] = _json("malformed input; details.field names it", "Error")
    if body:
        responses["422"] = _json("invalid input; details.field names it", "Error")
    if not public:
        responses["401"] = _json("no credentials", "Error")
        responses["403"] = _json("credentials without the needed scope", "Error")
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = _body(body)
    if public:
        op["security"] = []
    return op


def _paths() -> dict[str, dict[str, Any]]:
    pid = [_path_param()]
    not_found = {"404": _json("no such row", "Error")}

    def with404(op: dict) -> dict:
        op["responses"].update(not_found)
        return op

    crud = {}
    for plural, single, spec_name, sorts, default_sort, list_params in (
        (
            "artists",
            "artist",
            "Artist",
            sorted(library.artists.ARTIST_SORTS),
            "name",
            [_q("q", str, "name contains")],
        ),
        (
            "albums",
            "album",
            "Album",
            sorted(library.albums.ALBUM_SORTS),
            "title",
            [
                _q("q", str, "title contains"),
                _q("artist_id", int),
                _q("year_min", int),
                _q("year_max", int),
            ],
        ),
    ):
        crud[f"/api/{plural}"] = {
            "get": _op(
                f"List {plural}",
                plural,
                params=[*PAGE, _sort(sorts, default_sort), *list_params],
                result="Page",
            ),
            "post": _op(
                f"Create an {single}" if single == "artist" else f"Create an {single}",
                plural,
                body=spec_name,
                ok=201,
            ),
        }
        crud[f"/api/{plural}/{{id}}"] = {
            "get": with404(_op(f"Get an {single}", plural, params=pid)),
            "put": with404(
                _op(f"Replace an {single}'s fields", plural, params=pid, body=spec_name)
            ),
            "patch": with404(
                _op(
                    f"Change some of an {single}'s fields"
                    + (
                        " (set on every one of its tracks, which regroup)"
                        if single == "album"
                        else ""
                    ),
                    plural,
                    params=pid,
                    body=f"{spec_name}Patch",
                )
            ),
            "delete": with404(
                _op(f"Delete an {single} (its tracks stay)", plural, params=pid, ok=204)
            ),
        }
    return {
        "/api/health": {
            "get": _op(
                "Redis, database, workers, queues, watcher, library folders", "system", public=True
            )
        },
        "/api/tracks": {
            "get": _op(
                "List tracks: filters, sort, limit/offset or cursor",
                "tracks",
                params=TRACK_LIST,
                result="Page",
            ),
            "post": _op("Create a track", "tracks", body="TrackCreate", ok=201, result="Track"),
        },
        "/api/tracks/{id}": {
            "get": with404(_op("Get a track", "tracks", params=pid, result="Track")),
            "put": with404(
                _op(
                    "Replace a track's editable fields",
                    "tracks",
                    params=pid,
                    body="TrackUpdate",
                    result="Track",
                )
            ),
            "patch": with404(
                _op(
                    "Change some of a track's fields",
                    "tracks",
                    params=pid,
                    body="TrackUpdate",
                    result="Track",
                )
            ),
            "delete": with404(_op("Remove a track from the library", "tracks", params=pid, ok=204)),
        },
        "/api/tracks/{id}/features": {
            "put": with404(
                _op(
                    "Store audio features of a track",
                    "tracks",
                    params=pid,
                    body="Features",
                    result="Track",
                )
            )
        },
        "/api/tracks/analyze-audio": {
            "post": _op(
                "Queue audio analysis (given ids, or every track without features); returns RQ job ids",
                "tracks",
                body="AnalyzeAudio",
                ok=202,
            )
        },
        **crud,
        "/api/artists/{id}/albums": {
            "get": with404(
                _op(
                    "An artist's albums",
                    "artists",
                    params=[*pid, *PAGE, _sort(sorted(library.albums.ALBUM_SORTS), "title")],
                    result="Page",
                )
            )
        },
        "/api/artists/{id}/tracks": {
            "get": with404(
                _op(
                    "An artist's tracks",
                    "artists",
                    params=[*pid, *PAGE, _sort(sorted(library.tracks.TRACK_SORTS), "album")],
                    result="Page",
                )
            )
        },
        "/api/albums/{id}/cover": {
            "get": with404(
                _op(
                    "The album's cover: the files' embedded picture, an image beside them, or"
                    " the Cover Art Archive's; with size, a JPEG thumbnail (64, 300 or 600 px)"
                    " or a drawn placeholder (without size, 404 when there is none)",
                    "albums",
                    params=[*pid, SIZE],
                    content_type="image/*",
                )
            )
        },
        "/api/tracks/{id}/cover": {
            "get": with404(
                _op(
                    "The track's album cover, else its own embedded picture (as the album's)",
                    "tracks",
                    params=[*pid, SIZE],
                    content_type="image/*",
                )
            )
        },
        "/api/tracks/{id}/stream": {
            "get": with404(
                _op(
                    "Play the track: the original file (HTTP Range, ETag), or transcoded by"
                    " ffmpeg with format and bitrate (kbps), from offset seconds",
                    "listening",
                    params=[
                        *pid,
                        _q(
                            "format",
                            str,
                            "original when absent",
                            enum=["raw", "original", "opus", "mp3", "ogg", "aac"],
                        ),
                        _q("bitrate", int, "kbps, 32 to 320", minimum=32, maximum=320),
                        _q("offset", float, "start this many seconds in (transcodes)", minimum=0),
                    ],
                    content_type="audio/*",
                )
            )
        },
        "/api/tracks/{id}/plays": {
            "post": with404(
                _op(
                    "Count a play of the track for the asking user", "listening", params=pid, ok=204
                )
            )
        },
        "/api/tracks/{id}/playback-errors": {
            "post": with404(
                _op(
                    "The player could not play the track (nor a transcode of it): recorded on"
                    " the track until it plays again",
                    "listening",
                    params=pid,
                    body="PlaybackError",
                    ok=204,
                )
            )
        },
        "/api/tracks/{id}/path": {
            "get": with404(
                _op(
                    "A route from this track's sound to another's, each step nearer the end;"
                    " each track with its similarity to the first (409: no analysis yet)",
                    "listening",
                    params=[
                        *pid,
                        _q("to", int, "the track the path ends on", minimum=1),
                        _q("count", int, "2 to 100", default=20),
                    ],
                )
            )
        },
        "/api/tracks/{id}/similar": {
            "get": with404(
                _op(
                    "More like this: the nearest tracks by the audio analysis (tempo, key,"
                    " loudness, energy, timbre); by artist, genre and era before analysis",
                    "listening",
                    params=[*pid, _q("limit", int, "1 to 200", default=20)],
                )
            )
        },
        "/api/tracks/{id}/mix": {
            "get": with404(
                _op(
                    "An instant mix from the track: each next the nearest to the last, no"
                    " artist twice in a row",
                    "listening",
                    params=[*pid, _q("limit", int, "1 to 200", default=25)],
                )
            )
        },
        "/api/player/tracks": {
            "get": _op(
                "Short records of tracks for the player, in the order asked",
                "listening",
                params=[_q("ids", str, "up to 1000 track ids, separated by commas")],
            )
        },
        "/api/search": {
            "get": _op(
                "Full-text search grouped by kind: artists, albums, tracks (accents ignored,"
                " each word a prefix, ranked by bm25); each track with snippet_html, the best"
                " matching field escaped with the matched words in <mark>",
                "listening",
                params=[_q("q", str, "words"), _q("limit", int, "per group, 1 to 50", default=8)],
            )
        },
        "/api/search/semantic": {
            "get": _op(
                "Search by meaning: the words embedded by the tracks' text model, against every"
                " tracks' vectors in the sqlite-vec index (cosine), best first with its score;"
                " indexed: how many tracks the index holds (it follows new vectors within a"
                " second or so)",
                "listening",
                params=[_q("q", str, "words"), _q("limit", int, "1 to 100", default=20)],
            )
        },
        "/api/playlists": {
            "get": _op("The asking user's playlists", "playlists"),
            "post": _op("Create a playlist", "playlists", body="Playlist", ok=201),
        },
        "/api/playlists/import": {
            "post": {
                **_op(
                    "Create a playlist from an .m3u/.m3u8 file (the body); `unknown` lists the"
                    " paths the library does not hold",
                    "playlists",
                    params=[_q("name", str, "else the file's #PLAYLIST, else 'Imported playlist'")],
                    ok=201,
                ),
                "requestBody": {
                    "required": True,
                    "content": {"text/plain": {"schema": {"type": "string"}}},  # the .m3u8
                },
            }
        },
        "/api/playlists/{id}": {
            "get": with404(_op("A playlist with its tracks in order", "playlists", params=pid)),
            "patch": with404(
                _op(
                    "Rename, change the comment, or send every track id in its new order",
                    "playlists",
                    params=pid,
                    body="Playlist",
                )
            ),
            "delete": with404(_op("Delete a playlist", "playlists", params=pid, ok=204)),
        },
        "/api/playlists/{id}/tracks": {
            "post": with404(
                _op("Append tracks to a playlist", "playlists", params=pid, body="TrackIds")
            )
        },
        "/api/playlists/{id}/m3u8": {
            "get": with404(
                _op(
                    "The playlist as extended M3U (UTF-8, the files' paths)",
                    "playlists",
                    params=pid,
                    content_type="audio/x-mpegurl",
                )
            )
        },
        "/api/stars": {
            "get": _op("What the asking user starred: tracks, albums, artists", "listening")
        },
        "/api/stars/{kind}/{id}": {
            "put": with404(
                _op("Star a track, album or artist", "listening", params=KIND_ID, ok=204)
            ),
            "delete": with404(_op("Remove a star", "listening", params=KIND_ID, ok=204)),
        },
        "/api/ratings/{kind}/{id}": {
            "put": with404(
                _op(
                    "Rate 1 to 5 (0 removes it)", "listening", params=KIND_ID, body="Rating", ok=204
                )
            )
        },
        "/api/tracks/{id}/edits": {
            "delete": with404(
                _op(
                    "Drop the track's edits (every field, or each ?field=): the file's values"
                    " come back",
                    "tracks",
                    params=[*pid, _q("field", str, "an edited field; repeat for several")],
                )
            )
        },
        "/api/albums/{id}/edits": {
            "delete": with404(
                _op(
                    "Undo album edits: every track of the album gets its files' album-wide tags"
                    " back and regroups; answers the album they are in now",
                    "albums",
                    params=pid,
                )
            )
        },
        "/api/tracks/{id}/duplicates": {
            "get": with404(
                _op("Tracks whose acoustic fingerprint matches this one's", "tracks", params=pid)
            )
        },
        "/api/duplicates": {
            "get": _op(
                "Groups of tracks with matching fingerprints",
                "tracks",
                params=[
                    _q("limit", int, "groups per page, 1 to 500", default=50),
                    _q("after_id", int, "next_after_id of the previous page", default=0),
                ],
            )  # fmt: skip
        },
        "/api/albums/{id}/tracks": {
            "get": with404(
                _op("An album's tracks in order", "albums", params=[*pid, *PAGE], result="Page")
            )
        },
        "/api/track-vectors/": {
            "get": _op(
                "List track vectors",
                "track-vectors",
                params=[*PAGE, _q("track_id", int), _q("name", str), _q("with_vectors", bool)],
                result="Page",
            ),
            "post": _op(
                "Create a vector (dimension must be EMBEDDING_DIMENSION)",
                "track-vectors",
                body="TrackVectorCreate",
                ok=201,
            ),
        },
        "/api/track-vectors/{id}": {
            "get": with404(_op("Get a vector", "track-vectors", params=pid)),
            "put": with404(
                _op(
                    "Replace a vector's values",
                    "track-vectors",
                    params=pid,
                    body="TrackVectorUpdate",
                )
            ),
            "delete": with404(_op("Delete a vector", "track-vectors", params=pid, ok=204)),
        },
        "/api/jobs": {
            "get": _op(
                "RQ queues, and failed jobs with their reasons",
                "jobs",
                params=[_q("limit", int, "failed jobs listed per queue", default=20)],
            )
        },
        "/api/jobs/{id}/retry": {
            "post": with404(_op("Requeue a failed job", "jobs", params=[_path_param("id", str)]))
        },
        "/api/jobs/{id}/cancel": {
            "post": with404(
                _op(
                    "Cancel a queued job, or forget a failed one",
                    "jobs",
                    params=[_path_param("id", str)],
                )
            )
        },
        "/api/tokens": {
            "get": _op("API tokens (admin)", "auth"),
            "post": _op(
                "Create an API token (admin); the token is shown once",
                "auth",
                body="TokenCreate",
                ok=201,
            ),
        },
        "/api/tokens/{id}": {
            "delete": with404(_op("Revoke an API token (admin)", "auth", params=pid, ok=204))
        },
        "/api/scan/errors": {
            "get": _op(
                "Files that could not be read or stored, and plugin stages that failed, with reasons",
                "system",
                params=PAGE,
                result="Page",
            )
        },
        "/api/plugins": {
            "get": _op("Loaded plugins, their options, stages and failures", "system")
        },
        "/api/library/files": {
            "post": _op(
                "What the library holds under a folder: [path, size, mtime_ns, known_bad] rows"
                " (for the watcher's reconcile)",
                "system",
                body="LibraryRoot",
            )
        },
        "/api/graphql": {
            "get": _op(
                "A query console for people (HTML)",
                "graphql",
                public=True,
                content_type="text/html",
            ),
            "post": _op(
                "GraphQL queries and batch mutations (mutations need write scope)",
                "graphql",
                body="GraphQLRequest",
            ),
        },
        "/api/events": {
            "get": _op(
                "Server-Sent Events; reconnect with Last-Event-ID to replay what was missed",
                "events",
                params=[
                    _q("channels", str, "comma-separated: progress, notifications"),
                    _q("last_event_id", str),
                ],
                content_type="text/event-stream",
            )
        },
        "/api/ws": {
            "get": _op(
                "The same events over WebSocket: {id, channel, event} messages",
                "events",
                params=[_q("channels", str), _q("last_event_id", str)],
                ok=101,
                content_type="application/json",
            )
        },
        "/api/openapi.json": {"get": _op("This document", "system", public=True)},
        "/api/docs": {
            "get": _op(
                "This document, for people (HTML)", "system", public=True, content_type="text/html"
            )
        },
        "/metrics": {"get": _op("Prometheus metrics", "system", content_type="text/plain")},
    }


def document() -> dict[str, Any]:
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
        "paths": _paths(),
        "components": _components(),
    }


async def handle_openapi(request: web.Request) -> web.Response:
    return json_response(document())


async def handle_docs(request: web.Request) -> web.Response:
    doc = document()
    operations = [
        (method.upper(), path, op)
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
    ]
    return render(request, "api_docs.html", doc=doc, operations=operations)
