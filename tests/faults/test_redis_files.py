"""Issue 24, item 1: the private Redis's files damaged (a power cut mid-write, a bad SD card).
`serve` used to exit at start until someone deleted data_dir/redis by hand. Now the damaged
files are moved aside (kept, named in the log and /api/health), Redis starts clean, and the
library, the outbox and the reconcile bring every file in: nothing the database held is lost."""

from pathlib import Path

import pytest


def damage(folder: Path, which: str) -> Path:
    """64 garbage bytes inserted in the middle of the append-only file, where a command starts
    (inside a value they could pass unseen: Redis reads a value by its declared length), or 10
    bytes of its base RDB overwritten (its checksum no longer matches)."""
    aof = folder / "appendonlydir"
    pattern = "*.incr.aof" if which == "aof" else "*.base.rdb"
    target = max(aof.glob(pattern), key=lambda p: p.stat().st_size)
    data = bytearray(target.read_bytes())
    assert len(data) > (128 if which == "aof" else 20), (target, len(data))
    middle = len(data) // 2
    if which == "aof":
        start = data.find(b"\r\n*", middle) + 2  # the next command after the middle
        assert start > 1, "no command after the middle of the file"
        data[start:start] = b"\xde\xad\xbe\xef" * 16
    else:
        data[middle : middle + 10] = b"\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad"
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize("which", ["aof", "rdb"])
def test_damaged_redis_files_are_moved_aside_and_nothing_is_lost(serve, library, audio, which):
    server = serve()
    for i in range(5):
        audio.make(library / "before" / f"{i}.mp3", title=f"Before {i}")
    server.wait_for_tracks(5)
    server.stop()
    damaged = damage(server.data_dir / "redis", which)
    damaged_bytes = damaged.read_bytes()
    for i in range(3):  # landed while SoniqueBay was down: the reconcile brings them in
        audio.make(library / "while-down" / f"{i}.mp3", title=f"While down {i}")

    server.start()
    titles = {t["title"] for t in server.wait_for_tracks(8, timeout=60)}
    assert titles == {*(f"Before {i}" for i in range(5)), *(f"While down {i}" for i in range(3))}
    health = server.get("/api/health", ok_only=False)
    recovered = health["redis"]["recovered"]
    aside = Path(recovered["moved_to"])
    assert aside.name.startswith("redis.damaged-") and aside.parent == server.data_dir
    assert (aside / "appendonlydir" / damaged.name).read_bytes() == damaged_bytes
    assert recovered["reason"]  # what redis-server said, e.g. "Bad file format reading…"
    assert any("started clean" in w for w in health["warnings"])
    assert "moved them to" in server.log() and str(aside) in server.log()
    audio.make(library / "after" / "0.mp3", title="After")  # and it goes on working
    server.wait_for_tracks(9)
