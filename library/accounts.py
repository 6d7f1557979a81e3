"""Users, API tokens and sessions: the storage side of authentication (hashes only, never secrets)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import apsw

from soniquebay.errors import Conflict, InvalidInput, NotFound

SCOPES = ("read", "write", "worker", "admin")  # what each grants: web/access.py


def count_users(conn: apsw.Connection) -> int:
    return conn.execute("SELECT count(*) AS n FROM users").fetchall()[0]["n"]


def create_user(
    conn: apsw.Connection, username: str, password_hash: str, *, is_admin: bool = False
) -> dict[str, Any]:
    now = time.time()
    try:
        with conn:
            return conn.execute(
                """INSERT INTO users (username, password_hash, is_admin, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?) RETURNING id, username, is_admin""",
                (username, password_hash, int(is_admin), now, now),
            ).fetchall()[0]
    except apsw.ConstraintError:
        raise Conflict(f"user {username!r} already exists") from None


def set_password(conn: apsw.Connection, username: str, password_hash: str) -> None:
    with conn:
        rows = conn.execute(
            "UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ? RETURNING id",
            (password_hash, time.time(), username),
        ).fetchall()
        if not rows:
            raise NotFound(f"user {username!r} does not exist")
        conn.execute("DELETE FROM sessions WHERE user_id = ?", (rows[0]["id"],))


def user_by_name(conn: apsw.Connection, username: str) -> dict[str, Any] | None:
    rows = conn.execute(
        "SELECT id, username, password_hash, is_admin FROM users WHERE username = ?", (username,)
    ).fetchall()
    return rows[0] if rows else None


def create_token(
    conn: apsw.Connection,
    name: str,
    token_hash: str,
    prefix: str,
    *,
    scope: str = "write",
    user_id: int | None = None,
) -> dict[str, Any]:
    with conn:
        return conn.execute(
            """INSERT INTO api_tokens (user_id, name, token_hash, prefix, scope, created_at)
               VALUES (?, ?, ?, ?, ?, ?)
               RETURNING id, name, prefix, scope, created_at, last_used_at, revoked_at""",
            (user_id, name, token_hash, prefix, scope, time.time()),
        ).fetchall()[0]


def token_by_hash(conn: apsw.Connection, token_hash: str) -> dict[str, Any] | None:
    rows = conn.execute(
        """SELECT k.id, k.name, k.scope, k.user_id, u.username, u.folders, u.downloads,
                  u.shares FROM api_tokens k
           LEFT JOIN users u ON u.id = k.user_id
           WHERE k.token_hash = ? AND k.revoked_at IS NULL""",
        (token_hash,),
    ).fetchall()
    return rows[0] if rows else None


def touch_token(conn: apsw.Connection, token_id: int) -> None:
    with conn:
        conn.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (time.time(), token_id))


def list_tokens(conn: apsw.Connection) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT k.id, k.name, k.prefix, k.scope, k.created_at, k.last_used_at, k.revoked_at,
                  u.username FROM api_tokens k LEFT JOIN users u ON u.id = k.user_id
           ORDER BY k.id"""
    ).fetchall()


def revoke_token(conn: apsw.Connection, token_id: int) -> None:
    with conn:
        rows = conn.execute(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING id",
            (time.time(), token_id),
        ).fetchall()
    if not rows:
        raise NotFound(f"token {token_id} does not exist", details={"id": token_id})


def create_session(
    conn: apsw.Connection, id_hash: str, user_id: int, csrf_token: str, lifetime: float
) -> None:
    now = time.time()
    with conn:
        conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
        conn.execute(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (id_hash, user_id, csrf_token, now, now + lifetime),
        )


def session_by_hash(conn: apsw.Connection, id_hash: str) -> dict[str, Any] | None:
    rows = conn.execute(
        """SELECT s.user_id, s.csrf_token, s.expires_at, u.username, u.is_admin, u.theme,
                  u.folders, u.downloads, u.shares
           FROM sessions s
           JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ?""",
        (id_hash, time.time()),
    ).fetchall()
    return rows[0] if rows else None


def delete_session(conn: apsw.Connection, id_hash: str) -> None:
    with conn:
        conn.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))


def list_users(conn: apsw.Connection) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT id, username, is_admin, created_at, folders, downloads, shares FROM users
           ORDER BY username COLLATE NOCASE"""
    ).fetchall()


def delete_user(conn: apsw.Connection, user_id: int) -> None:
    """Remove a user with their sessions, tokens, playlists and stars (the last admin stays)."""
    with conn:
        rows = conn.execute("SELECT is_admin FROM users WHERE id = ?", (user_id,)).fetchall()
        if not rows:
            raise NotFound(f"user {user_id} does not exist", details={"id": user_id})
        admins = conn.execute("SELECT count(*) AS n FROM users WHERE is_admin").fetchall()[0]["n"]
        if rows[0]["is_admin"] and admins <= 1:
            raise Conflict("the last administrator cannot be removed")
        conn.execute("DELETE FROM users WHERE id = ?", (user_id,))


THEMES = ("auto", "light", "dark")


def set_theme(conn: apsw.Connection, user_id: int, theme: str) -> None:
    """The user's colours for the pages: auto (the system's), light or dark."""
    if theme not in THEMES:
        raise InvalidInput(f"theme is one of {', '.join(THEMES)}", details={"field": "theme"})
    with conn:
        conn.execute(
            "UPDATE users SET theme = ?, updated_at = ? WHERE id = ?", (theme, time.time(), user_id)
        )


def set_admin(conn: apsw.Connection, username: str, is_admin: bool) -> None:
    """Make a user an administrator or not (the last administrator stays one)."""
    with conn:
        rows = conn.execute("SELECT is_admin FROM users WHERE username = ?", (username,)).fetchall()
        if not rows:
            raise NotFound(f"user {username!r} does not exist")
        admins = conn.execute("SELECT count(*) AS n FROM users WHERE is_admin").fetchall()[0]["n"]
        if rows[0]["is_admin"] and not is_admin and admins <= 1:
            raise Conflict("the last administrator cannot stop being one")
        conn.execute(  # an administrator sees every folder
            """UPDATE users SET is_admin = ?, updated_at = ?,
                 folders = CASE WHEN ? THEN NULL ELSE folders END WHERE username = ?""",
            (int(is_admin), time.time(), int(is_admin), username),
        )


def set_folders(conn: apsw.Connection, username: str, names: Sequence[str] | None) -> None:
    """The music folders (by name) the user sees; None: every folder. Names are checked
    against the configuration by the caller: a folder renamed later is simply not seen."""
    value = None if names is None else json.dumps(sorted(set(names)), ensure_ascii=False)
    with conn:
        rows = conn.execute("SELECT is_admin FROM users WHERE username = ?", (username,)).fetchall()
        if not rows:
            raise NotFound(f"user {username!r} does not exist")
        if rows[0]["is_admin"] and value is not None:
            raise Conflict(
                f"{username} is an administrator, and an administrator sees every folder"
            )
        conn.execute(
            "UPDATE users SET folders = ?, updated_at = ? WHERE username = ?",
            (value, time.time(), username),
        )


def set_downloads(conn: apsw.Connection, username: str, allowed: bool) -> None:
    """Whether the user may download files (originals, zips; Subsonic's downloadRole)."""
    with conn:
        rows = conn.execute(
            "UPDATE users SET downloads = ?, updated_at = ? WHERE username = ? RETURNING id",
            (int(allowed), time.time(), username),
        ).fetchall()
    if not rows:
        raise NotFound(f"user {username!r} does not exist")


def folders_of(row: dict[str, Any] | None) -> tuple[str, ...] | None:
    """The folder names a user row (session, token, key, list) keeps them to; None: all."""
    raw = (row or {}).get("folders")
    return None if raw is None else tuple(json.loads(raw))


# ---------------------------------------------------------------- apps (Subsonic)


def set_subsonic_password(conn: apsw.Connection, username: str, sealed: str | None) -> None:
    """The user's Subsonic password, sealed (``credentials.seal``); None removes it."""
    with conn:
        rows = conn.execute(
            "UPDATE users SET subsonic_password = ?, updated_at = ? WHERE username = ? RETURNING id",
            (sealed, time.time(), username),
        ).fetchall()
    if not rows:
        raise NotFound(f"user {username!r} does not exist")


def subsonic_user(conn: apsw.Connection, username: str) -> dict[str, Any] | None:
    rows = conn.execute(
        "SELECT id, username, is_admin, subsonic_password, folders, downloads, shares FROM users"
        " WHERE username = ?",
        (username,),
    ).fetchall()
    return rows[0] if rows else None


def create_api_key(conn: apsw.Connection, username: str, key_hash: str) -> None:
    with conn:
        user = user_by_name(conn, username)
        if user is None:
            raise NotFound(f"user {username!r} does not exist")
        conn.execute(
            "INSERT INTO api_keys (user_id, key_hash, created_at) VALUES (?, ?, ?)",
            (user["id"], key_hash, time.time()),
        )


def user_by_api_key(conn: apsw.Connection, key_hash: str) -> dict[str, Any] | None:
    rows = conn.execute(
        """SELECT u.id, u.username, u.is_admin, u.folders, u.downloads, u.shares FROM api_keys k
           JOIN users u ON u.id = k.user_id
           WHERE k.key_hash = ?""",
        (key_hash,),
    ).fetchall()
    return rows[0] if rows else None


def api_key_count(conn: apsw.Connection, user_id: int) -> int:
    return conn.execute(
        "SELECT count(*) AS n FROM api_keys WHERE user_id = ?", (user_id,)
    ).fetchall()[0]["n"]


def revoke_api_keys(conn: apsw.Connection, user_id: int) -> None:
    with conn:
        conn.execute("DELETE FROM api_keys WHERE user_id = ?", (user_id,))
