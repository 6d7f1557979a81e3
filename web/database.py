"""The web process's hold on the library database: one writer thread, one reader.

Batch writes run one at a time on a dedicated thread (SQLite wants a single writer and large
transactions); reads are short and run inline.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import apsw

from soniquebay.errors import StorageFull
from soniquebay.library import db

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
# A façade function: the connection first, then its own arguments (typed through read/write).
StorageFn = Callable[Concatenate[apsw.Connection, P], T]
CACHE_SECONDS = 5.0


class ReadCache:
    """Read results (list totals) kept while the data they came from is unchanged: each
    ``get`` says the data's current version, and a new version drops them all. Bounded."""

    SIZE = 256

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}
        self._version: Any = None

    def get(self, version: Any, key: Any, compute: Callable[[], T]) -> T:
        if version != self._version:
            self._values.clear()
            self._version = version
        try:
            return self._values[key]
        except KeyError:
            if len(self._values) > self.SIZE:
                self._values.clear()
            value = self._values[key] = compute()
            return value


class Database:
    def __init__(self, path: Path, backup_dir: Path):
        self.path = path
        self.writer = db.connect(path)
        applied = db.migrate(self.writer, backup_dir=backup_dir)
        if applied:
            log.info("database schema now at version %d", db.schema_version(self.writer))
        self.problems = db.integrity_problems(self.writer)
        if self.problems:
            log.error("database integrity check failed: %s", "; ".join(self.problems[:5]))
        self.reader = db.connect(path)
        # The reader belongs to the event loop's thread; a plugin hook on a thread of its own
        # (on_event, on_listen) reads through a connection of that thread (apsw refuses one
        # connection in two threads at once).
        self._owner = threading.get_ident()
        self._local = threading.local()
        self._thread_readers: list = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")
        # Bumped by every write: cached read results (list totals) are valid for one generation.
        self.generation = 0
        self._cache = ReadCache()
        self._cache_epoch, self._cache_time = 0, 0.0  # and at most CACHE_SECONDS old
        self.written = asyncio.Event()  # set by every write; cleared by whoever waits on it

    async def write(self, fn: StorageFn[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._executor, functools.partial(fn, self.writer, *args, **kwargs)
            )
        except apsw.FullError:
            raise StorageFull(
                f"no space left for the library database in {self.path.parent}: nothing was"
                " written; try again when there is room"
            ) from None
        finally:
            self.generation += 1
            self.written.set()

    def writer_call(self, fn: StorageFn[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A write at start-up, before the event loop serves anyone (no other writer yet)."""
        self.generation += 1
        return fn(self.writer, *args, **kwargs)

    def cached_read(self, key: Any, fn: StorageFn[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``read``, remembered until the next write: a count over 100,000 rows is not free.

        Another process writing the database (a CLI scan with --direct) is not seen until this
        process writes; the cache is also dropped after a few seconds to bound that.
        """
        now = time.monotonic()
        if now - self._cache_time > CACHE_SECONDS:
            self._cache_epoch, self._cache_time = self._cache_epoch + 1, now
        version = (self.generation, self._cache_epoch)
        return self._cache.get(version, key, lambda: fn(self._reader(), *args, **kwargs))

    def read(self, fn: StorageFn[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(reader, *args, **kwargs)``: a façade read (``library.tracks.get_track``...),
        its arguments and answer typed through."""
        return fn(self._reader(), *args, **kwargs)

    def _reader(self) -> apsw.Connection:
        if threading.get_ident() == self._owner:
            return self.reader
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = db.connect(self.path, readonly=True)
            self._thread_readers.append(conn)
        return conn

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for conn in self._thread_readers:
            conn.close()
        self.reader.close()
        self.writer.close()
