"""Synthetic tracks with a known tempo and key: what the librosa backend warms up on at install
(numba compiles its code on them), and what the analysis tests and benchmark measure against.

Everything is numpy plus ffmpeg for encoding, so a fresh machine needs nothing else:
``make_track(bpm=124, key="F#", scale="minor", seconds=15)`` is a drum pattern (kick on 1 and 3,
snare on 2 and 4, hats on eighths) over a chord progression that establishes the key
(I-IV-V-I in major, i-iv-V-i with the raised leading tone in minor), with a bass line on the
roots. :func:`encode` writes it as MP3, FLAC, ... with any rate and channel count.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MAJOR_PROGRESSION = ((0, "maj"), (5, "maj"), (7, "maj"), (0, "maj"))  # I IV V I
MINOR_PROGRESSION = ((0, "min"), (5, "min"), (7, "maj"), (0, "min"))  # i iv V i
CHORD_INTERVALS = {"maj": (0, 4, 7), "min": (0, 3, 7)}
ENCODERS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "160k"],
    "flac": ["-c:a", "flac"],
    "wav": ["-c:a", "pcm_s16le"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "4"],
}


def midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def _tone(freq: float, n: int, sr: int, harmonics: int = 4) -> np.ndarray:
    t = np.arange(n) / sr
    out = np.zeros(n)
    for h in range(1, harmonics + 1):
        if freq * h < sr / 2:
            out += np.sin(2 * np.pi * freq * h * t) / h
    return out


def drums(bpm: float, seconds: float, sr: int = 44100, seed: int = 0) -> np.ndarray:
    """Kick on beats 1 and 3, snare on 2 and 4, closed hats on every eighth note."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.zeros(n)
    beat = 60.0 / bpm

    kick_n = int(0.25 * sr)
    t = np.arange(kick_n) / sr
    sweep = 2 * np.pi * np.cumsum(50 + 100 * np.exp(-t * 30)) / sr
    kick = np.sin(sweep) * np.exp(-t * 12)
    snare_n = int(0.18 * sr)
    ts = np.arange(snare_n) / sr
    snare = (0.7 * rng.standard_normal(snare_n) + 0.5 * np.sin(2 * np.pi * 190 * ts)) * np.exp(
        -ts * 25
    )
    hat_n = int(0.05 * sr)
    hat = np.diff(rng.standard_normal(hat_n + 1)) * np.exp(-np.arange(hat_n) / sr * 90) * 0.25

    def place(sample: np.ndarray, at: float, gain: float) -> None:
        i = int(round(at * sr))
        if i < n:
            m = min(len(sample), n - i)
            out[i : i + m] += gain * sample[:m]

    k = 0
    while k * beat < seconds:
        place(kick if k % 2 == 0 else snare, k * beat, 0.9 if k % 2 == 0 else 0.6)
        place(hat, k * beat, 1.0)
        place(hat, (k + 0.5) * beat, 0.7)
        k += 1
    return out


def chords(key: str, scale: str, bpm: float, seconds: float, sr: int = 44100) -> np.ndarray:
    """The key's cadence, one chord per bar (4 beats), looped, with the root in the bass."""
    tonic = PITCH_CLASSES.index(key)
    progression = MAJOR_PROGRESSION if scale == "major" else MINOR_PROGRESSION
    n = int(seconds * sr)
    out = np.zeros(n)
    bar = int(round(4 * 60.0 / bpm * sr))
    fade = np.minimum(1.0, np.minimum(np.arange(bar), np.arange(bar)[::-1]) / (0.01 * sr))
    i = 0
    bar_index = 0
    while i < n:
        degree, quality = progression[bar_index % len(progression)]
        root = 60 + (tonic + degree) % 12  # chord tones in C4..B5
        chunk = np.zeros(bar)
        for interval in CHORD_INTERVALS[quality]:
            chunk += _tone(midi_hz(root + interval), bar, sr, harmonics=3)
        chunk += 1.2 * _tone(midi_hz(root - 24), bar, sr, harmonics=5)  # bass, two octaves down
        chunk *= fade
        m = min(bar, n - i)
        out[i : i + m] += chunk[:m]
        i += bar
        bar_index += 1
    return out


def make_track(
    bpm: float = 120.0,
    key: str = "C",
    scale: str = "major",
    seconds: float = 15.0,
    sr: int = 44100,
    peak: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """A mono float32 track: drums over the key's progression, normalised to ``peak``."""
    mix = drums(bpm, seconds, sr, seed) + 0.12 * chords(key, scale, bpm, seconds, sr)
    mix *= peak / max(1e-9, float(np.max(np.abs(mix))))
    return mix.astype(np.float32)


def encode(
    samples: np.ndarray,
    path: str | Path,
    sr: int = 44100,
    out_rate: int | None = None,
    channels: int = 2,
    extra: list[str] | None = None,
) -> Path:
    """Write ``samples`` (mono) with ffmpeg; the format follows the extension.

    Stereo gets a slightly narrower right channel so the two differ; more channels (5.1) put the
    track in every main channel, quieter in the surrounds, and leave the LFE nearly silent.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".")
    data = np.asarray(samples, dtype=np.float32)
    if channels == 2:
        data = np.stack([data, 0.9 * data], axis=1)
    elif channels > 2:
        gains = np.full(channels, 0.5, dtype=np.float32)
        if channels >= 6:
            gains[3] = 0.05
        data = data[:, None] * gains[None, :]
    else:
        data = data[:, None]
    cmd = [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "f32le", "-ar", str(sr), "-ac", str(channels), "-i", "pipe:0",
    ]  # fmt: skip
    if channels == 6:
        cmd += ["-channel_layout", "5.1"]
    if out_rate:
        cmd += ["-ar", str(out_rate)]
    cmd += ENCODERS.get(fmt, []) + (extra or []) + [str(path)]
    subprocess.run(cmd, input=np.ascontiguousarray(data).tobytes(), check=True)
    return path


# Ground truth for the accuracy tests: tempo spread over 80-170 BPM, every key in both scales
# at least once over the list, tonic spread around the circle of fifths.
GROUND_TRUTH: tuple[tuple[float, str, str], ...] = (
    (80.0, "C", "major"),
    (86.0, "A", "minor"),
    (92.0, "G", "major"),
    (97.0, "E", "minor"),
    (103.0, "D", "major"),
    (110.0, "B", "minor"),
    (116.0, "F", "major"),
    (122.0, "F#", "minor"),
    (128.0, "A#", "major"),
    (134.0, "C#", "minor"),
    (140.0, "D#", "major"),
    (147.0, "G#", "minor"),
    (155.0, "E", "major"),
    (162.0, "D", "minor"),
    (170.0, "G#", "major"),
)
