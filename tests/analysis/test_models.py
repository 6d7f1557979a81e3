"""Essentia TensorFlow models from models_dir, on tiny graphs the test writes itself."""

from __future__ import annotations

import pytest
from support.tfgraph import write_models

from soniquebay.plugins.builtin import essentia_models
from soniquebay.plugins.builtin.analysis_options import essentia_importable
from soniquebay.synth import encode, make_track

# Essentia (and its TensorFlow runtime) ships no aarch64 wheel: on a Pi the models cannot run
# by design and analysis uses librosa, which its own tests cover. On amd64 this always runs.
pytestmark = pytest.mark.skipif(
    not essentia_importable(), reason="essentia-tensorflow cannot be imported here"
)


def test_models_in_models_dir_add_labels_and_embeddings(tmp_path, analyze, settings_for):
    models = tmp_path / "models"
    write_models(models)
    track = encode(make_track(110.0, "G", "major", seconds=8.0), tmp_path / "t.flac")
    result = analyze("essentia", track, settings_for("essentia", models_dir=str(models)))
    labels = result["extra"]["labels"]
    assert set(labels["tiny-musicnn-1"]) == {"rock", "jazz", "techno"}
    assert all(0.0 <= v <= 1.0 for v in labels["tiny-musicnn-1"].values())
    head = labels["mood_tiny-tiny-musicnn-1"]
    assert set(head) == {"happy", "sad"} and sum(head.values()) == pytest.approx(1.0, abs=1e-3)
    assert len(result["extra"]["embeddings"]["tiny-musicnn-1"]) == 4
    assert result["bpm"] == pytest.approx(110.0, rel=0.02)  # the classic features still there


def test_no_models_dir_means_empty_extra(tmp_path, analyze, settings_for):
    track = encode(make_track(110.0, "G", "major", seconds=4.0), tmp_path / "t.flac")
    assert analyze("essentia", track, settings_for("essentia"))["extra"] == {}


def test_broken_or_unknown_models_are_skipped(tmp_path):
    write_models(tmp_path)
    (tmp_path / "orphan.json").write_text("{}")  # no .pb beside it: ignored
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "broken.pb").write_bytes(b"\x00garbage")
    (tmp_path / "weird.json").write_text(
        '{"schema": {"inputs": [{"name": "x"}]}, "inference": {"algorithm": "Nope"}}'
    )
    (tmp_path / "weird.pb").write_bytes(b"")
    names = [spec.name for spec in essentia_models.discover(tmp_path)]
    assert names == ["mood_tiny-tiny-musicnn-1", "tiny-musicnn-1"]
    # A graph that does not load is logged and skipped, not raised.
    (tmp_path / "bad-graph.pb").write_bytes(b"\x0a\x03bad")
    (tmp_path / "bad-graph.json").write_text((tmp_path / "tiny-musicnn-1.json").read_text())
    signal = make_track(110.0, "G", "major", seconds=5.0, sr=16000)
    out = essentia_models.run_models(tmp_path, signal, 16000)
    assert "bad-graph" not in out["labels"] and "tiny-musicnn-1" in out["labels"]
