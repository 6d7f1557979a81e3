"""The façade's row shapes (soniquebay.records) against what a real database answers: a shape
that names a column the query does not give, or misses one it does, fails here."""

from __future__ import annotations

import typing

from soniquebay import library, records
from soniquebay.library import edits, fields, ingest


def keys(shape: type) -> set[str]:
    return set(typing.get_type_hints(shape))


def stocked(conn):
    """An artist heading an album of one genre-tagged track, and a refused file."""
    artist = edits.create_artist(conn, {"name": "The Band"})
    album = edits.create_album(conn, {"title": "First", "album_artist_id": artist["id"]})
    [track] = ingest.upsert_tracks(
        conn,
        [
            {
                "path": b"/m/a.flac",
                "size": 10,
                "mtime_ns": 1,
                "inode": 1,
                "device": 1,
                "quick_hash": "h",
                "title": "Song",
                "genre": "Jazz",
                "track_artist_id": artist["id"],
                "album_id": album["id"],
            }
        ],
    )
    ingest.record_scan_errors(
        conn, [{"path": b"/m/bad.mp3", "size": 3, "mtime_ns": 1, "stage": "tags",
                "plugin": "tags", "reason": "not audio"}]
    )  # fmt: skip
    return artist["id"], album["id"], track["id"]


def test_a_track_is_every_column_of_the_tracks_table(db_conn):
    stored = {r["name"] for r in db_conn.execute("PRAGMA table_xinfo(tracks)")}
    assert keys(records.Track) == stored == set(fields.TRACK_COLUMNS)
    _, _, track_id = stocked(db_conn)
    assert set(library.tracks.get_track(db_conn, track_id)) == keys(records.Track)


def test_albums_and_artists_are_what_their_reads_answer(db_conn):
    artist_id, album_id, _ = stocked(db_conn)
    assert set(library.albums.get_album(db_conn, album_id)) == keys(records.Album)
    [card] = library.albums.grid_by_ids(db_conn, [album_id])
    assert set(card) == keys(records.AlbumCard)
    assert set(library.artists.get_artist(db_conn, artist_id)) == keys(records.Artist)
    [artist_card] = library.artists.artist_cards(db_conn, ids=[artist_id])
    assert set(artist_card) == keys(records.ArtistCard)
    assert set(library.albums.artist_albums(db_conn, artist_id)) == keys(records.ArtistAlbums)


def test_genres_search_totals_and_scan_errors_have_their_shapes(db_conn):
    stocked(db_conn)
    [genre] = library.genres.genres(db_conn)
    assert set(genre) == keys(records.Genre)
    found = library.search.search(db_conn, "song")
    assert set(found) == keys(records.Found) and found["tracks"]
    assert set(library.totals.counts(db_conn)) == keys(records.Totals)
    errors, total = library.scan_errors.list_scan_errors(db_conn)
    assert total == 1 and set(errors[0]) == keys(records.ScanError)
    credits = library.tracks.credits(db_conn, [found["tracks"][0]["id"]])
    assert set(next(iter(credits.values()))) == keys(records.Credits)
