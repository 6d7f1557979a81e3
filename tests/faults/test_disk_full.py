"""The data folder fills up: writes fail with a clear error, health says why, and once there is
room again every file arrives with no restart by hand."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess

import pytest


@pytest.fixture
def small_disk(tmp_path):
    """A real 32 MB tmpfs for the data folder (the library stays on the big disk)."""
    mount_point = tmp_path / "data"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs here (the suite runs as root): {done.stderr}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


CREATE_TRACKS = "mutation ($data: [TrackCreateInput!]!) { create_tracks(data: $data) { id } }"


def fill(folder) -> os.PathLike:
    """Write zeros until the file system says it is full."""
    filler = folder / "filler"
    block = b"\0" * (1 << 20)
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(block)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    for size in (65536, 4096, 1):  # the last partial blocks
        try:
            with open(filler, "ab", buffering=0) as fh:
                while True:
                    fh.write(b"\0" * size)
        except OSError:
            pass
    assert shutil.disk_usage(folder).free < 65536
    return filler


def total(server) -> int:
    return server.get("/api/tracks?limit=1")["total"]


def test_a_full_data_folder_degrades_health_and_everything_arrives_when_room_returns(
    small_disk, serve, library, audio
):
    server = serve()  # its data folder is the small disk
    assert server.data_dir == small_disk
    audio.make(library / "before.mp3", title="Before")
    server.wait_for_tracks(1)

    filler = fill(small_disk)
    source = audio.template("mp3", seconds=1.0)
    folder = library.parent / "landing"
    folder.mkdir()
    for i in range(300):
        shutil.copyfile(source, folder / f"{i:03d}.mp3")
    os.rename(folder, library / "landing")

    def says_full():
        health = server.get("/api/health", ok_only=False)
        problems = " ".join(health.get("problems", []))
        return health if "no space left" in problems.lower() else None

    health = server.wait_until(says_full, timeout=60, what="health to name the full disk")
    assert health["status"] == "degraded"
    assert str(small_disk) in " ".join(health["problems"])
    server.wait_until(
        lambda: "cannot write the outbox" in server.log(),
        timeout=60,
        what="the watcher to meet the full disk with the landed files",
    )
    # A write the API cannot store is refused as such, not as an internal error.
    items = [
        {"path": f"/elsewhere/{i:04d}.flac", "size": 1, "mtime_ns": 1, "title": "x" * 200}
        for i in range(500)
    ]
    status, answer = server.request(
        "POST",
        "/api/graphql",
        {"query": CREATE_TRACKS, "variables": {"data": items}},
    )
    assert status == 507, answer
    assert answer["errors"][0]["extensions"]["code"] == "storage_full"
    assert "no space left" in answer["errors"][0]["message"]
    assert total(server) == 1  # nothing could be stored...

    os.unlink(filler)  # ...but nothing is lost: room again, and it all proceeds by itself
    server.wait_until(lambda: total(server) == 301, timeout=180, what="all 301 tracks")
    server.wait_until(
        lambda: server.get("/api/health", ok_only=False)["status"] == "ok",
        timeout=60,
        what="health ok again",
    )
    assert server.process.poll() is None
    assert server.get("/api/scan/errors")["total"] == 0
