"""`soniquebay scan` beside a running serve: it finds it from the data folder (whatever its
port) and sends through its API, the only writer; it refuses what is outside the library."""

from __future__ import annotations

import subprocess
import sys


def scan(server, *paths):
    return subprocess.run(
        [sys.executable, "-m", "soniquebay", "scan", "--quiet", "--library", str(server.library),
         "--data-dir", str(server.data_dir), *map(str, paths)],
        capture_output=True,
        text=True,
        env=server.env,
        timeout=120,
    )  # fmt: skip


def test_scan_finds_the_running_instance_and_refuses_paths_outside_the_library(
    serve, library, audio, tmp_path
):
    server = serve()  # on a random port, not the default one
    outside = audio.make(tmp_path / "elsewhere" / "song.mp3", title="Elsewhere")
    refused = scan(server, outside)
    assert refused.returncode == 2 and "is not in the library" in refused.stderr

    server.stop()
    audio.make(library / "sub" / "one.mp3", title="One")  # lands while nothing watches
    server.start()
    done = scan(server, library / "sub")
    assert done.returncode == 0, done.stderr
    assert f"through the API at {server.url}" in done.stdout
    assert [t["title"] for t in server.tracks()] == ["One"]
