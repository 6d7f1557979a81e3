"""Which music folders a read covers: an account kept to some folders (a child's to "Kids"),
an app's ``musicFolderId``. A scope is a set of folder paths; a track is in it when its path
is under one of them, an album when one of its present tracks is, an artist when a present
track credits them or an album they head is in it. ``None`` is the whole library, and costs
nothing: every clause here is then empty."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import apsw

from soniquebay.library import sql


@dataclass(frozen=True)
class Scope:
    """Folder paths as the database stores paths (``os.fsencode``d), without a final slash."""

    roots: tuple[bytes, ...]

    @classmethod
    def of(cls, paths: Iterable[os.PathLike | str]) -> Scope:
        return cls(tuple(sorted({os.fsencode(p).rstrip(b"/") for p in paths})))

    def holds(self, path: bytes) -> bool:
        return any(path.startswith(root + b"/") for root in self.roots)


def _ranges(scope: Scope, column: str) -> tuple[str, list[Any]]:
    """Paths under each root as a range of the path index: ``root/`` ≤ path < ``root0``
    ('0' follows '/' in byte order)."""
    if not scope.roots:
        return "0", []
    parts, params = [], []
    for root in scope.roots:
        parts.append(f"({column} >= ? AND {column} < ?)")
        params += [root + b"/", root + b"0"]
    return "(" + " OR ".join(parts) + ")", params


def track_clause(scope: Scope | None, alias: str = "t") -> tuple[str, list[Any]]:
    """A WHERE term: the track ``alias`` is in the scope."""
    if scope is None:
        return "1", []
    return _ranges(scope, f"{alias}.path")


def album_clause(scope: Scope | None, alias: str = "al") -> tuple[str, list[Any]]:
    """A WHERE term: the album ``alias`` has a present track in the scope."""
    if scope is None:
        return "1", []
    within, params = _ranges(scope, "s.path")
    return (
        f"""EXISTS (SELECT 1 FROM tracks s WHERE s.album_id = {alias}.id
                    AND s.missing_since IS NULL AND {within})""",
        params,
    )


def artist_clause(scope: Scope | None, alias: str = "a") -> tuple[str, list[Any]]:
    """A WHERE term: a present track in the scope credits the artist ``alias``, or an album
    they head is in the scope."""
    if scope is None:
        return "1", []
    within, params = _ranges(scope, "s.path")
    return (
        f"""(EXISTS (SELECT 1 FROM track_artists ta JOIN tracks s ON s.id = ta.track_id
                     WHERE ta.artist_id = {alias}.id AND s.missing_since IS NULL AND {within})
             OR EXISTS (SELECT 1 FROM tracks s WHERE s.track_artist_id = {alias}.id
                        AND s.missing_since IS NULL AND {within})
             OR EXISTS (SELECT 1 FROM albums h JOIN tracks s ON s.album_id = h.id
                        WHERE h.album_artist_id = {alias}.id AND s.missing_since IS NULL
                          AND {within}))""",
        params * 3,
    )


def _within(
    conn: apsw.Connection, table: str, alias: str, clause, ids: Sequence[int], scope: Scope | None
) -> set[int]:
    if scope is None:
        return set(ids)
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        term, params = clause(scope, alias)
        found.update(
            r["id"]
            for r in conn.execute(
                f"SELECT {alias}.id AS id FROM {table} {alias}"
                f" WHERE {alias}.id IN ({sql.placeholders(chunk)}) AND {term}",
                (*chunk, *params),
            )
        )
    return found


def tracks_within(conn: apsw.Connection, ids: Sequence[int], scope: Scope | None) -> set[int]:
    """Which of these tracks are in the scope."""
    return _within(conn, "tracks", "t", track_clause, ids, scope)


def albums_within(conn: apsw.Connection, ids: Sequence[int], scope: Scope | None) -> set[int]:
    return _within(conn, "albums", "al", album_clause, ids, scope)


def artists_within(conn: apsw.Connection, ids: Sequence[int], scope: Scope | None) -> set[int]:
    return _within(conn, "artists", "a", artist_clause, ids, scope)
