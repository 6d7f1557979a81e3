"""From the end of a copy to the track being listed, on a running `soniquebay serve`.

    .venv/bin/python bench/latency.py [--files 20]

Copies files one by one into the library (a real copy: written in 64 KB blocks, then closed),
and polls GET /api/tracks until each appears. Prints p50/p90/max. Afterwards it checks that no
file was read before it was complete: no scan errors, every track read exactly once, and every
duration whole. Analysis plugins are off so they do not compete with the measurement.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from soniquebay.testing import FORMATS, AudioFactory, Server

BLOCK = 64 * 1024


def copy_slowly(src: Path, dest: Path, pause: float) -> None:
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while block := fin.read(BLOCK):
            fout.write(block)
            fout.flush()
            if pause:
                time.sleep(pause)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each generated file")
    parser.add_argument(
        "--pause", type=float, default=0.01, help="pause between 64 KB blocks (a slow copy)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="soniquebay-latency-"))
    factory = AudioFactory(work / "templates")
    sources = [
        factory.make(
            work / "src" / f"{i:02d}.{FORMATS[i % 2]}", seconds=args.seconds, title=f"Latency {i}"
        )
        for i in range(args.files)
    ]
    server = Server(
        work / "music",
        work / "data",
        env={
            "SONIQUEBAY_LOG_LEVEL": "WARNING",
            "SONIQUEBAY_PLUGIN_ANALYSIS_ESSENTIA_ENABLED": "false",
            "SONIQUEBAY_PLUGIN_ANALYSIS_LIBROSA_ENABLED": "false",
        },
    )
    server.env.pop("SONIQUEBAY_DEBOUNCE_SECONDS", None)  # the shipped defaults, not the tests'
    server.start()
    latencies = []
    size_kb = os.path.getsize(sources[0]) // 1024
    try:
        for i, src in enumerate(sources):
            copy_slowly(src, server.library / src.name, args.pause)
            done = time.perf_counter()
            server.wait_until(
                lambda i=i: len(server.tracks()) == i + 1, timeout=60, what=f"file {i}"
            )
            latencies.append(time.perf_counter() - done)
        tracks = server.tracks()
        errors = server.get("/api/scan/errors")["total"]
        read_twice = sum(1 for t in tracks if t["updated_at"] != t["date_added"])
        short = sum(1 for t in tracks if t["duration"] < args.seconds - 0.5)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    latencies.sort()
    print(
        f"{len(latencies)} files of ~{size_kb} KB, copied in 64 KB blocks {args.pause * 1000:.0f} ms apart"
    )
    print(
        f"copy end -> listed: p50 {statistics.median(latencies):.2f}s  "
        f"p90 {latencies[int(0.9 * (len(latencies) - 1))]:.2f}s  max {latencies[-1]:.2f}s"
    )
    print(f"half-read files: {short}  read more than once: {read_twice}  scan errors: {errors}")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(f"(commit {commit}, python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
