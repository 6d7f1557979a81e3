"""Each backend against generated tracks of known tempo, key and loudness (MP3 and FLAC)."""

from __future__ import annotations

from soniquebay.plugins.builtin.audio_decode import ffmpeg_ebur128
from soniquebay.plugins.builtin.audio_features import RESULT_KEYS


def test_bpm_within_two_percent_on_nine_tracks_in_ten(
    backend, ground_truth_results, accuracy_report
):
    results = ground_truth_results(backend)
    exact, octave, wrong = [], [], []
    for path, bpm, _key, _scale, result in results:
        found = result["bpm"]
        if found and abs(found - bpm) / bpm <= 0.02:
            exact.append(path.name)
        elif found and any(abs(found - bpm * f) / (bpm * f) <= 0.02 for f in (0.5, 2.0)):
            octave.append(f"{path.name}: {found:.2f}")
        else:
            wrong.append(f"{path.name}: {found}")
    total = len(results)
    accuracy_report(
        f"{backend}: BPM within 2% {len(exact)}/{total}, half/double {len(octave)}/{total} {octave}, "
        f"wrong {len(wrong)}/{total} {wrong}"
    )
    assert len(exact) >= 0.9 * total, (octave, wrong)


def test_key_exactly_right_on_four_tracks_in_five(backend, ground_truth_results, accuracy_report):
    results = ground_truth_results(backend)
    misses = [
        f"{path.name}: {r['key']} {r['scale']}"
        for path, _bpm, key, scale, r in results
        if (r["key"], r["scale"]) != (key, scale)
    ]
    total = len(results)
    accuracy_report(
        f"{backend}: key and scale right {total - len(misses)}/{total}, misses {misses}"
    )
    assert total - len(misses) >= 0.8 * total, misses


def test_loudness_within_half_a_lu_of_ffmpeg_ebur128(
    backend, ground_truth_results, accuracy_report
):
    worst = 0.0
    for path, *_truth, result in ground_truth_results(backend):
        reference = ffmpeg_ebur128(str(path))
        assert reference.integrated_lufs is not None
        diff = abs(result["loudness_lufs"] - reference.integrated_lufs)
        worst = max(worst, diff)
        assert diff <= 0.5, (path.name, result["loudness_lufs"], reference.integrated_lufs)
        assert abs(result["replaygain_track_gain"] - (-18.0 - reference.integrated_lufs)) <= 0.5
    accuracy_report(f"{backend}: loudness, worst difference to ffmpeg ebur128 {worst:.2f} LU")


def test_result_has_the_agreed_keys_and_json_types(backend, ground_truth_results):
    _path, *_truth, result = ground_truth_results(backend)[0]
    assert tuple(result) == RESULT_KEYS
    assert {"analysis_backend", "analysis_version"} <= set(result)
    assert result["analysis_backend"] == backend
    assert result["key"] in ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    assert result["scale"] in ("major", "minor")
    for name in ("bpm_confidence", "key_confidence", "energy"):
        assert 0.0 <= result[name] <= 1.0, name
    assert 0.0 < result["replaygain_track_peak"] <= 1.0
    assert result["danceability"] > 0
    assert result["silence_start"] < 0.5 and result["silence_end"] < 0.5
    timbre = result["timbre"]
    assert len(timbre["mfcc_mean"]) == len(timbre["mfcc_std"]) == 13
    count = sum(len(v) if isinstance(v, list) else 1 for v in timbre.values())
    assert count < 100
    assert all(type(v) in (float, int) for v in timbre["mfcc_mean"])
    assert isinstance(result["extra"], dict)
    assert 11.0 <= result["analyzed_seconds"] <= 13.0
