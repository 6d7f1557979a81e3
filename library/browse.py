"""Reads for people browsing: the album grid, artists with their albums, genres, top tracks,
and search grouped by kind. (Lists for API clients, with every filter, are in ``queries``.)"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import apsw

from soniquebay.errors import InvalidInput
from soniquebay.library import annotations, folders, queries, sql
from soniquebay.library.folders import Scope

ALBUM_GRID_SORTS = {
    "recent": "al.created_at DESC, al.id DESC",
    "title": "al.title COLLATE NOCASE, al.id",
    "artist": "ar.name COLLATE NOCASE, al.year, al.title COLLATE NOCASE, al.id",
    "year": "al.year DESC, al.title COLLATE NOCASE, al.id",
}

GRID_COLUMNS = f"""{queries.ALBUM_COLUMNS},
    (SELECT coalesce(sum(t.duration), 0) FROM tracks t
      WHERE t.album_id = al.id AND t.missing_since IS NULL) AS duration,
    (SELECT t.genre FROM tracks t WHERE t.album_id = al.id AND t.missing_since IS NULL
      AND t.genre IS NOT NULL ORDER BY t.disc_number, t.track_number LIMIT 1) AS genre"""


def _grid_where(
    genre: str | None, year: int | None, within: Scope | None = None
) -> tuple[str, list[Any]]:
    where, params = [queries.ALBUM_VISIBLE], []
    if within is not None:
        clause, params = folders.album_clause(within)
        where.append(clause)
    if genre:
        where.append(
            f"""al.id IN (SELECT t.album_id FROM tracks t
                         WHERE {queries.GENRE_MATCH} AND t.missing_since IS NULL)"""
        )
        params += [genre, genre]
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
    within: Scope | None = None,
) -> list[dict[str, Any]]:
    if sort not in ALBUM_GRID_SORTS:
        raise InvalidInput(
            f"cannot sort albums by {sort!r}",
            details={"field": "sort", "allowed": sorted(ALBUM_GRID_SORTS)},
        )
    clause, params = _grid_where(genre, year, within)
    return conn.execute(
        f"""SELECT {GRID_COLUMNS} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
            WHERE {clause} ORDER BY {ALBUM_GRID_SORTS[sort]} LIMIT ? OFFSET ?""",
        (*params, limit, offset),
    ).fetchall()


def count_album_grid(
    conn: apsw.Connection,
    genre: str | None = None,
    year: int | None = None,
    within: Scope | None = None,
):
    clause, params = _grid_where(genre, year, within)
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


def genres(conn: apsw.Connection, within: Scope | None = None) -> list[dict[str, Any]]:
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


ARTIST_CARD = f"""a.id, a.name, coalesce(a.sort_name, a.name) AS sort_name,
    (SELECT count(*) FROM albums al WHERE al.album_artist_id = a.id AND {queries.ALBUM_VISIBLE}) AS album_count,
    (SELECT count(*) FROM tracks t WHERE t.track_artist_id = a.id AND t.missing_since IS NULL)
      AS track_count,
    coalesce(
      (SELECT al.id FROM albums al WHERE al.album_artist_id = a.id AND {queries.ALBUM_VISIBLE}
        ORDER BY al.year DESC, al.id LIMIT 1),
      (SELECT t.album_id FROM tracks t WHERE t.track_artist_id = a.id AND t.missing_since IS NULL
        AND t.album_id IS NOT NULL LIMIT 1)) AS cover_album_id"""


def artist_cards(
    conn: apsw.Connection,
    *,
    limit: int = 100,
    offset: int = 0,
    ids: Sequence[int] | None = None,
    within: Scope | None = None,
) -> list[dict[str, Any]]:
    """Artists by name with their album counts and an album whose cover stands for them."""
    where, params = [queries.ARTIST_VISIBLE], []
    if within is not None:
        clause, params = folders.artist_clause(within)
        where.append(clause)
    if ids is not None:
        if not ids:
            return []
        where.append(f"a.id IN ({sql.placeholders(ids)})")
        params.extend(ids)
    return conn.execute(
        f"""SELECT {ARTIST_CARD} FROM artists a WHERE {" AND ".join(where)}
            ORDER BY coalesce(a.sort_name, a.name) COLLATE NOCASE, a.id LIMIT ? OFFSET ?""",
        (*params, limit, offset),
    ).fetchall()


def count_artists(conn: apsw.Connection, within: Scope | None = None) -> int:
    clause, params = folders.artist_clause(within)
    return conn.execute(
        f"SELECT count(*) AS n FROM artists a WHERE {queries.ARTIST_VISIBLE} AND {clause}", params
    ).fetchall()[0]["n"]


def artist_albums(conn: apsw.Connection, artist_id: int) -> dict[str, list[dict[str, Any]]]:
    """``own``: albums the artist heads; ``appears_on``: others holding one of their tracks
    (also as second artist of a list); ``composed``, ``performed``: others holding a track
    they composed, or played on."""
    own = conn.execute(
        f"""SELECT {GRID_COLUMNS} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
            WHERE al.album_artist_id = ? AND {queries.ALBUM_VISIBLE}
            ORDER BY al.year DESC, al.title COLLATE NOCASE, al.id""",
        (artist_id,),
    ).fetchall()
    appears = queries.appears_on_by_artist_ids(conn, [artist_id])
    composed = queries.appears_on_by_artist_ids(conn, [artist_id], "composer")
    performed = queries.appears_on_by_artist_ids(conn, [artist_id], "performer")
    return {"own": own, "appears_on": appears, "composed": composed, "performed": performed}


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


def search(
    conn: apsw.Connection, text: str, limit: int = 10, within: Scope | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Full-text search grouped by kind, best first (the pages' search and suggestions)."""
    if not queries.fts_query(text):
        return {"artists": [], "albums": [], "tracks": []}
    sizes = {kind: (limit, 0) for kind in ("artist", "album", "song")}
    return paged_search(conn, text, sizes, within)


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
) -> list[dict[str, Any]]:
    if kind not in ALBUM_LISTS:
        raise InvalidInput(
            f"unknown album list {kind!r}", details={"field": "type", "allowed": list(ALBUM_LISTS)}
        )
    order, needs = ALBUM_LISTS[kind]
    where, params = [queries.ALBUM_VISIBLE], []
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


def random_tracks(
    conn: apsw.Connection,
    size: int,
    genre: str | None = None,
    from_year: int | None = None,
    to_year: int | None = None,
    within: Scope | None = None,
) -> list[dict[str, Any]]:
    where, params = queries.track_where(
        {"genre": genre, "year_min": from_year, "year_max": to_year, "within": within}
    )
    # A random sample of ids first (an index walk), then their rows.
    return sql.dict_rows(
        conn,
        f"""SELECT * FROM tracks WHERE id IN (
              SELECT t.id FROM tracks t WHERE {" AND ".join(where)} ORDER BY random() LIMIT ?)""",
        (*params, size),
    )


def albums_by_ids(conn: apsw.Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Album rows with their length and genre (``GRID_COLUMNS``), in no particular order."""
    return queries.albums_by_ids(conn, ids, GRID_COLUMNS)


# A track's fields as tracks_fts indexes them, in the order a snippet looks for a match.
SNIPPET_FIELDS = ("title", "artist_name", "album_title", "album_artist_name", "genre")
TOKEN = re.compile(r"[^\W_]+")  # FTS5's unicode61: runs of letters and digits


def snippet_html(track: dict[str, Any], text: str) -> str | None:
    """The first of the track's searched fields where a word of ``text`` matches (as a
    prefix, accents and case ignored, as the search itself matches), as HTML: escaped, the
    matched words in ``<mark>``. Worked out here for the page's few tracks: FTS5's own
    snippet() walks every match of the query again, as long as the ranking did."""
    wanted = {sql.fold(t) for t in TOKEN.findall(text)}
    for field in SNIPPET_FIELDS:
        value = track.get(field)
        if not value:
            continue
        out, last, marked = [], 0, False
        for token in TOKEN.finditer(value):
            if any(sql.fold(token.group()).startswith(w) for w in wanted):
                out += [html.escape(value[last : token.start()]), "<mark>",
                        html.escape(token.group()), "</mark>"]  # fmt: skip
                last, marked = token.end(), True
        if marked:
            return "".join([*out, html.escape(value[last:])])
    return None


def paged_search(
    conn: apsw.Connection,
    text: str,
    sizes: dict[str, tuple[int, int]],
    within: Scope | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Artists, albums and tracks matching ``text`` (FTS5: accents ignored, words as prefixes),
    each kind paged by its own (count, offset) in ``sizes`` (keys artist, album, song); an
    empty text matches everything, in id order (apps page through it to sync)."""
    words = queries.fts_query(text)
    (a_count, a_offset), (al_count, al_offset), (s_count, s_offset) = (
        sizes["artist"], sizes["album"], sizes["song"]
    )  # fmt: skip
    artist_in, artist_params = folders.artist_clause(within)
    album_in, album_params = folders.album_clause(within)
    if not words:
        artists = conn.execute(
            f"""SELECT {ARTIST_CARD} FROM artists a WHERE {queries.ARTIST_VISIBLE}
                AND {artist_in} ORDER BY a.id LIMIT ? OFFSET ?""",
            (*artist_params, a_count, a_offset),
        ).fetchall()
        albums = conn.execute(
            f"""SELECT {GRID_COLUMNS} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
                WHERE {queries.ALBUM_VISIBLE} AND {album_in} ORDER BY al.id LIMIT ? OFFSET ?""",
            (*album_params, al_count, al_offset),
        ).fetchall()
        tracks, _ = queries.list_tracks(
            conn,
            limit=s_count,
            offset=s_offset,
            filters={"within": within},
            with_total=False,
        )
        return {"artists": artists, "albums": albums, "tracks": tracks}
    artist_ids = [
        r["id"]
        for r in conn.execute(
            f"""SELECT a.id FROM artists_fts f JOIN artists a ON a.id = f.rowid
               WHERE artists_fts MATCH ?
                 AND (EXISTS (SELECT 1 FROM tracks t WHERE t.track_artist_id = a.id
                                AND t.missing_since IS NULL)
                      OR EXISTS (SELECT 1 FROM albums al JOIN tracks t ON t.album_id = al.id
                                 WHERE al.album_artist_id = a.id AND t.missing_since IS NULL))
                 AND {artist_in}
               ORDER BY f.rank, a.id LIMIT ? OFFSET ?""",
            (words, *artist_params, a_count, a_offset),
        )
    ]
    album_ids = [
        r["id"]
        for r in conn.execute(
            f"""SELECT al.id FROM albums_fts f JOIN albums al ON al.id = f.rowid
               WHERE albums_fts MATCH ?
                 AND EXISTS (SELECT 1 FROM tracks t WHERE t.album_id = al.id
                               AND t.missing_since IS NULL)
                 AND {album_in}
               ORDER BY f.rank, al.id LIMIT ? OFFSET ?""",
            (words, *album_params, al_count, al_offset),
        )
    ]
    artists = {r["id"]: r for r in artist_cards(conn, ids=artist_ids, limit=len(artist_ids) or 1)}
    albums = {r["id"]: r for r in albums_by_ids(conn, album_ids)}
    return {
        "artists": [artists[i] for i in artist_ids if i in artists],
        "albums": [albums[i] for i in album_ids if i in albums],
        "tracks": _track_hits(conn, words, s_count, s_offset, within),
    }


# A tracks_fts row whose track is present: the missing ones (usually none) by their index.
PRESENT = """rowid NOT IN (SELECT id FROM tracks INDEXED BY idx_tracks_album_missing
                          WHERE missing_since IS NOT NULL)"""
# bm25's weight of each tracks_fts column: title, artist, album, album artist, genre.
TRACK_WEIGHTS = "10.0, 4.0, 3.0, 2.0, 1.0"


def _track_hits(
    conn: apsw.Connection, words: str, count: int, offset: int, within: Scope | None = None
) -> list[dict]:
    """Tracks matching ``words``, best first: those matching in the title (which bm25's
    weights put first anyway), then the rest. In two steps because ranking is the cost — a
    short prefix can match a tenth of the library in some column, far fewer in the titles —
    and the second step only runs when the titles do not fill the page."""
    in_title = f"{{title}} : ({words})"
    steps = [in_title, f"({words}) NOT ({in_title})"]
    found: list[dict] = []
    present, scoped = PRESENT, []
    if within is not None:  # the scope's tracks by their path index
        clause, scoped = folders.track_clause(within)
        present = f"{PRESENT} AND rowid IN (SELECT t.id FROM tracks t WHERE {clause})"
    for n, match in enumerate(steps):
        # Ranked on ids alone, within the FTS table (a join to the tracks, or a sort of whole
        # rows, for every match is what costs), the missing tracks (usually none) left out by
        # their partial index; then the page's rows read.
        ids = [
            r["id"]
            for r in conn.execute(
                f"""SELECT rowid AS id FROM tracks_fts
                    WHERE tracks_fts MATCH ? AND {present}
                    ORDER BY bm25(tracks_fts, {TRACK_WEIGHTS}), rowid LIMIT ? OFFSET ?""",
                (match, *scoped, count - len(found), offset),
            )
        ]
        if ids:
            rows = sql.dict_rows(
                conn, f"SELECT t.* FROM tracks t WHERE t.id IN ({sql.placeholders(ids)})", ids
            )
            by_id = {r["id"]: r for r in rows}
            found += [by_id[i] for i in ids]
        if len(found) >= count or n == len(steps) - 1:
            break
        if ids:
            offset = 0  # the page goes on with the first of the next step
        else:  # the page starts past this step's matches
            offset -= conn.execute(
                f"SELECT count(*) AS n FROM tracks_fts WHERE tracks_fts MATCH ? AND {present}",
                (match, *scoped),
            ).fetchall()[0]["n"]
    return found
