"""The pages people browse: albums (the home page), an album, artists, an artist, tracks,
genres, search. Thin: parse the query, read through the ``library`` façade, render."""

from __future__ import annotations

import json

from aiohttp import web

from soniquebay import embeddings, library
from soniquebay.errors import InvalidInput, ServiceUnavailable
from soniquebay.library import edits, folders
from soniquebay.web import keys
from soniquebay.web.params import int_param, path_id
from soniquebay.web.render import render
from soniquebay.web.validation import query_value
from soniquebay.web.viewer import (
    check_album,
    check_artist,
    folders_seen,
    held,
    my_playlists,
    rating_of,
    scope,
    shown_tracks,
    stars_of,
)

GRID_PAGE = 100
LIST_PAGE = 100
TRACK_PAGE_SORTS = ("artist", "title", "album", "year", "date_added", "duration", "bpm")


def library_counts(request: web.Request) -> dict | None:
    """The library's totals for the pages' headers; None for an account kept to some music
    folders (the totals are the whole library's)."""
    if scope(request) is not None:
        return None
    return request.app[keys.DB].cached_read("counts", library.totals.counts)


async def albums_page(request: web.Request) -> web.Response:
    """The home page: a grid of covers, newest first; filter by genre and year."""
    sort = request.query.get("sort", "recent")
    if sort not in library.albums.ALBUM_GRID_SORTS:
        raise InvalidInput(f"cannot sort albums by {sort[:40]!r}", details={"field": "sort"})
    genre = query_value(request, "genre", str)
    year = query_value(request, "year", int)
    offset = int_param(request, "offset", 0, high=10**7)
    folder = int_param(request, "folder", None, low=1, high=10**6)
    within = scope(request, folder)
    database = request.app[keys.DB]
    albums = database.read(
        library.albums.album_grid,
        limit=GRID_PAGE,
        offset=offset,
        sort=sort,
        genre=genre,
        year=year,
        within=within,
    )
    total = database.cached_read(
        ("album_grid", genre, year, within), library.albums.count_album_grid, genre, year, within
    )
    return render(
        request,
        "albums.html",
        albums=albums,
        total=total,
        offset=offset,
        page_size=GRID_PAGE,
        sort=sort,
        sorts=list(library.albums.ALBUM_GRID_SORTS),
        genre=genre,
        year=year,
        folder=folder,
        folders=folders_seen(request),
        genres=database.cached_read(("genres", within), library.genres.genres, within),
        years=database.cached_read("years", library.albums.album_years),
        counts=library_counts(request),
        starred=stars_of(request, "album", [a["id"] for a in albums]),
    )


async def album_page(request: web.Request) -> web.Response:
    database, album_id = request.app[keys.DB], path_id(request)
    album = database.read(library.albums.get_album, album_id)
    check_album(request, album_id)
    rows = held(request, database.read(library.tracks.tracks_by_album_ids, [album_id]))
    tracks = shown_tracks(request.app, rows)
    genres = sorted({t["display"].get("genre") for t in tracks if t["display"].get("genre")})
    discs = sorted({t.get("disc_number") or 1 for t in tracks})
    if len(discs) > 1:
        album["disc_total"] = max(album.get("disc_total") or 0, discs[-1])
    return render(
        request,
        "album.html",
        album=album,
        tracks=tracks,
        genres=genres,
        several_discs=len(discs) > 1,
        disc_subtitles=json.loads(album.get("disc_subtitles") or "{}"),
        album_edited=database.read(edits.album_edited, [t["id"] for t in tracks]),
        duration=sum(t.get("duration") or 0 for t in tracks),
        starred=stars_of(request, "album", [album_id]),
        my_rating=rating_of(request, "album", album_id),
        starred_tracks=stars_of(request, "track", [t["id"] for t in tracks]),
        playlists=my_playlists(request),
    )


async def artists_page(request: web.Request) -> web.Response:
    database = request.app[keys.DB]
    offset = int_param(request, "offset", 0, high=10**7)
    folder = int_param(request, "folder", None, low=1, high=10**6)
    within = scope(request, folder)
    artists = database.read(
        library.artists.artist_cards, limit=LIST_PAGE, offset=offset, within=within
    )
    return render(
        request,
        "artists.html",
        artists=artists,
        total=database.cached_read(("artist_count", within), library.artists.count_artists, within),
        offset=offset,
        page_size=LIST_PAGE,
        folder=folder,
        folders=folders_seen(request),
    )


async def artist_page(request: web.Request) -> web.Response:
    database, artist_id = request.app[keys.DB], path_id(request)
    artist = database.read(library.artists.get_artist, artist_id)
    check_artist(request, artist_id)
    albums = database.read(library.albums.artist_albums, artist_id)
    within = scope(request)
    if within is not None:  # only the albums of folders this account sees
        seen = database.read(
            folders.albums_within, [a["id"] for group in albums.values() for a in group], within
        )
        albums = {k: [a for a in group if a["id"] in seen] for k, group in albums.items()}
    top = shown_tracks(
        request.app, held(request, database.read(library.tracks.top_tracks, artist_id, 10))
    )
    return render(
        request,
        "artist.html",
        artist=artist,
        albums=albums["own"],
        appears_on=albums["appears_on"],
        composed=albums["composed"],
        performed=albums["performed"],
        top=top,
        starred=stars_of(request, "artist", [artist_id]),
        my_rating=rating_of(request, "artist", artist_id),
        starred_tracks=stars_of(request, "track", [t["id"] for t in top]),
    )


async def tracks_page(request: web.Request) -> web.Response:
    """Every track, sortable, paged by keyset cursor (stable while files land)."""
    sort = request.query.get("sort", "artist")
    descending = sort.startswith("-")
    sort = sort.lstrip("-")
    if sort not in TRACK_PAGE_SORTS:
        raise InvalidInput(f"cannot sort tracks by {sort[:40]!r}", details={"field": "sort"})
    cursor = query_value(request, "cursor", str)
    folder = int_param(request, "folder", None, low=1, high=10**6)
    database = request.app[keys.DB]
    rows, _ = database.read(
        library.tracks.list_tracks,
        limit=LIST_PAGE + 1,
        sort=sort,
        descending=descending,
        cursor=cursor,
        filters={"within": scope(request, folder)},
        with_total=False,
    )
    more = len(rows) > LIST_PAGE
    rows = rows[:LIST_PAGE]
    tracks = shown_tracks(request.app, rows)
    return render(
        request,
        "tracks.html",
        tracks=tracks,
        sort=sort,
        descending=descending,
        sorts=TRACK_PAGE_SORTS,
        cursor=cursor,
        next_cursor=library.tracks.track_cursor(rows[-1], sort) if more else None,
        folder=folder,
        folders=folders_seen(request),
        counts=library_counts(request),
        starred_tracks=stars_of(request, "track", [t["id"] for t in tracks]),
    )


async def genres_page(request: web.Request) -> web.Response:
    within = scope(request)
    found = request.app[keys.DB].cached_read(("genres", within), library.genres.genres, within)
    return render(request, "genres.html", genres=found)


async def search_page(request: web.Request) -> web.Response:
    text = query_value(request, "q", str) or ""
    within = scope(request)
    found = (
        request.app[keys.DB].read(library.search.search, text, 30, within) if text.strip() else None
    )
    by_meaning = []
    if found:
        found["tracks"] = shown_tracks(request.app, found["tracks"])
        try:
            hits = await request.app[keys.SEMANTIC].search(
                request.app[keys.REDIS], text.strip(), 10
            )
        except (embeddings.ModelMissing, ServiceUnavailable):
            hits = []  # no model or no sqlite-vec here: the words still match
        rows = {
            r["id"]: r
            for r in request.app[keys.DB].read(library.tracks.tracks_by_ids, [i for i, _ in hits])
        }
        by_meaning = shown_tracks(
            request.app, held(request, [rows[i] for i, _ in hits if i in rows])
        )
    return render(
        request,
        "search.html",
        q=text,
        found=found,
        by_meaning=by_meaning,
        starred_tracks=stars_of(
            request, "track", [t["id"] for t in (found or {}).get("tracks", [])]
        ),
    )
