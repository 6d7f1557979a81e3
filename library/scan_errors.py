"""What could not be read or stored: files the scan refused, per-track stages that failed."""

from __future__ import annotations

from typing import Any

import apsw

from soniquebay.library import sql
from soniquebay.records import ScanError


def list_scan_errors(
    conn: apsw.Connection, *, limit: int = 100, offset: int = 0
) -> tuple[list[ScanError], int]:
    """Files that could not be read or stored, and per-track stages that failed (those carry
    ``track_id`` and the plugin), newest first."""
    rows = conn.execute(
        """SELECT id, NULL AS track_id, path, size, stage, plugin, reason, first_seen, last_seen,
                  occurrences FROM scan_errors
           UNION ALL
           SELECT NULL, s.track_id, t.path, t.size, s.stage, s.plugin, s.error, s.updated_at,
                  s.updated_at, 1
             FROM track_stages s JOIN tracks t ON t.id = s.track_id
            WHERE s.status = 'failed' AND t.missing_since IS NULL
           ORDER BY last_seen DESC, id DESC LIMIT ? OFFSET ?""",
        (limit, offset),
    ).fetchall()
    for row in rows:
        row["path"] = sql.display_path(row["path"])
    total = conn.execute(
        """SELECT (SELECT count(*) FROM scan_errors)
                + (SELECT count(*) FROM track_stages s JOIN tracks t ON t.id = s.track_id
                   WHERE s.status = 'failed' AND t.missing_since IS NULL) AS n"""
    ).fetchall()[0]["n"]
    return rows, total


def scan_errors_of_path(conn: apsw.Connection, path: bytes) -> list[dict[str, Any]]:
    """What the scan recorded about this file (a truncated copy, an unreadable tag...)."""
    return conn.execute(
        "SELECT stage, plugin, reason, last_seen, occurrences FROM scan_errors WHERE path = ?",
        (path,),
    ).fetchall()
