"""Duplicates: tracks whose acoustic fingerprints match (the same recording, in any format).

When a stage stores a ``fingerprint`` (with ``fingerprint_duration``), the track's fingerprint
head is indexed and compared with every track of nearly the same duration; matches are linked
both ways. A changed fingerprint replaces the old links; a deleted track takes its links along.
"""

from __future__ import annotations

from typing import Any

import apsw

from soniquebay import fingerprints
from soniquebay.library import sql


def index(conn: apsw.Connection, track_id: int, fingerprint: str, duration: float) -> list[int]:
    """Index one track's fingerprint and link its duplicates (inside the caller's transaction).
    Returns the duplicates' ids."""
    head = fingerprints.head(fingerprint)
    conn.execute(
        "INSERT OR REPLACE INTO track_fingerprints (track_id, duration, head) VALUES (?, ?, ?)",
        (track_id, float(duration), head),
    )
    conn.execute(
        "DELETE FROM track_duplicates WHERE track_id = ? OR other_id = ?", (track_id, track_id)
    )
    found = []
    for row in conn.execute(
        """SELECT track_id, head FROM track_fingerprints
           WHERE duration BETWEEN ? AND ? AND track_id != ?""",
        (duration - fingerprints.DURATION_TOLERANCE, duration + fingerprints.DURATION_TOLERANCE,
         track_id),
    ).fetchall():  # fmt: skip
        error = fingerprints.bit_error(head, row["head"])
        if error < fingerprints.DUPLICATE_BIT_ERROR:
            found.append((row["track_id"], error))
    for other, error in found:
        conn.execute(
            "INSERT OR REPLACE INTO track_duplicates VALUES (?, ?, ?), (?, ?, ?)",
            (track_id, other, error, other, track_id, error),
        )
    return [other for other, _ in found]


def of_track(conn: apsw.Connection, track_id: int) -> list[dict[str, Any]]:
    """The track's duplicates: id, title, path, format, and how close their fingerprints are."""
    return conn.execute(
        """SELECT t.id, t.title, t.path, t.format, t.bitrate, d.bit_error
           FROM track_duplicates d JOIN tracks t ON t.id = d.other_id
           WHERE d.track_id = ? ORDER BY d.bit_error, t.id""",
        (track_id,),
    ).fetchall()


def groups(conn: apsw.Connection, limit: int = 100, after_id: int = 0) -> list[list[int]]:
    """Groups of duplicate track ids, by their smallest id, from ``after_id`` on."""
    rows = conn.execute(
        """SELECT track_id, group_concat(other_id) AS others FROM track_duplicates
           WHERE track_id > ? AND track_id < other_id
           GROUP BY track_id ORDER BY track_id""",
        (after_id,),
    ).fetchall()
    seen: set[int] = set()
    out = []
    for row in rows:
        if row["track_id"] in seen:
            continue
        members = sorted({row["track_id"], *map(int, row["others"].split(","))})
        seen.update(members)
        out.append(members)
        if len(out) >= limit:
            break
    return out


def linked(conn: apsw.Connection, ids: list[int]) -> dict[int, set[int]]:
    """id -> the ids of its duplicates (other copies of the same recording), for those of
    ``ids`` that have any."""
    if not ids:
        return {}
    out: dict[int, set[int]] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        for row in conn.execute(
            f"""SELECT track_id, other_id FROM track_duplicates
                WHERE track_id IN ({sql.placeholders(part)})""",
            part,
        ):
            out.setdefault(row["track_id"], set()).add(row["other_id"])
    return out


def one_per_recording(
    conn: apsw.Connection, ids: list[int], seeds: tuple[int, ...] = ()
) -> list[int]:
    """``ids`` in their order without another copy of a recording already kept, nor of the
    ``seeds`` (a list of "more like this" never offers the same song in another file)."""
    links = linked(conn, [*seeds, *ids])
    taken: set[int] = set()
    for seed in seeds:
        taken |= {seed, *links.get(seed, ())}
    kept = []
    for track_id in ids:
        if track_id in taken:
            continue
        kept.append(track_id)
        taken |= {track_id, *links.get(track_id, ())}
    return kept


def generation(conn: apsw.Connection) -> int:
    """Changes when links are made or dropped (what caches of similar tracks depend on)."""
    return conn.execute("SELECT count(*) AS n FROM track_duplicates").fetchall()[0]["n"]
