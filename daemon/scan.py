"""`soniquebay scan PATH`: a one-shot scan with a progress bar.

Files are read in parallel (one reader process per core); batches go to the API when a web
process is running (it stays the only writer), else straight into the database.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pluggy
from tqdm import tqdm

from soniquebay import credentials
from soniquebay.config import Settings
from soniquebay.daemon import ingest
from soniquebay.daemon.api_client import ApiClient, ApiSink
from soniquebay.daemon.library_roots import walk_audio
from soniquebay.library import db
from soniquebay.plugins import audio_extensions, get_plugin_manager

log = logging.getLogger(__name__)

_reader_pm: pluggy.PluginManager | None = None  # one per reader process, built by _init_reader


def _init_reader(settings: Settings) -> None:
    global _reader_pm
    _reader_pm = get_plugin_manager(settings)


def _read(path: bytes) -> ingest.FileResult:
    return ingest.read_file(_reader_pm, os.fsdecode(path))


@dataclass
class ScanSummary:
    files: int
    seconds: float
    report: ingest.Report
    via_api: bool

    @property
    def files_per_minute(self) -> float:
        return self.files * 60 / self.seconds if self.seconds else 0.0


def _results(
    settings: Settings, pm: pluggy.PluginManager, paths: list[bytes], jobs: int
) -> Iterator[ingest.FileResult]:
    if jobs <= 1:
        for path in paths:
            yield ingest.read_file(pm, os.fsdecode(path))
        return
    with multiprocessing.get_context("fork").Pool(
        jobs, initializer=_init_reader, initargs=(settings,)
    ) as pool:
        yield from pool.imap(_read, paths, chunksize=32)


def scan(
    settings: Settings,
    targets: list[str],
    *,
    jobs: int | None = None,
    progress: bool = True,
    direct: bool | None = None,
) -> ScanSummary:
    started = time.monotonic()
    pm = get_plugin_manager(settings)
    extensions = audio_extensions(pm)
    paths = []
    for target in targets:
        top = os.fsencode(os.path.abspath(target))
        if os.path.isfile(top):
            paths.append(top)
        else:
            paths.extend(path for path, _ in walk_audio(top, extensions))
    api = ApiClient(settings.effective_api_url, credentials.worker_token(settings))
    via_api = not direct and api.alive()
    conn = None
    if via_api:
        sink = ApiSink(api)
    else:
        conn = db.connect(settings.db_path)
        db.migrate(conn, backup_dir=settings.data_dir / "backups")
        sink = ingest.DirectSink(conn)
    jobs = jobs or os.cpu_count() or 1
    bar = tqdm(total=len(paths), unit="file", disable=not progress, smoothing=0.1)

    def on_progress(current: int, report: ingest.Report) -> None:
        bar.update(current - bar.n)
        bar.set_postfix(errors=len(report.errors), refresh=False)

    try:
        report = ingest.ingest(
            _results(settings, pm, paths, jobs),
            sink,
            chunk_size=settings.chunk_size,
            on_progress=on_progress,
        )
    finally:
        bar.close()
        if conn is not None:
            conn.close()
    return ScanSummary(len(paths), time.monotonic() - started, report, via_api)
