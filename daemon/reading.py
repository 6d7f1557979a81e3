"""From files to library rows: stat, read tags through the plugins, send chunks to a sink.

The same pipeline serves the RQ scan job (sink: the API) and ``soniquebay scan`` (sink: the API,
or the database itself with ``--direct`` when no web process runs). Reading and sending
overlap: while one chunk is being written by the web process, the next one is being read.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import pluggy
from rq.timeouts import JobTimeoutException

from soniquebay.errors import BadAudioFile
from soniquebay.library.fields import TAG_TO_COLUMN
from soniquebay.plugins import read_tags
from soniquebay.plugins.stages import sidecar_extensions, sidecar_stamps

log = logging.getLogger(__name__)

HASH_SPAN = 64 * 1024


class Sink(Protocol):
    def ingest(self, tracks: list[dict], errors: list[dict]) -> list[dict]:
        """Store one chunk; ``[{"id", "change", "reason"?}]`` per track, in order."""


def quick_hash(path: str, size: int) -> str:
    """Digest of size, head and tail (the whole file when it is small): finds a file again
    after a copy-and-delete move, and tells a changed file from a touched one."""
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with open(path, "rb") as fh:
        if size <= 2 * HASH_SPAN:
            digest.update(fh.read())
        else:
            digest.update(fh.read(HASH_SPAN))
            fh.seek(-HASH_SPAN, os.SEEK_END)
            digest.update(fh.read(HASH_SPAN))
    return digest.hexdigest()


def readable_name(path: str) -> str:
    """The file's name without extension, for a title: bytes that are not UTF-8 become U+FFFD
    (the path itself keeps them; a title is text people read)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return os.fsencode(stem).decode("utf-8", "replace")


@dataclass
class FileResult:
    track: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


def read_file(pm: pluggy.PluginManager, path: str, src: str | None = None) -> FileResult:
    """Stat and read one file; a bad file becomes a recorded error, never an exception."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return FileResult(
            error={"path": path, "stage": "tags", "reason": f"cannot stat: {exc.strerror}"}
        )
    base = {"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    try:
        tags = read_tags(pm, path)
        if tags is None:
            raise BadAudioFile("no plugin can read this kind of file")
        digest = quick_hash(path, st.st_size)
    except BadAudioFile as exc:
        return FileResult(error={**base, "stage": "tags", "reason": exc.message})
    except OSError as exc:
        return FileResult(
            error={**base, "stage": "tags", "reason": f"cannot read the file: {exc.strerror}"}
        )
    except JobTimeoutException:
        raise  # the job's time is up: RQ retries it, this file is not to blame
    except Exception as exc:  # a plugin bug must not stop the scan: record it against the file
        log.exception("tag plugin failed on %r", path)
        return FileResult(
            error={**base, "stage": "tags", "reason": f"plugin error: {type(exc).__name__}: {exc}"}
        )
    track = {TAG_TO_COLUMN.get(k, k): v for k, v in tags.items() if v is not None and v != ""}
    track.update(base, inode=st.st_ino, device=st.st_dev, quick_hash=digest)
    extensions = sidecar_extensions(pm)
    if extensions:  # a .lrc added later changes this, and the stage reading it runs again
        track["sidecars"] = sidecar_stamps(path, extensions)
    # The store never looks at the disk: a move is named only once its source is really gone.
    if src and not os.path.lexists(src):
        track["previous_path"] = src
    if not track.get("title"):
        track["title"] = readable_name(path)
    return FileResult(track=track)


@dataclass
class Report:
    changes: Counter = field(default_factory=Counter)
    errors: list[dict] = field(default_factory=list)
    batches: int = 0

    @property
    def processed(self) -> int:
        return sum(self.changes.values()) + len(self.errors)


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest(
    results: Iterable[FileResult],
    sink: Sink,
    *,
    chunk_size: int = 500,
    on_progress: Callable[[int, Report], None] | None = None,
    progress_every: int = 100,
) -> Report:
    """Send read results to ``sink`` in chunks of ``chunk_size`` files, one request per chunk.

    One chunk is in flight while the next is read. ``on_progress(files_seen, report)`` runs
    every ``progress_every`` files and once at the end.
    """
    report = Report()
    tracks: list[dict] = []
    errors: list[dict] = []
    seen = last_reported = 0
    in_flight: Future | None = None

    def send(batch: list[dict], bad: list[dict]) -> tuple[list[dict], list[dict]]:
        done = sink.ingest(batch, bad)
        refused = [
            {"path": t["path"], "stage": "store", "reason": d.get("reason")}
            for d, t in zip(done, batch, strict=True)
            if d["change"] == "refused"
        ]
        return done, bad + refused

    def settle() -> None:
        nonlocal in_flight
        if in_flight is None:
            return
        done, bad = in_flight.result()
        in_flight = None
        report.batches += 1
        report.changes.update(d["change"] for d in done if d["change"] != "refused")
        report.errors.extend(bad)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-send") as sender:

        def flush() -> None:
            nonlocal in_flight
            if not tracks and not errors:
                return
            settle()  # one chunk in flight at a time: memory stays at two chunks
            in_flight = sender.submit(send, list(tracks), list(errors))
            tracks.clear()
            errors.clear()

        for result in results:
            if result.track is not None:
                tracks.append(result.track)
            else:
                errors.append(result.error)
            if len(tracks) + len(errors) >= chunk_size:
                flush()
            seen += 1
            if on_progress and seen - last_reported >= progress_every:
                last_reported = seen
                on_progress(seen, report)
        flush()
        settle()
    if on_progress:
        on_progress(seen, report)
    return report
