"""Text embeddings of each track, for semantic search: a sentence about the track — its
title, artist, album, genre, era, how it sounds (tempo, key, loudness, energy from the
analysis) and the mood and genre labels of the classifiers that fired (Essentia's models,
where installed) — embedded by ``embedding_model`` (all-MiniLM-L6-v2, 384 dimensions, on the CPU;
see :mod:`soniquebay.embeddings`). Runs after the analysis, on queue ``vectors``; a new model
is a new stage version, so every track is embedded again in the background while search goes
on answering from the vectors it has.
"""

from __future__ import annotations

import json
from typing import Any

from soniquebay import hookimpl, stage
from soniquebay.config import Settings
from soniquebay.plugins.context import PluginContext

STAGE_VERSION = "2"  # 2: the classifiers' labels joined the sentence
LABEL_THRESHOLD = 0.5  # a label's mean activation over the track, from 0 to 1
MAX_LABELS = 6


def describe(track: dict[str, Any]) -> str:
    """The track in words, as people search for music."""
    parts = [track.get("title") or ""]
    for key, label in (("artist_name", "by"), ("album_artist_name", "by"), ("album_title", "from")):
        value = track.get(key)
        if value and f"{label} {value}" not in parts:
            parts.append(f"{label} {value}")
    if track.get("genre"):
        parts.append(str(track["genre"]))
    year = track.get("year")
    if year:
        parts.append(f"{year}, the {year // 10 % 10}0s" if year >= 1900 else str(year))
    parts += sound_words(track)
    parts += label_words(track)
    return ". ".join(p for p in parts if p)


def label_words(track: dict[str, Any]) -> list[str]:
    """The labels the classifiers gave the track (``features_extra["labels"]``: per model,
    label -> mean activation), strongest first: "happy", "Electronic, House"; never the
    negative class of a binary model ("non_happy", "not sad")."""
    extra = track.get("features_extra")
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            return []
    fired: dict[str, float] = {}
    for per_model in ((extra or {}).get("labels") or {}).values():
        for label, activation in (per_model or {}).items():
            word = str(label).replace("---", ", ").replace("_", " ").strip()
            negative = word.lower().startswith(("non ", "not "))
            if (
                isinstance(activation, (int, float))
                and activation >= LABEL_THRESHOLD
                and not negative
            ):
                fired[word] = max(activation, fired.get(word, 0.0))
    return sorted(fired, key=lambda w: -fired[w])[:MAX_LABELS]


def sound_words(track: dict[str, Any]) -> list[str]:
    words = []
    bpm, energy, loudness = track.get("bpm"), track.get("energy"), track.get("loudness_lufs")
    if bpm:
        words.append("slow" if bpm < 85 else "fast" if bpm > 135 else "mid-tempo")
    if energy is not None:
        words.append(
            "calm, quiet, soft" if energy < 0.35 else "energetic, powerful" if energy > 0.7 else ""
        )
    if loudness is not None and loudness < -20:
        words.append("quiet")
    if track.get("key") and track.get("scale"):
        words.append(
            f"in {track['key']} {track['scale']}, {'dark' if track['scale'] == 'minor' else 'bright'}"
        )
    return [w for w in words if w]


def _version(settings: Any, options: dict[str, Any]) -> str:
    model = getattr(settings, "embedding_model", Settings.embedding_model)
    return f"{STAGE_VERSION}:{model}"


@hookimpl
@stage(needs=("title", "analyzed_at"), version=_version, queue="vectors")
def vectorize_track(ctx: PluginContext, track: dict[str, Any]) -> dict[str, Any]:
    from soniquebay import embeddings  # numpy and the tokenizer: only where tracks are embedded

    vector = embeddings.model(ctx.settings.embedding_model).encode([describe(track)])[0]
    return {"name": embeddings.TEXT_VECTOR, "vector": [float(v) for v in vector]}
