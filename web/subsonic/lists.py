"""Album and song lists: album lists by type, random songs, songs of a genre, what a user
starred, what everybody is playing now."""

from __future__ import annotations

import time

from soniquebay import library
from soniquebay.library import annotations
from soniquebay.web.subsonic import shapes
from soniquebay.web.subsonic.context import MAX_LIST, Call
from soniquebay.web.subsonic.protocol import SubsonicError


async def get_album_list2(call: Call, element: str = "albumList2") -> dict:
    p = call.params
    kind = p.required("type")
    if kind not in library.albums.ALBUM_LISTS:
        raise SubsonicError(SubsonicError.GENERIC, f"unknown list type {kind[:40]!r}")
    if kind == "byGenre" and not p.get("genre"):
        raise SubsonicError(SubsonicError.MISSING, "Required parameter is missing: genre")
    if kind == "byYear" and (p.get("fromYear") is None or p.get("toYear") is None):
        raise SubsonicError(
            SubsonicError.MISSING, "Required parameter is missing: fromYear, toYear"
        )
    rows = call.read(
        library.albums.album_list,
        kind,
        user_id=call.user.id,
        size=p.int("size", 10, 1, MAX_LIST),
        offset=p.int("offset", 0),
        from_year=p.int("fromYear"),
        to_year=p.int("toYear"),
        genre=p.get("genre") if kind == "byGenre" else None,
        within=call.scope,
    )
    albums = call.albums(rows)
    if element == "albumList":  # the folder-based list: albums as directories
        albums = [shapes.album_as_child(a) for a in albums]
    return {element: {"album": albums}}


async def get_album_list(call: Call) -> dict:
    return await get_album_list2(call, "albumList")


async def get_random_songs(call: Call) -> dict:
    p = call.params
    rows = call.read(
        library.tracks.random_tracks,
        p.int("size", 10, 1, MAX_LIST),
        p.get("genre"),
        p.int("fromYear"),
        p.int("toYear"),
        call.scope,
    )
    return {"randomSongs": {"song": call.songs(rows)}}


async def get_songs_by_genre(call: Call) -> dict:
    p = call.params
    rows, _ = call.read(
        library.tracks.list_tracks,
        limit=p.int("count", 10, 1, MAX_LIST),
        offset=p.int("offset", 0),
        sort="album",
        filters={"genre": p.required("genre"), "within": call.scope},
        with_total=False,
    )
    return {"songsByGenre": {"song": call.songs(rows)}}


NOW_PLAYING_SECONDS = 15 * 60


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


async def get_now_playing(call: Call) -> dict:
    now, entries = time.time(), []
    for user, (track_id, since, client) in list(call.now_playing.items()):
        if now - since > NOW_PLAYING_SECONDS:
            continue
        for song in call.songs_by_ids([track_id]):
            entries.append(
                {**song, "username": user, "minutesAgo": int((now - since) // 60), "playerId": 0,
                 "playerName": client or None}
            )  # fmt: skip
    return {"nowPlaying": {"entry": entries}}
