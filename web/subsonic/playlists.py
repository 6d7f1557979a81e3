"""Playlists: each user's, the same the web UI shows."""

from __future__ import annotations

from soniquebay.errors import NotFound
from soniquebay.library import playlists
from soniquebay.web.subsonic.context import Call, guarded
from soniquebay.web.subsonic.protocol import iso, make_id, not_found, parse_id


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


def song_ids(call: Call, name: str) -> list[int]:
    return [parse_id(raw, "track")[1] for raw in call.params.all(name)]


async def create_playlist(call: Call) -> dict:
    """A new playlist (``name``, ``songId``…), or, with ``playlistId``, its songs replaced."""
    songs = song_ids(call, "songId")
    if call.params.get("playlistId"):
        number = _playlist_id(call, "playlistId")
        await guarded(
            call,
            playlists.update,
            call.user.id,
            number,
            name=call.params.get("name"),
            track_ids=songs,
        )
    else:
        row = await guarded(
            call, playlists.create, call.user.id, call.params.required("name"), songs
        )
        number = row["id"]
    return {
        "playlist": _playlist(call, call.read(playlists.get_playlist, call.user.id, number), True)
    }


async def update_playlist(call: Call) -> dict:
    number = _playlist_id(call, "playlistId")
    p = call.params
    await guarded(
        call, playlists.update, call.user.id, number, name=p.get("name"), comment=p.get("comment")
    )
    remove = [int(v) for v in p.all("songIndexToRemove") if v.isdigit()]
    if remove:
        await guarded(call, playlists.remove_positions, call.user.id, number, remove)
    add = song_ids(call, "songIdToAdd")
    if add:
        await guarded(call, playlists.add_tracks, call.user.id, number, add)
    return {}


async def delete_playlist(call: Call) -> dict:
    await guarded(call, playlists.delete, call.user.id, _playlist_id(call))
    return {}
