"""What grouping tracks into albums and artists costs the store (docs/library.md).

    .venv/bin/python bench/regroup.py --tracks 100000

On a made-up library shaped like real ones (200 artists, an album per folder, a fifth of the
albums with an album artist on some tracks only, one in ten a soundtrack whose tracks name their
composers, one in fifty untagged, lists of artists and genres), in temporary SQLite files:

1. the baseline: the same rows written by plain INSERTs, one transaction;
2. the scan's ingest of the rows in chunks of 500 (``library/ingest.ingest``: tracks stored and
   their folders regrouped in each chunk's transaction), as ``serve`` writes a scan;
3. the upgrade: the grouping of that library undone, then ``grouping.regroup_library`` over
   every folder, as the web process runs it at its first start after an upgrade.

Prints each time, rows/s and the ratio to the baseline, and the load average.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from soniquebay.library import db, grouping, ingest
from soniquebay.library.ingest import TRACK_COLUMNS


def made_up(count: int) -> list[dict]:
    rng = random.Random(7)
    tracks, i = [], 0
    while i < count:
        artist = f"Artist {rng.randrange(200)}"
        album = f"Album {i // 12}"
        kind = rng.random()
        folder = f"/music/{artist}/{album}".encode()
        for n in range(min(12, count - i)):
            track = {
                "path": folder + b"/%02d.flac" % n,
                "size": 4_000_000 + i, "mtime_ns": i, "inode": i, "device": 1,
                "quick_hash": f"{i:016x}", "title": f"Track {i}", "track_number": n + 1,
                "year": 1960 + i % 60, "genre": "Rock; Pop" if n % 4 == 0 else "Rock",
            }  # fmt: skip
            if kind < 0.02:  # untagged
                track = {k: v for k, v in track.items() if k not in ("title", "genre", "year")}
            elif kind < 0.12:  # a soundtrack: every track its composer, no album artist
                track.update(artist_name=f"Composer {rng.randrange(500)}", album_title=album)
            else:
                track.update(
                    artist_name=artist if n % 5 else f"{artist}; Guest {rng.randrange(100)}",
                    album_title=album,
                )
                if kind < 0.32 and n % 3:  # the album artist on some tracks only
                    track["album_artist_name"] = artist
            tracks.append(track)
            i += 1
    return tracks


def fresh(folder: Path, name: str):
    conn = db.connect(folder / f"{name}.db")
    db.migrate(conn)
    return conn


def plain_inserts(conn, tracks: list[dict]) -> float:
    columns = [c for c in TRACK_COLUMNS if c != "folder"]
    sql = (
        f"INSERT INTO tracks ({', '.join(columns)}, date_added, updated_at)"
        f" VALUES ({', '.join('?' * len(columns))}, 0, 0)"
    )
    start = time.perf_counter()
    with conn:
        conn.executemany(sql, [[t.get(c) for c in columns] for t in tracks])
    return time.perf_counter() - start


def chunked_ingest(conn, tracks: list[dict]) -> float:
    start = time.perf_counter()
    for at in range(0, len(tracks), 500):
        ingest.ingest(conn, tracks[at : at + 500])
    return time.perf_counter() - start


def upgrade(conn) -> float:
    """Undo the grouping as a library from before it looks, then regroup it all."""
    with conn:
        for statement in (
            "DELETE FROM track_artists",
            "DELETE FROM track_genres",
            "DELETE FROM library_state",
            "UPDATE tracks SET folder = NULL, display_artist = NULL",
        ):
            conn.execute(statement)
    start = time.perf_counter()
    grouping.regroup_library(conn, grouping.default_rules())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tracks", type=int, default=20_000)
    args = parser.parse_args()
    tracks = made_up(args.tracks)
    print(f"tracks: {len(tracks)}, cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = plain_inserts(fresh(folder, "plain"), tracks)
        conn = fresh(folder, "grouped")
        scanned = chunked_ingest(conn, tracks)
        albums = conn.execute("SELECT count(*) AS n FROM albums").fetchall()[0]["n"]
        upgraded = upgrade(conn)
        again = conn.execute("SELECT count(*) AS n FROM albums").fetchall()[0]["n"]
    n = len(tracks)
    print(f"plain INSERTs (baseline)   : {n / base:>10,.0f} rows/s ({base:.1f}s)")
    print(
        f"scan ingest, chunks of 500 : {n / scanned:>10,.0f} rows/s ({scanned:.1f}s)"
        f"  ratio to baseline {base / scanned:.2f}  ({albums} albums)"
    )
    print(
        f"upgrade regrouping         : {n / upgraded:>10,.0f} rows/s ({upgraded:.1f}s)"
        f"  ratio to baseline {base / upgraded:.2f}  ({again} albums)"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
