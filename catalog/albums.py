"""Albums and artists as every front door lists them."""

from __future__ import annotations

from dataclasses import dataclass

from soniquebay import library
from soniquebay.catalog import Page, Reads, page


@dataclass(frozen=True)
class AlbumQuery:
    limit: int = 50
    offset: int = 0
    artist_id: int | None = None
    year_min: int | None = None
    year_max: int | None = None
    q: str | None = None
    sort: str = "title"
    descending: bool = False


def albums_page(db: Reads, query: AlbumQuery) -> Page:
    """A page of albums; the total (counting who is visible is not free) is kept until the
    next write, whatever the page."""
    rows, _ = db.read(
        library.albums.list_albums,
        limit=query.limit,
        offset=query.offset,
        artist_id=query.artist_id,
        year_min=query.year_min,
        year_max=query.year_max,
        q=query.q,
        sort=query.sort,
        descending=query.descending,
        with_total=False,
    )
    total = db.cached_read(
        ("albums", query.artist_id, query.year_min, query.year_max, query.q),
        library.albums.count_albums,
        query.artist_id,
        query.year_min,
        query.year_max,
        query.q,
    )
    return page(rows, total, query.limit, query.offset)


def of_artist(db: Reads, artist_id: int, query: AlbumQuery) -> Page:
    """An artist's albums (NotFound for no such artist), the total counted."""
    db.read(library.artists.get_artist, artist_id)
    rows, total = db.read(
        library.albums.list_albums,
        limit=query.limit,
        offset=query.offset,
        artist_id=artist_id,
        sort=query.sort,
        descending=query.descending,
    )
    return page(rows, total, query.limit, query.offset)


@dataclass(frozen=True)
class ArtistQuery:
    limit: int = 50
    offset: int = 0
    q: str | None = None
    sort: str = "name"
    descending: bool = False


def artists_page(db: Reads, query: ArtistQuery) -> Page:
    """A page of artists, kept whole until the next write: counting who is visible is not
    free."""
    rows, total = db.cached_read(
        ("artists", query),
        library.artists.list_artists,
        limit=query.limit,
        offset=query.offset,
        q=query.q,
        sort=query.sort,
        descending=query.descending,
    )
    return page(rows, total, query.limit, query.offset)
