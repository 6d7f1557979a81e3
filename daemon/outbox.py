"""The watcher's outbox: pending work is written to a small SQLite file before it goes to Redis.

A dead Redis loses nothing: rows stay until a drain has enqueued them. One row per path, the
latest event winning, so a file touched a hundred times is one row. The file is the daemon's own,
never the library database.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import apsw

SCAN = "scan"  # read the file (new or changed); src set when it was moved from src
REMOVE = "remove"  # the file is gone
REMOVE_TREE = "remove_tree"  # a whole folder is gone
SCAN_TREE = "scan_tree"  # too many events in a folder (or an overflow): reconcile it instead

SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    path BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    src BLOB,
    size INTEGER,
    mtime_ns INTEGER,
    version INTEGER NOT NULL DEFAULT 0,
    queued_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Pending:
    path: bytes
    kind: str
    src: bytes | None
    size: int | None
    mtime_ns: int | None
    version: int


class Outbox:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = apsw.Connection(str(path))
        self._conn.setbusytimeout(5000)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(SCHEMA)
        # Watcher, debouncer and drain threads share the connection: one transaction at a time.
        self._lock = threading.Lock()

    def put_many(self, rows: list[tuple[bytes, str, bytes | None, int | None, int | None]]) -> None:
        """Record (path, kind, src, size, mtime_ns) rows in one transaction; newest kind wins.

        A move followed by a change stays a move (the source is kept), so the track keeps its id.
        """
        now = time.time()
        with self._lock, self._conn:
            self._conn.executemany(
                """INSERT INTO pending (path, kind, src, size, mtime_ns, queued_at) VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (path) DO UPDATE SET
                     kind = excluded.kind,
                     src = CASE WHEN excluded.kind = 'scan' THEN COALESCE(excluded.src, pending.src) END,
                     size = excluded.size, mtime_ns = excluded.mtime_ns,
                     version = pending.version + 1, queued_at = excluded.queued_at""",
                [(*row, now) for row in rows],
            )

    def put(
        self,
        path: bytes,
        kind: str,
        src: bytes | None = None,
        size: int | None = None,
        mtime_ns: int | None = None,
    ) -> None:
        self.put_many([(path, kind, src, size, mtime_ns)])

    def take(self, limit: int) -> list[Pending]:
        """The oldest ``limit`` rows; they stay until :meth:`done` confirms they were enqueued."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT path, kind, src, size, mtime_ns, version FROM pending ORDER BY queued_at LIMIT ?",
                (limit,),
            ).fetchall()
        return [Pending(*row) for row in rows]

    def done(self, items: list[Pending]) -> None:
        """Forget rows that were enqueued, unless a newer event replaced them meanwhile."""
        with self._lock, self._conn:
            self._conn.executemany(
                "DELETE FROM pending WHERE path = ? AND version = ?",
                [(p.path, p.version) for p in items],
            )

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM pending").fetchall()[0][0]

    def close(self) -> None:
        self._conn.close()
