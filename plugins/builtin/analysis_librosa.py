"""Audio analysis with librosa and numpy: the portable backend, and the only one on a Raspberry Pi.

Essentia ships no aarch64 wheel; librosa is pure Python over numpy, scipy, soundfile and numba,
all of which do. One decode at 22.05 kHz feeds everything, and the spectrum is computed in
blocks of ~47 s so memory stays flat however long the analysed span (a 600 s span whole would
be a 210 MB complex STFT); each block is reduced at once to what the features need:

- one 2048-point STFT -> mel power -> onset strength (tempo), MFCC; spectral centroid,
  roll-off and flatness from the same magnitudes;
- one 8192-point STFT at a 4096 hop (2.7 Hz bins, cheap) -> chroma -> key, by correlation with
  the Krumhansl-Kessler and Temperley key profiles;
- the BPM comes from the tracked beats' intervals (``beat_track``'s own tempo is a tempogram
  bin, quantised in ~2 % steps); danceability is the numpy DFA shared with the Essentia scale.

librosa's beat tracker is compiled by numba on first use (26 s and 640 MB here). The compiled
code is cached in ``[plugin.analysis] numba_cache_dir`` (default ``<data_dir>/numba-cache``),
and :func:`warm_up` fills that cache at install time so no worker pays it. A worker loads the
backend with :func:`load_backend`, which compiles in a child process when the cache is cold,
so the worker never holds a compiler's memory.
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from soniquebay import hookimpl, lazy
from soniquebay.names import ANALYSIS
from soniquebay.plugins.builtin import audio_features as features
from soniquebay.plugins.builtin.analysis_options import (
    AnalysisOptions,
    analysis_options,
    chosen_backend,
)
from soniquebay.plugins.builtin.audio_decode import DecodedAudio, Loudness, decode
from soniquebay.plugins.context import PluginContext
from soniquebay.plugins.stages import FILE, stage

np = lazy.module("numpy")  # loaded when an analysis runs, not when the plugin loads
log = logging.getLogger(__name__)

STAGE_VERSION = "2"  # bump when a change alters the features: every track is analysed again
# 2: the waveform for the player's seek bar
SAMPLE_RATE = 22050
N_FFT = 2048
HOP = 512
CHROMA_N_FFT = 8192
CHROMA_HOP = 4096
BLOCK_FRAMES = 2048  # STFT frames per block: 47.5 s at 22.05 kHz / 512
N_MELS = 96
N_MFCC = 13
ONSET_MAX_HZ = 2000.0
TEMPO_BLOCK_FRAMES = 2584  # 60 s of onset envelope at 22.05 kHz / 512
TEMPO_FRAME_STEP = 4  # tempogram frames averaged for the prior: one in four (see _tempogram)

# Key profiles (probe-tone ratings), tonic first: Krumhansl & Kessler 1982; Temperley 1999.
# Tuples, not arrays: numpy is not needed to load this module (see soniquebay.lazy).
PROFILES = {
    "krumhansl": (
        (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
        (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17),
    ),
    "temperley": (
        (5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0),
        (5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0),
    ),
}


def use_numba_cache(cache_dir: Path) -> None:
    """Point numba's on-disk cache at ``cache_dir`` (must run before librosa compiles anything)."""
    cache_dir = Path(cache_dir)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # read-only data dir: numba falls back to its own cache locations
    if os.environ.get("NUMBA_CACHE_DIR") != str(cache_dir):
        os.environ["NUMBA_CACHE_DIR"] = str(cache_dir)
        import sys

        if "numba" in sys.modules:  # imported already: make it read the variable again
            sys.modules["numba"].config.reload_config()


@functools.cache
def _librosa():
    import librosa

    return librosa


@hookimpl
def startup(ctx: PluginContext, process: str) -> None:
    """In a worker that serves the analysis queue, compile (or load from the cache) librosa's
    code once, before RQ forks a work-horse per job: each job then starts warm."""
    if process == "worker" and ANALYSIS in ctx.queues:
        options = analysis_options(ctx.settings)
        if options.preload and chosen_backend(options) == "librosa":
            ctx.log.info("librosa warmed up in %.1fs", load_backend(options.numba_cache_dir))


@hookimpl(specname="warm_up")
def warm_up_for_jobs(ctx: PluginContext, queue: str) -> bool | None:
    """Not preloaded (the low-memory profile): load librosa in the worker when the first
    analysis job comes, so the jobs after it start warm instead of each paying the import
    (3.3 s here, most of it numba loading the beat tracker); the worker gives the memory back
    once the work stops."""
    options = analysis_options(ctx.settings)
    if queue != ANALYSIS or options.preload or chosen_backend(options) != "librosa":
        return None
    seconds = load_backend(options.numba_cache_dir)
    ctx.log.info("librosa loaded for the analysis jobs in %.1fs", seconds)
    return True


@hookimpl
@stage(produces=features.RESULT_KEYS, needs=(FILE,), version=STAGE_VERSION, queue=ANALYSIS)
def analyze_audio(
    ctx: PluginContext, path: str, max_seconds: float | None
) -> dict[str, Any] | None:
    options = analysis_options(ctx.settings)
    if chosen_backend(options) != "librosa":
        return None
    use_numba_cache(options.numba_cache_dir)
    audio = decode(path, SAMPLE_RATE, max_seconds or options.max_seconds)
    return analyze_signal(audio, options)


def analyze_signal(audio: DecodedAudio, options: AnalysisOptions) -> dict[str, Any]:
    librosa = _librosa()
    y = audio.samples
    sr = audio.sample_rate
    result = features.common_fields(audio, options.silence_threshold_db)
    result.update(analysis_backend="librosa", analysis_version=librosa.__version__, extra={})

    if len(y) < N_FFT:
        y = np.pad(y, (0, N_FFT - len(y)))
    mel, shape = _spectral_blocks(librosa, y, sr)
    mel_db = librosa.power_to_db(mel, ref=1.0, top_db=None)
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=N_MFCC)
    result["timbre"] = {
        "mfcc_mean": mfcc.mean(axis=1).tolist(),
        "mfcc_std": mfcc.std(axis=1).tolist(),
        "spectral_centroid": float(shape[0].mean()),  # Hz
        "spectral_centroid_std": float(shape[0].std()),
        "rolloff": float(shape[1].mean()),  # Hz, 85 % of the energy below
        "flatness": float(shape[2].mean()),  # 0 tonal .. 1 noise
        "zcr": float(
            librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=N_FFT).mean()
        ),
    }

    if features.is_silent(audio, options.silence_threshold_db) or audio.seconds < 2.0:
        result["danceability"] = 0.0
        return features.finish(result)

    # Onsets from the mel bands below 2 kHz, median over bands: kick, snare body and bass carry
    # the beat; hats above 2 kHz made the tracker lock on eighth notes (80 BPM read as 160) and
    # a mean over bands let one busy band win (162 read as 81). Measured on the ground-truth set:
    # 12/15 -> 15/15 within 2 %.
    low = librosa.mel_frequencies(n_mels=N_MELS, fmax=sr / 2.0) < ONSET_MAX_HZ
    onset_env = librosa.onset.onset_strength(
        S=librosa.power_to_db(mel[low], ref=np.max), sr=sr, hop_length=HOP, aggregate=np.median
    )
    tempo = _tempo_estimate(librosa, onset_env, sr)
    _tempo, beats = librosa.beat.beat_track(
        onset_envelope=onset_env, sr=sr, hop_length=HOP, bpm=tempo, units="time"
    )
    result["bpm"], result["bpm_confidence"] = features.tempo_from_beats(beats)

    chroma = _chroma(librosa, y, sr)
    key, scale, confidence = features.key_from_chroma(chroma, PROFILES)
    result.update(key=key, scale=scale, key_confidence=confidence)
    result["danceability"] = features.dfa_danceability(y, sr)
    return features.finish(result)


def _tempo_estimate(librosa, onset_env: np.ndarray, sr: int) -> float:
    """The tracker's starting tempo, from the tempogram of each ~60 s stretch (median of them).

    librosa's own estimate builds one autocorrelation tempogram over the whole envelope: 400 MB
    for a 600 s span. Per stretch it stays under 40 MB, and a steady tempo reads the same.
    """
    step = TEMPO_BLOCK_FRAMES
    estimates, weights = [], []
    for start in range(0, len(onset_env), step):
        chunk = onset_env[start : start + step]
        if len(chunk) < step // 4 and estimates:
            break  # a short tail says little; the previous stretches decide
        estimates.append(
            float(
                librosa.feature.tempo(tg=_tempogram(librosa, chunk, sr), sr=sr, hop_length=HOP)[0]
            )
        )
        weights.append(len(chunk))
    order = np.argsort(estimates)
    cumulative = np.cumsum(np.asarray(weights)[order])
    return estimates[order[np.searchsorted(cumulative, cumulative[-1] / 2.0)]]


def _tempogram(librosa, onset_env: np.ndarray, sr: int) -> np.ndarray:
    """librosa's autocorrelation tempogram (as ``feature.tempo`` makes it: 8 s windows, Hann,
    centred, each frame max-normalised), one frame in TEMPO_FRAME_STEP. ``tempo`` only takes
    the mean over frames, and neighbouring frames share all but one of their 344 values, so
    the mean is the same to a hair; computing every frame was a sixth of a track's analysis."""
    win = int(librosa.time_to_frames(8.0, sr=sr, hop_length=HOP).item())
    padded = np.pad(onset_env, win // 2, mode="linear_ramp", end_values=[0, 0])
    frames = librosa.util.frame(padded, frame_length=win, hop_length=TEMPO_FRAME_STEP)
    frames = frames[:, : -(-len(onset_env) // TEMPO_FRAME_STEP)]
    window = librosa.filters.get_window("hann", win, fftbins=True)[:, np.newaxis]
    return librosa.util.normalize(
        librosa.autocorrelate(frames * window, axis=-2), norm=np.inf, axis=-2
    )


def _blocks(y: np.ndarray, n_fft: int, hop: int, frames: int):
    """Overlapping slices of ``y`` whose uncentred STFTs join into the STFT of the whole."""
    step = frames * hop
    for start in range(0, max(1, len(y) - n_fft + hop), step):
        block = y[start : start + (frames - 1) * hop + n_fft]
        if len(block) >= n_fft:
            yield block


def _spectral_blocks(librosa, y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Mel power spectrogram and (centroid, roll-off, flatness) per frame, block by block."""
    mel_basis = librosa.filters.mel(sr=sr, n_fft=N_FFT, n_mels=N_MELS)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=N_FFT)
    mels, shapes = [], []
    for block in _blocks(y, N_FFT, HOP, BLOCK_FRAMES):
        mag = np.abs(librosa.stft(block, n_fft=N_FFT, hop_length=HOP, center=False))
        power = mag**2
        mels.append(mel_basis @ power)
        total = mag.sum(axis=0) + 1e-10
        centroid = (freqs @ mag) / total
        cumulative = np.cumsum(power, axis=0)
        rolloff = freqs[np.argmax(cumulative >= 0.85 * cumulative[-1:, :], axis=0)]
        flatness = np.exp(np.mean(np.log(power + 1e-10), axis=0)) / (np.mean(power, axis=0) + 1e-10)
        shapes.append(np.vstack([centroid, rolloff, flatness]))
    return np.hstack(mels), np.hstack(shapes)


def _chroma(librosa, y: np.ndarray, sr: int) -> np.ndarray:
    """Mean 12-bin chroma over the span, each frame normalised so loud passages don't dominate."""
    if len(y) < CHROMA_N_FFT:
        y = np.pad(y, (0, CHROMA_N_FFT - len(y)))
    fb = librosa.filters.chroma(sr=sr, n_fft=CHROMA_N_FFT)
    total = np.zeros(12)
    for block in _blocks(y, CHROMA_N_FFT, CHROMA_HOP, 256):
        power = (
            np.abs(librosa.stft(block, n_fft=CHROMA_N_FFT, hop_length=CHROMA_HOP, center=False))
            ** 2
        )
        chroma = fb @ power
        peak = chroma.max(axis=0, keepdims=True)
        total += (chroma / np.where(peak > 0, peak, 1.0)).sum(axis=1)
    return total


def load_backend(cache_dir: Path) -> float:
    """Load librosa and its compiled code into this (long-lived worker) process, compiling
    apart first when the cache is cold. Returns the seconds it took.

    Compiling holds some 200 MB that loading from the cache does not, and a process keeps
    that memory: a worker that compiled itself and then forked a work-horse for a 300 s track
    peaked at 600 MiB (PSS, worker and work-horse) against 395 with a warm cache, over the
    units' ``MemoryMax=576M``. So a cold cache (the install's warm-up failed, or it was
    deleted) is filled by a child process that exits, and this one loads what it wrote.
    """
    started = time.perf_counter()
    if not any(Path(cache_dir).rglob("*.nbi")):
        code = f"import sys; from {__name__} import warm_up; warm_up(sys.argv[1])"
        filled = subprocess.run(
            [sys.executable, "-c", code, str(cache_dir)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if filled.returncode != 0:  # this process compiles then; the jobs still run
            tail = filled.stderr.strip().splitlines()[-1:] or ["no output"]
            log.warning("filling the numba cache apart failed (%s): %s", filled.returncode, tail[0])
    warm_up(cache_dir)
    return time.perf_counter() - started


def warm_up(cache_dir: str | Path | None = None) -> float:
    """Compile and cache librosa's numba code, so the first track a worker sees is not 26 s slow.

    The packaging calls it once at install (``python -c "from soniquebay.plugins.builtin.
    analysis_librosa import warm_up; warm_up('/var/lib/soniquebay/numba-cache')"``) as the user
    the workers run as. Returns the seconds it took.
    """
    started = time.perf_counter()
    options = AnalysisOptions(backend="librosa")
    if cache_dir is not None:
        options = AnalysisOptions(backend="librosa", numba_cache_dir=Path(cache_dir))
    use_numba_cache(options.numba_cache_dir)
    from soniquebay.synth import make_track

    samples = make_track(120.0, "A", "minor", seconds=12.0, sr=SAMPLE_RATE)
    audio = DecodedAudio(samples, SAMPLE_RATE, 0.0, 12.0, 1, SAMPLE_RATE, Loudness(-20.0, 1.0, 0.5))
    analyze_signal(audio, options)
    return time.perf_counter() - started
