"""SoniqueBay's rows as the Subsonic API's types: a track as a ``Child`` (a song), an album as
an ``AlbumID3``, an artist as an ``ArtistID3`` — with the asking user's star, rating and plays,
and the OpenSubsonic additions (``bpm``, ``played``, ``replayGain``, ``musicBrainzId``…)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from soniquebay.library import sql
from soniquebay.web.stream import content_type
from soniquebay.web.subsonic.protocol import iso, make_id

Annotation = dict[str, Any] | None


def _mine(ann: Annotation) -> dict[str, Any]:
    if not ann:
        return {}
    return {
        "starred": iso(ann.get("starred_at")),
        "userRating": ann.get("rating"),
        "playCount": ann.get("play_count") or 0,
        "played": iso(ann.get("last_played")),
    }


def relative_path(path: bytes, roots: tuple[Path, ...]) -> str:
    """The file's path inside its library folder (what apps show as "path")."""
    text = sql.display_path(path)
    for root in roots:
        top = str(root).rstrip("/") + "/"
        if text.startswith(top):
            return text[len(top) :]
    return os.path.basename(text)


def child(
    track: dict[str, Any],
    ann: Annotation,
    roots: tuple[Path, ...],
    gain: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A track (a row with ``display`` from the layers) as a song; ``gain`` is its
    ``replayGain`` (library/replaygain.py)."""
    shown = track.get("display") or track
    path = track["path"] if isinstance(track["path"], bytes) else os.fsencode(track["path"])
    suffix = os.path.splitext(path)[1].decode("ascii", "replace").lstrip(".").lower()
    album_id = track.get("album_id")
    # The grouping's "A, B" / "A feat. B", unless an enrichment layer shows another artist.
    artist = shown.get("artist_name")
    if artist == track.get("artist_name") and track.get("display_artist"):
        artist = track["display_artist"]
    genres = track.get("genres") or ([shown["genre"]] if shown.get("genre") else [])
    return {
        "id": make_id("track", track["id"]),
        "parent": make_id("album", album_id) if album_id else None,
        "isDir": False,
        "title": shown.get("title") or os.path.basename(sql.display_path(path)),
        "album": shown.get("album_title"),
        "artist": artist,
        "track": shown.get("track_number"),
        "year": shown.get("year"),
        "genre": shown.get("genre"),
        "coverArt": make_id("album", album_id) if album_id else make_id("track", track["id"]),
        "size": track.get("size"),
        "contentType": content_type(path).split(";")[0],
        "suffix": suffix,
        "duration": round(track["duration"]) if track.get("duration") else None,
        "bitRate": round(track["bitrate"] / 1000) if track.get("bitrate") else None,
        "path": relative_path(path, roots),
        "discNumber": shown.get("disc_number"),
        "created": iso(track.get("date_added")),
        "albumId": make_id("album", album_id) if album_id else None,
        "artistId": make_id("artist", track["track_artist_id"])
        if track.get("track_artist_id")
        else None,
        "type": "music",
        "isVideo": False,
        "bpm": round(track["bpm"]) if track.get("bpm") else None,
        "musicBrainzId": track.get("musicbrainz_id"),
        "mediaType": "song",
        "samplingRate": track.get("sample_rate"),
        "channelCount": track.get("channels"),
        "genres": [{"name": g} for g in genres] if genres else None,
        "displayArtist": artist,
        "artists": _credits(track.get("artists")),
        "albumArtists": _credits(track.get("album_artists")),
        "displayAlbumArtist": ", ".join(a["name"] for a in track.get("album_artists") or ())
        or None,
        "contributors": [
            {"role": "composer", "artist": c} for c in _credits(track.get("composers")) or ()
        ]
        or None,
        "displayComposer": ", ".join(a["name"] for a in track.get("composers") or ()) or None,
        "sortName": track.get("title_sort"),
        "replayGain": gain,
        **_mine(ann),
    }


def _credits(artists: list[dict[str, Any]] | None) -> list[dict[str, str]] | None:
    """OpenSubsonic's ArtistID3 list of a song's credits (``artists``, ``albumArtists``)."""
    if not artists:
        return None
    return [{"id": make_id("artist", a["id"]), "name": a["name"]} for a in artists]


def album_id3(album: dict[str, Any], ann: Annotation) -> dict[str, Any]:
    """An album row (``library.albums.GRID_COLUMNS``) as an AlbumID3."""
    artist_id = album.get("album_artist_id")
    return {
        "id": make_id("album", album["id"]),
        "name": album["title"],
        "artist": album.get("album_artist_name") or "Various Artists",
        "artistId": make_id("artist", artist_id) if artist_id else None,
        "coverArt": make_id("album", album["id"]),
        "songCount": album.get("track_count") or 0,
        "duration": round(album.get("duration") or 0),
        "created": iso(album.get("created_at")),
        "year": album.get("year"),
        "genre": album.get("genre"),
        "musicBrainzId": album.get("musicbrainz_albumid"),
        "isCompilation": bool(album.get("compilation")) or artist_id is None,
        "displayArtist": album.get("album_artist_name") or "Various Artists",
        "genres": [{"name": album["genre"]}] if album.get("genre") else None,
        "releaseTypes": [album["release_type"]] if album.get("release_type") else None,
        **_mine(ann),
    }


def artist_id3(artist: dict[str, Any], ann: Annotation) -> dict[str, Any]:
    """An artist row (``library.artists.ARTIST_CARD``) as an ArtistID3."""
    cover = artist.get("cover_album_id")
    mine = _mine(ann)
    return {
        "id": make_id("artist", artist["id"]),
        "name": artist["name"],
        "coverArt": make_id("artist", artist["id"]) if cover else None,
        "albumCount": artist.get("album_count") or 0,
        "starred": mine.get("starred"),
        "userRating": mine.get("userRating"),
        "musicBrainzId": artist.get("musicbrainz_artistid"),
        "sortName": artist.get("sort_name"),
    }


def album_as_child(album: dict[str, Any]) -> dict[str, Any]:
    """An AlbumID3 as the folder-based calls show albums: a directory ``Child``, with the
    album's ``name``, ``songCount`` and ``duration`` that apps read there too (py-opensonic
    requires them; Feishin's favourites show ``name``)."""
    return {
        "id": album["id"],
        "parent": album.get("artistId"),
        "isDir": True,
        "title": album["name"],
        "name": album["name"],
        "album": album["name"],
        "artist": album.get("artist"),
        "year": album.get("year"),
        "genre": album.get("genre"),
        "coverArt": album.get("coverArt"),
        "songCount": album.get("songCount"),
        "duration": album.get("duration"),
        "created": album.get("created"),
        "starred": album.get("starred"),
        "userRating": album.get("userRating"),
        "playCount": album.get("playCount"),
        "played": album.get("played"),
        "albumId": album["id"],
        "artistId": album.get("artistId"),
        "musicBrainzId": album.get("musicBrainzId"),
        "mediaType": "album",
    }


def artist_plain(artist: dict[str, Any]) -> dict[str, Any]:
    """An ArtistID3 as the folder-based calls show artists (with the ``albumCount`` and
    ``coverArt`` apps read there too)."""
    return {
        "id": artist["id"],
        "name": artist["name"],
        "starred": artist.get("starred"),
        "userRating": artist.get("userRating"),
        "albumCount": artist.get("albumCount"),
        "coverArt": artist.get("coverArt"),
    }
