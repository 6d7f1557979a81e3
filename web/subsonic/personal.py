"""Each user's own through the Subsonic API — the very rows the web UI shows: stars, ratings,
plays and "now playing", playlists, the play queue, bookmarks; and scanning (admin)."""

from __future__ import annotations

import asyncio
import time

from soniquebay import library, names, queueing
from soniquebay.errors import InvalidInput, NotFound
from soniquebay.library import annotations, playlists, playqueue
from soniquebay.web import keys
from soniquebay.web.subsonic import shapes
from soniquebay.web.subsonic.context import Call
from soniquebay.web.subsonic.protocol import SubsonicError, iso, make_id, not_found, parse_id

NOW_PLAYING_SECONDS = 15 * 60


async def _guarded(call: Call, fn, *args, **kwargs):
    try:
        return await call.write(fn, *args, **kwargs)
    except NotFound as exc:
        raise not_found(exc.message) from None
    except InvalidInput as exc:
        raise SubsonicError(SubsonicError.GENERIC, exc.message) from None


def _starrable(call: Call) -> dict[str, list[int]]:
    wanted: dict[str, list[int]] = {"track": [], "album": [], "artist": []}
    for name, kinds in (("id", ()), ("albumId", ("album",)), ("artistId", ("artist",))):
        for raw in call.params.all(name):
            kind, number = (
                parse_id(raw, *kinds) if kinds else parse_id(raw, "track", "album", "artist")
            )
            wanted[kind].append(number)
    if not any(wanted.values()):
        raise SubsonicError(
            SubsonicError.MISSING, "Required parameter is missing: id, albumId or artistId"
        )
    return wanted


async def star(call: Call, on: bool = True) -> dict:
    for kind, ids in _starrable(call).items():
        if ids:
            await _guarded(call, annotations.set_star, call.user.id, kind, ids, on)
    return {}


async def unstar(call: Call) -> dict:
    return await star(call, on=False)


async def set_rating(call: Call) -> dict:
    kind, number = parse_id(call.params.required("id"), "track", "album", "artist")
    rating = call.params.int("rating", None, -1, 99)
    if rating is None:
        raise SubsonicError(SubsonicError.MISSING, "Required parameter is missing: rating")
    await _guarded(call, annotations.set_rating, call.user.id, kind, number, rating)
    return {}


async def get_starred2(call: Call, element: str = "starred2") -> dict:
    ids = {
        kind: call.read(annotations.starred_ids, call.user.id, kind) for kind in annotations.KINDS
    }
    albums = {r["id"]: r for r in call.read(library.albums.grid_by_ids, ids["album"])}
    artists = {
        r["id"]: r for r in call.read(library.artists.artist_cards, ids=ids["artist"], limit=500)
    }
    found_artists = call.artists([artists[i] for i in ids["artist"] if i in artists])
    found_albums = call.albums([albums[i] for i in ids["album"] if i in albums])
    if element == "starred":  # the folder-based form: plain artists, albums as folders
        found_artists = [shapes.artist_plain(a) for a in found_artists]
        found_albums = [shapes.album_as_child(a) for a in found_albums]
    songs = call.songs_by_ids(ids["track"])
    return {element: {"artist": found_artists, "album": found_albums, "song": songs}}


async def get_starred(call: Call) -> dict:
    return await get_starred2(call, "starred")


def _now_playing(call: Call) -> dict:
    return call.app[keys.NOW_PLAYING]


async def scrobble(call: Call) -> dict:
    """``submission=true`` (the default): a play, counted at ``time`` (ms) for the track, its
    album and artist; ``false``: what the user is playing now."""
    submission = call.params.bool("submission", True)
    times = call.params.all("time")
    for n, raw in enumerate(call.params.all("id") or [call.params.required("id")]):
        _, track_id = parse_id(raw, "track")
        if submission:
            at = int(times[n]) / 1000 if n < len(times) and times[n].isdigit() else None
            await _guarded(call, annotations.record_play, call.user.id, track_id, at)
        else:
            if not call.read(library.tracks.tracks_by_ids, [track_id]):
                raise not_found(f"song {track_id}")
            _now_playing(call)[call.user.name] = (track_id, time.time(), call.params.get("c") or "")
    return {}


async def get_now_playing(call: Call) -> dict:
    now, entries = time.time(), []
    for user, (track_id, since, client) in list(_now_playing(call).items()):
        if now - since > NOW_PLAYING_SECONDS:
            continue
        for song in call.songs_by_ids([track_id]):
            entries.append(
                {**song, "username": user, "minutesAgo": int((now - since) // 60), "playerId": 0,
                 "playerName": client or None}
            )  # fmt: skip
    return {"nowPlaying": {"entry": entries}}


# ---------------------------------------------------------------- playlists


def _playlist(call: Call, row: dict, with_songs: bool) -> dict:
    songs = None
    if with_songs or call.scope is not None:
        songs = call.songs_by_ids(call.read(playlists.track_ids, call.user.id, row["id"]))
    if call.scope is not None:  # a user kept to some folders: count what they see
        row = {
            **row,
            "track_count": len(songs),
            "duration": sum(s.get("duration") or 0 for s in songs),
        }
    out = {
        "id": make_id("playlist", row["id"]),
        "name": row["name"],
        "comment": row["comment"] or None,
        "owner": call.user.name,
        "public": False,
        "songCount": row["track_count"],
        "duration": round(row["duration"] or 0),
        "created": iso(row["created_at"]),
        "changed": iso(row["updated_at"]),
        "coverArt": make_id("playlist", row["id"]),
    }
    if with_songs:
        out["entry"] = songs
    return out


async def get_playlists(call: Call) -> dict:
    rows = call.read(playlists.list_playlists, call.user.id)
    return {"playlists": {"playlist": [_playlist(call, r, False) for r in rows]}}


def _playlist_id(call: Call, name: str = "id") -> int:
    return parse_id(call.params.required(name), "playlist")[1]


async def get_playlist(call: Call) -> dict:
    number = _playlist_id(call)
    try:
        row = call.read(playlists.get_playlist, call.user.id, number)
    except NotFound:
        raise not_found(f"playlist {number}") from None
    return {"playlist": _playlist(call, row, True)}


def _song_ids(call: Call, name: str) -> list[int]:
    return [parse_id(raw, "track")[1] for raw in call.params.all(name)]


async def create_playlist(call: Call) -> dict:
    """A new playlist (``name``, ``songId``…), or, with ``playlistId``, its songs replaced."""
    songs = _song_ids(call, "songId")
    if call.params.get("playlistId"):
        number = _playlist_id(call, "playlistId")
        await _guarded(
            call,
            playlists.update,
            call.user.id,
            number,
            name=call.params.get("name"),
            track_ids=songs,
        )
    else:
        row = await _guarded(
            call, playlists.create, call.user.id, call.params.required("name"), songs
        )
        number = row["id"]
    return {
        "playlist": _playlist(call, call.read(playlists.get_playlist, call.user.id, number), True)
    }


async def update_playlist(call: Call) -> dict:
    number = _playlist_id(call, "playlistId")
    p = call.params
    await _guarded(
        call, playlists.update, call.user.id, number, name=p.get("name"), comment=p.get("comment")
    )
    remove = [int(v) for v in p.all("songIndexToRemove") if v.isdigit()]
    if remove:
        await _guarded(call, playlists.remove_positions, call.user.id, number, remove)
    add = _song_ids(call, "songIdToAdd")
    if add:
        await _guarded(call, playlists.add_tracks, call.user.id, number, add)
    return {}


async def delete_playlist(call: Call) -> dict:
    await _guarded(call, playlists.delete, call.user.id, _playlist_id(call))
    return {}


# ---------------------------------------------------------------- play queue, bookmarks


async def save_play_queue(call: Call) -> dict:
    ids = _song_ids(call, "id")
    current = call.params.get("current")
    current_id = parse_id(current, "track")[1] if current else None
    await _guarded(
        call, playqueue.save_queue, call.user.id, ids, current_id,
        call.params.int("position", 0), call.params.get("c") or "",
    )  # fmt: skip
    return {}


async def get_play_queue(call: Call) -> dict:
    queue = call.read(playqueue.get_queue, call.user.id)
    if queue is None:  # DSub reads changed and changedBy of every queue, an empty one too
        return {
            "playQueue": {
                "username": call.user.name,
                "changed": iso(time.time()),
                "changedBy": "",
                "entry": [],
            }
        }
    return {
        "playQueue": {
            "current": make_id("track", queue["current_id"]) if queue["current_id"] else None,
            "position": queue["position_ms"],
            "username": call.user.name,
            "changed": iso(queue["changed_at"]),
            "changedBy": queue["changed_by"] or "unknown",
            "entry": call.songs_by_ids(queue["track_ids"]),
        }
    }


async def create_bookmark(call: Call) -> dict:
    _, track_id = parse_id(call.params.required("id"), "track")
    position = call.params.int("position", None)
    if position is None:
        raise SubsonicError(SubsonicError.MISSING, "Required parameter is missing: position")
    await _guarded(
        call,
        playqueue.set_bookmark,
        call.user.id,
        track_id,
        position,
        call.params.get("comment") or "",
    )
    return {}


async def delete_bookmark(call: Call) -> dict:
    _, track_id = parse_id(call.params.required("id"), "track")
    await _guarded(call, playqueue.delete_bookmark, call.user.id, track_id)
    return {}


async def get_bookmarks(call: Call) -> dict:
    marks = call.read(playqueue.bookmarks, call.user.id)
    songs = {s["id"]: s for s in call.songs_by_ids([m["track_id"] for m in marks])}
    return {
        "bookmarks": {
            "bookmark": [
                {"position": m["position_ms"], "username": call.user.name, "comment": m["comment"] or None,
                 "created": iso(m["created_at"]), "changed": iso(m["changed_at"]),
                 "entry": songs[make_id("track", m["track_id"])]}
                for m in marks if make_id("track", m["track_id"]) in songs
            ]
        }
    }  # fmt: skip


# ---------------------------------------------------------------- scanning


async def get_scan_status(call: Call) -> dict:
    client = call.app[keys.REDIS]
    try:
        waiting = await client.llen(names.rq_queue("scan"))
        watcher = await client.hgetall(names.WATCHER)
    except Exception:  # Redis down: say "not scanning" rather than fail the app's poll
        waiting, watcher = 0, {}
    scanning = bool(waiting) or int(watcher.get("debouncing", 0) or 0) > 0
    count = call.read(library.totals.counts)["tracks"]
    return {"scanStatus": {"scanning": scanning, "count": count}}


async def start_scan(call: Call) -> dict:
    if not call.user.is_admin:
        raise SubsonicError(SubsonicError.NOT_AUTHORIZED, "only an administrator may start a scan")
    await asyncio.get_running_loop().run_in_executor(
        None, queueing.enqueue_rescan, call.app[keys.RQ_REDIS], call.app[keys.SETTINGS]
    )
    status = await get_scan_status(call)
    status["scanStatus"]["scanning"] = True
    return status
