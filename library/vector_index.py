"""The sqlite-vec index of the tracks' text vectors, which semantic search asks.

A plain float32 ``vec0`` table scans every vector at about a third of numpy's speed, so this
index keeps each vector as 384 bits instead — the sign of each dimension once the library's
mean vector is taken off (MiniLM's dimensions are not centred on zero: raw signs would tell
little apart) — in a ``vec0`` ``bit[384]`` table, 48 bytes a track, split by a partition key
into ``PARTITIONS`` (track id modulo): sqlite-vec's KNN costs about rows × k, so the nearest
``PER_PARTITION`` of each of 16 partitions (768 candidates) cost what 48 of the whole
table would. Those candidates are then ranked by exact cosine on their float32 vectors in
``track_vectors``. Nothing is held in the web process's memory however large the library;
bench/vectors.py measures the speed and recall@10 against numpy's exact answer.

The index is derived from ``track_vectors`` and rebuilt from it at will. The writer brings it
up to date (:func:`sync`) in small transactions, keyed on ``(updated_at, id)``; when the
number of vectors has doubled or halved since the mean was taken (a first fill, a new
model), the mean is taken again and every vector quantised anew, row by row, while search
goes on answering from the rows as they are.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from typing import Any

import apsw

from soniquebay import lazy
from soniquebay.library import db

np = lazy.module("numpy")  # for big batches and searches (see SMALL)

DIMENSION = 384
TABLE = "vec_text_bits"
PARTITIONS = 16
PER_PARTITION = 48  # candidates from each partition, re-scored exactly
SYNC_BATCH = 2000  # vectors per transaction: other writes wait at most this long
# Up to this many vectors (a mean of a small library, a sync after a few files landed) are
# worked in plain Python: the web process then never loads numpy for its everyday writes,
# 25 MB of an idle Pi process. Both ways give the same bits: a sign bit is "above the mean".
SMALL = 512
VECTOR = struct.Struct(f"<{DIMENSION}f")


def bits(vectors: np.ndarray, mean: np.ndarray) -> list[bytes]:
    """Each row's sign bits after the mean is taken off, in sqlite-vec's bit order."""
    signs = np.atleast_2d(vectors) - mean > 0
    return [row.tobytes() for row in np.packbits(signs, axis=1, bitorder="little")]


def _plain_bits(vector: bytes, mean: tuple[float, ...]) -> bytes:
    """:func:`bits` of one stored vector, without numpy (bit i of byte j is element 8j + i)."""
    out = bytearray(DIMENSION // 8)
    for i, (value, centre) in enumerate(zip(VECTOR.unpack(vector), mean, strict=True)):
        if value > centre:
            out[i >> 3] |= 1 << (i & 7)
    return bytes(out)


def _mean(conn: apsw.Connection, name: str, count: int) -> tuple[bytes, int]:
    """The mean of the stored vectors, as float32 bytes, and how many it is the mean of."""
    if count <= SMALL:
        rows = conn.execute(
            "SELECT vector FROM track_vectors WHERE name = ? AND dimension = ?",
            (name, DIMENSION),
        ).fetchall()
        total = [0.0] * DIMENSION
        for row in rows:
            total = [t + v for t, v in zip(total, VECTOR.unpack(row["vector"]), strict=True)]
        n = max(len(rows), 1)
        return VECTOR.pack(*(t / n for t in total)), n
    total, n = np.zeros(DIMENSION, dtype=np.float64), 0
    for chunk in _chunks(conn, name):
        total += chunk.sum(axis=0, dtype=np.float64)
        n += len(chunk)
    return (total / max(n, 1)).astype("<f4").tobytes(), max(n, 1)


def _bits_of(rows: list[dict[str, Any]], mean: bytes) -> list[bytes]:
    if len(rows) <= SMALL:
        centre = VECTOR.unpack(mean)
        return [_plain_bits(r["vector"], centre) for r in rows]
    matrix = np.frombuffer(b"".join(r["vector"] for r in rows), dtype="<f4")
    return bits(matrix.reshape(-1, DIMENSION), np.frombuffer(mean, dtype="<f4"))


def ensure(conn: apsw.Connection) -> None:
    """The index's tables (not in a migration: they need the sqlite-vec extension, and being
    derived they may be dropped and made again)."""
    conn.execute(
        """CREATE TABLE IF NOT EXISTS vector_index_state (
               name TEXT PRIMARY KEY, mean BLOB NOT NULL, mean_of INTEGER NOT NULL,
               synced_at REAL NOT NULL, synced_id INTEGER NOT NULL,
               indexed INTEGER NOT NULL DEFAULT 0)"""
    )
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (TABLE,)).fetchall():
        conn.execute(
            f"""CREATE VIRTUAL TABLE {TABLE} USING vec0(
                  part INTEGER PARTITION KEY, bits bit[{DIMENSION}])"""
        )
        conn.execute("DELETE FROM vector_index_state")  # a new table: fill it from the start


def _count(conn: apsw.Connection, name: str) -> int:
    """How many vectors are called ``name``, from the sync index alone (a filter on their
    dimension would read every row: it runs after every write). Another model's dimension
    is rare and passing; a row it leaves in the index is dropped by search's re-scoring."""
    return conn.execute(
        "SELECT count(*) AS n FROM track_vectors WHERE name = ?", (name,)
    ).fetchall()[0]["n"]


def _chunks(conn: apsw.Connection, name: str, size: int = 5000) -> Iterator[np.ndarray]:
    last = 0
    while True:
        rows = conn.execute(
            """SELECT id, vector FROM track_vectors WHERE name = ? AND dimension = ? AND id > ?
               ORDER BY id LIMIT ?""",
            (name, DIMENSION, last, size),
        ).fetchall()
        if not rows:
            return
        last = rows[-1]["id"]
        yield np.frombuffer(b"".join(r["vector"] for r in rows), dtype="<f4").reshape(-1, DIMENSION)


def _state(conn: apsw.Connection, name: str) -> dict[str, Any] | None:
    rows = conn.execute("SELECT * FROM vector_index_state WHERE name = ?", (name,)).fetchall()
    return rows[0] if rows else None


def sync(conn: apsw.Connection, name: str) -> int:
    """Bring the index up to date with ``track_vectors`` by up to ``SYNC_BATCH`` vectors, in
    one transaction; returns how many it changed (call again until 0). Opens no
    transaction when there is nothing to do (it runs after every write of the library)."""
    if not db.has_vec(conn) or not _work_to_do(conn, name):
        return 0
    with conn:
        ensure(conn)
        state, count = _state(conn, name), _count(conn, name)
        if state is None or (count and not state["mean_of"] / 2 <= count <= state["mean_of"] * 2):
            mean, n = _mean(conn, name, count)
            # From the start again, replacing each row in turn: meanwhile search goes on
            # answering from the bits quantised around the old mean.
            conn.execute(
                """INSERT INTO vector_index_state (name, mean, mean_of, synced_at, synced_id)
                   VALUES (?, ?, ?, -1, 0)
                   ON CONFLICT (name) DO UPDATE SET mean = excluded.mean,
                     mean_of = excluded.mean_of, synced_at = -1, synced_id = 0""",
                (name, mean, n),
            )
            state = _state(conn, name)
        rows = conn.execute(
            """SELECT id, track_id, vector, updated_at FROM track_vectors
               WHERE name = ? AND dimension = ? AND (updated_at, id) > (?, ?)
               ORDER BY updated_at, id LIMIT ?""",
            (name, DIMENSION, state["synced_at"], state["synced_id"], SYNC_BATCH),
        ).fetchall()
        # The index's own count is kept in the state: count(*) of a vec0 table reads all of
        # it (40 ms at 100,000 here), and the check before each sync needs it.
        added = 0
        if rows:
            for row, packed in zip(rows, _bits_of(rows, state["mean"]), strict=True):
                conn.execute(f"DELETE FROM {TABLE} WHERE rowid = ?", (row["track_id"],))
                added += 1 - conn.changes()
                conn.execute(
                    f"INSERT INTO {TABLE} (rowid, part, bits) VALUES (?, ?, vec_bit(?))",
                    (row["track_id"], row["track_id"] % PARTITIONS, packed),
                )
        gone = 0
        if len(rows) < SYNC_BATCH and state["indexed"] + added > count:
            # caught up: now drop what track_vectors no longer has
            conn.execute(
                f"""DELETE FROM {TABLE} WHERE rowid NOT IN (
                      SELECT track_id FROM track_vectors WHERE name = ? AND dimension = ?)""",
                (name, DIMENSION),
            )
            gone = conn.changes()
        synced = (
            (rows[-1]["updated_at"], rows[-1]["id"])
            if rows
            else (state["synced_at"], state["synced_id"])
        )
        conn.execute(
            """UPDATE vector_index_state SET synced_at = ?, synced_id = ?,
                 indexed = indexed + ? WHERE name = ?""",
            (*synced, added - gone, name),
        )
    return len(rows) + gone


def _work_to_do(conn: apsw.Connection, name: str) -> bool:
    count = _count(conn, name)
    state = _state(conn, name) if _indexed(conn) else None
    if state is None:
        return count > 0
    if count and not state["mean_of"] / 2 <= count <= state["mean_of"] * 2:
        return True
    newer = conn.execute(
        """SELECT 1 FROM track_vectors WHERE name = ? AND dimension = ?
             AND (updated_at, id) > (?, ?) LIMIT 1""",
        (name, DIMENSION, state["synced_at"], state["synced_id"]),
    ).fetchall()
    return bool(newer) or state["indexed"] > count


def search(
    conn: apsw.Connection,
    name: str,
    query: np.ndarray,
    limit: int,
    per_partition: int = PER_PARTITION,
) -> list[tuple[int, float]]:
    """(track id, cosine similarity) of the ``limit`` present tracks nearest ``query``."""
    state = _state(conn, name) if db.has_vec(conn) and _indexed(conn) else None
    if state is None or query.shape != (DIMENSION,):
        return []
    code = bits(query, np.frombuffer(state["mean"], dtype="<f4"))[0]
    candidates = [
        r["rowid"]
        for part in range(PARTITIONS)
        for r in conn.execute(
            f"SELECT rowid FROM {TABLE} WHERE bits MATCH vec_bit(?) AND k = ? AND part = ?",
            (code, max(per_partition, limit), part),
        )
    ]
    rows = conn.execute(
        """SELECT v.track_id, vec_distance_cosine(v.vector, ?) AS distance
           FROM track_vectors v JOIN tracks t ON t.id = v.track_id AND t.missing_since IS NULL
           WHERE v.name = ? AND v.dimension = ? AND v.track_id IN (SELECT value FROM json_each(?))
           ORDER BY distance, v.track_id LIMIT ?""",
        (query.astype("<f4").tobytes(), name, DIMENSION, json.dumps(candidates), limit),
    ).fetchall()
    return [(r["track_id"], 1.0 - r["distance"]) for r in rows]


def neighbours(
    conn: apsw.Connection, name: str, track_id: int, limit: int
) -> list[tuple[int, float]]:
    """The ``limit`` present tracks whose ``name`` vector is nearest this track's, it excluded."""
    rows = conn.execute(
        "SELECT vector FROM track_vectors WHERE track_id = ? AND name = ? AND dimension = ?",
        (track_id, name, DIMENSION),
    ).fetchall()
    if not rows:
        return []
    query = np.frombuffer(rows[0]["vector"], dtype="<f4")
    return [hit for hit in search(conn, name, query, limit + 1) if hit[0] != track_id][:limit]


def size(conn: apsw.Connection, name: str) -> int:
    """How many vectors called ``name`` the index holds."""
    state = _state(conn, name) if _indexed(conn) else None
    return state["indexed"] if state else 0


def _indexed(conn: apsw.Connection) -> bool:
    found = conn.execute(
        "SELECT count(*) AS n FROM sqlite_master WHERE name IN (?, 'vector_index_state')", (TABLE,)
    ).fetchall()
    return found[0]["n"] == 2
