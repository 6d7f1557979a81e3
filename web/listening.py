"""Each user's own listening over REST: playlists, stars, ratings, plays; search as you type;
the short track records the player queues.

Everything here is per user: a session's user, or the user who made the token. A credential
with no user (the worker token, a token made from the command line) gets a 403.
"""

from __future__ import annotations

import os
import re

from aiohttp import web

from soniquebay import library
from soniquebay.catalog import lyrics as catalog_lyrics
from soniquebay.catalog import playlists as catalog_playlists
from soniquebay.catalog.starred import starred
from soniquebay.errors import InvalidInput
from soniquebay.library import annotations, playlists, playqueue, replaygain, sql, stage_data
from soniquebay.web import keys
from soniquebay.web.jsonbody import json_response
from soniquebay.web.listens import heard
from soniquebay.web.params import int_param, known_params, path_id
from soniquebay.web.sounds_like import mix_ids
from soniquebay.web.stream import content_type
from soniquebay.web.validation import JSON, check_object, json_object, query_value
from soniquebay.web.viewer import check_track, held, scope, shown_tracks, user_of

PLAYLIST_SPEC = {"name": str, "comment": str, "track_ids": list}
MAX_IDS = 1000


def id_list(value, field: str = "track_ids") -> list[int]:
    if not isinstance(value, list) or len(value) > playlists.MAX_TRACKS:
        raise InvalidInput(f"{field} must be a list of track ids", details={"field": field})
    for item in value:
        if not isinstance(item, int) or isinstance(item, bool) or not 0 < item < 2**62:
            raise InvalidInput(f"{field} must hold positive integers", details={"field": field})
    return value


def ids_param(request: web.Request, name: str = "ids") -> list[int]:
    """``?ids=1,2,3`` (at most 1000)."""
    raw = request.query.get(name, "")
    parts = [p for p in re.split(r"[,\s]+", raw) if p]
    if len(parts) > MAX_IDS or not all(p.isascii() and p.isdigit() and len(p) < 18 for p in parts):
        raise InvalidInput(
            f"{name} must be up to {MAX_IDS} ids separated by commas", details={"field": name}
        )
    return [int(p) for p in parts]


def brief(track: dict, display: dict | None = None) -> dict:
    """What the player needs of a track."""
    shown = display or track
    artist = shown.get("artist_name") or ""
    if artist == track.get("artist_name") and track.get("display_artist"):
        artist = track["display_artist"]  # "Ann, Bob" for a list (docs/library.md)
    return {
        "id": track["id"],
        "title": shown.get("title") or os.path.basename(sql.display_path(track["path"])),
        "artist": artist,
        "album": shown.get("album_title") or "",
        "album_id": track.get("album_id"),
        "duration": track.get("duration"),
        "stream": f"/api/tracks/{track['id']}/stream",
        "mime": content_type(track["path"]),
        "cover": f"/api/tracks/{track['id']}/cover?size=300",
        "url": f"/tracks/{track['id']}",
    }


def briefs(app: web.Application, rows: list[dict]) -> list[dict]:
    public = shown_tracks(app, rows)
    return [brief(t, t.get("display")) for t in public]


async def player_tracks(request: web.Request) -> web.Response:
    """``GET /api/player/tracks?ids=3,1,2``: short records, in the order asked, each with its
    ``replay_gain`` (track and album gain and peak: the tags' or the analysis's, as
    ``replaygain_source`` says; null before either exists)."""
    known_params(request, "ids")
    ids = ids_param(request)
    database = request.app[keys.DB]
    rows = {r["id"]: r for r in database.read(library.tracks.tracks_by_ids, ids)}
    ordered = held(
        request, [rows[i] for i in ids if i in rows and rows[i]["missing_since"] is None]
    )
    albums = database.read(replaygain.album_measures, [r["album_id"] for r in ordered])
    source = request.app[keys.SETTINGS].replaygain_source
    items = [
        {**b, "replay_gain": replaygain.of_track(r, albums.get(r["album_id"]), source)}
        for b, r in zip(briefs(request.app, ordered), ordered, strict=True)
    ]
    return json_response({"items": items})


async def track_lyrics(request: web.Request) -> web.Response:
    """``GET /api/tracks/{id}/lyrics``: ``{"text", "synced", "source"}``, ``synced`` being
    ``[[seconds, line], ...]`` when the lyrics have times (an ``.lrc``); all null when no
    plugin found any. The player's lyrics panel reads it."""
    known_params(request)
    database, track_id = request.app[keys.DB], path_id(request)
    check_track(request, database.read(library.tracks.get_track, track_id))  # 404 first
    found = catalog_lyrics.of_track(database, track_id)
    return json_response(found or {"text": None, "synced": None, "source": None})


async def track_waveform(request: web.Request) -> web.Response:
    """``GET /api/tracks/{id}/waveform``: ``{"peaks": [0..255, ...]}`` (200 of them, the whole
    file, each of its loudest) for the player's seek bar; ``peaks`` null until the analysis
    has run, or for a file longer than the analysed span. Cached by the browser: it changes
    only when the track is analysed again."""
    known_params(request)
    database, track_id = request.app[keys.DB], path_id(request)
    check_track(request, database.read(library.tracks.get_track, track_id))  # 404 first
    peaks = database.read(stage_data.waveform, track_id)
    headers = {"Cache-Control": "private, max-age=3600"} if peaks else {}
    return json_response({"peaks": peaks}, headers=headers)


async def search(request: web.Request) -> web.Response:
    """``GET /api/search?q=…&limit=N``: artists, albums and tracks, each group best first
    (bm25: a match in the title counts most, then artist, album, album artist, genre); each
    track with ``snippet_html``, the field that matched best with the words in ``<mark>``."""
    known_params(request, "q", "limit")
    text = query_value(request, "q", str) or ""
    limit = query_value(request, "limit", int) or 8
    if not 1 <= limit <= 50:
        raise InvalidInput("limit must be between 1 and 50", details={"field": "limit"})
    found = request.app[keys.DB].read(library.search.search, text, limit, scope(request))
    return json_response(
        {
            "artists": [{"id": a["id"], "name": a["name"], "album_count": a["album_count"],
                         "cover_album_id": a["cover_album_id"]} for a in found["artists"]],
            "albums": [{"id": a["id"], "title": a["title"], "artist": a["album_artist_name"],
                        "year": a["year"]} for a in found["albums"]],
            "tracks": [{**b, "snippet_html": library.search.snippet_html(t, text)}
                       for b, t in zip(briefs(request.app, found["tracks"]), found["tracks"], strict=True)],
        }
    )  # fmt: skip


async def semantic_search(request: web.Request) -> web.Response:
    """``GET /api/search/semantic?q=…&limit=N``: tracks by meaning ("quiet piano for the
    evening"), each with its cosine ``score``, best first; ``indexed``: how many tracks the
    index holds (it follows the text vectors within a second or so of their writing)."""
    known_params(request, "q", "limit")
    text = (query_value(request, "q", str) or "").strip()
    if not text:
        raise InvalidInput("q is required: words to search by meaning", details={"field": "q"})
    limit = int_param(request, "limit", 20, low=1, high=100)
    index = request.app[keys.SEMANTIC]
    found = await index.search(request.app[keys.REDIS], text, limit)
    rows = {
        r["id"]: r
        for r in request.app[keys.DB].read(library.tracks.tracks_by_ids, [i for i, _ in found])
    }
    kept = {r["id"] for r in held(request, list(rows.values()))}
    present = [(rows[i], score) for i, score in found if i in kept]
    shaped = briefs(request.app, [r for r, _ in present])
    return json_response(
        {
            "items": [
                {**b, "score": round(score, 4)}
                for b, (_, score) in zip(shaped, present, strict=True)
            ],
            "indexed": index.indexed,
        }
    )


# ---------------------------------------------------------------- more like this


async def similar(request: web.Request) -> web.Response:
    """``GET /api/tracks/{id}/similar?limit=N``: the nearest tracks in tempo, key (circle of
    fifths), loudness, energy and timbre from the analysis, fused with the nearest by text
    vector; the same artist, genre and era for a track with neither."""
    known_params(request, "limit")
    track_id, database = path_id(request), request.app[keys.DB]
    check_track(request, database.read(library.tracks.get_track, track_id))  # 404 first
    limit = int_param(request, "limit", 20, low=1, high=200)
    ids = await request.app[keys.SOUNDS_LIKE].similar(request.app, track_id, limit)
    rows = {r["id"]: r for r in database.read(library.tracks.tracks_by_ids, ids)}
    shown = held(request, [rows[i] for i in ids if i in rows])
    return json_response({"items": briefs(request.app, shown)})


async def mix(request: web.Request) -> web.Response:
    """``GET /api/tracks/{id}/mix?limit=N``: an instant mix that starts with the track and
    flows — each next track the nearest to the last, no artist twice in a row."""
    known_params(request, "limit")
    track_id, database = path_id(request), request.app[keys.DB]
    track = check_track(request, database.read(library.tracks.get_track, track_id))
    limit = int_param(request, "limit", 25, low=1, high=200)
    ids = await mix_ids(request.app, track, limit)
    rows = {r["id"]: r for r in database.read(library.tracks.tracks_by_ids, ids)}
    shown = held(request, [rows[i] for i in ids if i in rows])
    return json_response({"items": briefs(request.app, shown)})


async def path(request: web.Request) -> web.Response:
    """``GET /api/tracks/{id}/path?to=ID&count=N``: a route of at most N tracks (default 20)
    that eases from this track's sound to the other's, each step nearer the end, no track or
    recording twice; each with its ``similarity`` to the first (0..1). Both tracks need their
    audio analysis (a 409 says which has none yet)."""
    known_params(request, "to", "count")
    start, database = path_id(request), request.app[keys.DB]
    end = int_param(request, "to", None, low=1, high=2**62)
    if end is None:
        raise InvalidInput("to: the track the path goes to", details={"field": "to"})
    for track_id in (start, end):
        check_track(request, database.read(library.tracks.get_track, track_id))  # 404 first
    count = int_param(request, "count", 20, low=2, high=100)
    found = await request.app[keys.SOUNDS_LIKE].sonic_path(start, end, count)
    rows = {r["id"]: r for r in database.read(library.tracks.tracks_by_ids, [i for i, _ in found])}
    kept = {r["id"] for r in held(request, list(rows.values()))}
    present = [(rows[i], score) for i, score in found if i in kept]
    shaped = briefs(request.app, [r for r, _ in present])
    return json_response(
        {"items": [{**b, "similarity": s} for b, (_, s) in zip(shaped, present, strict=True)]}
    )


# ---------------------------------------------------------------- playlists


def _playlist_json(request: web.Request, playlist: dict) -> dict:
    """A playlist with its tracks of folders the user sees (each with its position)."""
    app = request.app
    out = {k: v for k, v in playlist.items() if k != "tracks"}
    if "tracks" in playlist:
        playlist = {**playlist, "tracks": held(request, playlist["tracks"])}
        positions = [t["position"] for t in playlist["tracks"]]
        out["tracks"] = [
            {**b, "position": p}
            for b, p in zip(briefs(app, playlist["tracks"]), positions, strict=True)
        ]
    return out


async def list_playlists(request: web.Request) -> web.Response:
    rows = request.app[keys.DB].read(playlists.list_playlists, user_of(request))
    return json_response({"items": rows})


async def create_playlist(request: web.Request) -> web.Response:
    body = check_object(await json_object(request), PLAYLIST_SPEC, required=("name",))
    row = await request.app[keys.DB].write(
        playlists.create,
        user_of(request),
        body["name"],
        id_list(body.get("track_ids") or []),
        body.get("comment") or "",
    )
    return json_response(row, status=201, headers={"Location": f"/api/playlists/{row['id']}"})


async def get_playlist(request: web.Request) -> web.Response:
    playlist = request.app[keys.DB].read(playlists.get_playlist, user_of(request), path_id(request))
    return json_response(_playlist_json(request, playlist))


async def patch_playlist(request: web.Request) -> web.Response:
    """Rename, change the comment, or send ``track_ids`` in their new order."""
    body = check_object(await json_object(request), PLAYLIST_SPEC)
    track_ids = id_list(body["track_ids"]) if body.get("track_ids") is not None else None
    row = await request.app[keys.DB].write(
        playlists.update,
        user_of(request),
        path_id(request),
        name=body.get("name"),
        comment=body.get("comment"),
        track_ids=track_ids,
    )
    return json_response(row)


async def delete_playlist(request: web.Request) -> web.Response:
    await request.app[keys.DB].write(playlists.delete, user_of(request), path_id(request))
    return web.Response(status=204)


async def add_playlist_tracks(request: web.Request) -> web.Response:
    body = check_object(await json_object(request), {"track_ids": list}, required=("track_ids",))
    row = await request.app[keys.DB].write(
        playlists.add_tracks, user_of(request), path_id(request), id_list(body["track_ids"])
    )
    return json_response(row)


async def export_playlist(request: web.Request) -> web.Response:
    """``GET /api/playlists/{id}/m3u8``: extended M3U in UTF-8, the files' paths."""
    playlist = request.app[keys.DB].read(playlists.get_playlist, user_of(request), path_id(request))
    playlist["tracks"] = held(request, playlist["tracks"])
    name = re.sub(r"[^\w.-]+", "_", playlist["name"], flags=re.ASCII).strip("_") or "playlist"
    return web.Response(
        text=playlists.to_m3u8(playlist),
        content_type="audio/x-mpegurl",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.m3u8"'},
    )


async def import_playlist(request: web.Request) -> web.Response:
    """``POST /api/playlists/import?name=…`` with a playlist file as the body (M3U/M3U8, PLS or
    XSPF, told by its first line): a new playlist
    of the entries this library has — by absolute path, by a path relative to a library folder,
    by the longest tail of folders and file name (a playlist from another machine), by the
    ``#EXTINF`` artist and title — with ``entries``, ``matched`` (how many each way) and
    ``not_matched`` (location and why; ``unknown``: their locations)."""
    known_params(request, "name")
    raw = await request.read()
    created = await catalog_playlists.import_m3u8(
        request.app[keys.DB],
        user_of(request),
        raw,
        query_value(request, "name", str),
        [str(r) for r in request.app[keys.SETTINGS].library],
    )
    return json_response(
        created, status=201, headers={"Location": f"/api/playlists/{created['id']}"}
    )


# ---------------------------------------------------------------- stars, ratings, plays


def _kind(request: web.Request) -> str:
    kind = request.match_info["kind"]
    if kind not in annotations.KINDS:
        raise InvalidInput(
            f"kind must be one of {', '.join(annotations.KINDS)}",
            details={"field": "kind", "allowed": list(annotations.KINDS)},
        )
    return kind


async def star(request: web.Request) -> web.Response:
    on = request.method == "PUT"
    await request.app[keys.DB].write(
        annotations.set_star, user_of(request), _kind(request), [path_id(request)], on
    )
    return web.Response(status=204)


async def list_stars(request: web.Request) -> web.Response:
    """What the user starred, newest first: ``{"tracks", "albums", "artists"}``."""
    found = starred(request.app[keys.DB], user_of(request), scope(request))
    return json_response(
        {
            "tracks": briefs(request.app, found["track"]),
            "albums": found["album"],
            "artists": found["artist"],
        }
    )


async def rate(request: web.Request) -> web.Response:
    body = check_object(await json_object(request), {"rating": int}, required=("rating",))
    await request.app[keys.DB].write(
        annotations.set_rating, user_of(request), _kind(request), path_id(request), body["rating"]
    )
    return web.Response(status=204)


async def record_play(request: web.Request) -> web.Response:
    """``POST /api/tracks/{id}/plays``: the player heard this track (half of it, or 4 minutes,
    as Last.fm counts a scrobble); a failure to play it recorded earlier is gone."""
    track_id, database = path_id(request), request.app[keys.DB]
    user = user_of(request)
    await database.write(_heard, user, track_id)
    heard(request.app, "played", user, request["principal"].name, track_id)
    return web.Response(status=204)


async def now_playing(request: web.Request) -> web.Response:
    """``POST /api/tracks/{id}/now-playing``: the player started this track (scrobblers send
    it as "now playing"; nothing is counted)."""
    track_id, database = path_id(request), request.app[keys.DB]
    check_track(request, database.read(library.tracks.get_track, track_id))
    heard(request.app, "playing", user_of(request), request["principal"].name, track_id)
    return web.Response(status=204)


def _heard(conn, user_id: int, track_id: int) -> None:
    """A play counted, and the track's playback failure gone, in one write."""
    annotations.record_play(conn, user_id, track_id)
    stage_data.clear_playback_failure(conn, track_id)


MAX_QUEUE = 5000  # tracks a saved queue holds, as the player sends it


async def get_play_queue(request: web.Request) -> web.Response:
    """``GET /api/playqueue``: the queue this user left playing, in the web player or an app
    (the very record of Subsonic's ``getPlayQueue``), with the tracks it holds that they see:
    ``{"track_ids", "current_id", "position_ms", "changed_at", "changed_by"}``; empty when none."""
    known_params(request)
    database = request.app[keys.DB]
    queue = database.read(playqueue.get_queue, user_of(request))
    if queue is None:
        return json_response({"track_ids": [], "current_id": None, "position_ms": 0,
                              "changed_at": None, "changed_by": None})  # fmt: skip
    rows = {
        r["id"]
        for r in held(request, database.read(library.tracks.tracks_by_ids, queue["track_ids"]))
    }
    ids = [i for i in queue["track_ids"] if i in rows]
    return json_response(
        {"track_ids": ids, "current_id": queue["current_id"] if queue["current_id"] in rows else None,
         "position_ms": queue["position_ms"], "changed_at": queue["changed_at"],
         "changed_by": queue["changed_by"]}
    )  # fmt: skip


async def put_play_queue(request: web.Request) -> web.Response:
    """``PUT /api/playqueue`` ``{"track_ids": [...], "current_id": id|null, "position_ms": n}``:
    the web player keeps its queue on the server, per user: another browser, or an app
    (``getPlayQueue``), goes on from there, and the next person on this browser does not
    inherit it."""
    body = check_object(
        await json_object(request),
        {"track_ids": JSON, "current_id": int, "position_ms": int},
        required=("track_ids",),
    )
    ids = body["track_ids"]
    if not (isinstance(ids, list) and len(ids) <= MAX_QUEUE
            and all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids)):  # fmt: skip
        raise InvalidInput(
            f"track_ids must be a list of at most {MAX_QUEUE} track ids",
            details={"field": "track_ids"},
        )
    current = body.get("current_id")
    if current is not None and current not in ids:
        raise InvalidInput("current_id must be one of track_ids", details={"field": "current_id"})
    await request.app[keys.DB].write(
        playqueue.save_queue,
        user_of(request),
        ids,
        current,
        body.get("position_ms") or 0,
        "web player",
    )
    return web.Response(status=204)


MAX_REASON = 300


async def playback_error(request: web.Request) -> web.Response:
    """``POST /api/tracks/{id}/playback-errors`` ``{"reason": "…", "transcoded": bool}``: the
    player could not play this track, nor a transcode of it. Recorded on the track (its page,
    ``/errors``) until it plays again."""
    body = check_object(
        await json_object(request), {"reason": str, "transcoded": bool}, required=("reason",)
    )
    reason = " ".join(body["reason"].split())[:MAX_REASON] or "no reason given"
    if body.get("transcoded"):
        reason += " (also transcoded)"
    await request.app[keys.DB].write(stage_data.record_playback_failure, path_id(request), reason)
    return web.Response(status=204)
