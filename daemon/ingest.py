"""From files to library rows: stat, read tags through the plugins, send batches to a sink.

The same pipeline serves the RQ job (sink: the API) and ``soniquebay scan`` when no web process
is running (sink: the database directly, the CLI being then the only writer).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import apsw
import pluggy
from rq.timeouts import JobTimeoutException

from soniquebay.errors import BadAudioFile
from soniquebay.library import store

log = logging.getLogger(__name__)

HASH_SPAN = 64 * 1024
TAG_TO_COLUMN = {
    "artist": "artist_name",
    "album": "album_title",
    "album_artist": "album_artist_name",
    "musicbrainz_recordingid": "musicbrainz_id",
}


class Sink(Protocol):
    def create_artists(self, items: list[dict]) -> list[dict]: ...
    def create_albums(self, items: list[dict]) -> list[dict]: ...
    def create_tracks(self, items: list[dict]) -> list[dict]: ...
    def record_scan_errors(self, items: list[dict]) -> None: ...


class DirectSink:
    """Writes batches straight into the library database (for the one-shot CLI scan)."""

    def __init__(self, conn: apsw.Connection):
        self.conn = conn

    def create_artists(self, items: list[dict]) -> list[dict]:
        return store.upsert_artists(self.conn, items)

    def create_albums(self, items: list[dict]) -> list[dict]:
        return store.upsert_albums(self.conn, items)

    def create_tracks(self, items: list[dict]) -> list[dict]:
        done = store.upsert_tracks(self.conn, [store.from_wire(i) for i in items])
        return [
            {"id": d["id"], "path": os.fsdecode(d["path"]), "change": d["action"]} for d in done
        ]

    def record_scan_errors(self, items: list[dict]) -> None:
        store.record_scan_errors(self.conn, [store.from_wire(i) for i in items])


def quick_hash(path: str, size: int) -> str:
    """Digest of size, head and tail: finds a file again after a copy-and-delete move."""
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with open(path, "rb") as fh:
        digest.update(fh.read(HASH_SPAN))
        if size > 2 * HASH_SPAN:
            fh.seek(-HASH_SPAN, os.SEEK_END)
            digest.update(fh.read(HASH_SPAN))
    return digest.hexdigest()


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
        tags = pm.hook.read_tags(path=path)
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
    if src:
        track["previous_path"] = src
    if not track.get("title"):
        track["title"] = os.path.splitext(os.path.basename(path))[0]
    return FileResult(track=track)


@dataclass
class Report:
    changes: Counter = field(default_factory=Counter)
    errors: list[dict] = field(default_factory=list)
    tracks: list[dict] = field(default_factory=list)  # {"id", "path", "change", ...} from the sink

    @property
    def processed(self) -> int:
        return sum(self.changes.values()) + len(self.errors)


def send_batch(sink: Sink, tracks: list[dict[str, Any]]) -> list[dict]:
    """Artists, then albums, then tracks: three batch mutations, whatever the batch size."""
    artist_names: dict[str, str] = {}
    for t in tracks:
        for name in (t.get("artist_name"), t.get("album_artist_name") or t.get("artist_name")):
            if name:
                artist_names.setdefault(name.casefold(), name)
    artist_mbids = {
        t["artist_name"].casefold(): t.get("musicbrainz_artistid")
        for t in tracks
        if t.get("artist_name")
    }
    artist_ids = {}
    if artist_names:
        rows = sink.create_artists(
            [
                {"name": name, "musicbrainz_artistid": artist_mbids.get(key)}
                for key, name in artist_names.items()
            ]
        )
        artist_ids = {r["name"].casefold(): r["id"] for r in rows}
        # Names that differ only in case map to the stored spelling.
        artist_ids.update(
            {key: artist_ids.get(name.casefold()) for key, name in artist_names.items()}
        )

    albums: dict[tuple[str, int | None], dict] = {}
    for t in tracks:
        if t.get("album_title"):
            owner = t.get("album_artist_name") or t.get("artist_name")
            owner_id = artist_ids.get(owner.casefold()) if owner else None
            albums.setdefault(
                (t["album_title"].casefold(), owner_id),
                {
                    "title": t["album_title"],
                    "album_artist_id": owner_id,
                    "year": t.get("year"),
                    "musicbrainz_albumid": t.get("musicbrainz_albumid"),
                },
            )
    album_ids = {}
    if albums:
        rows = sink.create_albums(list(albums.values()))
        album_ids = {(r["title"].casefold(), r["album_artist_id"]): r["id"] for r in rows}

    payload = []
    for t in tracks:
        item = dict(t)
        if t.get("artist_name"):
            item["track_artist_id"] = artist_ids.get(t["artist_name"].casefold())
        if t.get("album_title"):
            owner = t.get("album_artist_name") or t.get("artist_name")
            item["album_id"] = album_ids.get(
                (t["album_title"].casefold(), artist_ids.get(owner.casefold()) if owner else None)
            )
        payload.append(item)
    return sink.create_tracks(payload)


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
    """Send read results to ``sink`` in batches of ``chunk_size``.

    ``on_progress(files_seen, report)`` runs every ``progress_every`` files and once at the end.
    """
    report = Report()
    tracks: list[dict] = []
    errors: list[dict] = []
    seen = last_reported = 0

    def flush() -> None:
        if tracks:
            done = send_batch(sink, tracks)
            report.tracks.extend(done)
            report.changes.update(d["change"] for d in done)
            tracks.clear()
        if errors:
            sink.record_scan_errors(list(errors))
            report.errors.extend(errors)
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
    if on_progress:
        on_progress(seen, report)
    return report
