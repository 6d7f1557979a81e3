"""The library as a whole: its totals, and when it last changed."""

from __future__ import annotations

import apsw

from soniquebay.records import Totals


def counts(conn: apsw.Connection) -> Totals:
    row = conn.execute(
        """SELECT (SELECT count(*) FROM tracks WHERE missing_since IS NULL) AS tracks,
                  (SELECT count(*) FROM tracks WHERE missing_since IS NOT NULL) AS missing_tracks,
                  (SELECT count(*) FROM albums) AS albums,
                  (SELECT count(*) FROM artists) AS artists,
                  (SELECT count(*) FROM scan_errors) AS scan_errors"""
    ).fetchall()[0]
    return dict(row)


def last_change(conn: apsw.Connection) -> float:
    """When the library last changed (a track stored, moved or gone; an artist or album made or
    renamed), epoch seconds: what Subsonic's ``ifModifiedSince`` is compared with."""
    row = conn.execute(
        """SELECT max(x) AS at FROM (
             SELECT max(updated_at) AS x FROM tracks UNION ALL
             SELECT max(missing_since) FROM tracks UNION ALL
             SELECT max(updated_at) FROM artists UNION ALL
             SELECT max(updated_at) FROM albums)"""
    ).fetchall()[0]
    return row["at"] or 0.0
