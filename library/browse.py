"""Reads for people browsing: the album grid, artists with their albums, genres, top tracks,
and search grouped by kind. (Lists for API clients, with every filter, are in ``queries``.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from soniquebay.errors import InvalidInput
from soniquebay.library import annotations, queries, sql

ALBUM_GRID_SORTS = {
    "recent": "al.created_at DESC, al.id DESC",
    "title": "al.title COLLATE NOCASE, al.id",
    "artist": "ar.name COLLATE NOCASE, al.year, al.title COLLATE NOCASE, al.id",
    "year": "al.year DESC, al.title COLLATE NOCASE, al.id",
}

GRID_COLUMNS = f"""{queries.ALBUM_COLUMNS},
    (SELECT coalesce(sum(t.duration), 0) FROM tracks t
      WHERE t.album_id = al.id AND t.missing_since IS NULL) AS duration"""


def _grid_where(genre: str | None, year: int | None) -> tuple[str, list[Any]]:
    where, params = [queries.ALBUM_VISIBLE], []
    if genre:
        where.append(
            """al.id IN (SELECT t.album_id FROM tracks t
                         WHERE t.genre = ? COLLATE NOCASE AND t.missing_since IS NULL)"""
        )
        params.append(genre)
    if year is not None:
        where.append("al.year = ?")
        params.append(year)
    return " AND ".join(where), params


def album_grid(
    conn: apsw.Connection,
    *,
    limit: int = 60,
    offset: int = 0,
    sort: str = "recent",
    genre: str | None = None,
    year: int | None = None,
) -> list[dict[str, Any]]:
    if sort not in ALBUM_GRID_SORTS:
        raise InvalidInput(
            f"cannot sort albums by {sort!r}",
            details={"field": "sort", "allowed": sorted(ALBUM_GRID_SORTS)},
        )
    clause, params = _grid_where(genre, year)
    return conn.execute(
        f"""SELECT {GRID_COLUMNS} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
            WHERE {clause} ORDER BY {ALBUM_GRID_SORTS[sort]} LIMIT ? OFFSET ?""",
        (*params, limit, offset),
    ).fetchall()


def count_album_grid(conn: apsw.Connection, genre: str | None = None, year: int | None = None):
    clause, params = _grid_where(genre, year)
    return conn.execute(
        f"SELECT count(*) AS n FROM albums al WHERE {clause}", tuple(params)
    ).fetchall()[0]["n"]


def album_years(conn: apsw.Connection) -> list[int]:
    return [
        r["year"]
        for r in conn.execute(
            "SELECT DISTINCT year FROM albums WHERE year IS NOT NULL ORDER BY year DESC"
        )
    ]


def genres(conn: apsw.Connection) -> list[dict[str, Any]]:
    """Every genre of a present track, with its track and album counts, most used first."""
    return conn.execute(
        """SELECT genre AS name, count(*) AS track_count, count(DISTINCT album_id) AS album_count
           FROM tracks WHERE missing_since IS NULL AND genre IS NOT NULL AND genre != ''
           GROUP BY genre COLLATE NOCASE ORDER BY track_count DESC, genre COLLATE NOCASE"""
    ).fetchall()


ARTIST_CARD = f"""a.id, a.name,
    (SELECT count(*) FROM albums al WHERE al.album_artist_id = a.id AND {queries.ALBUM_VISIBLE}) AS album_count,
    (SELECT count(*) FROM tracks t WHERE t.track_artist_id = a.id AND t.missing_since IS NULL)
      AS track_count,
    coalesce(
      (SELECT al.id FROM albums al WHERE al.album_artist_id = a.id AND {queries.ALBUM_VISIBLE}
        ORDER BY al.year DESC, al.id LIMIT 1),
      (SELECT t.album_id FROM tracks t WHERE t.track_artist_id = a.id AND t.missing_since IS NULL
        AND t.album_id IS NOT NULL LIMIT 1)) AS cover_album_id"""


def artist_cards(
    conn: apsw.Connection, *, limit: int = 100, offset: int = 0, ids: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """Artists by name with their album counts and an album whose cover stands for them."""
    where, params = [queries.ARTIST_VISIBLE], []
    if ids is not None:
        if not ids:
            return []
        where.append(f"a.id IN ({sql.placeholders(ids)})")
        params.extend(ids)
    return conn.execute(
        f"""SELECT {ARTIST_CARD} FROM artists a WHERE {" AND ".join(where)}
            ORDER BY a.name COLLATE NOCASE, a.id LIMIT ? OFFSET ?""",
        (*params, limit, offset),
    ).fetchall()


def count_artists(conn: apsw.Connection) -> int:
    return conn.execute(
        f"SELECT count(*) AS n FROM artists a WHERE {queries.ARTIST_VISIBLE}"
    ).fetchall()[0]["n"]


def artist_albums(conn: apsw.Connection, artist_id: int) -> dict[str, list[dict[str, Any]]]:
    """``own``: albums the artist heads; ``appears_on``: others holding one of their tracks."""
    own = conn.execute(
        f"""SELECT {GRID_COLUMNS} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
            WHERE al.album_artist_id = ? AND {queries.ALBUM_VISIBLE}
            ORDER BY al.year DESC, al.title COLLATE NOCASE, al.id""",
        (artist_id,),
    ).fetchall()
    appears = queries.appears_on_by_artist_ids(conn, [artist_id])
    return {"own": own, "appears_on": appears}


def top_tracks(conn: apsw.Connection, artist_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """The artist's most played tracks (everybody's plays), then their others by album order."""
    played = annotations.most_played(
        conn,
        "track",
        limit=limit,
        where="item_id IN (SELECT id FROM tracks WHERE track_artist_id = ? AND missing_since IS NULL)",
        params=(artist_id,),
    )
    rows = {r["id"]: r for r in queries.tracks_by_ids(conn, played)}
    out = [rows[i] for i in played if i in rows]
    if len(out) < limit:
        out += sql.dict_rows(
            conn,
            f"""SELECT t.* FROM tracks t WHERE t.track_artist_id = ? AND t.missing_since IS NULL
                AND t.id NOT IN ({sql.placeholders(played) if played else "NULL"})
                ORDER BY t.year DESC, t.album_id, t.disc_number, t.track_number, t.id LIMIT ?""",
            (artist_id, *played, limit - len(out)),
        )
    return out


def search(conn: apsw.Connection, text: str, limit: int = 10) -> dict[str, list[dict[str, Any]]]:
    """Full-text search (FTS5, accents ignored, each word a prefix) grouped by kind, best first:
    artists and albums whose names match, and tracks matching on any of their text."""
    words = queries.fts_query(text)
    if not words:
        return {"artists": [], "albums": [], "tracks": []}
    tracks = sql.dict_rows(
        conn,
        """SELECT t.* FROM tracks_fts f JOIN tracks t ON t.id = f.rowid
           WHERE tracks_fts MATCH ? AND t.missing_since IS NULL
           ORDER BY bm25(tracks_fts, 10.0, 4.0, 3.0, 2.0, 1.0), t.id LIMIT ?""",
        (words, limit),
    )
    # Matches are read first (MATERIALIZED: FTS5's rank only exists on its own table's rows),
    # then grouped by the artist or album they belong to, best match first.
    artist_ids = [
        r["id"]
        for r in conn.execute(
            """WITH by_artist AS MATERIALIZED (
                 SELECT rowid, rank FROM tracks_fts WHERE tracks_fts MATCH ?),
               by_album_artist AS MATERIALIZED (
                 SELECT rowid, rank FROM tracks_fts WHERE tracks_fts MATCH ?)
               SELECT id FROM (
                 SELECT t.track_artist_id AS id, h.rank FROM by_artist h JOIN tracks t ON t.id = h.rowid
                  WHERE t.missing_since IS NULL AND t.track_artist_id IS NOT NULL
                 UNION ALL
                 SELECT al.album_artist_id, h.rank FROM by_album_artist h JOIN tracks t ON t.id = h.rowid
                   JOIN albums al ON al.id = t.album_id
                  WHERE t.missing_since IS NULL AND al.album_artist_id IS NOT NULL)
               GROUP BY id ORDER BY min(rank), id LIMIT ?""",
            (f"{{artist_name}} : ({words})", f"{{album_artist_name}} : ({words})", limit),
        )
    ]
    album_ids = [
        r["id"]
        for r in conn.execute(
            """WITH hits AS MATERIALIZED (
                 SELECT rowid, rank FROM tracks_fts WHERE tracks_fts MATCH ?)
               SELECT t.album_id AS id FROM hits h JOIN tracks t ON t.id = h.rowid
               WHERE t.missing_since IS NULL AND t.album_id IS NOT NULL
               GROUP BY t.album_id ORDER BY min(h.rank), t.album_id LIMIT ?""",
            (f"{{album_title}} : ({words})", limit),
        )
    ]
    artists = {r["id"]: r for r in artist_cards(conn, ids=artist_ids, limit=limit)}
    albums = {r["id"]: r for r in queries.albums_by_ids(conn, album_ids)}
    return {
        "artists": [artists[i] for i in artist_ids if i in artists],
        "albums": [albums[i] for i in album_ids if i in albums],
        "tracks": tracks,
    }
