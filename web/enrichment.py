"""What enrichment adds to the API: metadata layers, duplicates, suggested matches.

- **Layers** (:mod:`soniquebay.library.layers`): ``GET /api/tracks/{id}`` shows each.
- **Duplicates**: tracks whose fingerprints match (:mod:`soniquebay.library.duplicates`).
- **Matches**: accepting a suggestion re-runs the MusicBrainz stage on that recording.
(Album covers, the Cover Art Archive's among them, are :mod:`soniquebay.web.covers`'.)
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from soniquebay import library
from soniquebay.errors import InvalidInput, NotFound
from soniquebay.library import duplicates, sql, stage_data
from soniquebay.web import keys
from soniquebay.web.jsonbody import json_response
from soniquebay.web.params import int_param, path_id
from soniquebay.web.validation import json_object

MUSICBRAINZ = "musicbrainz"
MATCH_STAGE = "musicbrainz.enrich_track"
MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# ---------------------------------------------------------------- duplicates and matches


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


async def accept_match(request: web.Request) -> web.Response:
    """``POST /api/tracks/{id}/match`` ``{"recording_id": mbid}``: apply this MusicBrainz
    recording to the track (its enrichment runs again on it)."""
    track_id = path_id(request)
    body = await json_object(request)
    recording = await _accept(request, track_id, body.get("recording_id"))
    return json_response({"track_id": track_id, "recording_id": recording}, status=202)


async def accept_match_form(request: web.Request) -> web.Response:
    """The track page's "Use this" buttons."""
    track_id = path_id(request)
    form = await request.post()
    await _accept(request, track_id, form.get("recording_id"))
    raise web.HTTPSeeOther(f"/tracks/{track_id}")


async def _accept(request: web.Request, track_id: int, recording: Any) -> str:
    if not isinstance(recording, str) or not MBID.match(recording.strip().lower()):
        raise InvalidInput(
            "recording_id must be a MusicBrainz id (a UUID)", details={"field": "recording_id"}
        )
    recording = recording.strip().lower()
    app = request.app
    if not any(s.name == MATCH_STAGE for s in app[keys.PLUGINS].stages):
        raise NotFound("the musicbrainz plugin is not enabled", details={"plugin": MUSICBRAINZ})
    database = app[keys.DB]
    track = database.read(library.tracks.get_track, track_id)
    await database.write(
        stage_data.set_plugin_fields,
        track_id,
        MUSICBRAINZ,
        {"mb_accepted_recording_id": recording},
        rerun=MATCH_STAGE,
    )
    app[keys.PIPELINE].stored([{**track, "change": "match accepted"}])
    return recording
