"""Duplicates in the API: tracks whose fingerprints match (:mod:`soniquebay.library.duplicates`,
fed by the reserved ``fingerprint`` result field, whichever plugin computes it).

(Metadata layers are ``GET /api/tracks/{id}``'s; the MusicBrainz plugin's suggested matches
and their accept route are that plugin's own, through ``track_panels`` and
``register_routes``.)
"""

from __future__ import annotations

from aiohttp import web

from soniquebay import library
from soniquebay.library import duplicates, sql
from soniquebay.web import keys
from soniquebay.web.jsonbody import json_response
from soniquebay.web.params import int_param, path_id


async def track_duplicates(request: web.Request) -> web.Response:
    database, track_id = request.app[keys.DB], path_id(request)
    database.read(library.tracks.get_track, track_id)  # 404 for an unknown track
    return json_response({"items": _public(database.read(duplicates.of_track, track_id))})


async def list_duplicates(request: web.Request) -> web.Response:
    """Groups of duplicates: ``{"items": [[track, ...], ...]}`` by their first track's id."""
    limit = int_param(request, "limit", 50, low=1, high=500)
    after = int_param(request, "after_id", 0, high=2**62)
    database = request.app[keys.DB]
    groups = database.read(duplicates.groups, limit, after)
    ids = [i for g in groups for i in g]
    rows = {r["id"]: r for r in database.read(library.tracks.tracks_by_ids, ids)}
    items = [
        [{"id": i, "title": rows[i]["title"], "path": sql.display_path(rows[i]["path"]),
          "format": rows[i]["format"]} for i in g if i in rows]
        for g in groups
    ]  # fmt: skip
    return json_response({"items": items, "next_after_id": groups[-1][0] if groups else None})


def _public(rows: list[dict]) -> list[dict]:
    return [{**r, "path": sql.display_path(r["path"])} for r in rows]
