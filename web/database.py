"""The web process's hold on the library database: one writer thread, one reader.

Batch writes run one at a time on a dedicated thread (SQLite wants a single writer and large
transactions); reads are short and run inline.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from soniquebay.library import db

log = logging.getLogger(__name__)
T = TypeVar("T")


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
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(fn, self.writer, *args, **kwargs)
        )

    def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return fn(self.reader, *args, **kwargs)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.reader.close()
        self.writer.close()
