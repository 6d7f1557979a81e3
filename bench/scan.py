"""Scan throughput against a bare mutagen loop, measured in the same run.

    .venv/bin/python bench/scan.py --files 10000

1. generates N small tagged files in mixed formats (ffmpeg once per format, then copies
   re-tagged with mutagen), in bench/out/ unless --dir says otherwise;
2. times a bare ``mutagen.File()`` loop over them (the baseline);
3. times ``soniquebay scan`` into an empty library (the one-shot CLI, its own writer), then
   again over the same library twice: every file unchanged, then every file touched (a new
   mtime: each read and stored again, its folder regrouped, docs/library.md);
4. times ``soniquebay serve`` ingesting the same folder from scratch (start-up, watcher reconcile
   -> RQ -> scan worker -> one GraphQL request per chunk -> SQLite), then sums the RSS of its
   processes (Redis aside);
5. times a running ``serve`` into which the same files land as one folder (a rename).

Prints files/min for each, the ratios to the baseline, and peak RSS. Analysis plugins are
switched off for step 4 so it measures the tag pipeline (analysis has its own bench).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mutagen

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support
from support.audio_files import FORMATS, AudioFactory  # noqa: E402
from support.servers import free_port  # noqa: E402

HERE = Path(__file__).resolve().parent


def generate(folder: Path, count: int) -> list[Path]:
    marker = folder / f".complete-{count}"
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    if marker.exists() and len(files) == count:
        return files
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    factory = AudioFactory(folder.parent / "templates")
    rng = random.Random(42)
    out = []
    for i in range(count):
        fmt = FORMATS[i % len(FORMATS)]
        artist = f"Artist {rng.randrange(200)}"
        album = f"Album {rng.randrange(1000)}"
        path = folder / artist / album / f"{i:06d}.{fmt}"
        out.append(
            factory.make(
                path,
                fmt,
                seconds=1.0,
                title=f"Track {i}",
                artist=artist,
                album=album,
                track=f"{i % 12 + 1}/12",
                date=str(1960 + i % 60),
                genre="Bench",
            )
        )
        if i and i % 1000 == 0:
            print(f"  generated {i}/{count}", file=sys.stderr)
    marker.touch()
    return sorted(out)


def bare_loop(files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        mutagen.File(path)
    return time.perf_counter() - start


def children_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def cli_scan(folder: Path, work: Path, fresh: bool = True) -> tuple[float, str]:
    data = work / "scan-data"
    if fresh:
        shutil.rmtree(data, ignore_errors=True)
    env = {**os.environ, "SONIQUEBAY_CONFIG": ""}
    start = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "soniquebay",
            "scan",
            str(folder),
            "--data-dir",
            str(data),
            "--library",
            str(folder),
            "--direct",
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start, out.stdout.strip()


def tree_rss_mb(root_pid: int, exclude: str = "redis-server") -> float:
    """Sum of RSS over a process and all its descendants, except ``exclude``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if f"Name:\t{exclude}" in status:
            continue
        total += int(status.split("VmRSS:")[1].split()[0]) if "VmRSS:" in status else 0
    return total / 1024


def get_json(url: str, token: str = ""):
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}"} if token else {}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def start_serve(library: Path, data: Path, work: Path) -> tuple[subprocess.Popen, str, str]:
    shutil.rmtree(data, ignore_errors=True)
    port = free_port()
    env = {
        **os.environ,
        "SONIQUEBAY_CONFIG": "",
        "SONIQUEBAY_LOG_LEVEL": "WARNING",
        "SONIQUEBAY_PLUGIN_ANALYSIS_ESSENTIA_ENABLED": "false",
        "SONIQUEBAY_PLUGIN_ANALYSIS_LIBROSA_ENABLED": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "soniquebay", "serve", "--library", str(library),
         "--data-dir", str(data), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "serve.log", "w"),
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}", str(data / "worker-token")


def wait_for(process: subprocess.Popen, url: str, token_file: str, ready) -> float:
    """Poll until ``ready(health, total)``; the peak RSS of serve's processes meanwhile."""
    peak = 0.0
    while True:
        time.sleep(0.2)
        peak = max(peak, tree_rss_mb(process.pid))
        try:
            token = Path(token_file).read_text().strip()  # serve made it
            health = get_json(url + "/api/health", token)
            total = get_json(url + "/api/tracks?limit=1", token)["total"]
        except OSError:
            if process.poll() is not None:
                raise SystemExit("serve exited: see serve.log") from None
            continue
        if ready(health, total):
            return peak


def serve_ingest(folder: Path, work: Path, count: int) -> dict:
    """Two measurements: ``serve`` started on a full library (start-up, reconcile, ingest), and
    a running ``serve`` into which a folder of ``count`` files lands (one rename)."""
    out = {}
    start = time.perf_counter()
    process, url, token = start_serve(folder, work / "serve-data", work)
    try:
        peak = wait_for(process, url, token, lambda h, total: total >= count)
        out["from_start"] = time.perf_counter() - start
        time.sleep(2)  # settle: jobs finished, caches as they stay
        out["peak"], out["after"] = peak, tree_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(30)

    library, staging = work / "landing-library", work / "landing-staging"
    shutil.rmtree(library, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    library.mkdir()
    (library / "already-here").mkdir()  # an online library root, not an empty mount point
    subprocess.run(["cp", "-al", str(folder), str(staging)], check=True)  # hard links: instant
    process, url, token = start_serve(library, work / "landing-data", work)
    try:
        wait_for(process, url, token, lambda h, total: h.get("watcher", {}).get("reconciled"))
        start = time.perf_counter()
        os.rename(staging, library / "landed")  # the folder lands: one event
        wait_for(process, url, token, lambda h, total: total >= count)
        out["landed"] = time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(30)
        shutil.rmtree(library, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=HERE / "out")
    parser.add_argument("--skip-serve", action="store_true")
    args = parser.parse_args()
    work = args.dir
    folder = work / f"library-{args.files}"
    print(f"generating {args.files} files in {folder} ...", file=sys.stderr)
    files = generate(folder, args.files)
    bare_loop(files[:200])  # warm the page cache the same way for everyone

    bare = bare_loop(files)
    scan_seconds, scan_out = cli_scan(folder, work)
    scan_rss = children_peak_rss_mb()
    n = len(files)
    bare_rate, scan_rate = n * 60 / bare, n * 60 / scan_seconds
    print(
        f"files: {n} (mixed {', '.join(FORMATS)}), cores: {os.cpu_count()}, "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    print(f"bare mutagen.File loop : {bare_rate:>10,.0f} files/min ({bare:.1f}s)")
    print(
        f"soniquebay scan        : {scan_rate:>10,.0f} files/min ({scan_seconds:.1f}s)  "
        f"ratio to bare loop {scan_rate / bare_rate:.2f}  peak RSS {scan_rss:.0f} MB"
    )
    print(f"    {scan_out}")
    unchanged, _ = cli_scan(folder, work, fresh=False)
    now = time.time()
    for path in files:
        os.utime(path, (now, now))
    touched, touched_out = cli_scan(folder, work, fresh=False)
    for label, seconds in (("unchanged", unchanged), ("every file touched", touched)):
        rate = n * 60 / seconds
        print(
            f"rescan, {label:<18}: {rate:>10,.0f} files/min ({seconds:.1f}s)  "
            f"ratio to bare loop {rate / bare_rate:.2f}"
        )
    print(f"    {touched_out}")
    if not args.skip_serve:
        serve = serve_ingest(folder, work, n)
        for label, key in (("from start", "from_start"), ("folder lands", "landed")):
            rate = n * 60 / serve[key]
            print(
                f"serve ingest, {label:<12}: {rate:>10,.0f} files/min ({serve[key]:.1f}s)  "
                f"ratio to bare loop {rate / bare_rate:.2f}"
            )
        print(
            f"    RSS of serve's processes (Redis aside): peak {serve['peak']:.0f} MB, "
            f"after ingest {serve['after']:.0f} MB"
        )


if __name__ == "__main__":
    main()
