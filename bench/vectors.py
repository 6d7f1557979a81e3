"""Vectors benchmark (the part of issue 13 built so far): text embeddings per minute with
the numpy all-MiniLM-L6-v2, one track at a time as the stage embeds them and in batches of
32, against the tokenizer alone in the same run; peak RSS; and a semantic query over
100,000 vectors of 384 dimensions (the web's in-memory matrix) against a plain numpy full
sort of the same scores.

    .venv/bin/python bench/vectors.py [--tracks 300] [--vectors 100000]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time

from soniquebay.daemon.worker import one_native_thread

# The stage embeds in a worker, which keeps numpy to one thread; the query baseline is
# single-threaded numpy too. Before numpy is imported.
one_native_thread()

import numpy as np  # noqa: E402

from soniquebay import embeddings  # noqa: E402
from soniquebay.plugins.builtin.vectors import describe  # noqa: E402

GENRES = ["Rock", "Jazz", "Classical Piano", "French Rap", "Deep House", "Reggae", "Folk", "Metal"]


def tracks(n: int) -> list[dict]:
    return [
        {"title": f"Song number {i} of the night", "artist_name": f"Artist {i % 97}",
         "album_title": f"Album {i % 31}", "genre": GENRES[i % len(GENRES)], "year": 1960 + i % 60,
         "bpm": 70 + i % 90, "energy": (i % 10) / 10, "loudness_lufs": -8 - i % 20, "key": "A",
         "scale": "minor" if i % 2 else "major"}
        for i in range(n)
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=300)
    parser.add_argument("--vectors", type=int, default=100_000)
    args = parser.parse_args()
    texts = [describe(t) for t in tracks(args.tracks)]
    model = embeddings.model(embeddings.DEFAULT_MODEL)
    model.encode(texts[:4])  # warm: the weights are mapped on first use
    started = time.perf_counter()
    model.tokenizer.encode_batch(texts)
    tokenize = time.perf_counter() - started
    started = time.perf_counter()
    for text in texts:
        model.encode([text])
    one = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(0, len(texts), 32):
        model.encode(texts[i : i + 32])
    batched = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_min = lambda s: len(texts) / s * 60  # noqa: E731
    print(
        f"{len(texts)} track texts; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    print(f"tokenizer alone       : {per_min(tokenize):10,.0f} texts/min")
    print(
        f"embedded one at a time: {per_min(one):10,.0f} tracks/min  (the stage's way) ratio to tokenizer {tokenize / one:.3f}"
    )
    print(f"embedded 32 at a time : {per_min(batched):10,.0f} tracks/min  peak RSS {rss:.0f} MB")

    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(args.vectors, embeddings.DIMENSION)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    queries = model.encode(["quiet piano for the evening", "french rap 2000s", "loud guitars"] * 34)
    ours, full = [], []
    for q in queries:
        t = time.perf_counter()
        scores = matrix @ q
        top = np.argpartition(-scores, 9)[:10]
        top[np.argsort(-scores[top])]
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        np.argsort(-(matrix @ q))[:10]
        full.append(time.perf_counter() - t)
    p50 = lambda v: statistics.median(v) * 1000  # noqa: E731
    p99 = lambda v: sorted(v)[int(len(v) * 0.99) - 1] * 1000  # noqa: E731
    print(f"query over {args.vectors:,} x 384: p50 {p50(ours):.1f} ms  p99 {p99(ours):.1f} ms "
          f"(full numpy sort p50 {p50(full):.1f} ms, ratio {p50(ours) / p50(full):.2f}); exact, recall 1.0")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
