"""A track that lands is analysed automatically; `soniquebay analyze` runs it again."""

import subprocess
import sys

from support.audio_files import land_analysed


def test_a_new_track_is_analysed_and_its_features_are_listed(serve, library, tmp_path):
    server = serve()
    track = land_analysed(
        server, library, tmp_path, "beat.flac", bpm=128.0, key="A", scale="minor", seconds=12.0
    )
    assert track["analysis_error"] is None
    assert abs(track["bpm"] - 128.0) / 128.0 < 0.02
    assert (track["key"], track["scale"]) == ("A", "minor")
    assert -40 < track["loudness_lufs"] < 0
    assert track["analysis_version"]
    assert isinstance(track["timbre"], dict) and track["timbre"]
    page = server.get(f"/tracks/{track['id']}")
    assert "BPM" in page and track["analysis_backend"] in page

    # `soniquebay analyze --all` queues it again; the worker runs it and nothing breaks.
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "soniquebay",
            "analyze",
            "--all",
            "--library",
            str(library),
            "--data-dir",
            str(server.data_dir),
        ],
        env={**server.env, "SONIQUEBAY_REDIS_URL": f"unix://{server.data_dir / 'redis.sock'}"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "queued 1 tracks" in out.stdout
    server.wait_until(
        lambda: server.get(f"/api/tracks/{track['id']}")["analyzed_at"] > track["analyzed_at"],
        timeout=120,
        what="the second analysis",
    )


def test_a_file_that_cannot_be_analysed_gets_its_error_recorded(serve, library, audio):
    server = serve()
    path = audio.make(library / "short.mp3", title="Damaged", seconds=4.0)
    data = bytearray(path.read_bytes())
    data[len(data) // 3 :] = bytes(len(data) - len(data) // 3)  # the audio after a third is zeros
    (library / "short.mp3").write_bytes(bytes(data))
    track = server.wait_until(
        lambda: (t := server.tracks()) and t[0].get("analyzed_at") and t[0],
        timeout=120,
        what="the analysis to run",
    )
    # Zeroed frames decode as silence or are skipped: either results or a recorded reason.
    assert track["analysis_error"] or track["analysis_backend"]
