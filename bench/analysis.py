"""Benchmark the analysis backends against the ffmpeg decode floor.

    .venv/bin/python bench/analysis.py [--tracks 10] [--seconds 180] [--backends essentia,librosa]

Generates ten 3-minute tracks (half MP3, half FLAC) under bench/out/, then for each backend:
seconds per track in one worker (a fresh process that starts as `soniquebay worker` does:
plugins loaded and their ``startup`` run, which preloads the backend and numba's compiled code;
that start-up is reported apart, as is the first track), tracks/min with 2 worker processes
side by side (from their first track, and counting their start-up), and each worker's peak
RSS (VmHWM). The floor is plain ``ffmpeg -i FILE -f f32le -`` on the same files,
measured in the same run. Results go to stdout and bench/out/analysis.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
TRACKS = [
    (96.0, "A", "minor"),
    (104.0, "C", "major"),
    (112.0, "E", "minor"),
    (118.0, "G", "major"),
    (124.0, "B", "minor"),
    (128.0, "D", "major"),
    (132.0, "F#", "minor"),
    (140.0, "A#", "major"),
    (150.0, "C#", "minor"),
    (174.0, "F", "major"),
]


def make_tracks(count: int, seconds: float) -> list[Path]:
    from soniquebay.synth import encode, make_track

    OUT.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        bpm, key, scale = TRACKS[i % len(TRACKS)]
        fmt = "mp3" if i % 2 == 0 else "flac"
        path = OUT / f"bench-{i:02d}-{int(seconds)}s-{bpm:g}-{key}-{scale}.{fmt}"
        if not path.exists():
            encode(make_track(bpm, key, scale, seconds, seed=i), path)
        paths.append(path)
    return paths


def decode_floor(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path), "-f", "f32le", "-"],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - started


def worker(backend: str, paths: list[str], cache_dir: str) -> None:
    """One analysis worker, as `soniquebay worker --queue analysis` runs: plugins loaded and
    started (the backend preloaded, as ``preload = true`` does), then track after track."""
    from soniquebay.daemon.worker import one_native_thread

    one_native_thread()  # as `soniquebay worker` does, before numpy is imported
    started = time.perf_counter()
    from soniquebay.config import Settings
    from soniquebay.names import ANALYSIS
    from soniquebay.plugins import load_plugins

    settings = Settings(plugins={"analysis": {"backend": backend, "numba_cache_dir": cache_dir}})
    plugins = load_plugins(settings, "worker", (ANALYSIS,))  # runs startup: the preload
    imported = time.perf_counter() - started
    times, results = [], []
    for path in paths:
        t0 = time.perf_counter()
        result = plugins.first("analyze_audio", track={}, path=path, max_seconds=None)
        times.append(time.perf_counter() - t0)
        results.append({"bpm": result["bpm"], "key": result["key"], "scale": result["scale"]})
    status = Path("/proc/self/status").read_text()
    hwm_mb = int(status.split("VmHWM:")[1].split()[0]) / 1024
    print(
        json.dumps(
            {"import_s": imported, "times": times, "results": results, "peak_rss_mb": hwm_mb}
        )
    )


def run_workers(backend: str, groups: list[list[Path]], cache_dir: str) -> tuple[list[dict], float]:
    cmd = [sys.executable, __file__, "--worker", backend, "--cache-dir", cache_dir]
    started = time.perf_counter()
    procs = [
        subprocess.Popen(cmd + [str(p) for p in group], stdout=subprocess.PIPE, text=True)
        for group in groups
    ]
    outs = []
    for proc in procs:
        stdout, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"{backend} worker failed")
        outs.append(json.loads(stdout.strip().splitlines()[-1]))
    return outs, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tracks", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--backends", default="essentia,librosa")
    parser.add_argument("--cache-dir", default=str(OUT / "numba-cache"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.paths, args.cache_dir)
        return

    from soniquebay.plugins.builtin.analysis_librosa import warm_up
    from soniquebay.plugins.builtin.analysis_options import essentia_importable

    paths = make_tracks(args.tracks, args.seconds)
    print(
        f"{len(paths)} tracks of {args.seconds:g} s; load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores"
    )
    warm_up(args.cache_dir)  # what the package does at install

    floor = [decode_floor(p) for p in paths]
    floor_s = statistics.mean(floor)
    report = {
        "tracks": len(paths),
        "seconds": args.seconds,
        "decode_floor_s": floor_s,
        "backends": {},
    }
    print(
        f"decode floor (ffmpeg -> f32le): {floor_s:.3f} s/track (min {min(floor):.3f}, max {max(floor):.3f})"
    )

    for backend in args.backends.split(","):
        if backend == "essentia" and not essentia_importable():
            print("essentia: not importable here, skipped")
            continue
        [single], _ = run_workers(backend, [paths], args.cache_dir)
        per_track = statistics.mean(single["times"][1:] or single["times"])
        halves = [paths[0::2], paths[1::2]]
        pair, wall = run_workers(backend, halves, args.cache_dir)
        analysis_wall = max(sum(o["times"]) for o in pair)  # long-lived workers: start-up excluded
        per_min = len(paths) / analysis_wall * 60.0
        per_min_cold = len(paths) / wall * 60.0
        truth = [TRACKS[i % len(TRACKS)] for i in range(len(paths))]
        bpm_ok = sum(
            abs(r["bpm"] - t[0]) / t[0] <= 0.02
            for r, t in zip(single["results"], truth, strict=True)
        )
        key_ok = sum(
            (r["key"], r["scale"]) == t[1:] for r, t in zip(single["results"], truth, strict=True)
        )
        entry = {
            "import_s": single["import_s"],
            "first_track_s": single["times"][0],
            "per_track_s": per_track,
            "ratio_to_floor": per_track / floor_s,
            "tracks_per_min_2_workers": per_min,
            "tracks_per_min_2_workers_incl_start": per_min_cold,
            "peak_rss_mb_single": single["peak_rss_mb"],
            "peak_rss_mb_2_workers": [o["peak_rss_mb"] for o in pair],
            "bpm_within_2pct": bpm_ok,
            "key_right": key_ok,
        }
        report["backends"][backend] = entry
        print(
            f"{backend:9s} {per_track:.3f} s/track = {per_track / floor_s:.1f}x floor "
            f"(first track {single['times'][0]:.2f} s, start-up {single['import_s']:.2f} s) | "
            f"2 workers: {per_min:.0f} tracks/min ({per_min_cold:.0f} counting start-up) | "
            f"peak RSS {single['peak_rss_mb']:.0f} MB alone, "
            f"{', '.join(f'{m:.0f}' for m in entry['peak_rss_mb_2_workers'])} MB in the pair | "
            f"BPM {bpm_ok}/{len(paths)}, key {key_ok}/{len(paths)}"
        )
    (OUT / "analysis.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
