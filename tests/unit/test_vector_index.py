"""The sqlite-vec index of the text vectors (real sqlite-vec, loaded through apsw, in a real
SQLite file): it follows track_vectors — additions, replacements, deletions, a library that
doubles — and its answers are the exact nearest ones."""

from __future__ import annotations

import numpy as np

from soniquebay.library import db, ingest, vector_index, vectors

NAME = "text"


def add_tracks(conn, n: int, start: int = 0) -> list[int]:
    done = ingest.upsert_tracks(
        conn,
        [
            {"path": f"/m/{i}.flac".encode(), "size": 100 + i, "mtime_ns": i, "title": f"T{i}"}
            for i in range(start, start + n)
        ],
    )
    return [d["id"] for d in done]


def mixtures(n: int, seed: int = 1, offset_seed: int = 0) -> np.ndarray:
    """Unit vectors mixing 16 topics, each in its own proportions, all off the origin as
    real embeddings are (so nearness is graded, as between sentences); the same topics and
    offset for any ``seed`` with the same ``offset_seed``."""
    space = np.random.default_rng(offset_seed)
    topics, offset = space.normal(size=(16, 384)), space.normal(size=384) * 0.5 + 0.3
    rng = np.random.default_rng(seed)
    m = rng.dirichlet(np.full(16, 0.3), n) @ topics + offset
    m += rng.normal(scale=0.02, size=m.shape)
    return (m / np.linalg.norm(m, axis=1, keepdims=True)).astype(np.float32)


def store(conn, ids: list[int], matrix: np.ndarray) -> None:
    vectors.upsert_vectors(
        conn,
        [
            {"track_id": t, "name": NAME, "dimension": 384, "vector": v.astype("<f4").tobytes()}
            for t, v in zip(ids, matrix, strict=True)
        ],
    )


def sync_all(conn) -> int:
    changed = 0
    while step := vector_index.sync(conn, NAME):
        changed += step
    return changed


def exact(ids: list[int], matrix: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return [ids[i] for i in np.argsort(-(matrix @ query), kind="stable")[:k]]


def test_sqlite_vec_is_loaded_in_every_connection_and_sql_cannot_load_more(db_conn, tmp_path):
    assert db.has_vec(db_conn)
    reader = db.connect(tmp_path / "library.db", readonly=True)
    assert db.has_vec(reader)
    assert reader.execute("SELECT vec_version() AS v").fetchall()[0]["v"].startswith("v0.1.")
    try:
        reader.execute("SELECT load_extension('/tmp/evil')")
        raise AssertionError("SQL could load an extension")
    except Exception as exc:  # apsw.SQLError: not authorized
        assert "not authorized" in str(exc)


def test_the_index_follows_the_vectors_and_answers_the_exact_nearest(db_conn, monkeypatch):
    monkeypatch.setattr(vector_index, "SYNC_BATCH", 300)  # several batches, keyed on time+id
    ids = add_tracks(db_conn, 1000)
    matrix = mixtures(1000, seed=1)
    store(db_conn, ids, matrix)  # one timestamp for every row: the keyset still pages them
    assert sync_all(db_conn) == 1000
    assert sync_all(db_conn) == 0  # nothing more to do
    assert vector_index.size(db_conn, NAME) == 1000
    queries = mixtures(40, seed=2)  # not in the library
    recall = np.mean(
        [
            len(
                {t for t, _ in vector_index.search(db_conn, NAME, q, 10)}
                & set(exact(ids, matrix, q, 10))
            )
            / 10
            for q in queries
        ]
    )
    assert recall >= 0.98
    hits = vector_index.search(db_conn, NAME, queries[0], 5)
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    assert np.isclose(scores[0], float(matrix[ids.index(hits[0][0])] @ queries[0]), atol=1e-5)

    # a track's neighbours: itself excluded, the exact nearest after it
    near = [t for t, _ in vector_index.neighbours(db_conn, NAME, ids[7], 5)]
    assert ids[7] not in near and near == exact(ids, matrix, matrix[7], 6)[1:]

    # replaced: the track is found where its new vector is
    store(db_conn, [ids[3]], queries[5:6])
    assert sync_all(db_conn) == 1
    assert vector_index.search(db_conn, NAME, queries[5], 1)[0][0] == ids[3]

    # deleted tracks leave no ghost; missing ones are not answered
    with db_conn:
        db_conn.execute("DELETE FROM tracks WHERE id = ?", (ids[3],))
    ingest.mark_missing(db_conn, [b"/m/4.flac"])
    assert sync_all(db_conn) == 1
    indexed = db_conn.execute(f"SELECT count(*) AS n FROM {vector_index.TABLE}").fetchall()
    assert indexed[0]["n"] == 999 == vector_index.size(db_conn, NAME)  # the kept count is right
    found = {t for q in queries for t, _ in vector_index.search(db_conn, NAME, q, 50)}
    assert ids[3] not in found and ids[4] not in found


def test_a_library_that_doubles_is_quantised_again_around_its_new_mean(db_conn):
    first = add_tracks(db_conn, 50)
    store(db_conn, first, mixtures(50, seed=3))
    sync_all(db_conn)
    before = db_conn.execute("SELECT mean, mean_of FROM vector_index_state").fetchall()[0]
    more = add_tracks(db_conn, 200, start=50)
    matrix = mixtures(200, seed=4, offset_seed=9)  # elsewhere: the mean moves
    store(db_conn, more, matrix)
    sync_all(db_conn)
    after = db_conn.execute("SELECT mean, mean_of FROM vector_index_state").fetchall()[0]
    assert before["mean_of"] == 50 and after["mean_of"] == 250 and after["mean"] != before["mean"]
    indexed = db_conn.execute(f"SELECT count(*) AS n FROM {vector_index.TABLE}").fetchall()
    assert indexed[0]["n"] == 250 == vector_index.size(db_conn, NAME)
    q = matrix[17]
    assert vector_index.search(db_conn, NAME, q, 1)[0][0] == more[17]


def test_no_index_yet_or_another_dimension_answers_nothing(db_conn):
    assert vector_index.search(db_conn, NAME, np.ones(384, dtype=np.float32), 5) == []
    [track] = add_tracks(db_conn, 1)
    vectors.upsert_vectors(
        db_conn,
        [{"track_id": track, "name": NAME, "dimension": 8, "vector": b"\0" * 32}],
    )
    sync_all(db_conn)
    assert vector_index.search(db_conn, NAME, np.ones(8, dtype=np.float32), 5) == []
    assert vector_index.neighbours(db_conn, NAME, track, 5) == []


def test_small_work_gives_the_bits_and_mean_numpy_gives(db_conn):
    """The plain-Python path (a few vectors, the web's everyday sync) and numpy's agree."""
    matrix = mixtures(40, seed=5).astype("<f4")
    store(db_conn, add_tracks(db_conn, 40), matrix)
    plain, n = vector_index._mean(db_conn, NAME, 40)
    with_numpy, m = vector_index._mean(db_conn, NAME, vector_index.SMALL + 1)
    assert n == m == 40
    assert np.allclose(np.frombuffer(plain, "<f4"), np.frombuffer(with_numpy, "<f4"), atol=1e-6)
    rows = [{"vector": v.tobytes()} for v in matrix]
    mean = matrix.astype(np.float64).mean(axis=0).astype("<f4")
    assert vector_index._bits_of(rows, mean.tobytes()) == vector_index.bits(matrix, mean)
    assert len(vector_index._bits_of(rows, mean.tobytes())[0]) == 48
