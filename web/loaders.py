"""Batch loading for GraphQL: one query per relation per level, not one per parent (no N+1).

A resolver asks ``loader.load(key)`` and gets a future; every key asked for in the same turn of
the event loop is fetched by one call of the batch function, which reads the database once.
One set of loaders per request, so nothing is cached between requests.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from soniquebay import library
from soniquebay.library import sql, vectors
from soniquebay.web.database import Database

BatchFn = Callable[[Sequence[Hashable]], dict[Hashable, Any]]


class Loader:
    def __init__(self, batch_fn: BatchFn):
        self.batch_fn = batch_fn
        self._cache: dict[Hashable, asyncio.Future] = {}
        self._pending: dict[Hashable, asyncio.Future] = {}

    def load(self, key: Hashable) -> asyncio.Future:
        future = self._cache.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = self._cache[key] = loop.create_future()
            self._pending[key] = future
            if len(self._pending) == 1:
                loop.call_soon(self._dispatch)
        return future

    def _dispatch(self) -> None:
        pending, self._pending = self._pending, {}
        try:
            results = self.batch_fn(list(pending))
        except Exception as exc:  # every waiter sees the failure
            for future in pending.values():
                if not future.done():
                    future.set_exception(exc)
            return
        for key, future in pending.items():
            if not future.done():
                future.set_result(results.get(key))


def then(future: asyncio.Future, fn: Callable[[Any], Any]) -> asyncio.Future:
    """A future of ``fn(result)``: a resolver shapes what a loader gives each object without a
    coroutine, which the executor would wrap in a task of its own (50 albums, 50 tasks)."""
    out = future.get_loop().create_future()

    def done(source: asyncio.Future) -> None:
        if out.done():
            return
        if source.cancelled():
            out.cancel()
        elif (error := source.exception()) is not None:
            out.set_exception(error)
        else:
            try:
                out.set_result(fn(source.result()))
            except Exception as exc:
                out.set_exception(exc)

    future.add_done_callback(done)
    return out


def _group(rows: list[dict], key: str) -> dict[Hashable, list[dict]]:
    grouped: dict[Hashable, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


class Loaders:
    """The loaders of one GraphQL request."""

    def __init__(self, database: Database):
        read = self._read = database.read
        self.artist = Loader(
            lambda ids: {r["id"]: r for r in read(library.artists.artists_by_ids, ids)}
        )
        # Without track_count, which reads every track of each artist: for a name beside an album.
        self.artist_uncounted = Loader(
            lambda ids: {
                r["id"]: r for r in read(library.artists.artists_by_ids, ids, counted=False)
            }
        )
        self.album = Loader(
            lambda ids: {r["id"]: r for r in read(library.albums.albums_by_ids, ids)}
        )
        self.track = Loader(
            lambda ids: {
                r["id"]: sql.public_track(r) for r in read(library.tracks.tracks_by_ids, ids)
            }
        )
        self.artist_albums = Loader(
            lambda ids: _group(read(library.albums.albums_by_artist_ids, ids), "album_artist_id")
        )
        self.artist_appears_on = Loader(
            lambda ids: _group(read(library.albums.appears_on_by_artist_ids, ids), "for_artist_id")
        )
        self.credits = Loader(lambda ids: read(library.tracks.credits, ids))
        self.track_vectors = Loader(
            lambda ids: _group(read(vectors.vectors_by_track_ids, ids), "track_id")
        )
        self._artist_tracks: dict[tuple[int, int], Loader] = {}
        self.memo: dict[Any, Any] = {}  # what resolvers work out once per request
        self._album_tracks: dict[tuple[str, ...] | None, Loader] = {}

    def album_tracks(self, columns: tuple[str, ...] | None = None) -> Loader:
        """Albums' present tracks, every column or only ``columns``; one loader per set asked."""
        if columns not in self._album_tracks:
            read = self._read  # not self: a closure held by self would be a reference cycle

            def batch(ids: Sequence[Hashable]) -> dict[Hashable, Any]:
                rows = read(library.tracks.tracks_by_album_ids, ids, columns)
                return {
                    k: [sql.public_track(r, copy=False) for r in group]
                    for k, group in _group(rows, "album_id").items()
                }

            self._album_tracks[columns] = Loader(batch)
        return self._album_tracks[columns]

    def artist_tracks(self, limit: int, offset: int) -> Loader:
        """A page of tracks per artist; one loader per (limit, offset) asked for."""
        key = (limit, offset)
        if key not in self._artist_tracks:
            read = self._read

            def batch(ids: Sequence[Hashable]) -> dict[Hashable, Any]:
                rows = read(library.tracks.tracks_by_artist_ids, ids, limit, offset)
                return _group(rows, "track_artist_id")

            self._artist_tracks[key] = Loader(batch)
        return self._artist_tracks[key]
