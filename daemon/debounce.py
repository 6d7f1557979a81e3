"""Wait for quiet, then verify: a file is handed on only once it is complete.

Each write event restarts the path's timer. A close-after-write event (inotify's
IN_CLOSE_WRITE) means the writer is done, so the timer shortens to ``settle``. Without one, the
file may still be open: we wait ``quiet`` seconds of silence, and if the writer never closes it,
``stale`` seconds. When the timer fires, size and mtime must match the last look, else we wait
again. The worker's job checks once more before reading.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Entry:
    deadline: float
    size: int = -1
    mtime_ns: int = -1
    closed: bool = False
    writing: bool = False  # a write was seen and no close-after-write since
    last_event: float = 0.0
    src: bytes | None = None


# Called with every (path, stat, moved-from path) whose timer fired and that is complete, in one
# list per look: a folder of 10,000 files that lands becomes a few calls, not 10,000.
Ready = Callable[[list[tuple[bytes, os.stat_result, bytes | None]]], None]


class Debouncer:
    def __init__(
        self,
        on_ready: Ready,
        *,
        quiet: float = 1.0,
        settle: float = 0.25,
        stale: float = 30.0,
        close_events: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._on_ready = on_ready
        self.quiet, self.settle, self.stale = quiet, settle, stale
        # Where the platform reports close-after-write we trust it and wait for it.
        self.close_events = close_events
        self._clock = clock
        self._entries: dict[bytes, _Entry] = {}
        # Deadlines in a heap: a look visits only the timers that fired, not every pending file.
        # An item whose deadline no longer matches its entry's is stale and skipped.
        self._heap: list[tuple[float, int, bytes]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def touch(
        self, path: bytes, *, closed: bool = False, wrote: bool = False, src: bytes | None = None
    ) -> None:
        """Something happened on ``path``: a write (``wrote``), a close-after-write or a move-in
        (``closed``), or a creation (neither: a file renamed into place is created complete)."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(path)
            if entry is None:
                entry = self._entries[path] = _Entry(deadline=now)
            entry.closed = closed
            entry.writing = (entry.writing or wrote) and not closed
            entry.last_event = now
            if src is not None:
                entry.src = src
            self._schedule(path, entry, now + (self.settle if closed else self.quiet))
        self._wake.set()

    def _schedule(self, path: bytes, entry: _Entry, deadline: float) -> None:
        entry.deadline = deadline
        heapq.heappush(self._heap, (deadline, next(self._order), path))

    def forget(self, path: bytes) -> None:
        with self._lock:
            self._entries.pop(path, None)

    def is_pending(self, path: bytes) -> bool:
        with self._lock:
            return path in self._entries

    def pending(self) -> int:
        with self._lock:
            return len(self._entries)

    def poll(self) -> float:
        """Hand on every path whose timer fired and whose file is stable; return the next deadline."""
        now = self._clock()
        ready = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                deadline, _, path = heapq.heappop(self._heap)
                entry = self._entries.get(path)
                if entry is None or entry.deadline != deadline:
                    continue  # handed on, forgotten, or touched again since
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    del self._entries[
                        path
                    ]  # gone again (a temporary file): its delete event covers it
                    continue
                except OSError:
                    st = None
                stable = st is not None and (st.st_size, st.st_mtime_ns) == (
                    entry.size,
                    entry.mtime_ns,
                )
                # A writer that has written and not closed yet (or a file still empty) may come back.
                unfinished = entry.writing or (
                    st is not None and st.st_size == 0 and not entry.closed
                )
                still_open = (
                    self.close_events and unfinished and now - entry.last_event < self.stale
                )
                if st is not None and stable and not still_open:
                    del self._entries[path]
                    ready.append((path, st, entry.src))
                    continue
                if st is not None:
                    entry.size, entry.mtime_ns = st.st_size, st.st_mtime_ns
                if st is not None and not stable:
                    # Changed since the last look: a fresh quiet period.
                    self._schedule(path, entry, now + (self.settle if entry.closed else self.quiet))
                else:
                    # Unchanged but still open for writing (or unreadable): look again shortly.
                    self._schedule(path, entry, now + self.settle)
            next_deadline = self._heap[0][0] if self._heap else now + 1.0
        if ready:
            self._on_ready(ready)
        return next_deadline

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="debounce", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            next_deadline = self.poll()
            self._wake.wait(timeout=max(0.02, min(1.0, next_deadline - self._clock())))
            self._wake.clear()
