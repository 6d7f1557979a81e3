"""From the end of a copy to the track being listed, on a running `soniquebay serve`.

    .venv/bin/python bench/latency.py [--files 20]

Copies files one by one into the library (a real copy: written in 64 KB blocks, then closed),
and polls GET /api/tracks until each appears. Prints p50/p90/max twice: on an idle `serve`
(analysis off), then while a backlog of --backlog tracks is being analysed. Afterwards it checks that no file was read before it was
complete: no scan errors, every track read exactly once, and every duration whole.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support
from support.audio_files import FORMATS, AudioFactory  # noqa: E402
from support.servers import Server  # noqa: E402

BLOCK = 64 * 1024


def copy_slowly(src: Path, dest: Path, pause: float) -> None:
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while block := fin.read(BLOCK):
            fout.write(block)
            fout.flush()
            if pause:
                time.sleep(pause)


def measure(server: Server, sources: list[Path], pause: float, seconds: float) -> dict:
    """Copy each source in, wait until it is listed; latencies and the completeness checks."""
    before = server.get("/api/tracks?limit=1")["total"]
    latencies = []
    for i, src in enumerate(sources):
        copy_slowly(src, server.library / src.name, pause)
        done = time.perf_counter()
        server.wait_until(
            lambda i=i: server.get("/api/tracks?limit=1")["total"] == before + i + 1,
            timeout=60,
            what=f"file {i}",
        )
        latencies.append(time.perf_counter() - done)
    titles = {f"Latency {i}" for i in range(len(sources))}
    tracks = [t for t in server.tracks() if t["title"] in titles]
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p90": latencies[int(0.9 * (len(latencies) - 1))],
        "max": latencies[-1],
        "errors": server.get("/api/scan/errors")["total"],
        "read_twice": sum(1 for t in tracks if t["updated_at"] != t["date_added"]),
        "short": sum(1 for t in tracks if t["duration"] < seconds - 0.5),
    }


def report(label: str, result: dict) -> None:
    print(
        f"{label}: copy end -> listed p50 {result['p50']:.2f}s  p90 {result['p90']:.2f}s  "
        f"max {result['max']:.2f}s | half-read {result['short']}  read twice "
        f"{result['read_twice']}  scan errors {result['errors']}"
    )


def start_server(work: Path, name: str, analysis: bool) -> Server:
    env = {"SONIQUEBAY_LOG_LEVEL": "WARNING"}
    if not analysis:
        env["SONIQUEBAY_PLUGIN_ANALYSIS_ESSENTIA_ENABLED"] = "false"
        env["SONIQUEBAY_PLUGIN_ANALYSIS_LIBROSA_ENABLED"] = "false"
    server = Server(work / f"{name}-music", work / f"{name}-data", env=env)
    server.env.pop("SONIQUEBAY_DEBOUNCE_SECONDS", None)  # the shipped defaults, not the tests'
    return server.start()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each generated file")
    parser.add_argument(
        "--pause", type=float, default=0.01, help="pause between 64 KB blocks (a slow copy)"
    )
    parser.add_argument("--backlog", type=int, default=200, help="tracks waiting for analysis")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="soniquebay-latency-"))
    factory = AudioFactory(work / "templates")
    sources = [
        factory.make(
            work / "src" / f"{i:02d}.{FORMATS[i % 2]}", seconds=args.seconds, title=f"Latency {i}"
        )
        for i in range(args.files)
    ]
    size_kb = os.path.getsize(sources[0]) // 1024
    print(
        f"{args.files} files of ~{size_kb} KB, copied in 64 KB blocks {args.pause * 1000:.0f} ms"
        f" apart; load average {os.getloadavg()[0]:.2f}, cores {os.cpu_count()}"
    )
    try:
        server = start_server(work, "idle", analysis=False)
        try:
            report("idle            ", measure(server, sources, args.pause, args.seconds))
        finally:
            server.stop()

        backlog = work / "backlog-music" / "backlog"
        for i in range(args.backlog):
            factory.make(backlog / f"{i:03d}.mp3", seconds=60.0, title=f"Backlog {i}")
        server = start_server(work, "backlog", analysis=True)
        try:
            server.wait_until(
                lambda: server.get("/api/tracks?limit=1")["total"] == args.backlog,
                timeout=300,
                what="the backlog to be listed",
            )
            waiting = server.get("/api/tracks?limit=1&missing_features=true")["total"]
            result = measure(server, sources, args.pause, args.seconds)
            left = server.get("/api/tracks?limit=1&missing_features=true")["total"]
            report("analysis backlog", result)
            print(f"    tracks waiting for analysis: {waiting} at the start, {left} at the end")
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(f"(commit {commit}, python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
