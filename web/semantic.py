"""Semantic search: a query in words, embedded by the same model as the tracks' text vectors
(``embedding_model``), against every track's vector by cosine similarity.

The vectors are read on a thread with its own read-only connection into one float32 matrix,
again only when they changed (at most every ``REFRESH_SECONDS``); the query's embedding is
computed on a thread too, and kept in Redis for a day (the same words cost nothing twice).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

import numpy as np
import redis.asyncio as aioredis
from aiohttp import web

from soniquebay import embeddings, names
from soniquebay.library import db, vectors
from soniquebay.web import keys

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0
QUERY_CACHE_SECONDS = 86400


class SemanticIndex:
    def __init__(self, db_path, model_name: str):
        self.db_path, self.model_name = db_path, model_name
        self.ids: np.ndarray = np.zeros(0, dtype=np.int64)
        self.matrix: np.ndarray = np.zeros((0, embeddings.DIMENSION), dtype=np.float32)
        self._stamp: tuple | None = None
        self._checked = 0.0
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        if time.monotonic() - self._checked < REFRESH_SECONDS and self._stamp is not None:
            return
        async with self._lock:
            if time.monotonic() - self._checked < REFRESH_SECONDS and self._stamp is not None:
                return
            self._checked = time.monotonic()
            loaded = await asyncio.get_running_loop().run_in_executor(None, self._load, self._stamp)
            if loaded is not None:
                self._stamp, self.ids, self.matrix = loaded

    def _load(self, known: tuple | None):
        conn = db.connect(self.db_path, readonly=True)
        try:
            now = vectors.stamp(conn, embeddings.TEXT_VECTOR)
            if now == known:
                return None
            ids, blob, dimension = vectors.matrix(conn, embeddings.TEXT_VECTOR)
            matrix = np.frombuffer(blob, dtype="<f4").reshape(
                len(ids), dimension or embeddings.DIMENSION
            )
            return now, np.asarray(ids, dtype=np.int64), matrix
        finally:
            conn.close()

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

    async def search(
        self, client: aioredis.Redis, text: str, limit: int
    ) -> list[tuple[int, float]]:
        """(track id, cosine similarity) best first."""
        await self.refresh()
        if not len(self.ids):
            return []
        query = await self.embed(client, text)
        if query.shape[0] != self.matrix.shape[1]:
            return []  # vectors from another model: until they are embedded again
        scores = self.matrix @ query
        top = (
            np.argpartition(-scores, limit - 1)[:limit]
            if limit < len(scores)
            else np.arange(len(scores))
        )
        top = top[np.argsort(-scores[top])]
        return [(int(self.ids[i]), float(scores[i])) for i in top]


async def semantic_ctx(app: web.Application):
    settings = app[keys.SETTINGS]
    app[keys.SEMANTIC] = SemanticIndex(settings.db_path, settings.embedding_model)
    yield
