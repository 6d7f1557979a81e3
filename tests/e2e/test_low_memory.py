"""The low-memory profile (1-2 GB Pis): one worker for every queue, the analysis backend
loaded when work comes and given back when it stops, at most 300 s of a track analysed."""

import re
import subprocess
import sys
from pathlib import Path

from support.audio_files import land_analysed


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


def maps_numpy(pid: int) -> bool:
    """Whether numpy's C core is mapped into the process (librosa and Essentia need it)."""
    return "_multiarray_umath" in Path(f"/proc/{pid}/maps").read_text()


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def test_one_worker_serves_every_queue_and_holds_the_backend_only_while_busy(
    serve, library, tmp_path
):
    server = serve(env={"SONIQUEBAY_MEMORY": "low", "SONIQUEBAY_RELEASE_IDLE_SECONDS": "4"})
    workers = [p for p in children(server.process.pid) if " worker " in command_line(p)]
    assert [re.search(r"--queue (\S+)", command_line(p)).group(1) for p in workers] == ["scan"]
    (worker,) = workers
    assert not maps_numpy(worker)  # idle from the start: no backend held
    idle_rss = rss_mib(worker)

    # A long track: listed, analysed by that one worker, on the middle 300 s only.
    track = land_analysed(
        server,
        library,
        tmp_path,
        "long.flac",
        180,
        bpm=120.0,
        key="D",
        scale="major",
        seconds=330.0,
    )
    assert track["analysis_error"] is None
    assert (track["key"], track["scale"]) == ("D", "major")
    assert abs(track["bpm"] - 120.0) / 120.0 < 0.02
    assert abs(track["analyzed_seconds"] - 300.0) < 1.0
    assert track["duration"] > 329
    log = server.log()
    assert "low-memory profile: serving scan, analysis, enrich, vectors" in log
    # The worker itself loaded the backend for the analysis jobs (once), not each work-horse...
    assert log.count("loaded for the analysis queue") == 1

    # ...and gives it back after the idle spell: the same process, run again, without numpy.
    server.wait_until(
        lambda: server.log().count("low-memory profile: serving") == 2 and not maps_numpy(worker),
        timeout=60,
        what="the worker to restart in place, idle",
    )
    assert "restarting in place to give back what" in server.log()
    assert worker in children(server.process.pid)
    assert rss_mib(worker) < idle_rss + 20

    # Work after the release loads it again, and is analysed as well.
    from soniquebay.synth import encode, make_track

    encode(make_track(bpm=96.0, key="A", scale="minor", seconds=30.0), tmp_path / "short.mp3")
    (tmp_path / "short.mp3").rename(library / "short.mp3")
    again = server.wait_until(
        lambda: next(
            (t for t in server.tracks() if t["path"].endswith("short.mp3") and t["analyzed_at"]),
            None,
        ),
        timeout=120,
        what="the analysis of short.mp3 to finish",
    )
    assert (again["key"], again["scale"]) == ("A", "minor")
    assert server.log().count("loaded for the analysis queue") == 2


def test_the_units_condition_skips_the_stage_worker_only_in_the_low_memory_profile(tmp_path):
    def check(memory: str, queue: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "soniquebay", "worker", "--queue", queue, "--check"],
            env={"SONIQUEBAY_CONFIG": "", "SONIQUEBAY_MEMORY": memory, "PATH": "/usr/bin:/bin",
                 "SONIQUEBAY_DATA_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
        )  # fmt: skip

    skipped = check("low", "stages")
    assert skipped.returncode == 1 and "low-memory profile" in skipped.stdout
    assert check("low", "scan").returncode == 0
    assert check("standard", "stages").returncode == 0
    refused = check("tiny", "scan")
    assert refused.returncode == 255 and "memory" in refused.stderr  # the unit fails, loudly
