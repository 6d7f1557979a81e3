from soniquebay.daemon.outbox import REMOVE, SCAN, Outbox


def test_rows_survive_a_restart_until_done(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.put_many([(b"/m/a.mp3", SCAN, None, 1, 2), (b"/m/b.mp3", REMOVE, None, None, None)])
    outbox.close()
    outbox = Outbox(tmp_path / "outbox.db")
    taken = outbox.take(10)
    assert [(p.path, p.kind) for p in taken] == [(b"/m/a.mp3", SCAN), (b"/m/b.mp3", REMOVE)]
    outbox.done(taken)
    assert len(outbox) == 0


def test_one_row_per_path_latest_event_wins_and_a_move_keeps_its_source(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.put(b"/m/new.mp3", SCAN, src=b"/m/old.mp3", size=1, mtime_ns=1)
    outbox.put(b"/m/new.mp3", SCAN, size=2, mtime_ns=2)  # written again after the move
    [row] = outbox.take(10)
    assert (row.src, row.size) == (b"/m/old.mp3", 2)
    outbox.put(b"/m/new.mp3", REMOVE)
    [row] = outbox.take(10)
    assert (row.kind, row.src) == (REMOVE, None)


def test_a_row_changed_while_being_enqueued_is_kept(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.put(b"/m/a.mp3", SCAN, size=1, mtime_ns=1)
    taken = outbox.take(10)
    outbox.put(b"/m/a.mp3", SCAN, size=9, mtime_ns=9)  # a newer event arrives meanwhile
    outbox.done(taken)
    [row] = outbox.take(10)
    assert row.size == 9
