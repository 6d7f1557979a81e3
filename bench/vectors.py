"""Vectors benchmark (issue 13), on a made-up library of realistic track texts
(:mod:`corpus`):

- text embeddings per minute with the numpy all-MiniLM-L6-v2, one track at a time as the
  stage embeds them and in batches of 32, against the tokenizer alone; peak RSS;
- KNN top-10 over 100,000 of the real model's vectors (384 dimensions): the sqlite-vec index
  semantic search asks (:mod:`soniquebay.library.vector_index`) next to single-threaded
  numpy brute force over the same matrix in the same run, with recall@10 against the exact
  answer, and a plain float32 ``vec0`` table for reference; 100 queries, half of them
  phrases ("quiet jazz from the 1960s"), half the tracks' own vectors (more like this);
- full-text search at the same 100,000 tracks (the API's /api/search).

    .venv/bin/python bench/vectors.py [--tracks 300] [--vectors 100000]

The first run embeds the library's texts (about an hour of CPU for 100,000 here: 25–50
minutes on two cores) and keeps them in ~/.cache/soniquebay-bench; later runs read them.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from soniquebay.daemon.worker import one_native_thread

# The stage embeds in a worker, which keeps numpy to one thread; the query baseline is
# single-threaded numpy too. Before numpy is imported.
one_native_thread()

import apsw  # noqa: E402
import numpy as np  # noqa: E402
from corpus import GENRES as LIBRARY_GENRES  # noqa: E402
from corpus import embedded  # noqa: E402
from corpus import tracks as library_tracks  # noqa: E402

from soniquebay import embeddings  # noqa: E402
from soniquebay.library import db, ingest, search, vector_index, vectors  # noqa: E402
from soniquebay.plugins.builtin.vectors import describe  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def timed(fn, queries) -> tuple[list[float], list]:
    times, answers = [], []
    for q in queries:
        started = time.perf_counter()
        answers.append(fn(q))
        times.append(time.perf_counter() - started)
    return times, answers


def populate(path: Path, n: int, matrix: np.ndarray) -> float:
    """The corpus's ``n`` tracks and their text vectors, as the API's batch writes store
    them; then the index brought up to date as the web's writer does. Returns its time."""
    conn = db.connect(path)
    db.migrate(conn)
    rows = library_tracks(n)
    for start in range(0, n, 1000):
        batch = [
            {**t, "path": f"/bench/{i}.flac".encode(), "size": 1000 + i, "mtime_ns": i,
             "duration": 200.0}
            for i, t in enumerate(rows[start : start + 1000], start)
        ]  # fmt: skip
        done = ingest.ingest(conn, batch)
        vectors.upsert_vectors(
            conn,
            [
                {"track_id": d["id"], "name": embeddings.TEXT_VECTOR, "dimension": 384,
                 "vector": matrix[i].astype("<f4").tobytes()}
                for i, d in enumerate(done, start)
            ],
        )  # fmt: skip
    started = time.perf_counter()
    while vector_index.sync(conn, embeddings.TEXT_VECTOR):
        pass
    built = time.perf_counter() - started
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    return built


def library(n: int, model, per_partition: int) -> None:
    """KNN top-10 in the sqlite-vec index against single-threaded numpy over the same matrix
    (and a plain float32 vec0 table); then full-text search over the same library."""
    started = time.perf_counter()
    matrix = embedded(n)
    print(
        f"\n{n:,} track texts embedded (or read from the cache) in {time.perf_counter() - started:.0f} s"
    )
    work = Path(tempfile.mkdtemp(prefix="bench-vectors-"))
    try:
        built = populate(work / "library.db", n, matrix)
        conn = db.connect(work / "library.db", readonly=True)
        ids = np.array([r["track_id"] for r in conn.execute(
            "SELECT track_id FROM track_vectors ORDER BY id")])  # fmt: skip
        rng = np.random.default_rng(5)
        phrases = [f"{mood} {genre.lower()} from the {decade}s" for mood, genre, decade in zip(
            rng.choice(["quiet", "energetic", "sad", "happy", "dark", "relaxing", "loud"], 50),
            rng.choice(LIBRARY_GENRES, 50), rng.choice(range(1950, 2030, 10), 50), strict=True)]  # fmt: skip
        queries = [*model.encode(phrases), *matrix[rng.choice(n, 50, replace=False)]]

        def exact(q):
            scores = matrix @ q
            top = np.argpartition(-scores, 9)[:10]
            return list(ids[top[np.argsort(-scores[top])]])

        np_times, truth = timed(exact, queries)
        ours, found = timed(
            lambda q: [
                t
                for t, _ in vector_index.search(conn, embeddings.TEXT_VECTOR, q, 10, per_partition)
            ],
            queries,
        )
        hit = [len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)]
        recall, phrases_recall, tracks_recall = (
            statistics.mean(hit),
            statistics.mean(hit[:50]),
            statistics.mean(hit[50:]),
        )
        flat = apsw.Connection(":memory:")
        db.load_vec(flat)
        flat.execute("CREATE VIRTUAL TABLE flat USING vec0(v float[384] distance_metric=cosine)")
        with flat:
            for track_id, row in zip(ids, matrix, strict=True):
                flat.execute(
                    "INSERT INTO flat (rowid, v) VALUES (?, ?)", (int(track_id), row.tobytes())
                )
        plain, _ = timed(lambda q: flat.execute(
            "SELECT rowid FROM flat WHERE v MATCH ? AND k = 10", (q.tobytes(),)).fetchall(), queries)  # fmt: skip
        size = conn.execute(
            "SELECT sum(pgsize) AS n FROM dbstat WHERE name LIKE ?", (vector_index.TABLE + "%",)
        ).fetchall()[0]["n"]
        print(f"index: {n:,} vectors quantised in {built:.1f} s, {size / 2**20:.1f} MiB on disk")
        print(f"KNN top-10 over {n:,} x 384, {len(queries)} queries (50 phrases, 50 tracks):")
        print(
            f"  numpy brute force, 1 thread : p50 {pct(np_times, 0.5):6.1f} ms  p99 {pct(np_times, 0.99):6.1f} ms"
        )
        print(
            f"  sqlite-vec bits + re-score  : p50 {pct(ours, 0.5):6.1f} ms  p99 {pct(ours, 0.99):6.1f} ms"
            f"  ratio to numpy {pct(ours, 0.5) / pct(np_times, 0.5):.2f}  recall@10 {recall:.3f}"
            f" (phrases {phrases_recall:.3f}, tracks {tracks_recall:.3f}; {per_partition * vector_index.PARTITIONS} re-scored)"
        )
        print(f"  sqlite-vec plain float32    : p50 {pct(plain, .5):6.1f} ms  p99 {pct(plain, .99):6.1f} ms"
              f"  ratio to numpy {pct(plain, .5) / pct(np_times, .5):.2f}")  # fmt: skip
        words = [w for t in library_tracks(300) for w in t["title"].lower().split()]
        fts_queries = [" ".join(rng.choice(words, int(k))) for k in rng.choice([1, 1, 2], 100)]
        fts_queries += [w[:3] for w in rng.choice(words, 50)]  # prefixes as typed
        fts, _ = timed(lambda q: search.search(conn, q, 10), fts_queries)
        print(f"full-text search (artists, albums, tracks; {len(fts_queries)} queries, a third of them 3-letter prefixes):"
              f" p50 {pct(fts, .5):.1f} ms  p99 {pct(fts, .99):.1f} ms")  # fmt: skip
        conn.close()
    finally:
        shutil.rmtree(work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=300)
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument(
        "--per-partition",
        type=int,
        default=vector_index.PER_PARTITION,
        help="candidates from each of the index's partitions",
    )
    args = parser.parse_args()
    texts = [describe(t) for t in library_tracks(args.tracks)]
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

    library(args.vectors, model, args.per_partition)
    return 0


if __name__ == "__main__":
    sys.exit(main())
