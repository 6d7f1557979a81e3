"""Fingerprints from the real fpcalc on generated audio: the same recording in two formats
matches, different music does not, and a file with nothing to fingerprint says so."""

from __future__ import annotations

import pytest

from soniquebay import fingerprints
from soniquebay.errors import BadAudioFile
from soniquebay.plugins.builtin.fingerprint import fpcalc
from soniquebay.synth import encode, make_track


@pytest.fixture(scope="module")
def prints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prints")
    same = make_track(bpm=120, key="C", seconds=20, seed=1)
    other = make_track(bpm=128, key="E", seconds=20, seed=2)
    files = {
        "flac": encode(same, folder / "same.flac"),
        "mp3": encode(same, folder / "same.mp3"),  # fpcalc 1.5.1 ends MP3s with a decode error
        "opus": encode(same, folder / "same.opus"),
        "other": encode(other, folder / "other.mp3"),
    }
    return {name: fpcalc(str(path)) for name, path in files.items()}


def test_the_same_audio_in_other_formats_matches(prints):
    flac = fingerprints.head(prints["flac"]["fingerprint"])
    for name in ("mp3", "opus"):
        error = fingerprints.bit_error(flac, fingerprints.head(prints[name]["fingerprint"]))
        assert error < fingerprints.DUPLICATE_BIT_ERROR, (name, error)
    assert prints["mp3"]["fingerprint_duration"] == pytest.approx(20, abs=0.2)


def test_different_music_does_not_match(prints):
    error = fingerprints.bit_error(
        fingerprints.head(prints["flac"]["fingerprint"]),
        fingerprints.head(prints["other"]["fingerprint"]),
    )
    assert error > 0.3


def test_a_file_without_audio_has_no_fingerprint_and_says_why(tmp_path):
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"ID3" + bytes(range(256)) * 20)
    with pytest.raises(BadAudioFile, match="no fingerprint: Could not open the input file"):
        fpcalc(str(junk))
    jingle = encode(make_track(seconds=1.0), tmp_path / "jingle.flac")
    assert fpcalc(str(jingle)) is None  # audio, too short to fingerprint: not an error
    with pytest.raises(ValueError, match="not a Chromaprint fingerprint"):
        fingerprints.decode("garbage")
