"""Room on the data folder's disk: what health reports, and what the watcher waits for.

SQLite, the outbox and Redis's append-only file all live in the data folder; when its disk is
full their writes fail (nothing is lost: the outbox holds events in memory, Redis refuses writes
until it can persist them, the library folders are read again once there is room).
"""

from __future__ import annotations

import shutil
from pathlib import Path

FULL_BELOW = 4 << 20  # bytes: under this, writes of the database, the outbox and Redis fail
LOW_BELOW = 256 << 20


def free_bytes(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n // 1024} KiB"


def full(path: Path) -> str | None:
    """Why nothing can be stored, or None."""
    free = free_bytes(path)
    if free is None or free >= FULL_BELOW:
        return None
    return (
        f"no space left on {path} ({_size(free)} free): nothing can be stored until there is"
        " room; files that land meanwhile are read once there is"
    )


def low(path: Path) -> str | None:
    free = free_bytes(path)
    if free is None or free < FULL_BELOW or free >= LOW_BELOW:
        return None
    return f"little space left on {path}: {_size(free)} free"
