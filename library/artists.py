"""Artists in storage: one by id, pages for API clients, and cards (album counts, a cover) for
people browsing."""

from __future__ import annotations

from collections.abc import Sequence

import apsw

from soniquebay.errors import InvalidInput, NotFound
from soniquebay.library import folders, sql
from soniquebay.library.albums import ALBUM_VISIBLE
from soniquebay.library.folders import Scope
from soniquebay.records import Artist, ArtistCard

# Artists sort by their sort name (sort tag, else the name without a leading article).
ARTIST_SORTS = {"name": "coalesce(a.sort_name, a.name) COLLATE NOCASE", "id": "a.id"}


# An artist is listed while it is credited on a present track (as artist or album artist, also
# second in a list), heads an album with one, or has no track at all (just created): an artist
# whose every file vanished, or who is only a composer, is not.
ARTIST_VISIBLE = """(EXISTS (SELECT 1 FROM tracks t WHERE t.track_artist_id = a.id AND t.missing_since IS NULL)
    OR EXISTS (SELECT 1 FROM albums al JOIN tracks t ON t.album_id = al.id
               WHERE al.album_artist_id = a.id AND t.missing_since IS NULL)
    OR EXISTS (SELECT 1 FROM track_artists ta JOIN tracks t ON t.id = ta.track_id
               WHERE ta.artist_id = a.id AND ta.role = 'artist' AND t.missing_since IS NULL)
    OR NOT (EXISTS (SELECT 1 FROM tracks t WHERE t.track_artist_id = a.id)
            OR EXISTS (SELECT 1 FROM track_artists ta WHERE ta.artist_id = a.id)
            OR EXISTS (SELECT 1 FROM albums al JOIN tracks t ON t.album_id = al.id
                       WHERE al.album_artist_id = a.id)))"""


ARTIST_FIELDS = (
    "a.id, a.name, coalesce(a.sort_name, a.name) AS sort_name, a.musicbrainz_artistid,"
    " a.created_at, a.updated_at"
)


ARTIST_COLUMNS = f"""{ARTIST_FIELDS},
    (SELECT count(*) FROM tracks t WHERE t.track_artist_id = a.id AND t.missing_since IS NULL)
      AS track_count"""


def list_artists(
    conn: apsw.Connection,
    *,
    limit: int = 50,
    offset: int = 0,
    q: str | None = None,
    sort: str = "name",
    descending: bool = False,
) -> tuple[list[Artist], int]:
    where, params = [ARTIST_VISIBLE], []
    if q:
        where.append("a.name LIKE ? ESCAPE '\\'")
        params.append("%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    clause = " AND ".join(where)
    order = sql.sort_order(ARTIST_SORTS, sort, descending, "a.id")
    rows = conn.execute(
        f"SELECT {ARTIST_COLUMNS} FROM artists a WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    total = conn.execute(
        f"SELECT count(*) AS n FROM artists a WHERE {clause}", tuple(params)
    ).fetchall()[0]["n"]
    return rows, total


def get_artist(conn: apsw.Connection, artist_id: int) -> Artist:
    rows = conn.execute(
        f"SELECT {ARTIST_COLUMNS} FROM artists a WHERE a.id = ?", (artist_id,)
    ).fetchall()
    if not rows:
        raise NotFound(f"artist {artist_id} does not exist", details={"id": artist_id})
    return rows[0]


def artists_by_ids(conn: apsw.Connection, ids: Sequence[int], counted: bool = True) -> list[Artist]:
    """Artists by id; ``counted`` adds ``track_count``, which reads every track of each."""
    if not ids:
        return []
    columns = ARTIST_COLUMNS if counted else ARTIST_FIELDS
    return sql.dict_rows(
        conn, f"SELECT {columns} FROM artists a WHERE a.id IN ({sql.placeholders(ids)})", ids
    )


ARTIST_CARD = f"""a.id, a.name, coalesce(a.sort_name, a.name) AS sort_name,
    (SELECT count(*) FROM albums al WHERE al.album_artist_id = a.id AND {ALBUM_VISIBLE}) AS album_count,
    (SELECT count(*) FROM tracks t WHERE t.track_artist_id = a.id AND t.missing_since IS NULL)
      AS track_count,
    coalesce(
      (SELECT al.id FROM albums al WHERE al.album_artist_id = a.id AND {ALBUM_VISIBLE}
        ORDER BY al.year DESC, al.id LIMIT 1),
      (SELECT t.album_id FROM tracks t WHERE t.track_artist_id = a.id AND t.missing_since IS NULL
        AND t.album_id IS NOT NULL LIMIT 1)) AS cover_album_id"""


# The artists' list: by sort name (a leading article ignored), album count, or the asking
# user's plays of their tracks (p.: annotations).
CARD_SORTS = {
    "name": "coalesce(a.sort_name, a.name) COLLATE NOCASE, a.id",
    "albums": "album_count DESC, coalesce(a.sort_name, a.name) COLLATE NOCASE, a.id",
    "plays": "coalesce(p.play_count, 0) DESC, coalesce(a.sort_name, a.name) COLLATE NOCASE, a.id",
}


def artist_cards(
    conn: apsw.Connection,
    *,
    limit: int = 100,
    offset: int = 0,
    ids: Sequence[int] | None = None,
    within: Scope | None = None,
    sort: str = "name",
    user_id: int | None = None,
) -> list[ArtistCard]:
    """Artists with their album counts and an album whose cover stands for them, in
    ``sort`` order (CARD_SORTS)."""
    if sort not in CARD_SORTS:
        raise InvalidInput(
            f"cannot sort artists by {sort!r}",
            details={"field": "sort", "allowed": sorted(CARD_SORTS)},
        )
    where, params = [ARTIST_VISIBLE], []
    if within is not None:
        clause, params = folders.artist_clause(within)
        where.append(clause)
    if ids is not None:
        if not ids:
            return []
        where.append(f"a.id IN ({sql.placeholders(ids)})")
        params.extend(ids)
    join, joined = "", []
    if sort == "plays":
        join = "LEFT JOIN annotations p ON p.kind = 'artist' AND p.item_id = a.id AND p.user_id = ?"
        joined = [user_id if user_id is not None else -1]
    return conn.execute(
        f"""SELECT {ARTIST_CARD} FROM artists a {join} WHERE {" AND ".join(where)}
            ORDER BY {CARD_SORTS[sort]} LIMIT ? OFFSET ?""",
        (*joined, *params, limit, offset),
    ).fetchall()


def count_artists(conn: apsw.Connection, within: Scope | None = None) -> int:
    clause, params = folders.artist_clause(within)
    return conn.execute(
        f"SELECT count(*) AS n FROM artists a WHERE {ARTIST_VISIBLE} AND {clause}", params
    ).fetchall()[0]["n"]
