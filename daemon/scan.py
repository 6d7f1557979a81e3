"""`soniquebay scan PATH`: a one-shot scan with a progress bar.

Files are read in parallel (one reader process per core); chunks go to the sink the command
chose: the API when a web process is running (it stays the only writer), else the database.
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

from soniquebay.config import Settings
from soniquebay.daemon import reading
from soniquebay.library_roots import walk_audio
from soniquebay.plugins import Plugins, load_plugins

log = logging.getLogger(__name__)

_reader_pm: pluggy.PluginManager | None = None  # one per reader process, built by _init_reader


def _init_reader(settings: Settings) -> None:
    global _reader_pm
    _reader_pm = Plugins(settings, "cli").pm  # with each plugin's ctx, for read_tags


def _read(path: bytes) -> reading.FileResult:
    return reading.read_file(_reader_pm, os.fsdecode(path))


@dataclass
class ScanSummary:
    files: int
    seconds: float
    report: reading.Report

    @property
    def files_per_minute(self) -> float:
        return self.files * 60 / self.seconds if self.seconds else 0.0


def _results(
    settings: Settings, pm: pluggy.PluginManager, paths: list[bytes], jobs: int
) -> Iterator[reading.FileResult]:
    if jobs <= 1:
        for path in paths:
            yield reading.read_file(pm, os.fsdecode(path))
        return
    with multiprocessing.get_context("fork").Pool(
        jobs, initializer=_init_reader, initargs=(settings,)
    ) as pool:
        yield from pool.imap(_read, paths, chunksize=32)


def scan(
    settings: Settings,
    targets: list[str],
    sink: reading.Sink,
    *,
    jobs: int | None = None,
    progress: bool = True,
) -> ScanSummary:
    """Read every audio file under ``targets`` and send them to ``sink``, chunk by chunk."""
    started = time.monotonic()
    plugins = load_plugins(settings, "cli")
    pm, extensions = plugins.pm, plugins.extensions()
    paths = []
    for target in targets:
        top = os.fsencode(os.path.abspath(target))
        if os.path.isfile(top):
            paths.append(top)
        else:
            paths.extend(path for path, _ in walk_audio(top, extensions))
    jobs = jobs or os.cpu_count() or 1
    bar = tqdm(total=len(paths), unit="file", disable=not progress, smoothing=0.1)

    def on_progress(current: int, report: reading.Report) -> None:
        bar.update(current - bar.n)
        bar.set_postfix(errors=len(report.errors), refresh=False)

    try:
        report = reading.ingest(
            _results(settings, pm, paths, jobs),
            sink,
            chunk_size=settings.chunk_size,
            on_progress=on_progress,
        )
    finally:
        bar.close()
    return ScanSummary(len(paths), time.monotonic() - started, report)
