"""What each user keeps of the library: stars, ratings and plays of tracks, albums and artists.

One row per (user, kind, item) in ``annotations``, as Navidrome keeps it: the web player and the
Subsonic API read and write the same rows, so a star given on the phone shows on the page.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import apsw

from soniquebay.errors import InvalidInput, NotFound
from soniquebay.library import sql

KINDS = {"track": "tracks", "album": "albums", "artist": "artists"}


def _check(conn: apsw.Connection, kind: str, item_id: int) -> None:
    if kind not in KINDS:
        raise InvalidInput(
            f"kind must be one of {', '.join(KINDS)}",
            details={"field": "kind", "allowed": list(KINDS)},
        )
    if not conn.execute(f"SELECT 1 FROM {KINDS[kind]} WHERE id = ?", (item_id,)).fetchall():
        raise NotFound(f"{kind} {item_id} does not exist", details={"id": item_id, "kind": kind})


def _upsert(conn: apsw.Connection, user_id: int, kind: str, item_id: int, assignment: str, params):
    conn.execute(
        """INSERT INTO annotations (user_id, kind, item_id) VALUES (?, ?, ?)
            ON CONFLICT DO NOTHING""",
        (user_id, kind, item_id),
    )
    conn.execute(
        f"UPDATE annotations SET {assignment} WHERE user_id = ? AND kind = ? AND item_id = ?",
        (*params, user_id, kind, item_id),
    )


def set_star(conn: apsw.Connection, user_id: int, kind: str, item_ids: Sequence[int], on: bool):
    """Star (or unstar) each item; an unknown one is a NotFound and nothing changes."""
    with conn:
        for item_id in item_ids:
            _check(conn, kind, item_id)
            _upsert(
                conn, user_id, kind, item_id,
                "starred_at = CASE WHEN ? THEN coalesce(starred_at, ?) END", (on, time.time()),
            )  # fmt: skip


def set_rating(conn: apsw.Connection, user_id: int, kind: str, item_id: int, rating: int) -> None:
    """A rating of 1 to 5; 0 removes it."""
    if not 0 <= rating <= 5:
        raise InvalidInput("rating must be between 0 and 5", details={"field": "rating"})
    with conn:
        _check(conn, kind, item_id)
        _upsert(conn, user_id, kind, item_id, "rating = ?", (rating or None,))


CLOCK_AHEAD = 86400.0  # a client clock a day fast is a clock; further ahead is not a time


def play_time(at: float | None, now: float | None = None) -> float:
    """When a play happened, as the store keeps it: ``at`` (epoch seconds) when it is a moment
    between 1970 and a day from now; a time sent in milliseconds or microseconds where seconds
    were meant is read as such; anything else (the year 3 billion, NaN, a negative time) is the
    moment of the call. Nothing out of range is stored: a date no client can show once broke
    every answer for that user."""
    now = time.time() if now is None else now
    if not isinstance(at, int | float) or isinstance(at, bool) or not math.isfinite(at):
        return now
    for scale in (1, 1_000, 1_000_000):
        if 0 < at / scale <= now + CLOCK_AHEAD:
            return float(at / scale)
    return now


def record_play(conn: apsw.Connection, user_id: int, track_id: int, at: float | None = None):
    """One play of a track, counted for it, its album and its artist (Subsonic's frequent/recent
    album lists read the album's count); ``at`` as :func:`play_time` reads it."""
    at = play_time(at)
    with conn:
        _check(conn, "track", track_id)
        row = conn.execute(
            "SELECT album_id, track_artist_id FROM tracks WHERE id = ?", (track_id,)
        ).fetchall()[0]
        for kind, item in (
            ("track", track_id),
            ("album", row["album_id"]),
            ("artist", row["track_artist_id"]),
        ):
            if item is not None:
                _upsert(
                    conn, user_id, kind, item,
                    "play_count = play_count + 1, last_played = max(coalesce(last_played, 0), ?)",
                    (at,),
                )  # fmt: skip


def of_items(
    conn: apsw.Connection, user_id: int | None, kind: str, item_ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """item id -> {starred_at, rating, play_count, last_played} for the items this user touched."""
    if user_id is None or not item_ids:
        return {}
    rows = conn.execute(
        f"""SELECT item_id, starred_at, rating, play_count, last_played FROM annotations
            WHERE user_id = ? AND kind = ? AND item_id IN ({sql.placeholders(item_ids)})""",
        (user_id, kind, *item_ids),
    ).fetchall()
    return {r.pop("item_id"): r for r in rows}


def starred_ids(conn: apsw.Connection, user_id: int, kind: str, limit: int = 500) -> list[int]:
    """What the user starred, newest first."""
    return [
        r["item_id"]
        for r in conn.execute(
            """SELECT item_id FROM annotations WHERE user_id = ? AND kind = ?
               AND starred_at IS NOT NULL ORDER BY starred_at DESC, item_id LIMIT ?""",
            (user_id, kind, limit),
        )
    ]


def most_played(
    conn: apsw.Connection, kind: str, *, user_id: int | None = None, limit: int = 20,
    recent: bool = False, where: str = "", params: Sequence[Any] = (),
) -> list[int]:  # fmt: skip
    """Items by play count (or by last play with ``recent``), for one user or everybody;
    ``where``/``params`` narrow the items (e.g. one artist's tracks)."""
    order = "max(last_played) DESC" if recent else "sum(play_count) DESC, max(last_played) DESC"
    clauses = ["kind = ?", "play_count > 0"]
    args: list[Any] = [kind]
    if user_id is not None:
        clauses.append("user_id = ?")
        args.append(user_id)
    if where:
        clauses.append(where)
        args.extend(params)
    return [
        r["item_id"]
        for r in conn.execute(
            f"""SELECT item_id FROM annotations WHERE {" AND ".join(clauses)}
                GROUP BY item_id ORDER BY {order}, item_id LIMIT ?""",
            (*args, limit),
        )
    ]


def forget_deleted(conn: apsw.Connection) -> None:
    """Drop what users kept of items that no longer exist (after a purge)."""
    for kind, table in KINDS.items():
        conn.execute(
            f"DELETE FROM annotations WHERE kind = ? AND item_id NOT IN (SELECT id FROM {table})",
            (kind,),
        )
