"""Semantic search: a query in words, embedded by the same model as the tracks' text vectors
(``embedding_model``), against the sqlite-vec index of those vectors
(:mod:`soniquebay.library.vector_index`).

The index follows ``track_vectors`` on the writer thread (within a second or so, in small
transactions, only after writes); queries run on a thread with a read-only connection of its
own, so a search never holds the event loop. A query's embedding is computed on a thread
too, and kept in Redis for a day (the same words cost nothing twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
import time

import apsw
import redis.asyncio as aioredis
from aiohttp import web

from soniquebay import embeddings, lazy, names
from soniquebay.errors import ServiceUnavailable
from soniquebay.library import db, vector_index
from soniquebay.web import keys

log = logging.getLogger(__name__)
np = lazy.module("numpy")  # with the first query

SYNC_DELAY = 0.5  # after a write, for the writes that follow it to land in one sync
QUERY_CACHE_SECONDS = 86400


class SemanticIndex:
    def __init__(self, database, model_name: str):
        self.database, self.model_name = database, model_name
        self.available = db.has_vec(database.reader)
        self.synced_generation = -1
        self.indexed = 0  # tracks the index holds
        self.version = time.time()  # changes whenever the index does (cached neighbours key on it)
        self._local = threading.local()
        self._connections: list[apsw.Connection] = []

    async def keep_synced(self) -> None:
        """Forever: after any write, bring the index up to date, a batch at a time."""
        while self.available:
            if self.database.generation != self.synced_generation:
                try:
                    while await self.database.write(vector_index.sync, embeddings.TEXT_VECTOR):
                        self.version = time.time()
                    # Read at once after the last batch: a write queued behind it has not
                    # bumped the generation yet (its completion runs on this loop, later).
                    self.synced_generation = self.database.generation
                    self.indexed = self.database.read(vector_index.size, embeddings.TEXT_VECTOR)
                except Exception:
                    log.exception("the vector index could not be brought up to date; will retry")
                    await asyncio.sleep(5)
            self.database.written.clear()
            if self.database.generation == self.synced_generation:
                await self.database.written.wait()
            await asyncio.sleep(SYNC_DELAY)

    async def embed(self, client: aioredis.Redis, text: str) -> np.ndarray:
        key = (
            names.QUERY_EMBEDDING_PREFIX
            + hashlib.sha1(f"{self.model_name}\0{text}".encode()).hexdigest()
        )
        try:
            cached = await client.get(key)
        except (aioredis.RedisError, OSError):
            cached = None  # Redis down: compute it, search still answers
        if cached:
            return np.frombuffer(bytes.fromhex(cached), dtype="<f4")
        model = embeddings.model(self.model_name)
        vector = (await asyncio.get_running_loop().run_in_executor(None, model.encode, [text]))[0]
        try:
            await client.set(key, vector.astype("<f4").tobytes().hex(), ex=QUERY_CACHE_SECONDS)
        except (aioredis.RedisError, OSError):
            pass
        return vector

    def _reader(self) -> apsw.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = db.connect(self.database.path, readonly=True)
            self._connections.append(conn)
        return conn

    async def nearest(self, query: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """(track id, cosine similarity) of the present tracks nearest ``query``, best first."""
        if not self.available:
            raise ServiceUnavailable(
                "semantic search needs the sqlite-vec extension, which did not load here"
                " (see `soniquebay doctor`)"
            )
        return await asyncio.get_running_loop().run_in_executor(
            None,
            lambda: vector_index.search(self._reader(), embeddings.TEXT_VECTOR, query, limit),
        )

    async def near_track(self, track_id: int, limit: int) -> list[tuple[int, float]]:
        """The tracks whose text vectors are nearest this one's (none without sqlite-vec)."""
        if not self.available:
            return []
        return await asyncio.get_running_loop().run_in_executor(
            None,
            lambda: vector_index.neighbours(
                self._reader(), embeddings.TEXT_VECTOR, track_id, limit
            ),
        )

    async def search(
        self, client: aioredis.Redis, text: str, limit: int
    ) -> list[tuple[int, float]]:
        """(track id, cosine similarity) best first, none below the model's ``min_similarity``
        (words it does not know well find nothing, rather than ten tracks at random)."""
        floor = embeddings.model(self.model_name).min_similarity
        found = await self.nearest(await self.embed(client, text), limit)
        return [(track_id, score) for track_id, score in found if score >= floor]

    def close(self) -> None:
        for conn in self._connections:
            conn.close()


async def semantic_ctx(app: web.Application):
    index = app[keys.SEMANTIC] = SemanticIndex(app[keys.DB], app[keys.SETTINGS].embedding_model)
    task = asyncio.create_task(index.keep_synced(), name="vector-index")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    index.close()
