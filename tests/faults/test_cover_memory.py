"""Issue 24, item 6: a cover decoded in the web process left it larger for good (a 9800 x 9800
PNG took it from 376 MiB to 2 GiB and it kept 0.9 GiB). Covers are now decoded in decoder
processes: the web process's peak memory does not move when big covers are made into
thumbnails, and the decoders go away when idle."""

from __future__ import annotations

import os

from PIL import Image
from support.servers import WebSession

PASSWORD = "correct horse battery"


def web_pid(server) -> int:
    """The `soniquebay web` process under `serve`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                args = fh.read().split(b"\0")
            with open(f"/proc/{entry}/status") as fh:
                parent = next(int(line.split()[1]) for line in fh if line.startswith("PPid:"))
        except (OSError, StopIteration):
            continue
        if b"web" in args and parent == server.process.pid:
            return int(entry)
    raise AssertionError("no web process under serve")


def peak_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024


def test_big_covers_are_decoded_outside_the_web_process(serve, library, audio):
    for n in range(3):  # 4000 x 4000: 48 MB once decoded, under the 16 M pixel budget
        folder = library / f"Scan {n}"
        folder.mkdir()
        ramp = Image.linear_gradient("L").resize((4000, 4000)).rotate(30 * n)
        Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), ramp)).save(
            folder / "cover.png"
        )  # a few MB on disk
        audio.make(folder / "01.mp3", title=f"Scanned {n}", album=f"Scan {n}", artist="Big Art")
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    server.wait_for_tracks(3)
    session = WebSession(server.url, "admin", PASSWORD)
    pid = web_pid(server)
    session.page("/")  # the web at its working size
    before = peak_mib(pid)
    albums = {t["album_id"] for t in server.tracks()}
    for album in albums:
        for size in (64, 300, 600):
            status, body, headers = session.request("GET", f"/api/albums/{album}/cover?size={size}")
            assert status == 200 and headers["X-Cover-Source"] == "folder", headers
            assert body[:2] == b"\xff\xd8"  # a JPEG thumbnail, made
    grown = peak_mib(pid) - before
    assert grown < 25, f"the web process's peak grew by {grown:.0f} MiB decoding covers"
    children = [p for p in os.listdir("/proc") if p.isdigit() and _parent(p) == pid]
    decoders = [p for p in children if b"multiprocessing" in _cmdline(p)]
    assert decoders, "no decoder process: the covers were decoded in the web process"


def _parent(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("PPid:"))
    except (OSError, StopIteration):
        return None


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""
