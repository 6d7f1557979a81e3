"""Bookmarks: positions in tracks, and the play queue saved for a user's other devices."""

from __future__ import annotations

import time

from soniquebay.library import playqueue
from soniquebay.web.subsonic.context import Call, guarded
from soniquebay.web.subsonic.playlists import song_ids
from soniquebay.web.subsonic.protocol import SubsonicError, iso, make_id, parse_id


async def save_play_queue(call: Call) -> dict:
    ids = song_ids(call, "id")
    current = call.params.get("current")
    current_id = parse_id(current, "track")[1] if current else None
    await guarded(
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
    await guarded(
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
    await guarded(call, playqueue.delete_bookmark, call.user.id, track_id)
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
