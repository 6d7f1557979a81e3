"""A track's page and the forms that correct a track's or an album's tags (kept as edits over
the files' tags). (Browsing is :mod:`browse_pages`, playlists :mod:`listening_pages`, the
library's workings :mod:`pages`.)"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from soniquebay import library
from soniquebay.catalog import tracks as catalog_tracks
from soniquebay.errors import BatchFailed, InvalidInput
from soniquebay.library import edits, layers, sql, stage_data
from soniquebay.web import covers, keys
from soniquebay.web.params import path_id
from soniquebay.web.render import render
from soniquebay.web.sounds_like import mix_ids
from soniquebay.web.viewer import check_track, held, my_playlists, rating_of, shown_tracks, stars_of

# Tags a person may correct on the track page (the API edits every field of TRACK_EDITABLE).
EDITABLE_ON_PAGE = (
    "title", "artist_name", "album_title", "album_artist_name", "track_number", "disc_number",
    "year", "genre",
)  # fmt: skip
# Audio features drawn as bars on the track page: (field, label, low, high, how it reads).
FEATURE_SCALES = (
    ("bpm", "Tempo", 40, 200, "bpm"),
    ("energy", "Energy", 0, 1, "percent"),
    ("danceability", "Danceability", 0, 3, None),
    ("loudness_lufs", "Loudness", -40, 0, "lufs"),
    ("loudness_range", "Dynamic range", 0, 25, "lu"),
)
# Reserved result fields (hookspecs), shown in their own sections or too long to show at all;
# a plugin's panel names the fields it shows itself (``hides``).
RESERVED_PLUGIN_FIELDS = {"fingerprint", "fingerprint_duration", "enriched", "cover_image"}


async def track_page(request: web.Request) -> web.Response:
    database, track_id = request.app[keys.DB], path_id(request)
    row = check_track(request, database.read(library.tracks.get_track, track_id))
    track = catalog_tracks.detail(
        database, track_id, None, request.app[keys.SETTINGS].metadata_prefer
    )
    plugin_data = track["plugin_data"]
    panels = plugin_panels(request, dict(track))  # as GET /api/tracks/{id} shows it
    hidden = {p["plugin"]: RESERVED_PLUGIN_FIELDS | p["hides"] for p in panels}
    return render(
        request,
        "track.html",
        track=track,
        failures=track["stage_failures"],
        scan_errors=database.read(library.scan_errors.scan_errors_of_path, row["path"]),
        similar=await sounds_like(request, track_id) if row["analyzed_at"] else [],
        mix=await mix_ids(request.app, row, 25),
        plugin_data={
            plugin: {
                k: v for k, v in data.items() if k not in hidden.get(plugin, RESERVED_PLUGIN_FIELDS)
            }
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
        cover=await covers.cover_source(request.app, track.get("album_id")),
        starred=stars_of(request, "track", [track_id]),
        my_rating=rating_of(request, "track", track_id),
        playlists=my_playlists(request),
        editable=[(f, track["display"].get(f)) for f in EDITABLE_ON_PAGE],
        feature_bars=feature_bars(track),
        duplicates=track["duplicates"],
    )


def plugin_panels(request: web.Request, track: dict[str, Any]) -> list[dict[str, Any]]:
    """Each plugin's panel (``track_panels``) as the page shows it: rows and action labels are
    text (escaped by the template), an action posts only to the plugin's own routes."""
    panels, plugins = [], request.app[keys.PLUGINS]
    for plugin, panel in plugins.each("track_panels", track=track):
        if not isinstance(panel, dict):
            continue
        try:
            shown = _panel(plugin, panel)
        except (TypeError, ValueError, KeyError) as exc:  # a malformed panel, not a broken page
            plugins.record(plugin, "track_panels", f"unusable panel: {type(exc).__name__}: {exc}")
            continue
        panels.append(shown)
    return panels


def _panel(plugin: str, panel: dict[str, Any]) -> dict[str, Any]:
    own = f"/plugins/{plugin}/"
    actions = [
        {
            "text": str(a.get("text") or ""),
            "label": str(a.get("label") or "Go"),
            "url": a["url"],
            "fields": [(str(k), str(v)) for k, v in (a.get("fields") or {}).items()],
        }
        for a in panel.get("actions") or ()
        if isinstance(a, dict) and str(a.get("url", "")).startswith(own)
    ]
    rows = [(str(label), str(value)) for label, value in panel.get("rows") or ()]
    return {"plugin": plugin, "title": str(panel.get("title") or plugin), "rows": rows,
            "actions": actions, "hides": {str(f) for f in panel.get("hides") or ()}}  # fmt: skip


async def sounds_like(request: web.Request, track_id: int, count: int = 8) -> list[dict]:
    """The tracks most like this one (:meth:`SoundsLike.similar`)."""
    database = request.app[keys.DB]
    ids = await request.app[keys.SOUNDS_LIKE].similar(request.app, track_id, count)
    rows = {r["id"]: r for r in database.read(library.tracks.tracks_by_ids, ids)}
    return shown_tracks(request.app, held(request, [rows[i] for i in ids if i in rows]))


def feature_bars(track: dict) -> list[dict]:
    """The audio features as bars of 0–100 % on a fixed scale per feature (for the SVG)."""
    bars = []
    for field, label, low, high, unit in FEATURE_SCALES:
        value = track.get(field)
        if value is None:
            continue
        share = min(1.0, max(0.0, (value - low) / (high - low)))
        bars.append({"label": label, "value": value, "unit": unit, "width": round(share * 100, 1)})
    return bars


async def track_edit_form(request: web.Request) -> web.Response:
    """The track page's tag form: each changed field becomes an edit (kept over rescans); an
    emptied field reverts to the file's value."""
    track_id, form = path_id(request), await request.post()
    database = request.app[keys.DB]
    track = database.read(library.tracks.get_track, track_id)
    layered = layers.with_layers(
        sql.public_track(track),
        database.read(stage_data.plugin_data, [track_id])[track_id],
        request.app[keys.SETTINGS].metadata_prefer,
        database.read(edits.edits_of, track_id),
    )
    changes, reverts = {}, []
    for field in EDITABLE_ON_PAGE:
        if field not in form:
            continue
        raw = str(form[field]).strip()
        current = layered["display"].get(field)
        if raw == "":
            if field in layered["edits"]:
                reverts.append(field)
            continue
        value: object = raw
        if field in ("track_number", "disc_number", "year"):
            if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
                raise InvalidInput(f"{field} must be a whole number", details={"field": field})
            value = int(raw)
        if value != current:
            changes[field] = value
    try:
        if changes:
            await database.write(
                edits.update_tracks, [{"id": track_id, **changes}], request.app[keys.GROUPING]
            )
        if reverts:
            await database.write(edits.revert, track_id, reverts, request.app[keys.GROUPING])
    except BatchFailed as exc:
        raise exc.single() from None
    if changes or reverts:
        fresh = sql.public_track(database.read(library.tracks.get_track, track_id))
        request.app[keys.PIPELINE].stored([{**fresh, "change": "edited"}])
    raise web.HTTPSeeOther(f"/tracks/{track_id}")


ALBUM_FORM_TEXT = ("title", "album_artist_name", "genre")


async def album_edit_form(request: web.Request) -> web.Response:
    """The album page's form: each field set on every track of the album (one transaction);
    the tracks regroup, so the page it leads to may be the album they merged into."""
    album_id, form = path_id(request), await request.post()
    database = request.app[keys.DB]
    album = database.read(library.albums.get_album, album_id)
    changes: dict[str, object] = {}
    for field in ALBUM_FORM_TEXT:
        if field in form:
            raw = " ".join(str(form[field]).split())[:500]
            if field == "title" and not raw:
                raise InvalidInput("an album needs a title", details={"field": "title"})
            changes[field] = raw or None
    raw_year = str(form.get("year", "")).strip()
    if raw_year and not (raw_year.isascii() and raw_year.isdigit() and len(raw_year) <= 4):
        raise InvalidInput("year must be a year, like 1999", details={"field": "year"})
    changes["year"] = int(raw_year) if raw_year else None
    changes["compilation"] = 1 if form.get("compilation") == "1" else 0
    same = {"title": album["title"], "album_artist_name": album["album_artist_name"],
            "year": album["year"], "compilation": album.get("compilation") or 0}  # fmt: skip
    if changes.get("genre") is None:
        changes.pop("genre", None)  # an empty genre box is no edit: genres stay per track
    wanted = {k: v for k, v in changes.items() if k == "genre" or same.get(k) != v}
    now = await database.write(edits.update_album, album_id, wanted, request.app[keys.GROUPING])
    _announce_album(request, now["id"])
    raise web.HTTPSeeOther(f"/albums/{now['id']}")


async def album_revert_form(request: web.Request) -> web.Response:
    """Undo the album's edits: its tracks get their files' album tags back and regroup."""
    database = request.app[keys.DB]
    now = await database.write(edits.revert_album, path_id(request), request.app[keys.GROUPING])
    _announce_album(request, now["id"])
    raise web.HTTPSeeOther(f"/albums/{now['id']}")


def _announce_album(request: web.Request, album_id: int) -> None:
    rows = request.app[keys.DB].read(library.tracks.tracks_by_album_ids, [album_id])
    request.app[keys.PIPELINE].stored([{**sql.public_track(r), "change": "edited"} for r in rows])
