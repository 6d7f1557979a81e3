"""What a user leaves playing for their other devices: the play queue and bookmarks
(Subsonic's savePlayQueue and createBookmark: start on the phone, go on at the desk)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import apsw

from soniquebay import library
from soniquebay.errors import InvalidInput, NotFound

MAX_POSITION_MS = 7 * 86400 * 1000  # the longest track the library takes (fields.NUMBER_RANGES)


def _position(position_ms: int) -> int:
    """A position in a track: negative is the start; past any track's length is refused (an
    absurd number stored once broke every answer for that user)."""
    if not isinstance(position_ms, int) or position_ms > MAX_POSITION_MS:
        raise InvalidInput(
            f"position must be a number of milliseconds from 0 to {MAX_POSITION_MS}",
            details={"field": "position"},
        )
    return max(0, position_ms)


def save_queue(
    conn: apsw.Connection,
    user_id: int,
    track_ids: Sequence[int],
    current: int | None,
    position_ms: int,
    client: str,
) -> None:
    with conn:
        if track_ids:
            known = {r["id"] for r in library.tracks.tracks_by_ids(conn, list(set(track_ids)))}
            missing = [t for t in track_ids if t not in known]
            if missing:
                raise NotFound(f"track {missing[0]} does not exist", details={"id": missing[0]})
        conn.execute(
            """INSERT INTO play_queues (user_id, track_ids, current_id, position_ms, changed_at, changed_by)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (user_id) DO UPDATE SET track_ids = excluded.track_ids,
                 current_id = excluded.current_id, position_ms = excluded.position_ms,
                 changed_at = excluded.changed_at, changed_by = excluded.changed_by""",
            (
                user_id,
                json.dumps(list(track_ids)),
                current,
                _position(position_ms),
                time.time(),
                client[:100],
            ),
        )


def get_queue(conn: apsw.Connection, user_id: int) -> dict[str, Any] | None:
    rows = conn.execute("SELECT * FROM play_queues WHERE user_id = ?", (user_id,)).fetchall()
    if not rows:
        return None
    row = rows[0]
    row["track_ids"] = json.loads(row["track_ids"])
    return row


def set_bookmark(
    conn: apsw.Connection, user_id: int, track_id: int, position_ms: int, comment: str = ""
) -> None:
    now = time.time()
    with conn:
        library.tracks.get_track(conn, track_id)
        conn.execute(
            """INSERT INTO bookmarks (user_id, track_id, position_ms, comment, created_at, changed_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (user_id, track_id) DO UPDATE SET position_ms = excluded.position_ms,
                 comment = excluded.comment, changed_at = excluded.changed_at""",
            (user_id, track_id, _position(position_ms), comment[:1000], now, now),
        )


def delete_bookmark(conn: apsw.Connection, user_id: int, track_id: int) -> None:
    with conn:
        conn.execute(
            "DELETE FROM bookmarks WHERE user_id = ? AND track_id = ?", (user_id, track_id)
        )


def bookmarks(conn: apsw.Connection, user_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT * FROM bookmarks WHERE user_id = ? ORDER BY changed_at DESC", (user_id,)
    ).fetchall()
