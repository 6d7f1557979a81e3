"""The library folders on disk: walking them, and telling an unplugged drive from deleted files.

An empty or missing root is "offline": nothing under it is ever marked missing, so unplugging a
USB disk does not empty the library.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)


def root_of(path: str | bytes, roots: Iterable[Path]) -> Path | None:
    """The library root holding ``path`` (after resolving links), or None if it is outside all."""
    real = os.path.realpath(os.fsencode(path))
    for root in roots:
        top = os.path.realpath(os.fsencode(root))
        if real == top or real.startswith(top.rstrip(b"/") + b"/"):
            return root
    return None


def is_online(root: Path) -> bool:
    """A root is online when it is a folder holding at least one entry."""
    try:
        with os.scandir(os.fsencode(root)) as entries:
            return next(entries, None) is not None
    except OSError:
        return False


def root_online(path: str | bytes, roots: Iterable[Path]) -> bool:
    root = root_of(path, roots)
    return root is not None and is_online(root)


def is_audio(name: bytes, extensions: frozenset[str]) -> bool:
    if name.startswith(b"."):
        return False  # hidden and temporary files (rsync's .name.XXXXXX) are never read
    return os.path.splitext(name)[1].decode("ascii", "replace").lower() in extensions


def walk_audio(
    top: bytes, extensions: frozenset[str], unreadable: list[bytes] | None = None
) -> Iterator[tuple[bytes, os.stat_result]]:
    """Every audio file under ``top`` with its stat, paths as bytes. A folder that cannot be
    listed is logged and added to ``unreadable``: what it holds is unknown, not gone."""
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if not entry.name.startswith(b"."):
                                stack.append(entry.path)
                        elif entry.is_file() and is_audio(entry.name, extensions):
                            yield entry.path, entry.stat()
                    except OSError as exc:
                        log.warning("cannot read %r: %s", entry.path, exc.strerror)
        except OSError as exc:
            log.warning("cannot list %r: %s", folder, exc.strerror)
            if unreadable is not None:
                unreadable.append(folder)


def count_folders(roots: Iterable[Path]) -> int:
    """How many folders the watcher needs an inotify watch for."""
    total = 0
    for root in roots:
        for _, dirs, _ in os.walk(os.fsencode(root)):
            total += 1
            dirs[:] = [d for d in dirs if not d.startswith(b".")]
    return total
