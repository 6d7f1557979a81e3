"""Browsing: music folders, indexes, artists, albums, songs, directories, genres, and
discovery from SoniqueBay's own analysis (similar songs, top songs, artist and album info,
OpenSubsonic's sonicSimilarity)."""

from __future__ import annotations

import unicodedata
from typing import Any

from soniquebay import library
from soniquebay.library import similarity
from soniquebay.library.folders import Scope
from soniquebay.web import keys
from soniquebay.web.subsonic import shapes
from soniquebay.web.subsonic.context import MAX_LIST, Call, found
from soniquebay.web.subsonic.protocol import Text, make_id, not_found, parse_id


async def get_music_folders(call: Call) -> dict:
    """The folders this user sees, numbered as ``musicFolderId`` takes them."""
    return {"musicFolders": {"musicFolder": [{"id": f.id, "name": f.name} for f in call.folders]}}


def _index_letter(sort_name: str) -> str:
    first = unicodedata.normalize("NFKD", sort_name[:1]).encode("ascii", "ignore").decode().upper()
    return first if first.isalpha() else "#"


def _indexed(call: Call, shape) -> list[dict[str, Any]]:
    """Artists under the first letter of their sort name (sort tag, else the name less a
    leading article: docs/library.md), in that order."""
    rows = call.read(library.artists.artist_cards, limit=100_000, within=call.scope)
    groups: dict[str, list] = {}
    for row in sorted(rows, key=lambda r: r["sort_name"].casefold()):
        groups.setdefault(_index_letter(row["sort_name"]), []).append(row)
    return [{"name": letter, "artist": shape(groups[letter])} for letter in sorted(groups)]


def _articles(call: Call) -> str:
    return " ".join(call.app[keys.GROUPING].sort_articles)


async def get_artists(call: Call) -> dict:
    return {"artists": {"ignoredArticles": _articles(call), "index": _indexed(call, call.artists)}}


async def get_indexes(call: Call) -> dict:
    """The folder-form artist index. ``lastModified`` is when the library last changed; with
    ``ifModifiedSince`` at or after it (DSub's refresh), the index is left out: nothing new."""

    def plain(rows):
        return [{"id": make_id("artist", r["id"]), "name": r["name"]} for r in rows]

    changed = int(call.read(library.totals.last_change) * 1000)
    since = call.params.int("ifModifiedSince", 0)
    indexes = {"lastModified": changed, "ignoredArticles": _articles(call)}
    if not since or since < changed:
        indexes["index"] = _indexed(call, plain)
    return {"indexes": indexes}


def _artist_row(call: Call, artist_id: int) -> dict:
    rows = call.read(library.artists.artist_cards, ids=[artist_id], limit=1, within=call.scope)
    if not rows:
        raise not_found(f"artist {artist_id}")
    return rows[0]


async def get_artist(call: Call) -> dict:
    _, artist_id = parse_id(call.params.required("id"), "artist")
    artist = _artist_row(call, artist_id)
    albums = call.read(library.albums.artist_albums, artist_id)
    return {
        "artist": {
            **call.artists([artist])[0],
            "album": call.albums(albums["own"] + albums["appears_on"]),
        }
    }


async def get_album(call: Call) -> dict:
    _, album_id = parse_id(call.params.required("id"), "album")
    album = _album_row(call, album_id)
    songs = call.songs(call.read(library.tracks.tracks_by_album_ids, [album_id]))
    return {"album": {**album, "song": songs}}


def _album_row(call: Call, album_id: int) -> dict:
    """The album as AlbumID3, if this user and folder hold it."""
    shaped = call.albums(call.read(library.albums.grid_by_ids, [album_id]))
    if not shaped:
        raise not_found(f"album {album_id}")
    return shaped[0]


async def get_song(call: Call) -> dict:
    _, track_id = parse_id(call.params.required("id"), "track")
    songs = call.songs_by_ids([track_id])
    if not songs:
        raise not_found(f"song {track_id}")
    return {"song": songs[0]}


async def get_music_directory(call: Call) -> dict:
    """Folder view, as Navidrome gives it: a music folder (its bare number, as
    ``getMusicFolders`` lists it) holds its artists, an artist its albums, an album its songs."""
    raw = call.params.required("id")
    if raw.isascii() and raw.isdigit():
        return _music_folder_directory(call, int(raw[:6]))
    kind, number = parse_id(raw, "artist", "album")
    if kind == "artist":
        artist = _artist_row(call, number)
        albums = call.read(library.albums.artist_albums, number)
        children = [
            shapes.album_as_child(a) for a in call.albums(albums["own"] + albums["appears_on"])
        ]
        return {
            "directory": {
                "id": make_id("artist", number),
                "name": artist["name"],
                "child": children,
            }
        }
    rows = call.read(library.albums.grid_by_ids, [number])
    if not rows or not call.albums(rows):
        raise not_found(f"album {number}")
    album = rows[0]
    parent = make_id("artist", album["album_artist_id"]) if album["album_artist_id"] else None
    songs = call.songs(call.read(library.tracks.tracks_by_album_ids, [number]))
    return {
        "directory": {
            "id": make_id("album", number),
            "parent": parent,
            "name": album["title"],
            "child": songs,
        }
    }


def _music_folder_directory(call: Call, number: int) -> dict:
    """A music folder as a directory: the artists with music in it."""
    folder = next((f for f in call.folders if f.id == number), None)
    if folder is None:
        raise not_found(f"music folder {number}")
    within = Scope.of([folder.path])
    artists = call.read(library.artists.artist_cards, limit=100_000, within=within)
    artists.sort(key=lambda r: r["sort_name"].casefold())
    return {
        "directory": {
            "id": str(number),
            "name": folder.name,
            "child": [
                {"id": make_id("artist", a["id"]), "parent": str(number), "isDir": True,
                 "title": a["name"], "artist": a["name"],
                 "coverArt": make_id("artist", a["id"]) if a.get("cover_album_id") else None}
                for a in artists
            ],
        }
    }  # fmt: skip


async def get_genres(call: Call) -> dict:
    return {
        "genres": {
            "genre": [
                {"value": g["name"], "songCount": g["track_count"], "albumCount": g["album_count"]}
                for g in call.read(library.genres.genres, call.scope)
            ]
        }
    }


def _seed_track(call: Call) -> int:
    kind, number = parse_id(call.params.required("id"), "track", "album", "artist")
    if kind == "track":
        row = found(call.read, library.tracks.get_track, number)
        rows = [row]
    elif kind == "album":
        rows = call.read(library.tracks.tracks_by_album_ids, [number])
    else:
        rows = call.read(library.tracks.top_tracks, number, 1)
    rows = [r for r in rows if call.holds(r["path"])]
    if not rows:
        raise not_found(f"{kind} {number}")
    return rows[0]["id"]


async def get_similar_songs2(call: Call, element: str = "similarSongs2") -> dict:
    """SoniqueBay's instant mix: the nearest tracks in tempo, key, loudness, energy and
    timbre from its own analysis (same artist, genre, era for tracks not analysed yet)."""
    seed = _seed_track(call)
    ids = await call.app[keys.SOUNDS_LIKE].similar(
        call.app, seed, call.params.int("count", 50, 1, MAX_LIST)
    )
    return {element: {"song": call.songs_by_ids(ids)}}


def _sonic_matches(call: Call, found: list[tuple[int, float]]) -> dict:
    songs = {s["id"]: s for s in call.songs_by_ids([i for i, _ in found])}
    matches = [
        {"entry": songs[make_id("track", i)], "similarity": score}
        for i, score in found
        if make_id("track", i) in songs
    ]
    return {"sonicMatch": matches}


def _analysed_track(call: Call, name: str) -> int:
    _, track_id = parse_id(call.params.required(name), "track")
    if not call.holds(found(call.read, library.tracks.get_track, track_id)["path"]):
        raise not_found(f"song {make_id('track', track_id)}")
    if not call.app[keys.SOUNDS_LIKE].analysed(track_id):
        raise not_found(f"the audio analysis of song {make_id('track', track_id)} (not done yet)")
    return track_id


async def get_sonic_similar_tracks(call: Call) -> dict:
    """sonicSimilarity: the tracks that sound most like ``id``, from SoniqueBay's own audio
    analysis (tempo, key, loudness, energy, timbre, and the classifiers' labels where there
    are some), each with its similarity in 0..1; one copy of each recording."""
    await call.app[keys.SOUNDS_LIKE].current()
    track_id = _analysed_track(call, "id")
    count = call.params.int("count", 10, 1, MAX_LIST)
    found = await call.app[keys.SOUNDS_LIKE].sonic_similar(track_id, count)
    return _sonic_matches(call, found)


async def find_sonic_path(call: Call) -> dict:
    """sonicSimilarity: a route from ``startSongId`` to ``endSongId`` of at most ``count``
    songs that eases from one sound to the other, each step nearer the end; similarity is to
    the start."""
    await call.app[keys.SOUNDS_LIKE].current()
    start, end = _analysed_track(call, "startSongId"), _analysed_track(call, "endSongId")
    count = call.params.int("count", 25, 2, MAX_LIST)
    found = await call.app[keys.SOUNDS_LIKE].sonic_path(start, end, count)
    return _sonic_matches(call, found)


async def get_similar_songs(call: Call) -> dict:
    return await get_similar_songs2(call, "similarSongs")


async def get_top_songs(call: Call) -> dict:
    name = call.params.required("artist")
    rows, _ = call.read(library.artists.list_artists, limit=5, q=name)
    exact = [r for r in rows if r["name"].casefold() == name.casefold()] or rows
    if not exact:
        return {"topSongs": {"song": []}}
    top = call.read(
        library.tracks.top_tracks, exact[0]["id"], call.params.int("count", 50, 1, MAX_LIST)
    )
    return {"topSongs": {"song": call.songs(top)}}


async def get_artist_info2(call: Call, element: str = "artistInfo2") -> dict:
    _, artist_id = parse_id(call.params.required("id"), "artist")
    artist = _artist_row(call, artist_id)
    ids = call.read(similarity.similar_artist_ids, artist_id, call.params.int("count", 20, 0, 100))
    similar = (
        call.read(library.artists.artist_cards, ids=ids, limit=len(ids) or 1, within=call.scope)
        if ids
        else []
    )
    order = {i: n for n, i in enumerate(ids)}
    similar.sort(key=lambda r: order[r["id"]])
    cover = f"/rest/getCoverArt?id={make_id('artist', artist_id)}"
    return {
        element: {
            "biography": Text(
                f"{artist['name']}: {artist['album_count']} albums, {artist['track_count']} tracks in this library."
            ),
            "smallImageUrl": Text(cover + "&size=64") if artist.get("cover_album_id") else None,
            "mediumImageUrl": Text(cover + "&size=300") if artist.get("cover_album_id") else None,
            "largeImageUrl": Text(cover + "&size=600") if artist.get("cover_album_id") else None,
            "similarArtist": [shapes.artist_plain(a) for a in call.artists(similar)]
            if element == "artistInfo"
            else call.artists(similar),
        }
    }


async def get_album_info2(call: Call, element: str = "albumInfo") -> dict:
    _, album_id = parse_id(call.params.required("id"), "album")
    rows = call.read(library.albums.grid_by_ids, [album_id])
    if not rows or not call.albums(rows):
        raise not_found(f"album {album_id}")
    album = rows[0]
    cover = f"/rest/getCoverArt?id={make_id('album', album_id)}"
    facts = [
        album["album_artist_name"] or "Various artists",
        str(album["year"] or ""),
        album["genre"] or "",
    ]
    return {
        element: {
            "notes": Text(" · ".join(f for f in facts if f) + f" · {album['track_count']} tracks"),
            "musicBrainzId": Text(album["musicbrainz_albumid"])
            if album["musicbrainz_albumid"]
            else None,
            "smallImageUrl": Text(cover + "&size=64"),
            "mediumImageUrl": Text(cover + "&size=300"),
            "largeImageUrl": Text(cover + "&size=600"),
        }
    }


async def get_artist_info(call: Call) -> dict:
    return await get_artist_info2(call, "artistInfo")
