"""The Pi package, smoke-tested on an emulated arm64 Debian 12 (``pytest -m emulated``).

The arm64 .deb is built on this x86 machine (packaging/build-deb.sh --arch arm64) and
installed with dpkg in an arm64 root file system from Debian's mirror, under proot and
qemu-aarch64-static emulating a Pi 4's Cortex-A72 (no binfmt_misc here): postinst makes the
venv from the package's wheels with the guest's own python3.11, offline. Then the installed
`soniquebay` runs: --version, doctor, and `serve` on a folder where a generated FLAC lands
and is listed with its tags and analysed by librosa (the arm64 backend) with the right key.

Timings printed here are emulated ones (qemu is some 10-30x slower than a Pi 4): they say the
test's cost, not the Pi's speed.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from support import arm64
from support.servers import free_port, get_json

from soniquebay import synth

pytestmark = [pytest.mark.emulated, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
VENV = "/opt/venvs/soniquebay"


def timed(what: str, started: float) -> None:
    print(f"\n[emulated] {what}: {time.monotonic() - started:.0f} s", flush=True)


@pytest.fixture(scope="module")
def guest(tmp_path_factory):
    """A copy of the cached arm64 rootfs with the arm64 .deb installed by dpkg."""
    if os.geteuid() != 0:
        pytest.fail("the emulated test installs host tools with apt: run it as root (CI does)")
    started = time.monotonic()
    base = arm64.ensure_rootfs()
    timed("arm64 rootfs ready (cached after the first run)", started)
    work = tmp_path_factory.mktemp("arm64")
    started = time.monotonic()
    built = subprocess.run(
        [str(REPO / "packaging" / "build-deb.sh"), "--arch", "arm64", str(work / "deb")],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "SONIQUEBAY_DEB_COMPRESSION": "gzip"},
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    deb = Path(built.stdout.strip().splitlines()[-1])
    timed(f"built {deb.name} ({deb.stat().st_size / 2**20:.0f} MiB) on x86", started)
    rootfs = arm64.copy_rootfs(base, work / "rootfs")
    (rootfs / "tmp" / deb.name).write_bytes(deb.read_bytes())
    started = time.monotonic()
    installed = arm64.run_guest(rootfs, ["dpkg", "-i", f"/tmp/{deb.name}"], timeout=3600)
    timed("dpkg -i under emulation (postinst: venv, wheels, migrate, librosa warm-up)", started)
    assert installed.returncode == 0, installed.stdout[-4000:] + installed.stderr[-4000:]
    yield rootfs, installed.stdout + installed.stderr


def test_the_package_installs_offline_into_a_venv_of_the_guests_python(guest):
    rootfs, output = guest
    assert "installing into /opt/venvs/soniquebay (offline" in output
    machine = arm64.run_guest(
        rootfs,
        [f"{VENV}/bin/python", "-c", "import platform, sys; print(platform.machine(), sys.base_prefix)"],
        timeout=300,
    )  # fmt: skip
    assert machine.stdout.split() == ["aarch64", "/usr"], machine.stderr
    version = arm64.run_guest(rootfs, ["soniquebay", "--version"], timeout=300)
    assert version.returncode == 0 and version.stdout.strip(), version.stderr
    vec = arm64.run_guest(
        rootfs,
        [f"{VENV}/bin/python", "-c",
         "import sqlite_vec, apsw; c = apsw.Connection(':memory:'); c.enable_load_extension(True);"
         " c.load_extension(sqlite_vec.loadable_path()); print(c.execute('select vec_version()')"
         ".fetchall()[0][0])"],
        timeout=300,
    )  # fmt: skip
    assert vec.returncode == 0 and vec.stdout.startswith("v0.1."), vec.stderr  # a 64-bit vec0.so


def test_serve_lists_a_landed_flac_and_librosa_finds_its_key(guest):
    rootfs, _ = guest
    port = free_port()
    music, data = rootfs / "srv" / "music", rootfs / "var" / "lib" / "soniquebay"
    music.mkdir(parents=True)
    config = rootfs / "srv" / "soniquebay.conf"
    config.write_text(
        f"[soniquebay]\nlibrary = /srv/music\ndata_dir = /var/lib/soniquebay\nport = {port}\n"
    )
    log = (rootfs / "srv" / "serve.log").open("wb")
    started = time.monotonic()
    serve = subprocess.Popen(
        arm64.guest_command(rootfs, ["soniquebay", "serve"]),
        env=arm64.guest_env(SONIQUEBAY_CONFIG="/srv/soniquebay.conf"),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def wait(what, predicate, timeout):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                assert serve.poll() is None, (rootfs / "srv" / "serve.log").read_text()[-4000:]
                try:
                    value = predicate()
                    if value:
                        return value
                except OSError:
                    pass
                time.sleep(2)
            pytest.fail(
                f"{what}: not within {timeout} s\n"
                + (rootfs / "srv" / "serve.log").read_text()[-4000:]
            )

        wait("serve to answer", lambda: get_json(base + "/api/health", timeout=30), 900)
        timed("serve answering under emulation", started)
        token = (data / "worker-token").read_text().strip()

        doctor = arm64.run_guest(
            rootfs, ["soniquebay", "doctor"], timeout=900, SONIQUEBAY_CONFIG="/srv/soniquebay.conf"
        )
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert "[ ok ] tools" in doctor.stdout and "[ ok ] redis" in doctor.stdout, doctor.stdout
        assert "librosa" in doctor.stdout and "[ ok ] vectors: sqlite-vec" in doctor.stdout

        landing = rootfs / "srv" / "landing.flac"
        synth.encode(
            synth.make_track(bpm=100, key="A", scale="minor", seconds=20),
            landing,
            extra=["-metadata", "title=Pi Smoke", "-metadata", "artist=Emulated Band"],
        )
        os.rename(landing, music / "pi-smoke.flac")
        started = time.monotonic()

        def track():
            items = get_json(base + "/api/tracks", token, timeout=30)["items"]
            return items[0] if items else None

        listed = wait("the FLAC to be listed", track, 600)
        timed("FLAC listed", started)
        assert (listed["title"], listed["artist_name"]) == ("Pi Smoke", "Emulated Band")
        analysed = wait(
            "librosa to analyse it",
            lambda: (t := track()) and t.get("analyzed_at") and t,
            1800,
        )
        timed("FLAC analysed by librosa", started)
        assert analysed["analysis_backend"] == "librosa", analysed
        assert (analysed["key"], analysed["scale"]) == ("A", "minor"), analysed
    finally:
        os.killpg(serve.pid, 15)
        try:
            serve.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, 9)
            serve.wait()
        log.close()
