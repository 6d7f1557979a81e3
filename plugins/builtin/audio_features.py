"""What both analysis backends share: the result's keys, and the measures defined once in numpy.

Energy, silence and the tempo confidence are computed here for both backends so their figures
mean the same thing whichever backend ran; the backends differ where their libraries do
(beat tracking, key, timbre, danceability).

Key names use sharps throughout (``C C# D D# E F F# G G# A A# B``): Essentia's mixed spellings
(``Bb``, ``Eb``, ``Ab``) are mapped onto them.
"""

from __future__ import annotations

import math
from typing import Any

from soniquebay import lazy
from soniquebay.library import replaygain
from soniquebay.plugins.builtin.audio_decode import DecodedAudio

np = lazy.module("numpy")  # loaded when an analysis runs, not when the plugin loads

RESULT_KEYS = (
    "bpm", "bpm_confidence", "key", "scale", "key_confidence",
    "loudness_lufs", "loudness_range", "replaygain_track_gain", "replaygain_track_peak",
    "danceability", "energy", "silence_start", "silence_end", "timbre", "extra",
    "analyzed_seconds", "analysis_backend", "analysis_version", "waveform",
)  # fmt: skip
WAVEFORM_BINS = 200  # peaks per track for the player's seek bar
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#", "Cb": "B", "Fb": "E"}
ENERGY_FLOOR_DB = -40.0  # energy 0 at or below this RMS level (dBFS), 1 at full scale
FRAME_SECONDS = 0.05  # RMS frames for energy and silence


def sharp_key(name: str) -> str:
    """``"Bb"`` -> ``"A#"``; an already sharp or natural name is returned as is."""
    name = name.strip()
    return FLATS.get(name, name)


def frame_rms(
    samples: np.ndarray, sample_rate: int, frame_seconds: float = FRAME_SECONDS
) -> np.ndarray:
    """RMS of consecutive non-overlapping frames (the last partial frame is dropped)."""
    size = max(1, int(sample_rate * frame_seconds))
    count = len(samples) // size
    if count == 0:
        return np.sqrt(np.mean(np.square(samples, dtype=np.float64), keepdims=True))
    frames = samples[: count * size].reshape(count, size)
    return np.sqrt(np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / size)


def silence_bounds(rms: np.ndarray, threshold_db: float) -> tuple[float, float]:
    """Seconds of silence before the first and after the last frame above ``threshold_db``."""
    loud = np.flatnonzero(rms > 10.0 ** (threshold_db / 20.0))
    total = len(rms) * FRAME_SECONDS
    if len(loud) == 0:
        return total, total
    return float(loud[0] * FRAME_SECONDS), float((len(rms) - 1 - loud[-1]) * FRAME_SECONDS)


def energy(rms: np.ndarray, threshold_db: float) -> float:
    """Intensity in 0..1: the RMS level of the non-silent frames, from -40 dBFS (0) to 0 dBFS (1)."""
    loud = rms[rms > 10.0 ** (threshold_db / 20.0)]
    if len(loud) == 0:
        return 0.0
    level_db = 10.0 * math.log10(float(np.mean(np.square(loud))) + 1e-20)
    return float(np.clip((level_db - ENERGY_FLOOR_DB) / -ENERGY_FLOOR_DB, 0.0, 1.0))


def tempo_from_beats(beat_times: np.ndarray) -> tuple[float | None, float]:
    """BPM from the beat intervals (not a tempogram bin), and a 0..1 regularity confidence.

    Intervals more than 15 % away from the median are dropped (missed or doubled beats); the BPM
    is the inverse of the mean of the rest, which averages the frame quantisation out, and the
    confidence is how regular the kept intervals are and how many survived.
    """
    if len(beat_times) < 4:
        return None, 0.0
    intervals = np.diff(np.asarray(beat_times, dtype=np.float64))
    median = float(np.median(intervals))
    if median <= 0:
        return None, 0.0
    kept = intervals[np.abs(intervals - median) <= 0.15 * median]
    if len(kept) < 3:
        return 60.0 / median, 0.0
    period = float(np.mean(kept))
    spread = float(np.std(kept)) / period
    confidence = (len(kept) / len(intervals)) * max(0.0, 1.0 - spread / 0.1)
    return 60.0 / period, float(np.clip(confidence, 0.0, 1.0))


def dfa_danceability(samples: np.ndarray, sample_rate: int) -> float:
    """Danceability by detrended fluctuation analysis (Streich & Herrera, AES 2005), in numpy.

    The 10 ms frames' standard deviations are integrated into a profile; for window lengths
    ``tau`` from 310 ms to 8.8 s the RMS residual of a straight-line fit over sliding windows
    gives ``F(tau)``; the slopes ``alpha`` of ``log F`` against ``log tau`` are near 0.5 for
    strongly periodic (danceable) music and near 1 or above for irregular music. The result is
    ``1 / mean(alpha)``: roughly 0..3, higher is more danceable (Essentia's scale).
    Each tau costs O(frames) thanks to prefix sums.
    """
    size = max(1, int(0.01 * sample_rate))
    count = len(samples) // size
    if count < 40:
        return 0.0
    frames = samples[: count * size].reshape(count, size)
    s = np.empty(count)
    for start in range(0, count, 10000):  # 100 s at a time: a float64 copy of 600 s is 200 MB
        s[start : start + 10000] = (
            frames[start : start + 10000].astype(np.float64).std(axis=1, ddof=1)
        )
    y = np.cumsum(s - s.mean())
    idx = np.arange(count, dtype=np.float64)
    # Prefix sums (with a leading 0) of y, y^2 and i*y for windowed least squares.
    cy = np.concatenate(([0.0], np.cumsum(y)))
    cyy = np.concatenate(([0.0], np.cumsum(y * y)))
    ciy = np.concatenate(([0.0], np.cumsum(idx * y)))

    taus = []
    tau_ms = 310.0
    while tau_ms <= 8800.0:
        taus.append(int(tau_ms / 10.0))
        tau_ms *= 1.1
    fluct, used = [], []
    for tau in taus:
        if tau >= count:
            break
        starts = np.arange(0, count - tau, max(tau // 50, 1))
        ends = starts + tau
        sy = cy[ends] - cy[starts]
        syy = cyy[ends] - cyy[starts]
        sxy = (ciy[ends] - ciy[starts]) - starts * sy  # x measured from each window's start
        sx = tau * (tau - 1) / 2.0
        sxx = (tau - 1) * tau * (2 * tau - 1) / 6.0
        varx = sxx - sx * sx / tau
        rss = syy - sy * sy / tau - (sxy - sx * sy / tau) ** 2 / varx
        fluct.append(math.sqrt(max(float(np.mean(np.maximum(rss, 0.0))), 0.0)))
        used.append(tau)
    if len(fluct) < 2 or min(fluct) <= 0:
        return 0.0
    logf, logt = np.log10(fluct), np.log10(np.asarray(used, dtype=np.float64) + 3.0)
    alpha = float(np.mean(np.diff(logf) / np.diff(logt)))
    return 1.0 / alpha if alpha > 0 else 0.0


def key_from_chroma(
    chroma: np.ndarray, profiles: dict[str, tuple[np.ndarray, np.ndarray]]
) -> tuple[str, str, float]:
    """Best (key, scale, confidence) by correlating a 12-bin chroma with rotated key profiles.

    ``profiles`` maps a name to (major, minor) templates; their correlations are summed. The
    confidence is the winner's correlation (clipped to 0..1).
    """
    chroma = np.asarray(chroma, dtype=np.float64)
    if not np.any(chroma > 0) or np.allclose(chroma, chroma[0]):
        return "C", "major", 0.0
    scores = np.zeros((2, 12))
    for major, minor in profiles.values():
        for scale_index, profile in enumerate((major, minor)):
            for tonic in range(12):
                scores[scale_index, tonic] += np.corrcoef(chroma, np.roll(profile, tonic))[0, 1]
    scores /= len(profiles)
    scale_index, tonic = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return (
        PITCH_CLASSES[tonic],
        ("major", "minor")[scale_index],
        float(np.clip(scores.max(), 0.0, 1.0)),
    )


def common_fields(audio: DecodedAudio, threshold_db: float) -> dict[str, Any]:
    """Loudness, ReplayGain, energy and silence: the same computation under both backends."""
    loud = audio.loudness
    rms = frame_rms(audio.samples, audio.sample_rate)
    head, tail = silence_bounds(rms, threshold_db)
    out: dict[str, Any] = {
        "loudness_lufs": loud.integrated_lufs,
        "loudness_range": loud.range_lu,
        "replaygain_track_gain": (
            replaygain.REFERENCE_LUFS - loud.integrated_lufs
            if loud.integrated_lufs is not None
            else None
        ),
        "replaygain_track_peak": loud.sample_peak,
        "energy": energy(rms, threshold_db),
        # A span cut from the middle of a long file says nothing about the file's own edges.
        "silence_start": head if audio.reaches_start else None,
        "silence_end": tail if audio.reaches_end else None,
        "analyzed_seconds": audio.seconds,
        "waveform": waveform(audio),
    }
    return out


def waveform(audio: DecodedAudio) -> list[int] | None:
    """WAVEFORM_BINS peaks of the whole file, 0..255 of its loudest (a silent file: zeros);
    None when the analysed span is not the whole file (a long one's middle) or is too short."""
    samples = audio.samples
    if not (audio.reaches_start and audio.reaches_end) or len(samples) < WAVEFORM_BINS:
        return None
    bins = samples[: len(samples) // WAVEFORM_BINS * WAVEFORM_BINS].reshape(WAVEFORM_BINS, -1)
    peaks = np.maximum(bins.max(axis=1), -bins.min(axis=1))  # no |x| copy of the samples
    top = float(peaks.max())
    if top <= 0:
        return [0] * WAVEFORM_BINS
    return np.clip(np.round(peaks / top * 255.0), 0, 255).astype(int).tolist()


def is_silent(audio: DecodedAudio, threshold_db: float) -> bool:
    if not len(audio.samples):
        return True
    peak = max(float(audio.samples.max()), -float(audio.samples.min()))  # np.abs would copy it all
    return peak <= 10.0 ** (threshold_db / 20.0)


def finish(result: dict[str, Any]) -> dict[str, Any]:
    """Every agreed key (``None`` where unknown), plain JSON types, NaN as ``None``, floats rounded."""
    return {key: _plain(result.get(key)) for key in RESULT_KEYS}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return round(value, 5) if math.isfinite(value) else None
    return value
