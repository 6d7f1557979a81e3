"""Albums in storage: one by id, pages for API clients (every filter), the people's grid (with
length and genre), the lists apps ask for (Subsonic's types), an artist's albums and the ones
they appear on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from soniquebay.errors import InvalidInput, NotFound
from soniquebay.library import folders, sql
from soniquebay.library.folders import Scope
from soniquebay.library.tracks import CREDIT_ROLES, GENRE_MATCH
from soniquebay.records import Album, AlbumCard, ArtistAlbums

# An album is listed unless all its tracks are gone: none missing (one probe of a small index;
# INDEXED BY, or the planner walks every missing track per album), or one present.
ALBUM_VISIBLE = """(NOT EXISTS (SELECT 1 FROM tracks t INDEXED BY idx_tracks_album_missing
                    WHERE t.album_id = al.id AND t.missing_since IS NOT NULL)
    OR EXISTS (SELECT 1 FROM tracks t WHERE t.album_id = al.id AND t.missing_since IS NULL))"""


ALBUM_COLUMNS = """al.id, al.title, al.album_artist_id, ar.name AS album_artist_name, al.year,
    al.musicbrainz_albumid, al.created_at, al.updated_at, al.disc_total, al.release_type,
    al.compilation, al.from_folder, al.disc_subtitles,
    (SELECT count(*) FROM tracks t WHERE t.album_id = al.id AND t.missing_since IS NULL)
      AS track_count"""


ALBUM_SORTS = {"title": "al.title COLLATE NOCASE", "year": "al.year", "id": "al.id"}


def _years(where: list[str], params: list[Any], low: int | None, high: int | None) -> None:
    """An album's year from ``low`` to ``high`` (either may be open)."""
    if low is not None:
        where.append("al.year >= ?")
        params.append(low)
    if high is not None:
        where.append("al.year <= ?")
        params.append(high)


def _album_where(
    artist_id: int | None, year_min: int | None, year_max: int | None, q: str | None
) -> tuple[str, list[Any]]:
    where, params = [ALBUM_VISIBLE], []
    if artist_id is not None:
        where.append("al.album_artist_id = ?")
        params.append(artist_id)
    _years(where, params, year_min, year_max)
    if q:
        where.append("al.title LIKE ? ESCAPE '\\'")
        params.append("%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    return " AND ".join(where), params


def list_albums(
    conn: apsw.Connection,
    *,
    limit: int = 50,
    offset: int = 0,
    artist_id: int | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    q: str | None = None,
    sort: str = "title",
    descending: bool = False,
    with_total: bool = True,
) -> tuple[list[Album], int | None]:
    clause, params = _album_where(artist_id, year_min, year_max, q)
    order = sql.sort_order(ALBUM_SORTS, sort, descending, "al.id")
    # The page's ids first, from the sort's index alone: rows an OFFSET skips are not joined.
    rows = sql.dict_rows(
        conn,
        f"""SELECT {ALBUM_COLUMNS}
            FROM (SELECT al.id FROM albums al WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?)
                 page
            JOIN albums al ON al.id = page.id LEFT JOIN artists ar ON ar.id = al.album_artist_id
            ORDER BY {order}""",
        (*params, limit, offset),
    )
    total = count_albums(conn, artist_id, year_min, year_max, q) if with_total else None
    return rows, total


def count_albums(
    conn: apsw.Connection,
    artist_id: int | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    q: str | None = None,
) -> int:
    clause, params = _album_where(artist_id, year_min, year_max, q)
    return conn.execute(
        f"SELECT count(*) AS n FROM albums al WHERE {clause}", tuple(params)
    ).fetchall()[0]["n"]


def get_album(conn: apsw.Connection, album_id: int) -> Album:
    rows = conn.execute(
        f"""SELECT {ALBUM_COLUMNS}
            FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id WHERE al.id = ?""",
        (album_id,),
    ).fetchall()
    if not rows:
        raise NotFound(f"album {album_id} does not exist", details={"id": album_id})
    return rows[0]


def albums_by_ids(
    conn: apsw.Connection, ids: Sequence[int], columns: str = ALBUM_COLUMNS
) -> list[dict[str, Any]]:
    """Albums by id (in no particular order); ``columns`` over ``al`` and ``ar`` (its artist)."""
    if not ids:
        return []
    return conn.execute(
        f"""SELECT {columns} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
            WHERE al.id IN ({sql.placeholders(ids)})""",
        tuple(ids),
    ).fetchall()


def albums_by_artist_ids(conn: apsw.Connection, ids: Sequence[int]) -> list[Album]:
    if not ids:
        return []
    return conn.execute(
        f"""SELECT {ALBUM_COLUMNS} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
            WHERE al.album_artist_id IN ({sql.placeholders(ids)}) AND {ALBUM_VISIBLE}
            ORDER BY al.title COLLATE NOCASE, al.id""",
        tuple(ids),
    ).fetchall()


def appears_on_by_artist_ids(
    conn: apsw.Connection, ids: Sequence[int], role: str = "artist"
) -> list[Album]:
    """Albums another artist heads (or nobody) holding a present track these artists are
    credited on in ``role`` (artist: also second in a list; composer); rows carry
    ``for_artist_id``."""
    if not ids:
        return []
    if role not in CREDIT_ROLES:
        raise ValueError(f"no such role: {role!r}")
    marks = sql.placeholders(ids)
    # Tracks stored by id (the seed's create_tracks) have no credits: their main artist counts.
    by_id = f"""UNION SELECT t.track_artist_id, t.album_id FROM tracks t
                WHERE t.track_artist_id IN ({marks}) AND t.missing_since IS NULL"""
    return conn.execute(
        f"""SELECT DISTINCT c.artist_id AS for_artist_id, {ALBUM_COLUMNS}
            FROM (SELECT ta.artist_id, t.album_id FROM track_artists ta
                  JOIN tracks t ON t.id = ta.track_id
                  WHERE ta.artist_id IN ({marks}) AND ta.role = ? AND t.missing_since IS NULL
                  {by_id if role == "artist" else ""}) c
            JOIN albums al ON al.id = c.album_id
            LEFT JOIN artists ar ON ar.id = al.album_artist_id
            WHERE al.album_artist_id IS NOT c.artist_id
            ORDER BY al.title COLLATE NOCASE, al.id""",
        (*ids, role, *(ids if role == "artist" else ())),
    ).fetchall()


ALBUM_GRID_SORTS = {
    "recent": "al.created_at DESC, al.id DESC",
    "title": "al.title COLLATE NOCASE, al.id",
    "artist": "ar.name COLLATE NOCASE, al.year, al.title COLLATE NOCASE, al.id",
    "year": "al.year DESC, al.title COLLATE NOCASE, al.id",
    # the asking user's own: their plays, their last play, their rating (a.: annotations)
    "played": "a.last_played IS NULL, a.last_played DESC, al.id",
    "plays": "coalesce(a.play_count, 0) DESC, a.last_played DESC, al.id",
    "rating": "coalesce(a.rating, 0) DESC, al.title COLLATE NOCASE, al.id",
    # a shuffle that stays put while one visit pages through it (the seed is the visit's)
    "random": "(al.id * 2654435761 + ?) % 4294967311, al.id",
}
PER_USER_SORTS = {"played", "plays", "rating"}
REDISCOVER_AFTER = 90 * 86400  # loved or often played, heard, but not for three months
# Shelves: which albums a list keeps, from the asking user's annotations.
ALBUM_ONLY = {
    "played": "a.last_played IS NOT NULL",
    "starred": "a.starred_at IS NOT NULL",
    "rated": "a.rating IS NOT NULL",
    "rediscover": """(a.starred_at IS NOT NULL OR a.play_count >= 3 OR a.rating >= 4)
        AND a.last_played < strftime('%s', 'now') - ?""",
}


GRID_COLUMNS = f"""{ALBUM_COLUMNS},
    (SELECT coalesce(sum(t.duration), 0) FROM tracks t
      WHERE t.album_id = al.id AND t.missing_since IS NULL) AS duration,
    (SELECT t.genre FROM tracks t WHERE t.album_id = al.id AND t.missing_since IS NULL
      AND t.genre IS NOT NULL ORDER BY t.disc_number, t.track_number LIMIT 1) AS genre"""


def _grid_where(
    genre: str | None,
    year: int | None,
    within: Scope | None = None,
    *,
    year_min: int | None = None,
    year_max: int | None = None,
    only: str | None = None,
) -> tuple[str, list[Any]]:
    where, params = [ALBUM_VISIBLE], []
    if within is not None:
        clause, params = folders.album_clause(within)
        where.append(clause)
    if genre:
        where.append(
            f"""al.id IN (SELECT t.album_id FROM tracks t
                         WHERE {GENRE_MATCH} AND t.missing_since IS NULL)"""
        )
        params += [genre, genre]
    if year is not None:
        where.append("al.year = ?")
        params.append(year)
    _years(where, params, year_min, year_max)
    if only is not None:
        if only not in ALBUM_ONLY:
            raise InvalidInput(
                f"no such album list {only!r}",
                details={"field": "only", "allowed": sorted(ALBUM_ONLY)},
            )
        where.append(ALBUM_ONLY[only])
        if only == "rediscover":
            params.append(REDISCOVER_AFTER)
    return " AND ".join(where), params


def _annotated(sort: str, only: str | None, user_id: int | None) -> tuple[str, list[Any]]:
    """The join to the asking user's album annotations, when the sort or the list needs it."""
    if sort not in PER_USER_SORTS and only is None:
        return "", []
    return (
        "LEFT JOIN annotations a ON a.kind = 'album' AND a.item_id = al.id AND a.user_id = ?",
        [user_id if user_id is not None else -1],
    )


def album_grid(
    conn: apsw.Connection,
    *,
    limit: int = 60,
    offset: int = 0,
    sort: str = "recent",
    genre: str | None = None,
    year: int | None = None,
    within: Scope | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    only: str | None = None,
    user_id: int | None = None,
    seed: int = 0,
) -> list[AlbumCard]:
    """A page of the grid: ``sort`` from ALBUM_GRID_SORTS (per user: played, plays, rating;
    random, stable for one ``seed``), filtered by genre, year or years, folders, and ``only``
    (ALBUM_ONLY: the user's played, starred, rated albums, or those to rediscover)."""
    if sort not in ALBUM_GRID_SORTS:
        raise InvalidInput(
            f"cannot sort albums by {sort!r}",
            details={"field": "sort", "allowed": sorted(ALBUM_GRID_SORTS)},
        )
    join, joined = _annotated(sort, only, user_id)
    clause, params = _grid_where(
        genre, year, within, year_min=year_min, year_max=year_max, only=only
    )
    ordering = [seed % 4294967311] if sort == "random" else []
    return conn.execute(
        f"""SELECT {GRID_COLUMNS} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
            {join} WHERE {clause} ORDER BY {ALBUM_GRID_SORTS[sort]} LIMIT ? OFFSET ?""",
        (*joined, *params, *ordering, limit, offset),
    ).fetchall()


def count_album_grid(
    conn: apsw.Connection,
    genre: str | None = None,
    year: int | None = None,
    within: Scope | None = None,
    *,
    year_min: int | None = None,
    year_max: int | None = None,
    only: str | None = None,
    user_id: int | None = None,
) -> int:
    join, joined = _annotated("recent", only, user_id)
    clause, params = _grid_where(
        genre, year, within, year_min=year_min, year_max=year_max, only=only
    )
    return conn.execute(
        f"SELECT count(*) AS n FROM albums al {join} WHERE {clause}", (*joined, *params)
    ).fetchall()[0]["n"]


def album_years(conn: apsw.Connection) -> list[int]:
    return [
        r["year"]
        for r in conn.execute(
            "SELECT DISTINCT year FROM albums WHERE year IS NOT NULL ORDER BY year DESC"
        )
    ]


# Album lists as apps ask for them (Subsonic's getAlbumList2 types): the ORDER BY, and the
# per-user annotation a list needs (plays, last play, star, rating), if any.
ALBUM_LISTS: dict[str, tuple[str, str | None]] = {
    "random": ("random()", None),
    "newest": ("al.created_at DESC, al.id DESC", None),
    "alphabeticalByName": ("al.title COLLATE NOCASE, al.id", None),
    "alphabeticalByArtist": ("ar.name COLLATE NOCASE, al.title COLLATE NOCASE, al.id", None),
    "byYear": ("al.year, al.title COLLATE NOCASE, al.id", None),
    "byGenre": ("al.title COLLATE NOCASE, al.id", None),
    "frequent": ("a.play_count DESC, a.last_played DESC, al.id", "a.play_count > 0"),
    "recent": ("a.last_played DESC, al.id", "a.last_played IS NOT NULL"),
    "starred": ("a.starred_at DESC, al.id", "a.starred_at IS NOT NULL"),
    "highest": ("a.rating DESC, al.title COLLATE NOCASE, al.id", "a.rating IS NOT NULL"),
}


def album_list(
    conn: apsw.Connection,
    kind: str,
    *,
    user_id: int | None,
    size: int = 10,
    offset: int = 0,
    from_year: int | None = None,
    to_year: int | None = None,
    genre: str | None = None,
    within: Scope | None = None,
) -> list[AlbumCard]:
    if kind not in ALBUM_LISTS:
        raise InvalidInput(
            f"unknown album list {kind!r}", details={"field": "type", "allowed": list(ALBUM_LISTS)}
        )
    order, needs = ALBUM_LISTS[kind]
    where, params = [ALBUM_VISIBLE], []
    join = ""
    if needs:
        join = "JOIN annotations a ON a.kind = 'album' AND a.item_id = al.id AND a.user_id = ?"
        params.append(user_id if user_id is not None else -1)
        where.append(needs)
    if kind == "byYear":
        low, high = sorted((from_year or 0, to_year if to_year is not None else 9999))
        where.append("al.year BETWEEN ? AND ?")
        params += [low, high]
        if (from_year or 0) > (to_year if to_year is not None else 9999):
            order = "al.year DESC, al.title COLLATE NOCASE, al.id"
    if kind == "byGenre" or genre:
        clause, extra = _grid_where(genre or "", None)
        where.append(clause)
        params += extra
    if within is not None:
        clause, extra = folders.album_clause(within)
        where.append(clause)
        params += extra
    return conn.execute(
        f"""SELECT {GRID_COLUMNS} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
            {join} WHERE {" AND ".join(where)} ORDER BY {order} LIMIT ? OFFSET ?""",
        (*params, size, offset),
    ).fetchall()


def grid_by_ids(conn: apsw.Connection, ids: Sequence[int]) -> list[AlbumCard]:
    """Album rows with their length and genre (``GRID_COLUMNS``), in no particular order."""
    return albums_by_ids(conn, ids, GRID_COLUMNS)


def artist_albums(conn: apsw.Connection, artist_id: int) -> ArtistAlbums:
    """``own``: albums the artist heads; ``appears_on``: others holding one of their tracks
    (also as second artist of a list); ``composed``, ``performed``: others holding a track
    they composed, or played on."""
    own = conn.execute(
        f"""SELECT {GRID_COLUMNS} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
            WHERE al.album_artist_id = ? AND {ALBUM_VISIBLE}
            ORDER BY al.year DESC, al.title COLLATE NOCASE, al.id""",
        (artist_id,),
    ).fetchall()
    appears = appears_on_by_artist_ids(conn, [artist_id])
    composed = appears_on_by_artist_ids(conn, [artist_id], "composer")
    performed = appears_on_by_artist_ids(conn, [artist_id], "performer")
    return {"own": own, "appears_on": appears, "composed": composed, "performed": performed}
