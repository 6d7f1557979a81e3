"""Shares: public links to a track, an album or a playlist (the web pages' "Share", Subsonic's
createShare/getShares/updateShare/deleteShare). A link is the share's id signed with the
server's key (the web process signs and checks it); here, a share answers as long as it is
neither revoked nor expired and its owner may share, and counts its visits."""

from __future__ import annotations

import time
from typing import Any

import apsw

from soniquebay import library
from soniquebay.errors import Gone, InvalidInput, NotFound
from soniquebay.library import playlists

KINDS = ("track", "album", "playlist")
MAX_DESCRIPTION = 500


def create(
    conn: apsw.Connection,
    user_id: int,
    kind: str,
    item_id: int,
    *,
    description: str = "",
    expires_at: float | None = None,
    transcode: str | None = None,
    downloads: bool = False,
) -> dict[str, Any]:
    """A new share of an item the user may share (any track or album; their own playlist)."""
    if kind not in KINDS:
        raise InvalidInput(f"a share is of a {', '.join(KINDS)}", details={"field": "kind"})
    now = time.time()
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("a share expires in the future", details={"field": "expires"})
    with conn:
        _check_item(conn, user_id, kind, item_id)
        row = conn.execute(
            """INSERT INTO shares (user_id, kind, item_id, description, transcode, downloads,
                                   created_at, expires_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            (user_id, kind, item_id, description[:MAX_DESCRIPTION], transcode, int(downloads),
             now, expires_at),
        ).fetchall()[0]  # fmt: skip
    return get(conn, user_id, row["id"])


def _check_item(conn: apsw.Connection, user_id: int, kind: str, item_id: int) -> None:
    if kind == "track":
        library.tracks.get_track(conn, item_id)
    elif kind == "album":
        library.albums.get_album(conn, item_id)
    else:
        playlists.get_playlist(conn, user_id, item_id)  # their own: NotFound otherwise


def get(conn: apsw.Connection, user_id: int, share_id: int) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT * FROM shares WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
        (share_id, user_id),
    ).fetchall()
    if not rows:
        raise NotFound(f"share {share_id} does not exist", details={"id": share_id})
    return rows[0]


def of_user(conn: apsw.Connection, user_id: int) -> list[dict[str, Any]]:
    """The user's shares that still answer or expired (not revoked), newest first."""
    return conn.execute(
        "SELECT * FROM shares WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC",
        (user_id,),
    ).fetchall()


def update(
    conn: apsw.Connection,
    user_id: int,
    share_id: int,
    *,
    description: str | None = None,
    expires_at: float | None | bool = False,
) -> dict[str, Any]:
    """Change a share's description, or its expiry (``None``: never; ``False``: unchanged)."""
    with conn:
        get(conn, user_id, share_id)
        if description is not None:
            conn.execute(
                "UPDATE shares SET description = ? WHERE id = ?",
                (description[:MAX_DESCRIPTION], share_id),
            )
        if expires_at is not False:
            conn.execute("UPDATE shares SET expires_at = ? WHERE id = ?", (expires_at, share_id))
    return get(conn, user_id, share_id)


def revoke(conn: apsw.Connection, user_id: int, share_id: int) -> None:
    with conn:
        get(conn, user_id, share_id)
        conn.execute("UPDATE shares SET revoked_at = ? WHERE id = ?", (time.time(), share_id))


def opened(conn: apsw.Connection, share_id: int, *, visit: bool = False) -> dict[str, Any]:
    """The share a link opens: NotFound for no such link, Gone (410) for a revoked or expired
    one, or one whose owner may no longer share; ``visit`` counts a visit."""
    rows = conn.execute(
        """SELECT s.*, u.username, u.shares AS owner_shares FROM shares s
           JOIN users u ON u.id = s.user_id WHERE s.id = ?""",
        (share_id,),
    ).fetchall()
    if not rows:
        raise NotFound("no such share")
    share, now = rows[0], time.time()
    if share["revoked_at"] is not None:
        raise Gone("this link was revoked by whoever shared it")
    if share["expires_at"] is not None and share["expires_at"] <= now:
        raise Gone("this link has expired")
    if not share["owner_shares"]:
        raise Gone("sharing is turned off for whoever shared this")
    if visit:
        with conn:
            conn.execute(
                "UPDATE shares SET visits = visits + 1, last_visited_at = ? WHERE id = ?",
                (now, share["id"]),
            )
        share = {**share, "visits": share["visits"] + 1, "last_visited_at": now}
    return share


def track_ids(conn: apsw.Connection, share: dict[str, Any]) -> list[int]:
    """The present tracks a share holds, in order (an album's or a playlist's)."""
    if share["kind"] == "track":
        rows = library.tracks.tracks_by_ids(conn, [share["item_id"]])
        return [r["id"] for r in rows if r["missing_since"] is None]
    if share["kind"] == "album":
        rows = library.tracks.tracks_by_album_ids(conn, [share["item_id"]], ["id"])
        return [r["id"] for r in rows]
    try:
        return playlists.track_ids(conn, share["user_id"], share["item_id"])
    except NotFound:
        return []  # the playlist was deleted: the share holds nothing


def set_allowed(conn: apsw.Connection, username: str, allowed: bool) -> None:
    """Whether the user may share (their links stop answering while it is off)."""
    with conn:
        rows = conn.execute(
            "UPDATE users SET shares = ?, updated_at = ? WHERE username = ? RETURNING id",
            (int(allowed), time.time(), username),
        ).fetchall()
    if not rows:
        raise NotFound(f"user {username!r} does not exist")
