"""How a route describes itself for the OpenAPI document: each API route in the route table
(:mod:`soniquebay.web.routes`) carries ``doc=op(summary, tag, params=…, body=…)``, and
:mod:`soniquebay.web.openapi` builds ``/api/openapi.json`` from the table. Parameters come from
the same tables the handlers validate with (filters, sorts, field types).
"""

from __future__ import annotations

from typing import Any

from soniquebay import library

TYPES = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
}


def q(name: str, kind: type = str, description: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {**TYPES[kind], **extra},
        "description": description,
    }


def path_param(name: str = "id", kind: type = int) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": TYPES[kind]}


PID = [path_param()]
PAGE = [
    q("limit", int, "page size, 1 to 500", default=50),
    q("offset", int, "rows to skip", default=0),
]


def sort(allowed: list[str], default: str) -> dict[str, Any]:
    values = allowed + ["-" + a for a in allowed]
    return q("sort", str, "field; a leading '-' sorts descending", enum=values, default=default)


TRACK_LIST = [
    *PAGE,
    sort(sorted(library.tracks.TRACK_SORTS), "id"),
    q("cursor", str, "next_cursor of the previous page (keyset pagination)"),
    *[q(name, kind, "filter") for name, kind in library.tracks.TRACK_FILTERS.items()],
]


SIZE = q(
    "size", int, "pixels: the smallest thumbnail of at least this size", minimum=1, maximum=10000
)
KIND_ID = [
    {
        "name": "kind",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["track", "album", "artist"]},
    },
    path_param(),
]


def json_body(schema: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def json_answer(description: str, schema: str | None = None) -> dict[str, Any]:
    content = {"schema": {"$ref": f"#/components/schemas/{schema}"}} if schema else {"schema": {}}
    return {"description": description, "content": {"application/json": content}}


def op(
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
            else json_answer(summary, result)
        )
    }
    if params or body:
        responses["400"] = json_answer("malformed input; details.field names it", "Error")
    if body:
        responses["422"] = json_answer("invalid input; details.field names it", "Error")
    if not public:
        responses["401"] = json_answer("no credentials", "Error")
        responses["403"] = json_answer("credentials without the needed scope", "Error")
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = json_body(body)
    if public:
        op["security"] = []
    return op


def missing(operation: dict[str, Any]) -> dict[str, Any]:
    """An operation on one row, which may not exist: it can answer 404."""
    operation["responses"]["404"] = json_answer("no such row", "Error")
    return operation


def _crud() -> dict[str, dict[str, Any]]:
    """The artists' and albums' list, create, get, replace, change and delete, alike."""
    crud = {}
    for plural, single, spec_name, sorts, default_sort, list_params in (
        (
            "artists",
            "artist",
            "Artist",
            sorted(library.artists.ARTIST_SORTS),
            "name",
            [q("q", str, "name contains")],
        ),
        (
            "albums",
            "album",
            "Album",
            sorted(library.albums.ALBUM_SORTS),
            "title",
            [
                q("q", str, "title contains"),
                q("artist_id", int),
                q("year_min", int),
                q("year_max", int),
            ],
        ),
    ):
        crud[f"/api/{plural}"] = {
            "get": op(
                f"List {plural}",
                plural,
                params=[*PAGE, sort(sorts, default_sort), *list_params],
                result="Page",
            ),
            "post": op(
                f"Create an {single}" if single == "artist" else f"Create an {single}",
                plural,
                body=spec_name,
                ok=201,
            ),
        }
        crud[f"/api/{plural}/{{id}}"] = {
            "get": missing(op(f"Get an {single}", plural, params=PID)),
            "put": missing(op(f"Replace an {single}'s fields", plural, params=PID, body=spec_name)),
            "patch": missing(
                op(
                    f"Change some of an {single}'s fields"
                    + (
                        " (set on every one of its tracks, which regroup)"
                        if single == "album"
                        else ""
                    ),
                    plural,
                    params=PID,
                    body=f"{spec_name}Patch",
                )
            ),
            "delete": missing(
                op(f"Delete an {single} (its tracks stay)", plural, params=PID, ok=204)
            ),
        }
    return crud


CRUD = _crud()
