"""The one-pass decoder: span selection, the ebur128 summary, stereo-aware loudness."""

from __future__ import annotations

import numpy as np
import pytest

from soniquebay.plugins.builtin.audio_decode import decode, ffmpeg_ebur128, parse_ebur128_summary
from soniquebay.synth import encode, make_track

SILENCE_SUMMARY = """
[Parsed_ebur128_0 @ 0x1] Summary:

  Integrated loudness:
    I:         -70.0 LUFS
    Threshold:   0.0 LUFS

  Loudness range:
    LRA:         0.0 LU
    Threshold:   0.0 LUFS
    LRA low:     0.0 LUFS
    LRA high:    0.0 LUFS

  Sample peak:
    Peak:       -inf dBFS
"""


def test_silence_summary_has_no_loudness_and_zero_peak():
    loud = parse_ebur128_summary(SILENCE_SUMMARY)
    assert loud.integrated_lufs is None and loud.range_lu is None and loud.sample_peak == 0.0


def test_long_file_is_cut_to_its_middle(tmp_path):
    path = encode(make_track(120.0, seconds=30.0), tmp_path / "t.flac")
    audio = decode(str(path), 22050, max_seconds=10.0)
    assert audio.offset == pytest.approx(10.0, abs=0.05)
    assert audio.seconds == pytest.approx(10.0, abs=0.05)
    assert not audio.reaches_start and not audio.reaches_end
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1


def test_loudness_is_measured_on_the_channels_not_the_mono_fold(tmp_path):
    """Left and right in opposite phase fold to silence; BS.1770 still hears both channels."""
    track = make_track(120.0, seconds=6.0)
    wide = np.stack([track, -track], axis=1).reshape(-1)
    raw = tmp_path / "wide.f32"
    raw.write_bytes(wide.astype(np.float32).tobytes())
    import subprocess

    path = tmp_path / "wide.flac"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "f32le",
            "-ar",
            "44100",
            "-ac",
            "2",
            "-i",
            str(raw),
            str(path),
        ],
        check=True,
    )
    audio = decode(str(path), 44100)
    reference = ffmpeg_ebur128(str(path))
    assert audio.loudness.integrated_lufs == pytest.approx(reference.integrated_lufs, abs=0.1)
    assert float(np.max(np.abs(audio.samples))) < 1e-3  # the analysis signal is the fold-down
    assert audio.loudness.sample_peak == pytest.approx(0.5, abs=0.01)
