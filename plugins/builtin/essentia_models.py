"""Essentia TensorFlow models the user put in ``models_dir``: run them, keep labels and embeddings.

Each model is a frozen graph ``NAME.pb`` beside its metadata ``NAME.json`` (Essentia's own format:
``schema.inputs/outputs``, ``classes``, ``inference.algorithm``, ``inference.sample_rate``).
Two kinds run:

- *audio models* (``TensorflowPredictMusiCNN``, ``TensorflowPredictVGGish``,
  ``TensorflowPredictEffnetDiscogs``, ``TensorflowPredictMAEST``) take the signal resampled to
  their rate (16 kHz); their ``predictions`` output gives labels, their ``embeddings`` output
  (when the JSON names one) gives the track's mean embedding;
- *heads* (``TensorflowPredict2D``, one-dimensional input) take the embeddings of the audio model
  named in ``inference.embedding_model.model_name`` (or the only audio model present).

Nothing is downloaded: no model, no run. Essentia's published models are licensed CC BY-NC-SA
4.0 (non-commercial); the user who installs them accepts that licence.
Labels are stored as ``{"model name": {"label": mean activation}}`` for the top ``TOP_LABELS``
classes, embeddings as ``{"model name": [floats]}`` (mean over the track's patches).
A model that fails to load or run is logged and skipped: the classic features still stand.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soniquebay import lazy

np = lazy.module("numpy")  # loaded when an analysis runs, not when the plugin loads

AUDIO_ALGORITHMS = (
    "TensorflowPredictMusiCNN",
    "TensorflowPredictVGGish",
    "TensorflowPredictEffnetDiscogs",
    "TensorflowPredictMAEST",
)
HEAD_ALGORITHM = "TensorflowPredict2D"
TOP_LABELS = 5
MAX_EMBEDDING = 1280
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    graph: Path
    algorithm: str
    sample_rate: int
    input: str
    predictions: str | None
    embeddings: str | None
    classes: tuple[str, ...]
    embedding_model: str | None  # heads: the audio model whose embeddings they take


def discover(models_dir: Path) -> list[ModelSpec]:
    """Every ``.json`` with a ``.pb`` beside it that describes a model we know how to run."""
    specs = []
    folder = Path(models_dir)
    if not folder.is_dir():
        return specs
    for meta_path in sorted(folder.glob("*.json")):
        graph = meta_path.with_suffix(".pb")
        if not graph.is_file():
            continue
        try:
            specs.append(_spec(meta_path, graph))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            log.warning("model %s: unusable metadata (%s), skipped", meta_path.name, exc)
    return specs


def _spec(meta_path: Path, graph: Path) -> ModelSpec:
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    schema = meta["schema"]
    inputs = schema["inputs"]
    outputs = schema.get("outputs", [])
    inference = meta.get("inference") or {}
    algorithm = inference.get("algorithm")
    if not algorithm:  # older metadata: one-dimensional input means a head on embeddings
        shape = inputs[0].get("shape") or []
        algorithm = HEAD_ALGORITHM if len(shape) == 1 else "TensorflowPredictMusiCNN"
    if algorithm not in AUDIO_ALGORITHMS + (HEAD_ALGORITHM,):
        raise ValueError(f"algorithm {algorithm!r} is not supported")

    def output(purpose: str) -> str | None:
        for out in outputs:
            if out.get("output_purpose") == purpose:
                return out["name"].split(":")[0]
        return None

    embedding_model = (inference.get("embedding_model") or {}).get("model_name")
    return ModelSpec(
        name=meta_path.stem,
        graph=graph,
        algorithm=algorithm,
        sample_rate=int(inference.get("sample_rate") or 16000),
        input=inputs[0]["name"].split(":")[0],
        predictions=output("predictions")
        or (outputs[0]["name"].split(":")[0] if outputs else None),
        embeddings=output("embeddings"),
        classes=tuple(str(c) for c in meta.get("classes") or ()),
        embedding_model=embedding_model,
    )


@functools.lru_cache(maxsize=32)
def _algorithm(algorithm: str, graph: str, input_name: str, output_name: str):
    """Loaded graphs stay in memory for the worker's life: loading costs more than running."""
    import essentia.standard as es

    return getattr(es, algorithm)(graphFilename=graph, input=input_name, output=output_name)


def run_models(models_dir: Path, signal: np.ndarray, sample_rate: int) -> dict[str, Any]:
    """Run every usable model on ``signal`` (mono float32); returns ``{"labels": ..., "embeddings": ...}``."""
    specs = discover(models_dir)
    if not specs:
        return {}
    labels: dict[str, dict[str, float]] = {}
    embeddings: dict[str, list[float]] = {}
    frames: dict[str, np.ndarray] = {}  # audio model -> per-patch embeddings, for the heads
    resampled: dict[int, np.ndarray] = {}

    for spec in (s for s in specs if s.algorithm in AUDIO_ALGORITHMS):
        try:
            audio = resampled.get(spec.sample_rate)
            if audio is None:
                audio = resampled[spec.sample_rate] = _resample(
                    signal, sample_rate, spec.sample_rate
                )
            if spec.predictions:
                out = _predict(spec.algorithm, spec.graph, spec.input, spec.predictions, audio)
                labels[spec.name] = _top_labels(out, spec.classes)
            if spec.embeddings:
                emb = _predict(spec.algorithm, spec.graph, spec.input, spec.embeddings, audio)
                frames[spec.name] = emb
                embeddings[spec.name] = emb.mean(axis=0)[:MAX_EMBEDDING].tolist()
        except Exception as exc:  # a broken model must not cost the track its analysis
            log.warning("model %s failed: %s", spec.name, exc)

    for spec in (s for s in specs if s.algorithm == HEAD_ALGORITHM):
        source = spec.embedding_model if spec.embedding_model in frames else None
        if source is None and len(frames) == 1:
            source = next(iter(frames))
        if source is None:
            log.warning(
                "model %s: no embeddings from %s to feed it", spec.name, spec.embedding_model
            )
            continue
        try:
            out = _predict(HEAD_ALGORITHM, spec.graph, spec.input, spec.predictions, frames[source])
            labels[spec.name] = _top_labels(out, spec.classes)
        except Exception as exc:
            log.warning("model %s failed: %s", spec.name, exc)

    result: dict[str, Any] = {}
    if labels:
        result["labels"] = labels
    if embeddings:
        result["embeddings"] = embeddings
    return result


def _predict(
    algorithm: str, graph: Path, input_name: str, output_name: str, data: np.ndarray
) -> np.ndarray:
    run = _algorithm(algorithm, str(graph), input_name, output_name)
    out = np.asarray(run(np.ascontiguousarray(data, dtype=np.float32)), dtype=np.float64)
    if out.ndim == 1:
        out = out[None, :]
    if out.size == 0:
        raise ValueError("the model returned no prediction (signal shorter than one patch?)")
    return out


def _top_labels(predictions: np.ndarray, classes: tuple[str, ...]) -> dict[str, float]:
    mean = predictions.mean(axis=0)
    names = classes if len(classes) == len(mean) else tuple(f"class_{i}" for i in range(len(mean)))
    order = np.argsort(mean)[::-1][:TOP_LABELS]
    return {names[i]: round(float(mean[i]), 5) for i in order}


def _resample(signal: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return signal
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate, target)
    return resample_poly(signal, target // g, rate // g).astype(np.float32)
