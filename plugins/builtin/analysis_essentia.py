"""Audio analysis with Essentia's classic algorithms (amd64: essentia-tensorflow has no aarch64 wheel).

One decode at 44.1 kHz (the rate RhythmExtractor2013 is built for) feeds every algorithm:
RhythmExtractor2013 (``degara``: a quarter of ``multifeature``'s time for the same BPM on
steady music; its BPM comes from the beat ticks), KeyExtractor, Danceability, and one frame loop
for the timbre summary. Loudness comes from the decode pass (ffmpeg's ``ebur128`` on the
original channels): Essentia's LoudnessEBUR128 would need the stereo signal in memory and
cost about 1 s a track, four times the whole decode.

When ``[plugin.analysis] models_dir`` holds Essentia TensorFlow models (``.pb`` + ``.json``),
they run too and their labels/embeddings land in ``extra`` (see :mod:`.essentia_models`).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from soniquebay import hookimpl, lazy
from soniquebay.errors import ConfigError
from soniquebay.names import ANALYSIS
from soniquebay.plugins.builtin import audio_features as features
from soniquebay.plugins.builtin.analysis_options import (
    AnalysisOptions,
    analysis_options,
    chosen_backend,
    essentia_importable,
    import_essentia,
)
from soniquebay.plugins.builtin.audio_decode import DecodedAudio, decode
from soniquebay.plugins.context import PluginContext
from soniquebay.plugins.stages import FILE, stage

np = lazy.module("numpy")  # loaded when an analysis runs, not when the plugin loads

STAGE_VERSION = "2"  # bump when a change alters the features: every track is analysed again
# 2: the waveform for the player's seek bar
SAMPLE_RATE = 44100
TIMBRE_FRAME = 2048
TIMBRE_HOP = 8192  # one frame in four: the means and spreads of 5 frames/s are stable enough
N_MFCC = 13
log = logging.getLogger(__name__)


_essentia = functools.cache(import_essentia)


@hookimpl
def startup(ctx: PluginContext, process: str) -> None:
    """In a worker that serves the analysis queue, import Essentia once, before RQ forks a
    work-horse per job (it takes most of a second, and a job holds only a few tracks)."""
    options = analysis_options(ctx.settings)
    if process == "worker" and ANALYSIS in ctx.queues and options.preload:
        if chosen_backend(options) == "essentia" and essentia_importable():
            import_essentia()


@hookimpl(specname="warm_up")
def warm_up_for_jobs(ctx: PluginContext, queue: str) -> bool | None:
    """Not preloaded (the low-memory profile): import Essentia in the worker when the first
    analysis job comes; the worker gives the memory back once the work stops."""
    options = analysis_options(ctx.settings)
    if queue != ANALYSIS or options.preload or chosen_backend(options) != "essentia":
        return None
    if not essentia_importable():  # imports it, or says why not
        return None
    return True


@hookimpl
@stage(produces=features.RESULT_KEYS, needs=(FILE,), version=STAGE_VERSION, queue=ANALYSIS)
def analyze_audio(
    ctx: PluginContext, path: str, max_seconds: float | None
) -> dict[str, Any] | None:
    options = analysis_options(ctx.settings)
    if chosen_backend(options) != "essentia":
        return None
    if not essentia_importable():
        raise ConfigError(
            "plugin.analysis", "backend", "essentia is not installed or cannot be imported here"
        )
    audio = decode(path, SAMPLE_RATE, max_seconds or options.max_seconds)
    return analyze_signal(audio, options)


def analyze_signal(audio: DecodedAudio, options: AnalysisOptions) -> dict[str, Any]:
    essentia, es = _essentia()
    y = np.ascontiguousarray(audio.samples, dtype=np.float32)
    result = features.common_fields(audio, options.silence_threshold_db)
    result.update(analysis_backend="essentia", analysis_version=essentia.__version__, extra={})

    if features.is_silent(audio, options.silence_threshold_db) or audio.seconds < 2.0:
        # Too short or silent for a tempo or a key; the level figures above still hold.
        result.update(danceability=0.0, timbre=_timbre(_algorithms(audio.sample_rate), y))
        return features.finish(result)

    algo = _algorithms(audio.sample_rate)
    bpm, ticks, _confidence, _estimates, _intervals = algo["rhythm"](y)
    tick_bpm, regularity = features.tempo_from_beats(np.asarray(ticks))
    result["bpm"] = tick_bpm or (float(bpm) if bpm > 0 else None)
    result["bpm_confidence"] = regularity

    key, scale, strength = algo["key"](y)
    result.update(key=features.sharp_key(key), scale=scale, key_confidence=float(strength))

    danceability = algo["danceability"](y)
    result["danceability"] = float(
        danceability[0] if isinstance(danceability, tuple) else danceability
    )
    result["timbre"] = _timbre(algo, y)

    if options.models_dir:
        from soniquebay.plugins.builtin import essentia_models

        result["extra"] = essentia_models.run_models(options.models_dir, y, audio.sample_rate)
    return features.finish(result)


@functools.cache
def _algorithms(sample_rate: int) -> dict[str, Any]:
    """Configured once per worker: building them costs a tenth of a second a track otherwise."""
    _, es = _essentia()
    return {
        "rhythm": es.RhythmExtractor2013(method="degara"),
        "key": es.KeyExtractor(sampleRate=sample_rate),
        "danceability": es.Danceability(sampleRate=sample_rate),
        "window": es.Windowing(type="hann", size=TIMBRE_FRAME),
        "spectrum": es.Spectrum(size=TIMBRE_FRAME),
        "mfcc": es.MFCC(
            inputSize=TIMBRE_FRAME // 2 + 1, sampleRate=sample_rate, numberCoefficients=N_MFCC
        ),
        "centroid": es.Centroid(range=sample_rate / 2.0),
        "rolloff": es.RollOff(sampleRate=sample_rate),
        "flatness": es.Flatness(),
        "zcr": es.ZeroCrossingRate(),
        "frames": es.FrameGenerator,
    }


def _timbre(algo: dict[str, Any], y: np.ndarray) -> dict[str, Any]:
    """MFCC mean/std and spectral shape, from one pass over the frames."""
    if len(y) < TIMBRE_FRAME:
        y = np.pad(y, (0, TIMBRE_FRAME - len(y)))
    window, spectrum, mfcc = algo["window"], algo["spectrum"], algo["mfcc"]
    centroid, rolloff, flatness, zcr = (
        algo["centroid"],
        algo["rolloff"],
        algo["flatness"],
        algo["zcr"],
    )
    mfccs, shape = [], []
    for frame in algo["frames"](y, frameSize=TIMBRE_FRAME, hopSize=TIMBRE_HOP, startFromZero=True):
        spec = spectrum(window(frame))
        mfccs.append(mfcc(spec)[1])
        if spec.any():
            shape.append((centroid(spec), rolloff(spec), flatness(spec + 1e-10), zcr(frame)))
        else:
            shape.append((0.0, 0.0, 0.0, 0.0))
    m = np.asarray(mfccs, dtype=np.float64)
    s = np.asarray(shape, dtype=np.float64)
    return {
        "mfcc_mean": m.mean(axis=0).tolist(),
        "mfcc_std": m.std(axis=0).tolist(),
        "spectral_centroid": float(s[:, 0].mean()),  # Hz
        "spectral_centroid_std": float(s[:, 0].std()),
        "rolloff": float(s[:, 1].mean()),  # Hz, 85 % of the energy below
        "flatness": float(s[:, 2].mean()),  # 0 tonal .. 1 noise
        "zcr": float(s[:, 3].mean()),  # crossings per sample
    }
