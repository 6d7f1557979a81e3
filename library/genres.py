"""Genres: every genre of a present track, with how many tracks and albums carry it."""

from __future__ import annotations

import apsw

from soniquebay.library import folders
from soniquebay.library.folders import Scope
from soniquebay.records import Genre


def genres(conn: apsw.Connection, within: Scope | None = None) -> list[Genre]:
    """Every genre of a present track, with its track and album counts, most used first."""
    clause, params = folders.track_clause(within)
    return conn.execute(
        f"""SELECT name, count(*) AS track_count, count(DISTINCT album_id) AS album_count
           FROM (SELECT g.genre AS name, t.album_id FROM track_genres g
                 JOIN tracks t ON t.id = g.track_id WHERE t.missing_since IS NULL AND {clause}
                 UNION ALL  -- tracks stored by id, never grouped: their genre tag as it is
                 SELECT t.genre, t.album_id FROM tracks t
                 WHERE t.missing_since IS NULL AND t.genre IS NOT NULL AND t.genre != ''
                   AND NOT EXISTS (SELECT 1 FROM track_genres g WHERE g.track_id = t.id)
                   AND {clause})
           GROUP BY name COLLATE NOCASE ORDER BY track_count DESC, name COLLATE NOCASE""",
        (*params, *params),
    ).fetchall()
