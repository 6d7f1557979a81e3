"""Start-up reconcile: bring the library in line with the folders after the daemon was down.

New or changed files (size or mtime differ from the database) are queued for reading; unchanged
files are not read again; files that are gone are queued for "missing", unless their root is
offline (unplugged or empty), in which case nothing under it is touched.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from soniquebay.daemon.outbox import REMOVE, SCAN, Outbox
from soniquebay.library_roots import is_online, walk_audio

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    scanned_files: int = 0
    to_read: int = 0
    still_changing: int = 0
    gone: int = 0
    offline_roots: list[str] = field(default_factory=list)
    unreadable: list[bytes] = field(default_factory=list)  # folders that could not be listed


def reconcile(
    roots: tuple[Path, ...],
    extensions: frozenset[str],
    known: dict[bytes, tuple[int, int, bool]],
    outbox: Outbox,
    fresh: Callable[[bytes], None] | None = None,
    fresh_seconds: float = 10.0,
) -> ReconcileReport:
    """Compare each root with ``known`` (path -> (size, mtime_ns, known_bad)) and fill the outbox.

    A file modified in the last ``fresh_seconds`` may still be being copied: it goes to
    ``fresh`` (the debouncer) instead, to be read once it is complete.
    """
    report = ReconcileReport()
    recent = time.time_ns() - int(fresh_seconds * 1e9)
    for root in roots:
        top = os.fsencode(os.path.abspath(root))
        if not is_online(root):
            if os.path.isdir(top):
                log.info(
                    "library folder %s is empty (new, or an unplugged drive's mount point): "
                    "nothing is marked missing",
                    root,
                )
            else:
                log.warning(
                    "library folder %s is missing (unplugged drive?): its tracks are kept", root
                )
            report.offline_roots.append(str(root))
            continue
        rows = []
        seen = set()
        unreadable: list[bytes] = []
        for path, st in walk_audio(top, extensions, unreadable):
            seen.add(path)
            report.scanned_files += 1
            state = known.get(path)
            if state is not None and (state[0], state[1]) == (st.st_size, st.st_mtime_ns):
                continue
            if fresh is not None and st.st_mtime_ns > recent:
                fresh(path)
                report.still_changing += 1
            else:
                rows.append((path, SCAN, None, st.st_size, st.st_mtime_ns))
        report.to_read += len(rows)
        prefix = top.rstrip(b"/") + b"/"
        # A folder we cannot list is offline, like an unplugged drive: its files are not gone.
        hidden = tuple(folder.rstrip(b"/") + b"/" for folder in unreadable)
        report.unreadable += unreadable
        for path in known:
            if path.startswith(prefix) and path not in seen and not path.startswith(hidden):
                rows.append((path, REMOVE, None, None, None))
                report.gone += 1
        outbox.put_many(rows)
    log.info(
        "reconcile: %d files on disk, %d to read, %d still changing, %d gone, offline roots: %s,"
        " unreadable folders: %d",
        report.scanned_files,
        report.to_read,
        report.still_changing,
        report.gone,
        report.offline_roots or "none",
        len(report.unreadable),
    )
    return report
