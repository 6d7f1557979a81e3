"""The watcher's outbox: pending work is written to a small SQLite file before it goes to Redis.

A dead Redis loses nothing: rows stay until a drain has enqueued them. One row per path, the
latest event winning, so a file touched a hundred times is one row. The file is the daemon's own,
never the library database.

A full disk loses nothing either: rows that cannot be written are held in memory (``problem``
says why) and written with the next write that succeeds.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import apsw

log = logging.getLogger(__name__)
Row = tuple[bytes, str, bytes | None, int | None, int | None]

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
        self.path = path
        self._held: list[tuple] = []  # rows a full disk refused, oldest first
        self.problem: str | None = None

    def put_many(self, rows: list[Row]) -> None:
        """Record (path, kind, src, size, mtime_ns) rows in one transaction; newest kind wins.

        A move followed by a change stays a move (the source is kept), so the track keeps its id.
        When the disk is full the rows are held and go in with the next write that succeeds.
        """
        now = time.time()
        with self._lock:
            self._held += [(*row, now) for row in rows]
            self._flush()

    def retry(self) -> None:
        """Write held rows, if any and if there is room now."""
        with self._lock:
            if self._held:
                self._flush()

    @property
    def held(self) -> int:
        return len(self._held)

    def _flush(self) -> None:
        try:
            self._write(self._held)
        except (apsw.FullError, apsw.IOError, apsw.CantOpenError) as exc:
            if self.problem is None:
                log.error(
                    "cannot write the outbox %s (%s): %d events held in memory until there is room",
                    self.path,
                    exc,
                    len(self._held),
                )
            self.problem = f"cannot write the watcher's outbox {self.path}: {exc}"
            return
        if self.problem is not None:
            log.info("the outbox can be written again: %d held events written", len(self._held))
        self._held, self.problem = [], None

    def _write(self, rows: list[tuple]) -> None:
        with self._conn:
            self._conn.executemany(
                """INSERT INTO pending (path, kind, src, size, mtime_ns, queued_at) VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (path) DO UPDATE SET
                     kind = excluded.kind,
                     src = CASE WHEN excluded.kind = 'scan' THEN COALESCE(excluded.src, pending.src) END,
                     size = excluded.size, mtime_ns = excluded.mtime_ns,
                     version = pending.version + 1, queued_at = excluded.queued_at""",
                rows,
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
            if self._held:
                self._flush()
            rows = self._conn.execute(
                "SELECT path, kind, src, size, mtime_ns, version FROM pending ORDER BY queued_at LIMIT ?",
                (limit,),
            ).fetchall()
        return [Pending(*row) for row in rows]

    def done(self, items: list[Pending]) -> None:
        """Forget rows that were enqueued, unless a newer event replaced them meanwhile.
        On a full disk they stay, and are enqueued again later: a scan twice is harmless."""
        with self._lock:
            try:
                with self._conn:
                    self._conn.executemany(
                        "DELETE FROM pending WHERE path = ? AND version = ?",
                        [(p.path, p.version) for p in items],
                    )
                if not self._held:
                    self.problem = None
            except (apsw.FullError, apsw.IOError) as exc:
                self.problem = f"cannot write the watcher's outbox {self.path}: {exc}"

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM pending").fetchall()[0][0] + len(
                self._held
            )

    def close(self) -> None:
        self._conn.close()
