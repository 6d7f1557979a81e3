"""Odd inputs: each gives results or a clear BadAudioFile, never a crash or a runaway."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from soniquebay.errors import BadAudioFile
from soniquebay.plugins.builtin.audio_decode import ffmpeg_ebur128
from soniquebay.synth import encode, make_track


@pytest.fixture(scope="module")
def clip():
    return make_track(120.0, "D", "major", seconds=10.0, seed=7)


def test_digital_silence_gives_results_without_tempo_or_loudness(
    backend, analyze, settings_for, tmp_path
):
    path = encode(np.zeros(44100 * 8, dtype=np.float32), tmp_path / "silence.flac")
    result = analyze(backend, path, settings_for(backend))
    assert result["loudness_lufs"] is None
    assert result["bpm"] is None
    assert result["energy"] == 0.0
    assert result["silence_start"] == pytest.approx(8.0, abs=0.1)
    assert result["analysis_backend"] == backend


def test_one_second_file_gives_levels_but_no_tempo(backend, analyze, settings_for, tmp_path, clip):
    path = encode(clip[:44100], tmp_path / "short.mp3")
    result = analyze(backend, path, settings_for(backend))
    assert result["bpm"] is None
    assert result["loudness_lufs"] is not None
    assert result["analyzed_seconds"] == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_mono_stereo_and_surround_files_read_and_measure_right(
    backend, analyze, settings_for, tmp_path, clip, channels
):
    path = encode(clip, tmp_path / f"ch{channels}.flac", channels=channels)
    result = analyze(backend, path, settings_for(backend))
    assert result["bpm"] == pytest.approx(120.0, rel=0.02)
    assert result["key"] == "D" and result["scale"] == "major"
    assert abs(result["loudness_lufs"] - ffmpeg_ebur128(str(path)).integrated_lufs) <= 0.5


@pytest.mark.parametrize("rate", [8000, 22050, 48000, 96000, 192000])
def test_sample_rates_from_8k_to_192k_are_analysed(
    backend, analyze, settings_for, tmp_path, clip, rate
):
    path = encode(clip, tmp_path / f"r{rate}.flac", out_rate=rate)
    result = analyze(backend, path, settings_for(backend))
    assert result["bpm"] == pytest.approx(120.0, rel=0.02)
    assert abs(result["loudness_lufs"] - ffmpeg_ebur128(str(path)).integrated_lufs) <= 0.5


@pytest.mark.parametrize("fmt", ["mp3", "flac"])
def test_corrupt_stretch_in_the_middle_still_gives_results(
    backend, analyze, settings_for, tmp_path, clip, fmt
):
    path = encode(clip, tmp_path / f"corrupt.{fmt}")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = os.urandom(2000)
    path.write_bytes(bytes(data))
    result = analyze(backend, path, settings_for(backend))
    assert result["analyzed_seconds"] > 5.0
    assert result["bpm"] == pytest.approx(120.0, rel=0.02)


@pytest.mark.parametrize(
    "content",
    [b"", b"not audio at all, just text\n" * 40, os.urandom(50_000)],
    ids=["zero-length", "text", "random-bytes"],
)
def test_undecodable_files_raise_bad_audio_file(backend, analyze, settings_for, tmp_path, content):
    path = tmp_path / "bad.mp3"
    path.write_bytes(content)
    with pytest.raises(BadAudioFile) as info:
        analyze(backend, path, settings_for(backend))
    assert "bad.mp3" in str(info.value)


def test_missing_file_raises_bad_audio_file(backend, analyze, settings_for, tmp_path):
    with pytest.raises(BadAudioFile, match="no such file"):
        analyze(backend, tmp_path / "gone.flac", settings_for(backend))


def test_shorter_span_on_retry_is_honoured(backend, analyze, settings_for, tmp_path, clip):
    path = encode(clip, tmp_path / "retry.mp3")
    result = analyze(backend, path, settings_for(backend), max_seconds=4.0)
    assert result["analyzed_seconds"] == pytest.approx(4.0, abs=0.1)
    # The span is the middle of the file: its edges are not the file's.
    assert result["silence_start"] is None and result["silence_end"] is None


@pytest.fixture(scope="session")
def two_hour_mp3(tmp_path_factory):
    """Two hours of MP3 in a second: 360 copies of a 20 s CBR stream without Xing or ID3 headers."""
    folder = tmp_path_factory.mktemp("long")
    segment = encode(
        make_track(126.0, "D", "major", seconds=20.0),
        folder / "segment.mp3",
        channels=1,
        extra=["-b:a", "64k", "-write_xing", "0", "-id3v2_version", "0", "-write_id3v1", "0"],
    )
    long_path = folder / "two-hours.mp3"
    chunk = segment.read_bytes()
    with open(long_path, "wb") as out:
        for _ in range(360):
            out.write(chunk)
    return long_path


def test_two_hour_file_is_analysed_in_bounded_memory(backend, two_hour_mp3, numba_cache):
    """The default cap analyses the middle 600 s, and memory does not grow with the file.

    What the length adds is measured, not the process's whole peak: the libraries' own
    resident memory (librosa loads numba, llvmlite and scipy: 260-310 MB) varies from machine
    to machine, while the analysis's working memory is ours. A 20 s file analysed first loads
    every library (after ``load_backend``, as a worker starts); the peak is then reset (``clear_refs``) and the two-hour file analysed.
    The whole stays under the worker unit's ``MemoryMax=576M`` with room for RQ's work-horse.
    """
    script = f"""
import json
from pathlib import Path
from soniquebay.config import Settings
from soniquebay.plugins.builtin import analysis_{backend} as backend
from soniquebay.plugins.context import PluginContext
from soniquebay.synth import encode, make_track
settings = Settings(plugins={{"analysis": {{"backend": "{backend}", "numba_cache_dir": {str(numba_cache)!r}}}}})
ctx = PluginContext(settings, "worker", "analysis")
if hasattr(backend, "load_backend"):  # as a worker starts: a cold cache compiles apart
    backend.load_backend(Path({str(numba_cache)!r}))

def peak_mb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent (pytest).
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024

short = encode(make_track(126.0, "D", "major", seconds=20.0), {str(two_hour_mp3.parent / "short.mp3")!r})
backend.analyze_audio(ctx=ctx, path=str(short), max_seconds=None)
loaded = peak_mb()
Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
result = backend.analyze_audio(ctx=ctx, path={str(two_hour_mp3)!r}, max_seconds=None)
result["loaded_mb"], result["peak_rss_mb"] = loaded, peak_mb()
print(json.dumps(result))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["analyzed_seconds"] == pytest.approx(600.0, abs=1.0)
    assert result["silence_start"] is None
    assert result["bpm"] == pytest.approx(126.0, rel=0.02)
    added = result["peak_rss_mb"] - result["loaded_mb"]
    # 600 s of float32 mono at 22.05 kHz is 53 MB, at 44.1 kHz 106 MB; blocks add tens of MB.
    assert added < 200, (result["loaded_mb"], result["peak_rss_mb"])
    assert result["peak_rss_mb"] < 520, (result["loaded_mb"], result["peak_rss_mb"])
