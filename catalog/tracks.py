"""Tracks as every front door asks for them: a page, the library's display of a page, one
track in detail for the person asking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from soniquebay import library
from soniquebay.catalog import Page, Reads, page
from soniquebay.library import annotations, duplicates, edits, layers, sql, stage_data


@dataclass(frozen=True)
class TrackQuery:
    """Which page of tracks: filters (:data:`~soniquebay.library.tracks.TRACK_FILTERS`, and
    ``album_id``/``artist_id``), an order, and either an offset or a keyset cursor."""

    limit: int = 50
    offset: int = 0
    sort: str = "id"
    descending: bool = False
    filters: dict[str, Any] = field(default_factory=dict)
    cursor: str | None = None


def page_of(db: Reads, query: TrackQuery) -> Page:
    """Public track rows; the total is kept until the next write (a count over 100,000 rows
    is not free), ``next_cursor`` given when the page is full."""
    rows, _ = db.read(
        library.tracks.list_tracks,
        limit=query.limit,
        offset=query.offset,
        sort=query.sort,
        descending=query.descending,
        filters=query.filters,
        cursor=query.cursor,
        with_total=False,
    )
    total = db.cached_read(
        ("tracks", tuple(sorted(query.filters.items()))), library.tracks.count_tracks, query.filters
    )
    next_cursor = (
        library.tracks.track_cursor(rows[-1], query.sort) if len(rows) == query.limit else None
    )
    return page([sql.public_track(r) for r in rows], total, query.limit, query.offset, next_cursor)


def of_artist(db: Reads, artist_id: int, query: TrackQuery) -> Page:
    """An artist's tracks (NotFound for no such artist), the total counted."""
    db.read(library.artists.get_artist, artist_id)
    rows, total = db.read(
        library.tracks.list_tracks,
        limit=query.limit,
        offset=query.offset,
        sort=query.sort,
        descending=query.descending,
        artist_id=artist_id,
    )
    return page([sql.public_track(r) for r in rows], total, query.limit, query.offset)


def of_album(db: Reads, album_id: int, limit: int, offset: int) -> Page:
    """An album's tracks in disc and track order (NotFound for no such album)."""
    db.read(library.albums.get_album, album_id)
    rows, total = db.read(
        library.tracks.list_tracks, limit=limit, offset=offset, sort="album", album_id=album_id
    )
    return page([sql.public_track(r) for r in rows], total, limit, offset)


def listed(db: Reads, query: TrackQuery, prefer: str | None) -> Page:
    """A page as lists show it: with the credits, and ``display`` when ``prefer`` (the
    ``metadata_prefer`` setting) is given."""
    found = page_of(db, query)
    shown(db, found["items"], prefer)
    return found


def shown(db: Reads, tracks: list[dict], prefer: str | None) -> list[dict]:
    """Public tracks given their credit lists and, with ``prefer``, ``display``: the file's
    tags, the person's edits and the enrichment combined as the library shows them."""
    ids = [t["id"] for t in tracks]
    credited = db.read(library.tracks.credits, ids)
    for track in tracks:
        track.update(credited[track["id"]])
    if prefer is None:
        return tracks
    return layers.display_many(
        tracks, db.read(stage_data.plugin_data, ids), db.read(edits.edits_of_many, ids), prefer
    )


def rows_shown(db: Reads, rows: list[dict], prefer: str) -> list[dict]:
    """Track rows, public and shown (:func:`shown`)."""
    return shown(db, [sql.public_track(r) for r in rows], prefer)


def by_ids_shown(db: Reads, ids: list[int], prefer: str) -> list[dict]:
    """The tracks of ``ids``, in that order, shown; ids not in the library are left out."""
    rows = {r["id"]: r for r in db.read(library.tracks.tracks_by_ids, ids)}
    return rows_shown(db, [rows[i] for i in ids if i in rows], prefer)


NOTHING_KEPT = {"starred_at": None, "rating": None, "play_count": 0, "last_played": None}


def detail(db: Reads, track_id: int, user_id: int | None, prefer: str) -> dict[str, Any]:
    """One track in detail: its credits, every plugin's data, its stages' failures, its
    duplicates, its metadata layers, and (for a user) what they keep of it: star, rating,
    plays. NotFound when there is no such track."""
    row = db.read(library.tracks.get_track, track_id)
    track = sql.public_track(row)
    track.update(db.read(library.tracks.credits, [track_id])[track_id])
    plugin_data = db.read(stage_data.plugin_data, [track_id])[track_id]
    track["plugin_data"] = plugin_data
    track["stage_failures"] = db.read(stage_data.failures, track_id)
    track["duplicates"] = [
        {**d, "path": sql.display_path(d["path"])} for d in db.read(duplicates.of_track, track_id)
    ]
    layers.with_layers(track, plugin_data, prefer, db.read(edits.edits_of, track_id))
    if user_id is not None:
        mine = db.read(annotations.of_items, user_id, "track", [track_id]).get(track_id)
        track["me"] = mine or dict(NOTHING_KEPT)
    return track
