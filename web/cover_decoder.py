"""Covers are decoded in a process of their own, never in the web process's heap.

A cover is whatever the files hold: a 6000 x 6000 scan decodes to a hundred megabytes, and
memory a process has grown to stays with it (glibc keeps freed memory, Python's allocator its
arenas). So thumbnails are made by :func:`soniquebay.artwork.thumbnail` in a small pool of
worker processes (one in the low-memory profile, two otherwise), started when the first cover
is asked for, each replaced after :data:`TASKS_PER_WORKER` images, and all stopped after
:data:`IDLE_SECONDS` without work: the web process stays the size it was, and the decoders'
memory goes back to the system.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from soniquebay import artwork

log = logging.getLogger(__name__)

TASKS_PER_WORKER = 200
IDLE_SECONDS = 60.0


class CoverDecoder:
    def __init__(self, workers: int):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0
        self._last = 0.0
        self._closer: asyncio.TimerHandle | None = None
        self.made = 0  # thumbnails made (for tests and /metrics)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),  # nothing of the web inherited
                max_tasks_per_child=TASKS_PER_WORKER,
            )
        return self._pool

    @property
    def running(self) -> bool:
        return self._pool is not None

    def worker_pids(self) -> list[int]:
        return list((self._pool._processes or {}).keys()) if self._pool else []

    async def thumbnail(self, data: bytes, size: int) -> bytes:
        """:func:`artwork.thumbnail` in a decoder process (its :class:`artwork.BadImage`
        passes through)."""
        loop = asyncio.get_running_loop()
        self._busy += 1
        try:
            try:
                image = await loop.run_in_executor(self._executor(), artwork.thumbnail, data, size)
            except BrokenProcessPool:  # a decoder died (killed, out of memory): a fresh pool
                log.warning("a cover decoder process died: starting new ones")
                self._discard()
                image = await loop.run_in_executor(self._executor(), artwork.thumbnail, data, size)
        finally:
            self._busy -= 1
            self._last = time.monotonic()
        self.made += 1
        if self._closer is None:
            self._closer = loop.call_later(IDLE_SECONDS, self._close_if_idle)
        return image

    def _close_if_idle(self) -> None:
        self._closer = None
        idle = time.monotonic() - self._last
        if self._busy == 0 and idle >= IDLE_SECONDS:
            self._discard()
        elif self._pool is not None:
            wait = max(1.0, IDLE_SECONDS - idle)
            self._closer = asyncio.get_running_loop().call_later(wait, self._close_if_idle)

    def _discard(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._closer is not None:
            self._closer.cancel()
            self._closer = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
