"""Track vectors: float32 blobs in sqlite-vec's format, one per (track, name)."""

from __future__ import annotations

import array
import math
import sys
import time
from collections.abc import Sequence
from typing import Any

import apsw

from soniquebay.errors import NotFound
from soniquebay.library import sql

VECTOR_COLUMNS = "id, track_id, name, dimension, created_at, updated_at"


def pack_vector(values: Sequence[float]) -> bytes:
    """float32 little-endian, sqlite-vec's format."""
    packed = array.array("f", values)
    if packed.itemsize != 4:  # pragma: no cover - every platform we ship on
        raise RuntimeError("float32 is not 4 bytes here")
    if sys.byteorder != "little":  # pragma: no cover
        packed.byteswap()
    return packed.tobytes()


def unpack_vector(blob: bytes) -> list[float]:
    values = array.array("f")
    values.frombytes(blob)
    if sys.byteorder != "little":  # pragma: no cover
        values.byteswap()
    return [v if math.isfinite(v) else None for v in values.tolist()]


def _vector_row(row: dict[str, Any], with_vector: bool = True) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "vector"}
    if with_vector and "vector" in row:
        out["vector"] = unpack_vector(row["vector"])
    return out


def get_vector(conn: apsw.Connection, vector_id: int) -> dict[str, Any]:
    rows = conn.execute(
        f"SELECT {VECTOR_COLUMNS}, vector FROM track_vectors WHERE id = ?", (vector_id,)
    ).fetchall()
    if not rows:
        raise NotFound(f"track vector {vector_id} does not exist", details={"id": vector_id})
    return _vector_row(rows[0])


def list_vectors(
    conn: apsw.Connection,
    *,
    limit: int = 50,
    offset: int = 0,
    track_id: int | None = None,
    name: str | None = None,
    with_vectors: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    where, params = [], []
    if track_id is not None:
        where.append("track_id = ?")
        params.append(track_id)
    if name is not None:
        where.append("name = ?")
        params.append(name)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    columns = VECTOR_COLUMNS + (", vector" if with_vectors else "")
    rows = conn.execute(
        f"SELECT {columns} FROM track_vectors {clause} ORDER BY id LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    total = conn.execute(
        f"SELECT count(*) AS n FROM track_vectors {clause}", tuple(params)
    ).fetchall()[0]["n"]
    return [_vector_row(r, with_vectors) for r in rows], total


def create_vector(conn: apsw.Connection, item: dict[str, Any]) -> dict[str, Any]:
    """``item``: track_id, name, vector (bytes), dimension. An existing (track, name) conflicts."""
    now = time.time()
    with conn:
        if not conn.execute("SELECT 1 FROM tracks WHERE id = ?", (item["track_id"],)).fetchall():
            raise NotFound(
                f"track {item['track_id']} does not exist", details={"field": "track_id"}
            )
        row = sql.returning_one(
            conn,
            """INSERT INTO track_vectors (track_id, name, dimension, vector, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?) RETURNING id""",
            (item["track_id"], item["name"], item["dimension"], item["vector"], now, now),
            f"a {item['name']!r} vector for track {item['track_id']}",
        )
    return get_vector(conn, row["id"])


def update_vector(conn: apsw.Connection, vector_id: int, item: dict[str, Any]) -> dict[str, Any]:
    with conn:
        sql.returning_one(
            conn,
            "UPDATE track_vectors SET vector = ?, dimension = ?, updated_at = ? WHERE id = ? RETURNING id",
            (item["vector"], item["dimension"], time.time(), vector_id),
            f"track vector {vector_id}",
        )
    return get_vector(conn, vector_id)


def delete_vector(conn: apsw.Connection, vector_id: int) -> None:
    with conn:
        sql.returning_one(
            conn,
            "DELETE FROM track_vectors WHERE id = ? RETURNING id",
            (vector_id,),
            f"track vector {vector_id}",
        )


def upsert_vectors(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> list[dict]:
    """Create or replace vectors by (track_id, name). One transaction, all or nothing."""
    now = time.time()

    def one(item: dict[str, Any]) -> dict[str, Any]:
        return conn.execute(
            f"""INSERT INTO track_vectors (track_id, name, dimension, vector, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (track_id, name) DO UPDATE SET
                  dimension = excluded.dimension, vector = excluded.vector,
                  updated_at = excluded.updated_at
                RETURNING {VECTOR_COLUMNS}""",
            (item["track_id"], item["name"], item["dimension"], item["vector"], now, now),
        ).fetchall()[0]

    return sql.run_batch(conn, items, one)


def vectors_by_track_ids(conn: apsw.Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = conn.execute(
        f"SELECT {VECTOR_COLUMNS}, vector FROM track_vectors WHERE track_id IN ({sql.placeholders(ids)}) ORDER BY id",
        tuple(ids),
    ).fetchall()
    return [_vector_row(r) for r in rows]
