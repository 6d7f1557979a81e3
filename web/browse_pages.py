"""The pages people browse: albums (the home page), an album, artists, an artist, tracks,
genres, search. Thin: parse the query, read through the ``library`` façade, render."""

from __future__ import annotations

import json
import os
from urllib.parse import urlencode

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
    user_id,
)

GRID_PAGE = 100
LIST_PAGE = 100
TRACK_PAGE_SORTS = ("artist", "title", "album", "year", "genre", "date_added", "duration", "bpm")
# The track table's columns a click on the header sorts by (the rest through the select).
HEADER_SORTS = {"title": "title", "artist": "artist", "album": "album", "year": "year",
                "genre": "genre", "len": "duration"}  # fmt: skip


def library_counts(request: web.Request) -> dict | None:
    """The library's totals for the pages' headers; None for an account kept to some music
    folders (the totals are the whole library's)."""
    if scope(request) is not None:
        return None
    return request.app[keys.DB].cached_read("counts", library.totals.counts)


SORT_LABELS = {
    "recent": "Recently added", "title": "Title", "artist": "Artist", "year": "Year",
    "played": "Recently played", "plays": "Most played", "rating": "Your rating", "random": "Random",
}  # fmt: skip
ONLY_LABELS = {
    "played": "Played",
    "starred": "Starred",
    "rated": "Rated",
    "rediscover": "To rediscover",
}
# The home page's shelves: (title, sort, only), each a link to its whole list.
SHELVES = (
    ("Recently added", "recent", None),
    ("Recently played", "played", "played"),
    ("Most played", "plays", "played"),
    ("Random", "random", None),
    ("Rediscover", "plays", "rediscover"),
    ("Starred", "recent", "starred"),
)
SHELF_SIZE = 12
GENRE_TRACKS = 50  # on a genre's page; its whole list is /tracks?genre=


def _years(request: web.Request) -> tuple[int | None, int | None]:
    """``decade=1970`` (the 1970s), or ``year_min``/``year_max``: a range of years."""
    decade = query_value(request, "decade", int)
    if decade is not None:
        if decade % 10 or not 0 <= decade <= 9990:
            raise InvalidInput("decade is a year ending in 0, as 1970", details={"field": "decade"})
        return decade, decade + 9
    low, high = query_value(request, "year_min", int), query_value(request, "year_max", int)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return low, high


async def albums_page(request: web.Request) -> web.Response:
    """The home page: shelves (recently added and played, most played, random, to rediscover,
    starred), then the grid; sort by any of SORT_LABELS, filter by genre, year, years, decade,
    folder, and the user's played, starred, rated albums or those to rediscover."""
    sort = request.query.get("sort", "recent")
    if sort not in library.albums.ALBUM_GRID_SORTS:
        raise InvalidInput(f"cannot sort albums by {sort[:40]!r}", details={"field": "sort"})
    only = query_value(request, "only", str) or None
    genre = query_value(request, "genre", str)
    year = query_value(request, "year", int)
    year_min, year_max = _years(request)
    offset = int_param(request, "offset", 0, high=10**7)
    folder = int_param(request, "folder", None, low=1, high=10**6)
    seed = int_param(request, "seed", None, low=0, high=2**31)
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "big") % 2**31  # this visit's shuffle
    within = scope(request, folder)
    user = user_id(request)
    database = request.app[keys.DB]
    chosen = {"genre": genre, "year": year, "year_min": year_min, "year_max": year_max,
              "only": only, "within": within}  # fmt: skip
    albums = database.read(
        library.albums.album_grid, limit=GRID_PAGE, offset=offset, sort=sort, user_id=user,
        seed=seed, **chosen,
    )  # fmt: skip
    total = database.read(
        library.albums.count_album_grid, genre, year, within, year_min=year_min,
        year_max=year_max, only=only, user_id=user,
    ) if only else database.cached_read(
        ("album_grid", genre, year, year_min, year_max, within), library.albums.count_album_grid,
        genre, year, within, year_min=year_min, year_max=year_max,
    )  # fmt: skip
    home = not request.query
    shelves = []
    if home:
        for title, shelf_sort, shelf_only in SHELVES:
            if shelf_only and user is None:
                continue
            row = database.read(
                library.albums.album_grid, limit=SHELF_SIZE, sort=shelf_sort, only=shelf_only,
                within=within, user_id=user, seed=seed,
            )  # fmt: skip
            if row:
                link = f"/albums?sort={shelf_sort}" + (f"&only={shelf_only}" if shelf_only else "")
                shelves.append({"title": title, "albums": row, "link": link + f"&seed={seed}"})
    query = {k: v for k, v in (("sort", sort), ("only", only), ("genre", genre), ("year", year),
             ("year_min", year_min), ("year_max", year_max), ("folder", folder)) if v is not None}  # fmt: skip
    if sort == "random":
        query["seed"] = seed
    genre_tracks = []
    if genre:  # a genre's page lists its tracks too
        rows, _ = database.read(
            library.tracks.list_tracks, limit=GENRE_TRACKS, sort="album",
            filters={"genre": genre, "within": within, "year_min": year_min, "year_max": year_max},
            with_total=False,
        )  # fmt: skip
        genre_tracks = shown_tracks(request.app, rows)
    shown = [a for shelf in shelves for a in shelf["albums"]] + albums
    return render(
        request,
        "albums.html",
        albums=albums,
        shelves=shelves,
        total=total,
        offset=offset,
        page_size=GRID_PAGE,
        sort=sort,
        sorts=SORT_LABELS
        if user is not None
        else {k: v for k, v in SORT_LABELS.items() if k not in library.albums.PER_USER_SORTS},
        only=only,
        onlys=ONLY_LABELS if user is not None else {},
        genre=genre,
        year=year,
        year_min=year_min,
        year_max=year_max,
        decades=sorted(
            {y // 10 * 10 for y in database.cached_read("years", library.albums.album_years)},
            reverse=True,
        ),
        folder=folder,
        folders=folders_seen(request),
        genres=database.cached_read(("genres", within), library.genres.genres, within),
        years=database.cached_read("years", library.albums.album_years),
        counts=library_counts(request),
        starred=stars_of(request, "album", [a["id"] for a in shown]),
        page_query=urlencode(query),
        genre_tracks=genre_tracks,
        starred_tracks=stars_of(request, "track", [t["id"] for t in genre_tracks]),
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
    sort = request.query.get("sort", "name")
    if sort not in library.artists.CARD_SORTS:
        raise InvalidInput(f"cannot sort artists by {sort[:40]!r}", details={"field": "sort"})
    artists = database.read(
        library.artists.artist_cards, limit=LIST_PAGE, offset=offset, within=within, sort=sort,
        user_id=user_id(request),
    )  # fmt: skip
    return render(
        request,
        "artists.html",
        artists=artists,
        total=database.cached_read(("artist_count", within), library.artists.count_artists, within),
        offset=offset,
        page_size=LIST_PAGE,
        sort=sort,
        sorts={"name": "Name", "albums": "Album count", "plays": "Your plays"}
        if user_id(request) is not None
        else {"name": "Name", "albums": "Album count"},
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
    genre = query_value(request, "genre", str)
    year_min, year_max = _years(request)
    database = request.app[keys.DB]
    rows, _ = database.read(
        library.tracks.list_tracks,
        limit=LIST_PAGE + 1,
        sort=sort,
        descending=descending,
        cursor=cursor,
        filters={
            "within": scope(request, folder),
            "genre": genre,
            "year_min": year_min,
            "year_max": year_max,
        },  # fmt: skip
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
        header_sorts=HEADER_SORTS,
        filter_query=urlencode(
            {
                k: v
                for k, v in (
                    ("genre", genre),
                    ("year_min", year_min),
                    ("year_max", year_max),
                    ("folder", folder),
                )
                if v is not None
            }
        ),  # fmt: skip
        genre=genre,
        year_min=year_min,
        year_max=year_max,
        genres=database.cached_read(
            ("genres", scope(request)), library.genres.genres, scope(request)
        ),
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
