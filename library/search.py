"""Full-text search over artists, albums and tracks (FTS5, bm25 ranking), grouped by kind and
paged per kind, and the snippet that shows where a track matched."""

from __future__ import annotations

import html
import re
from typing import Any

import apsw

from soniquebay.library import folders, sql
from soniquebay.library.albums import ALBUM_VISIBLE, GRID_COLUMNS, grid_by_ids
from soniquebay.library.artists import ARTIST_CARD, ARTIST_VISIBLE, artist_cards
from soniquebay.library.folders import Scope
from soniquebay.library.tracks import list_tracks
from soniquebay.records import Found, Track


def search(conn: apsw.Connection, text: str, limit: int = 10, within: Scope | None = None) -> Found:
    """Full-text search grouped by kind, best first (the pages' search and suggestions)."""
    if not sql.fts_query(text):
        return {"artists": [], "albums": [], "tracks": []}
    sizes = {kind: (limit, 0) for kind in ("artist", "album", "song")}
    return paged_search(conn, text, sizes, within)


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
) -> Found:
    """Artists, albums and tracks matching ``text`` (FTS5: accents ignored, words as prefixes),
    each kind paged by its own (count, offset) in ``sizes`` (keys artist, album, song); an
    empty text matches everything, in id order (apps page through it to sync)."""
    words = sql.fts_query(text)
    (a_count, a_offset), (al_count, al_offset), (s_count, s_offset) = (
        sizes["artist"], sizes["album"], sizes["song"]
    )  # fmt: skip
    artist_in, artist_params = folders.artist_clause(within)
    album_in, album_params = folders.album_clause(within)
    if not words:
        artists = conn.execute(
            f"""SELECT {ARTIST_CARD} FROM artists a WHERE {ARTIST_VISIBLE}
                AND {artist_in} ORDER BY a.id LIMIT ? OFFSET ?""",
            (*artist_params, a_count, a_offset),
        ).fetchall()
        albums = conn.execute(
            f"""SELECT {GRID_COLUMNS} FROM albums al LEFT JOIN artists ar ON ar.id = al.album_artist_id
                WHERE {ALBUM_VISIBLE} AND {album_in} ORDER BY al.id LIMIT ? OFFSET ?""",
            (*album_params, al_count, al_offset),
        ).fetchall()
        tracks, _ = list_tracks(
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
    albums = {r["id"]: r for r in grid_by_ids(conn, album_ids)}
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
) -> list[Track]:
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
