"""Tiny TensorFlow frozen graphs, written without TensorFlow, to exercise the model-loading code.

A ``.pb`` frozen graph is a serialised ``GraphDef`` protocol buffer: this module encodes the
handful of messages it needs (NodeDef, AttrValue, TensorProto, TensorShapeProto) by hand, so a
test can build a MusiCNN-shaped audio model and a classification head of a few hundred bytes and
run them through Essentia's real TensorFlow algorithms. Field numbers follow TensorFlow's
``graph.proto``, ``node_def.proto``, ``attr_value.proto``, ``tensor.proto`` and
``tensor_shape.proto``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DT_FLOAT = 1
DT_INT32 = 3


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64: two's complement, ten bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire: int, payload: bytes | int) -> bytes:
    key = _varint((number << 3) | wire)
    if wire == 0:
        return key + _varint(int(payload))
    return key + _varint(len(payload)) + payload


def _message(number: int, payload: bytes) -> bytes:
    return _field(number, 2, payload)


def _string(number: int, text: str) -> bytes:
    return _field(number, 2, text.encode())


def _shape(dims: list[int]) -> bytes:
    return b"".join(_message(2, _field(1, 0, d)) for d in dims)


def _tensor(array: np.ndarray) -> bytes:
    dtype = DT_INT32 if array.dtype.kind == "i" else DT_FLOAT
    data = array.astype("<i4" if dtype == DT_INT32 else "<f4").tobytes()
    return _field(1, 0, dtype) + _message(2, _shape(list(array.shape))) + _field(4, 2, data)


def _attr(name: str, value: bytes) -> bytes:
    return _message(5, _string(1, name) + _message(2, value))


def _attr_type(name: str, dtype: int) -> bytes:
    return _attr(name, _field(6, 0, dtype))


def _attr_bool(name: str, flag: bool) -> bytes:
    return _attr(name, _field(5, 0, int(flag)))


def _node(name: str, op: str, inputs: tuple[str, ...] = (), attrs: bytes = b"") -> bytes:
    body = _string(1, name) + _string(2, op) + b"".join(_string(3, i) for i in inputs) + attrs
    return _message(1, body)


def _placeholder(name: str, dims: list[int]) -> bytes:
    return _node(
        name,
        "Placeholder",
        attrs=_attr_type("dtype", DT_FLOAT) + _attr("shape", _message(7, _shape(dims))),
    )


def _const(name: str, array: np.ndarray) -> bytes:
    dtype = DT_INT32 if array.dtype.kind == "i" else DT_FLOAT
    return _node(
        name,
        "Const",
        attrs=_attr_type("dtype", dtype) + _attr("value", _field(8, 2, _tensor(array))),
    )


def _matmul(name: str, a: str, b: str) -> bytes:
    attrs = (
        _attr_type("T", DT_FLOAT)
        + _attr_bool("transpose_a", False)
        + _attr_bool("transpose_b", False)
    )
    return _node(name, "MatMul", (a, b), attrs)


def _graph(nodes: list[bytes]) -> bytes:
    return b"".join(nodes) + _message(4, _field(1, 0, 27))  # versions { producer: 27 }


def audio_model_graph(
    n_bands: int = 96, n_embedding: int = 4, n_classes: int = 3, seed: int = 0
) -> bytes:
    """MusiCNN's interface: ``model/Placeholder`` [batch, frames, bands] -> ``model/Sigmoid``.

    Inside: the mean over time, a linear layer to ``model/embeddings``, another to the logits.
    """
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((n_bands, n_embedding)).astype(np.float32) * 0.1
    w2 = rng.standard_normal((n_embedding, n_classes)).astype(np.float32)
    nodes = [
        _placeholder("model/Placeholder", [-1, -1, n_bands]),
        _const("model/time_axis", np.array([1], dtype=np.int32)),
        _node(
            "model/mean",
            "Mean",
            ("model/Placeholder", "model/time_axis"),
            _attr_type("T", DT_FLOAT)
            + _attr_type("Tidx", DT_INT32)
            + _attr_bool("keep_dims", False),
        ),
        _const("model/w1", w1),
        _matmul("model/embeddings", "model/mean", "model/w1"),
        _const("model/w2", w2),
        _matmul("model/logits", "model/embeddings", "model/w2"),
        _node("model/Sigmoid", "Sigmoid", ("model/logits",), _attr_type("T", DT_FLOAT)),
    ]
    return _graph(nodes)


def head_graph(n_inputs: int = 4, n_classes: int = 2, seed: int = 1) -> bytes:
    """A classification head: ``model/Placeholder`` [batch, n_inputs] -> ``model/Softmax``."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n_inputs, n_classes)).astype(np.float32)
    nodes = [
        _placeholder("model/Placeholder", [-1, n_inputs]),
        _const("model/w", w),
        _matmul("model/logits", "model/Placeholder", "model/w"),
        _node("model/Softmax", "Softmax", ("model/logits",), _attr_type("T", DT_FLOAT)),
    ]
    return _graph(nodes)


def write_models(folder: Path) -> dict[str, Path]:
    """A tiny MusiCNN-style embedding model and a head on it, with Essentia-style metadata."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    audio = folder / "tiny-musicnn-1.pb"
    audio.write_bytes(audio_model_graph())
    audio.with_suffix(".json").write_text(
        json.dumps(
            {
                "name": "tiny-musicnn",
                "classes": ["rock", "jazz", "techno"],
                "inference": {"algorithm": "TensorflowPredictMusiCNN", "sample_rate": 16000},
                "schema": {
                    "inputs": [{"name": "model/Placeholder", "type": "float", "shape": [187, 96]}],
                    "outputs": [
                        {"name": "model/Sigmoid", "output_purpose": "predictions", "shape": [1, 3]},
                        {
                            "name": "model/embeddings",
                            "output_purpose": "embeddings",
                            "shape": [1, 4],
                        },
                    ],
                },
            }
        )
    )
    head = folder / "mood_tiny-tiny-musicnn-1.pb"
    head.write_bytes(head_graph())
    head.with_suffix(".json").write_text(
        json.dumps(
            {
                "name": "mood_tiny",
                "classes": ["happy", "sad"],
                "inference": {
                    "algorithm": "TensorflowPredict2D",
                    "sample_rate": 16000,
                    "embedding_model": {
                        "algorithm": "TensorflowPredictMusiCNN",
                        "model_name": "tiny-musicnn-1",
                    },
                },
                "schema": {
                    "inputs": [{"name": "model/Placeholder", "type": "float", "shape": [4]}],
                    "outputs": [
                        {"name": "model/Softmax", "output_purpose": "predictions", "shape": [1, 2]}
                    ],
                },
            }
        )
    )
    return {"audio": audio, "head": head}
