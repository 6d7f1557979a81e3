"""The watch daemon: file system events -> debounce -> outbox -> RQ jobs.

Start order matters: the observer starts first, then the reconcile runs, so nothing that happens
during the reconcile is missed. A library root that is missing or empty (an unplugged drive) is
watched for coming back, then reconciled.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import stat
import threading
import time
from collections import Counter
from pathlib import Path

import apsw
import redis
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from soniquebay import credentials, disk, names, queueing
from soniquebay.config import Settings
from soniquebay.daemon.api_client import ApiClient, ApiSink
from soniquebay.daemon.debounce import Debouncer
from soniquebay.daemon.outbox import REMOVE, REMOVE_TREE, SCAN, SCAN_TREE, Outbox, Pending
from soniquebay.daemon.reconcile import reconcile
from soniquebay.errors import SoniqueBayError
from soniquebay.library_roots import is_audio
from soniquebay.plugins import load_plugins
from soniquebay.plugins.stages import sidecar_extensions

log = logging.getLogger(__name__)

DRAIN_BATCH = 2000
# Only what changes the library: no open/access/close-without-write events, which our own
# reading of every file would otherwise pour into (and overflow) the inotify queue.
WATCHED_EVENTS = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    DirMovedEvent,
    DirDeletedEvent,
    DirCreatedEvent,
]


def _fs(path: str | bytes) -> bytes:
    return path if isinstance(path, bytes) else os.fsencode(path)


class LibraryEventHandler(FileSystemEventHandler):
    """Turns watchdog events into debouncer touches and outbox rows."""

    def __init__(
        self,
        debouncer: Debouncer,
        outbox: Outbox,
        extensions: frozenset[str],
        burst_threshold: int,
        sidecars: frozenset[str] = frozenset(),
    ):
        self.debouncer = debouncer
        self.outbox = outbox
        self.extensions = extensions
        self.sidecars = sidecars  # a .lrc beside a track: the track is read again
        self.burst_threshold = burst_threshold
        self._window = Counter()
        self._window_start = time.monotonic()
        self._bursting: set[bytes] = set()

    def _audio(self, path: bytes) -> bool:
        return is_audio(os.path.basename(path), self.extensions)

    def _touch(
        self, path: bytes, *, closed: bool = False, wrote: bool = False, src: bytes | None = None
    ) -> None:
        folder = os.path.dirname(path)
        now = time.monotonic()
        if now - self._window_start > 1.0:
            self._window.clear()
            self._window_start = now
            self._bursting = {f for f in self._bursting if self.debouncer.is_pending(f)}
        self._window[folder] += 1
        if folder in self._bursting or self._window[folder] > self.burst_threshold:
            # Thousands of files landing in one folder: one folder job replaces the file jobs.
            self._bursting.add(folder)
            self.debouncer.touch(folder)
            return
        self.debouncer.touch(path, closed=closed, wrote=wrote, src=src)

    def _sidecar_changed(self, path: bytes) -> bool:
        """A file a stage reads beside tracks (``song.lrc``) came, changed or went: the tracks
        of that name are read again, so their stamp changes and that stage runs again."""
        extension = os.path.splitext(path)[1].decode("ascii", "replace").lower()
        if extension not in self.sidecars:
            return False
        folder, stem = os.path.dirname(path), os.path.splitext(os.path.basename(path))[0]
        try:
            names = os.listdir(folder)
        except OSError:
            return True
        for name in names:
            if os.path.splitext(name)[0] == stem and self._audio(name):
                self._touch(os.path.join(folder, name), closed=True)
        return True

    def on_any_event(self, event: FileSystemEvent) -> None:
        src = _fs(event.src_path)
        if not event.is_directory:
            dest = _fs(getattr(event, "dest_path", b"") or b"")
            if self._sidecar_changed(src) | (bool(dest) and self._sidecar_changed(dest)):
                return
        if isinstance(event, FileMovedEvent):
            dest = _fs(event.dest_path)
            self.debouncer.forget(src)
            if self._audio(dest):
                self._touch(dest, closed=True, src=src if self._audio(src) else None)
            elif self._audio(src):
                self.outbox.put(src, REMOVE)
        elif isinstance(event, DirMovedEvent):
            # watchdog follows with one moved event per file inside; the old tree's leftovers go.
            self.outbox.put(src, REMOVE_TREE)
        elif isinstance(event, FileDeletedEvent):
            self.debouncer.forget(src)
            if self._audio(src):
                self.outbox.put(src, REMOVE)
        elif isinstance(event, DirDeletedEvent):
            self.outbox.put(src, REMOVE_TREE)
        elif isinstance(event, FileClosedEvent):
            if self._audio(src):
                self._touch(src, closed=True)
        elif isinstance(event, FileModifiedEvent):
            if self._audio(src):
                self._touch(src, wrote=True)
        elif isinstance(event, FileCreatedEvent):
            if self._audio(src):
                self._touch(src)


class Drain:
    """Moves outbox rows to RQ; while Redis is down the rows wait, with a growing pause."""

    def __init__(self, outbox: Outbox, client: redis.Redis, settings: Settings):
        self.outbox, self.client, self.settings = outbox, client, settings
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.redis_ok = True

    def once(self) -> int:
        taken = self.outbox.take(DRAIN_BATCH)
        if not taken:
            return 0
        scans = [p for p in taken if p.kind == SCAN]
        removes = [p for p in taken if p.kind == REMOVE]
        trees = [p for p in taken if p.kind == REMOVE_TREE]
        rescans = [p for p in taken if p.kind == SCAN_TREE]
        # Gone first: a move seen as delete + create then finds its track marked missing.
        if removes or trees:
            queueing.enqueue_removal(
                self.client,
                self.settings,
                [os.fsdecode(p.path) for p in removes],
                [os.fsdecode(p.path) for p in trees],
            )
        for batch in _batches(scans, queueing.scan_job_size(self.settings)):
            items = [
                {
                    "path": os.fsdecode(p.path),
                    "size": p.size,
                    "mtime_ns": p.mtime_ns,
                    "src": os.fsdecode(p.src) if p.src else None,
                }
                for p in batch
            ]
            queueing.enqueue_scan(self.client, self.settings, items)
        for p in rescans:
            queueing.enqueue_tree(self.client, self.settings, os.fsdecode(p.path))
        self.outbox.done(taken)
        return len(taken)

    def run(self) -> None:
        pause = 0.5
        while not self.stopping.is_set():
            try:
                while self.once():
                    pass
                if not self.redis_ok:
                    log.info("Redis is back: queued work is flowing again")
                self.redis_ok, pause = True, 0.5
                self.wake.wait(timeout=1.0)
                self.wake.clear()
            except redis.RedisError as exc:
                if self.redis_ok:
                    log.error(
                        "Redis unreachable (%s): %d items kept in the outbox", exc, len(self.outbox)
                    )
                self.redis_ok = False
                self.stopping.wait(pause)
                pause = min(pause * 2, 30.0)
            except apsw.Error as exc:  # the outbox cannot be read: the disk, most likely
                log.error("cannot read the outbox %s: %s", self.outbox.path, exc)
                self.stopping.wait(pause)
                pause = min(pause * 2, 30.0)


def _batches(items: list[Pending], size: int) -> list[list[Pending]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _listable(folder: bytes) -> bool:
    try:
        with os.scandir(folder):
            return True
    except OSError:
        return False


def wait_for_api(api: ApiClient, stop: threading.Event) -> None:
    """The web process owns the database: the watcher asks it what the library holds."""
    last_log = 0.0
    while not stop.is_set():
        if api.alive():
            return
        if time.monotonic() - last_log > 10:
            log.info("waiting for the web process at %s", api.base_url)
            last_log = time.monotonic()
        stop.wait(0.2)


def _heartbeat(
    client: redis.Redis,
    settings: Settings,
    watched: set[Path],
    reconciled_at: float | None,
    outbox_size: int,
    debouncing: int,
    unreadable: set[bytes],
    problem: str | None,
) -> None:
    """Tell /api/health the watcher is alive, what it watches, and what it holds back."""
    state = {
        "pid": os.getpid(),
        "watching": json.dumps(sorted(str(p) for p in watched)),
        "unreadable": json.dumps(sorted(os.fsdecode(p) for p in unreadable), ensure_ascii=True),
        "reconciled_at": reconciled_at or "",
        "outbox": outbox_size,
        "debouncing": debouncing,
        "problem": problem or "",
        "seen_at": time.time(),
    }
    try:
        pipe = client.pipeline()
        pipe.hset(names.WATCHER, mapping=state)
        pipe.expire(names.WATCHER, 10)
        pipe.execute()
    except redis.RedisError:
        pass  # Redis down: the drain already says so, and the outbox keeps the work


def run_watch(settings: Settings, stop: threading.Event | None = None) -> None:
    """Reconcile, then watch the library folders until SIGTERM/SIGINT (or ``stop`` is set)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    plugins = load_plugins(settings, "watch")
    extensions = plugins.extensions()
    api = ApiClient(
        settings.effective_api_url, lambda: credentials.worker_token(settings, create=True)
    )
    sink = ApiSink(api)
    outbox = Outbox(settings.outbox_path)
    client = queueing.connect(settings)
    drain = Drain(outbox, client, settings)

    def ready(items: list[tuple[bytes, os.stat_result, bytes | None]]) -> None:
        rows = [
            (path, SCAN_TREE, None, None, None)
            if stat.S_ISDIR(st.st_mode)
            else (path, SCAN, src, st.st_size, st.st_mtime_ns)
            for path, st, src in items
            if stat.S_ISDIR(st.st_mode) or is_audio(os.path.basename(path), extensions)
        ]
        outbox.put_many(rows)  # one transaction for everything that settled together
        drain.wake.set()

    debouncer = Debouncer(ready, quiet=settings.debounce_seconds, settle=settings.settle_seconds)
    handler = LibraryEventHandler(
        debouncer,
        outbox,
        extensions,
        settings.burst_threshold,
        frozenset(sidecar_extensions(plugins.pm)),
    )
    observer = Observer()
    debouncer.start()
    drain_thread = threading.Thread(target=drain.run, name="drain", daemon=True)
    drain_thread.start()
    observer.start()

    wait_for_api(api, stop)
    watched: set[Path] = set()
    unreconciled: set[Path] = set()
    unreadable: set[bytes] = set()
    reconciled_at = None
    was_full = False
    try:
        while not stop.is_set():
            # A full data disk: events wait in memory, jobs may have failed meanwhile. Once there
            # is room, every folder is read again, so whatever did not get in gets in.
            outbox.retry()
            full = disk.full(settings.data_dir) or outbox.problem
            if full and not was_full:
                log.error("%s", full)
            elif was_full and not full:
                log.info("there is room again on %s: reading the library again", settings.data_dir)
                unreconciled |= watched
            was_full = bool(full)
            # An existing folder is watched even when empty (a new library); only deletions wait
            # for it to hold something (an empty mount point is an unplugged drive).
            newly_online = [r for r in settings.library if r not in watched and os.path.isdir(r)]
            for root in newly_online:
                observer.schedule(
                    handler,
                    os.fsencode(os.path.abspath(root)),
                    recursive=True,
                    event_filter=WATCHED_EVENTS,
                )
                watched.add(root)
                unreconciled.add(root)
                log.info("watching %s", root)
            if unreconciled:
                try:
                    known: dict[bytes, tuple[int, int, bool]] = {}
                    for root in unreconciled:
                        known.update(sink.file_states(str(root)))
                except SoniqueBayError as exc:  # the web is restarting: try again next round
                    log.warning("cannot reconcile yet: %s", exc)
                else:
                    # Files changed moments ago may still be open for writing: the debouncer
                    # decides when they are complete.
                    report = reconcile(
                        tuple(unreconciled),
                        extensions,
                        known,
                        outbox,
                        fresh=lambda path: debouncer.touch(path),
                    )
                    unreconciled.clear()
                    unreadable.update(report.unreadable)
                    drain.wake.set()
                    reconciled_at = time.time()
            for root in list(watched):
                if not os.path.isdir(root):
                    log.warning("library folder %s went offline; its tracks are kept", root)
                    watched.discard(root)
                    observer.unschedule_all()
                    watched.clear()
                    unreconciled.clear()
            # A folder that could not be read is offline; once it can be, it is read in full.
            for folder in [f for f in unreadable if _listable(f)]:
                log.info("%r can be read again: reading it", folder)
                unreadable.discard(folder)
                outbox.put(folder, SCAN_TREE)
                drain.wake.set()
            _heartbeat(
                client,
                settings,
                watched,
                reconciled_at,
                len(outbox),
                debouncer.pending(),
                unreadable,
                outbox.problem,
            )
            stop.wait(2.0)
    finally:
        observer.stop()
        observer.join(timeout=5)
        debouncer.stop()
        drain.stopping.set()
        drain.wake.set()
        drain_thread.join(timeout=5)
        outbox.close()
