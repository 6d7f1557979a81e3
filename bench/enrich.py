"""Enrichment: fingerprint throughput against fpcalc alone, and what a rescan costs remotely.

    .venv/bin/python bench/enrich.py --tracks 8 --runs 5 --rescan 1000

1. generates ``--tracks`` 3-minute tracks (synthetic drums and chords, MP3) in bench/out/;
2. per run, in alternation: ``fpcalc -json -ignore-errors -length 120`` alone over them (the baseline), then
   the fingerprint plugin's stage over the same files, followed by what the web does with the
   result (the duplicate index in a SQLite file); prints fingerprints/min for each and the
   ratio, median over the runs (target >= 0.8);
3. identifies ``--rescan`` tracks through the MusicBrainz plugin against the loopback fake
   services (tests/support/fake_remote.py) and a real Redis: first pass (every track asks), then
   the same tracks again as a rebuilt library or a new stage version would (target: 0 requests,
   every answer from the plugin's cache).

Notes the load average: the machines are shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support
from support.fake_remote import FakeRemote, recording, release, search_result  # noqa: E402
from support.servers import start_redis  # noqa: E402

from soniquebay import config  # noqa: E402
from soniquebay.library import db, duplicates  # noqa: E402
from soniquebay.plugins.builtin import fingerprint, musicbrainz  # noqa: E402
from soniquebay.plugins.context import PluginContext  # noqa: E402
from soniquebay.synth import encode, make_track  # noqa: E402

HERE = Path(__file__).resolve().parent
DAFT_LIKE = ("Bench Artist", "0b0b0b0b-0000-4000-8000-000000000000", "Artist, Bench")


def generate(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        path = folder / f"three-minutes-{i:02d}.mp3"
        if not path.exists():
            partial = path.with_name("partial-" + path.name)
            encode(make_track(bpm=90 + 7 * i, key="CDEFGAB"[i % 7], seconds=180.0, seed=i), partial)
            partial.rename(path)
        out.append(path)
    return out


def fpcalc_alone(files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        subprocess.run(
            ["fpcalc", "-json", "-ignore-errors", "-length", "120", str(path)],
            capture_output=True,
            check=False,
        )
    return time.perf_counter() - started


def through_plugin(files: list[Path], conn) -> float:
    started = time.perf_counter()
    for i, path in enumerate(files, start=1):
        fields = fingerprint.fpcalc(str(path))
        with conn:
            duplicates.index(conn, i, fields["fingerprint"], fields["fingerprint_duration"])
    return time.perf_counter() - started


def fingerprint_rates(files: list[Path], runs: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="enrich-bench-"))
    conn = db.connect(folder / "library.db")
    db.migrate(conn)
    conn.execute("PRAGMA foreign_keys = OFF")  # the index alone: no tracks rows in this file
    baseline, plugin = [], []
    for _ in range(runs):
        baseline.append(len(files) / fpcalc_alone(files) * 60)
        plugin.append(len(files) / through_plugin(files, conn) * 60)
    base, ours = statistics.median(baseline), statistics.median(plugin)
    print(f"fpcalc alone:        {base:7.1f} fingerprints/min (median of {runs})")
    print(f"fingerprint plugin:  {ours:7.1f} fingerprints/min  ratio {ours / base:.2f}")


def rescan_requests(count: int, data_dir: Path) -> None:
    fake = FakeRemote().start()
    for i in range(count):
        rid = f"00000000-0000-4000-8000-{i:012d}"
        rel = release(f"rel-{i}", f"Album {i}", "2001", f"rg-{i}", "Album", DAFT_LIKE, rid, 1, 10)
        fake.recordings[rid] = recording(rid, f"Song {i}", DAFT_LIKE, rel, 180000)
        fake.searches[f"song {i}"] = [search_result(fake.recordings[rid], 100)]
    redis_process, redis_url = start_redis(data_dir / "redis")
    settings = config.load(
        environ={"SONIQUEBAY_DATA_DIR": str(data_dir), "SONIQUEBAY_REDIS_URL": redis_url}
    )
    options = {o.name: o.default for o in musicbrainz.plugin_options()}
    options.update(fake.options(), acoustid_key="", musicbrainz_per_second=1000.0)
    ctx = PluginContext(settings, "worker", "musicbrainz", options)
    tracks = [
        {"id": i, "title": f"Song {i}", "artist_name": DAFT_LIKE[0], "fingerprint": "x",
         "fingerprint_duration": 180.0}
        for i in range(count)
    ]  # fmt: skip
    try:
        started = time.perf_counter()
        first = [musicbrainz.enrich_track(ctx=ctx, track=t) for t in tracks]
        seconds = time.perf_counter() - started
        asked = len(fake.requests())
        again = [musicbrainz.enrich_track(ctx=ctx, track=t) for t in tracks]
        assert again == first, "the cached answers must give the same results"
        print(
            f"rescan of {count} tracks: first pass {asked} requests"
            f" ({count / seconds * 60:.0f} tracks/min without the rate limit),"
            f" rescan {len(fake.requests()) - asked} requests"
        )
    finally:
        fake.stop()
        redis_process.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rescan", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=HERE / "out" / "enrich")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    fingerprint_rates(generate(args.dir / "audio", args.tracks), args.runs)
    rescan_requests(args.rescan, Path(tempfile.mkdtemp(prefix="enrich-rescan-")))


if __name__ == "__main__":
    main()
