"""The event handler: what each file system event becomes (real files, no observer thread)."""

import os

from watchdog.events import (
    DirDeletedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileMovedEvent,
)

from soniquebay.daemon.debounce import Debouncer
from soniquebay.daemon.outbox import REMOVE, REMOVE_TREE, Outbox
from soniquebay.daemon.watcher import LibraryEventHandler

EXTENSIONS = frozenset({".mp3", ".flac"})


def make(tmp_path, burst=2000):
    ready = []
    debouncer = Debouncer(
        lambda items: ready.extend(p for p, _, _ in items), quiet=1.0, settle=0.25
    )
    outbox = Outbox(tmp_path / "outbox.db")
    return LibraryEventHandler(debouncer, outbox, EXTENSIONS, burst), debouncer, outbox


def test_a_burst_in_one_folder_becomes_one_folder_entry(tmp_path):
    handler, debouncer, _ = make(tmp_path, burst=5)
    folder = tmp_path / "album"
    folder.mkdir()
    for i in range(50):
        handler.on_any_event(FileCreatedEvent(os.fsencode(folder / f"{i}.mp3")))
    assert debouncer.is_pending(os.fsencode(folder))
    assert debouncer.pending() == 6  # five files before the threshold, then the folder


def test_deletes_and_moves_out_are_recorded_and_other_files_ignored(tmp_path):
    handler, debouncer, outbox = make(tmp_path)
    handler.on_any_event(FileDeletedEvent(b"/m/a.mp3"))
    handler.on_any_event(FileDeletedEvent(b"/m/cover.jpg"))
    handler.on_any_event(FileMovedEvent(b"/m/b.flac", b"/m/b.flac.bak"))
    handler.on_any_event(DirDeletedEvent(b"/m/old-album"))
    handler.on_any_event(FileClosedEvent(b"/m/.hidden.mp3"))
    rows = {(p.path, p.kind) for p in outbox.take(10)}
    assert rows == {(b"/m/a.mp3", REMOVE), (b"/m/b.flac", REMOVE), (b"/m/old-album", REMOVE_TREE)}
    assert debouncer.pending() == 0


def test_a_rename_inside_the_library_carries_its_source(tmp_path):
    now = [0.0]
    ready = []
    debouncer = Debouncer(
        lambda items: ready.extend((p, src) for p, _, src in items),
        settle=0.25,
        clock=lambda: now[0],
    )
    handler = LibraryEventHandler(debouncer, Outbox(tmp_path / "o.db"), EXTENSIONS, 2000)
    dest = tmp_path / "new.mp3"
    dest.write_bytes(b"x")
    handler.on_any_event(FileMovedEvent(os.fsencode(tmp_path / "old.mp3"), os.fsencode(dest)))
    for _ in range(4):
        now[0] += 0.3
        debouncer.poll()
    assert ready == [(os.fsencode(dest), os.fsencode(tmp_path / "old.mp3"))]
