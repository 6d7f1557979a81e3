"""Opening the library database: WAL, foreign keys, versioned migrations, backups, checks.

SQLite on an SD card wants one writer and big transactions: only the web process opens the
database for writing; the watcher opens it read-only to reconcile.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import time
from importlib import resources
from pathlib import Path

import apsw

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


def _dict_rows(cursor: apsw.Cursor, row: tuple) -> dict:
    return {name: value for (name, _), value in zip(cursor.getdescription(), row, strict=True)}


def load_vec(conn: apsw.Connection) -> None:
    """sqlite-vec into this connection (the vector index's ``vec0`` tables need it in every
    connection that touches them); SQL itself may not load extensions afterwards."""
    global _vec_failure
    if _vec_failure is not None:
        return
    try:
        conn.enable_load_extension(True)
        conn.load_extension(_vec_path())
    except (ImportError, apsw.Error) as exc:
        _vec_failure = f"sqlite-vec could not be loaded: {exc}"
        log.warning(
            "%s; semantic search will answer 503, more like this uses the sound alone", _vec_failure
        )
    finally:
        conn.enable_load_extension(False)


_vec_failure: str | None = None


@functools.cache
def _vec_path() -> str:
    """sqlite_vec.loadable_path() without importing the package, whose ``__init__`` imports
    numpy (15 MB in every process that opens the library, the watcher included)."""
    spec = importlib.util.find_spec("sqlite_vec")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the sqlite-vec package is not installed")
    return os.path.join(spec.submodule_search_locations[0], "vec0")


def vec_failure() -> str | None:
    """Why sqlite-vec did not load in this process, if it did not."""
    return _vec_failure


def has_vec(conn: apsw.Connection) -> bool:
    """Whether sqlite-vec is loaded in ``conn``."""
    try:
        conn.execute("SELECT vec_version()").fetchall()
    except apsw.SQLError:
        return False
    return True


def connect(path: Path | str, *, readonly: bool = False) -> apsw.Connection:
    """Open the library database; rows come back as dicts."""
    flags = (
        apsw.SQLITE_OPEN_READONLY
        if readonly
        else apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
    )
    if not readonly:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = apsw.Connection(str(path), flags=flags)
    conn.setbusytimeout(BUSY_TIMEOUT_MS)
    conn.row_trace = _dict_rows
    load_vec(conn)
    if not readonly:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(
        "PRAGMA synchronous=NORMAL"
    )  # safe with WAL: a power cut loses at most the last commit
    conn.execute("PRAGMA cache_size=-8000")  # 8 MB: small enough for a 1 GB Pi
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped in library/migrations, in order."""
    found = []
    for entry in resources.files("soniquebay.library").joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def schema_version(conn: apsw.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchall()[0]["user_version"]


def pending_migrations(conn: apsw.Connection) -> list[tuple[int, str, str]]:
    current = schema_version(conn)
    return [m for m in migrations() if m[0] > current]


def migrate(conn: apsw.Connection, *, backup_dir: Path | None = None) -> list[str]:
    """Apply pending migrations, each in its own transaction; back up first if there is data."""
    pending = pending_migrations(conn)
    if not pending:
        return []
    if backup_dir is not None and schema_version(conn) > 0:
        backup(conn, backup_dir, reason=f"before-v{pending[-1][0]}")
    applied = []
    for version, name, sql in pending:
        with conn:
            conn.execute(sql)
            conn.execute(f"PRAGMA user_version={int(version)}")
        log.info("applied migration %s", name)
        applied.append(name)
    return applied


def backup(
    conn: apsw.Connection, backup_dir: Path, *, reason: str = "periodic", keep: int = 3
) -> Path:
    """Copy the live database with SQLite's online backup API; keep the newest ``keep`` copies."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    dest = backup_dir / f"library-{time.strftime('%Y%m%d-%H%M%S')}-{reason}.db"
    target = apsw.Connection(str(dest))
    try:
        with target.backup("main", conn, "main") as job:
            while not job.done:
                job.step(
                    256
                )  # pages at a time: other readers and the writer keep going between steps
    finally:
        target.close()
    copies = sorted(backup_dir.glob("library-*.db"))
    for old in copies[:-keep] if keep else []:
        old.unlink(missing_ok=True)
    return dest


def integrity_problems(conn: apsw.Connection) -> list[str]:
    """``PRAGMA quick_check``: an empty list means the database is sound."""
    rows = [r["quick_check"] for r in conn.execute("PRAGMA quick_check")]
    return [] if rows == ["ok"] else rows


def checkpoint(conn: apsw.Connection) -> None:
    """Fold the WAL back into the database file so it does not grow without bound."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
