"""The debouncer with a hand-driven clock: no sleeping, no timing assertions."""

import os

from soniquebay.daemon.debounce import Debouncer


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def make(tmp_path):
    ready, clock = [], Clock()
    debouncer = Debouncer(
        lambda items: ready.extend((path, st.st_size, src) for path, st, src in items),
        quiet=1.0,
        settle=0.25,
        stale=30.0,
        clock=clock,
    )
    return debouncer, ready, clock, os.fsencode(tmp_path / "song.mp3")


def advance(debouncer, clock, seconds, step=0.05):
    end = clock.now + seconds
    while clock.now < end:
        clock.now += step
        debouncer.poll()


def test_a_file_being_written_waits_for_its_close(tmp_path):
    debouncer, ready, clock, path = make(tmp_path)
    with open(path, "wb") as fh:
        fh.write(b"x" * 100)
        debouncer.touch(path)
        debouncer.touch(path, wrote=True)
        advance(debouncer, clock, 10)  # a stalled copy: quiet for ten seconds, still open
        assert ready == []
        fh.write(b"y" * 100)
        debouncer.touch(path, wrote=True)
    debouncer.touch(path, closed=True)
    advance(debouncer, clock, 1)
    assert ready == [(path, 200, None)]
    advance(debouncer, clock, 5)
    assert len(ready) == 1  # handed on once


def test_a_file_renamed_into_place_is_ready_after_the_quiet_time(tmp_path):
    debouncer, ready, clock, path = make(tmp_path)
    path_src = path + b".part"
    with open(path, "wb") as fh:
        fh.write(b"z" * 10)
    debouncer.touch(path, closed=True, src=path_src)
    advance(debouncer, clock, 1)
    assert ready == [(path, 10, path_src)]


def test_a_growing_file_is_not_handed_on_until_stable(tmp_path):
    debouncer, ready, clock, path = make(tmp_path)
    path_b = path
    with open(path_b, "wb") as fh:
        fh.write(b"a")
    debouncer.touch(path_b, closed=True)
    clock.now += 0.3
    debouncer.poll()  # first look: records the size
    with open(path_b, "ab") as fh:
        fh.write(b"bbbb")  # grows without any event reaching us
    clock.now += 0.3
    debouncer.poll()
    assert ready == []
    advance(debouncer, clock, 1)
    assert ready == [(path_b, 5, None)]


def test_a_writer_that_never_closes_is_read_after_the_stale_time(tmp_path):
    debouncer, ready, clock, path = make(tmp_path)
    with open(path, "wb") as fh:
        fh.write(b"q" * 50)
    debouncer.touch(path, wrote=True)
    advance(debouncer, clock, 29, step=0.5)
    assert ready == []
    advance(debouncer, clock, 3, step=0.5)
    assert ready == [(path, 50, None)]


def test_a_file_that_vanishes_is_forgotten(tmp_path):
    debouncer, ready, clock, path = make(tmp_path)
    with open(path, "wb") as fh:
        fh.write(b"x")
    debouncer.touch(path, closed=True)
    os.unlink(path)
    advance(debouncer, clock, 2)
    assert ready == [] and debouncer.pending() == 0
