"""The web process's copy of the similarity space (:mod:`soniquebay.library.similarity`).

Building it reads every analysed track (about a second at 100,000 tracks here, several on a
Pi), so it is never built on the event loop: a thread with its own read-only connection
builds it, at most once every ``REFRESH_SECONDS``, and only when the analysed tracks changed.
Until the first one is ready, callers wait for it; after that they get the last one built.

"More like this" (:meth:`SoundsLike.similar`) fuses that space's nearest with the nearest by
text vector (the sqlite-vec index, :mod:`soniquebay.web.semantic`) where a track has both,
and keeps each answer in Redis until either space changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time

import redis.asyncio as aioredis
from aiohttp import web

from soniquebay import library, names
from soniquebay.errors import Conflict
from soniquebay.library import db, duplicates, similarity
from soniquebay.web import keys

REFRESH_SECONDS = 30.0
NEIGHBOURS_SECONDS = 3600


class SoundsLike:
    def __init__(self, db_path):
        self.db_path = db_path
        self.space: similarity.Space | None = None
        self._stamp: tuple | None = None
        self._checked = 0.0
        self._lock = asyncio.Lock()
        self._local = threading.local()

    async def current(self) -> similarity.Space:
        if self.space is not None and time.monotonic() - self._checked < REFRESH_SECONDS:
            return self.space
        async with self._lock:
            if self.space is None or time.monotonic() - self._checked >= REFRESH_SECONDS:
                self._checked = time.monotonic()
                loop = asyncio.get_running_loop()
                stamp, space = await loop.run_in_executor(None, self._build, self._stamp)
                if space is not None:
                    self.space, self._stamp = space, stamp
        return self.space

    async def similar(self, app: web.Application, track_id: int, count: int) -> list[int]:
        """Up to ``count`` present tracks most like ``track_id`` (it excluded), nearest first."""
        within, semantic = await self.current(), app[keys.SEMANTIC]
        links = app[keys.DB].read(duplicates.generation)  # one copy per recording: new links
        version = hashlib.sha1(repr((self._stamp, semantic.version, links)).encode()).hexdigest()
        version = version[:16]
        key = f"{names.NEIGHBOURS_PREFIX}{version}:{track_id}:{count}"
        client = app[keys.REDIS]
        try:
            cached = await client.get(key)
        except (aioredis.RedisError, OSError):
            cached = None  # Redis down: compute it
        if cached:
            return json.loads(cached)
        by_meaning = await semantic.near_track(track_id, similarity.POOL)
        ids = app[keys.DB].read(
            similarity.similar_ids, track_id, count, within, [i for i, _ in by_meaning]
        )
        try:
            await client.set(key, json.dumps(ids), ex=NEIGHBOURS_SECONDS)
        except (aioredis.RedisError, OSError):
            pass
        return ids

    async def sonic_similar(self, track_id: int, count: int) -> list[tuple[int, float]]:
        """(id, similarity 0..1) of the tracks that sound most like ``track_id``, by the audio
        analysis alone; [] when it has none yet."""
        within = await self.current()
        return await self._off_loop(similarity.sonic_similar, within, track_id, count)

    async def sonic_path(self, start: int, end: int, count: int) -> list[tuple[int, float]]:
        """(id, similarity to ``start``) of a route from one sound to the other; a
        :class:`Conflict` naming the track that has no audio analysis yet."""
        within = await self.current()
        found = await self._off_loop(similarity.sonic_path, within, start, end, count)
        if not found:
            missing = [i for i in (start, end) if not self.analysed(i)] or [start]
            raise Conflict(
                f"track {missing[0]} has no audio analysis yet", details={"ids": missing}
            )
        return found

    async def _off_loop(self, fn, *args):
        """``fn(connection, *args)`` on a worker thread with that thread's own read-only
        connection: a search of the whole space (tens of ms at 100,000 tracks) never holds the
        event loop, and numpy lets other requests run meanwhile."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: fn(self._thread_reader(), *args))

    def _thread_reader(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = db.connect(self.db_path, readonly=True)
        return conn

    def analysed(self, track_id: int) -> bool:
        return self.space is not None and track_id in self.space.row

    def _build(self, known: tuple | None) -> tuple[tuple, similarity.Space | None]:
        conn = db.connect(self.db_path, readonly=True)
        try:
            stamp = tuple(
                conn.execute(
                    """SELECT count(*) AS n, max(analyzed_at) AS last, max(updated_at) AS changed
                       FROM tracks WHERE analyzed_at IS NOT NULL AND missing_since IS NULL"""
                )
                .fetchall()[0]
                .values()
            )
            return stamp, (None if stamp == known else similarity.space(conn))
        finally:
            conn.close()


async def sounds_like_ctx(app: web.Application):
    app[keys.SOUNDS_LIKE] = SoundsLike(app[keys.SETTINGS].db_path)
    yield


async def mix_ids(app: web.Application, track: dict, limit: int) -> list[int]:
    """The instant mix from ``track``: the seed, then ``limit`` tracks; a track not analysed
    yet gets its nearest by tags."""
    database, sounds = app[keys.DB], app[keys.SOUNDS_LIKE]
    within = await sounds.current()
    pool = await sounds.similar(app, track["id"], max(100, limit * 4))  # the blended space's
    if track["id"] not in within.row:
        return [track["id"], *pool[:limit]]
    artists = {
        r["id"]: r["track_artist_id"]
        for r in database.read(library.tracks.tracks_by_ids, [*pool, track["id"]])
    }
    return similarity.mix(within, track["id"], limit, artists, candidates=pool)
