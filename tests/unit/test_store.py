import time

import pytest

from soniquebay import library
from soniquebay.errors import InvalidInput
from soniquebay.library import ingest


def track(path: bytes, **extra):
    return {
        "path": path,
        "size": 100,
        "mtime_ns": 1,
        "inode": 7,
        "device": 1,
        "quick_hash": "h",
        "title": "T",
        **extra,
    }


def test_upserting_twice_changes_nothing_the_second_time(db_conn):
    first = ingest.upsert_tracks(db_conn, [track(b"/m/a.mp3")])
    second = ingest.upsert_tracks(db_conn, [track(b"/m/a.mp3")])
    assert first[0]["action"] == "added" and second[0]["action"] == "unchanged"
    assert first[0]["id"] == second[0]["id"]
    assert library.totals.counts(db_conn)["tracks"] == 1


def test_a_missing_track_is_found_again_by_identity(db_conn):
    [added] = ingest.upsert_tracks(db_conn, [track(b"/m/gone.mp3", inode=99, quick_hash="abc")])
    ingest.mark_missing(db_conn, [b"/m/gone.mp3"])
    # Same content, another inode (copied back from a backup): the quick hash finds it.
    [back] = ingest.upsert_tracks(db_conn, [track(b"/m/back.mp3", inode=5, quick_hash="abc")])
    assert (back["id"], back["action"]) == (added["id"], "moved")
    assert library.tracks.get_track(db_conn, added["id"])["missing_since"] is None


def test_a_present_copy_is_another_track_not_a_move(db_conn, tmp_path):
    original = tmp_path / "a.mp3"
    original.write_bytes(b"x")
    [a] = ingest.upsert_tracks(db_conn, [track(bytes(original), quick_hash="same")])
    [b] = ingest.upsert_tracks(
        db_conn, [track(bytes(tmp_path / "copy.mp3"), quick_hash="same", inode=8)]
    )
    assert a["id"] != b["id"]


def test_a_folder_prefix_marks_only_what_is_under_it(db_conn):
    ingest.upsert_tracks(
        db_conn,
        [
            track(b"/m/rock/a.mp3", inode=1, quick_hash="1"),
            track(b"/m/rock/sub/b.mp3", inode=2, quick_hash="2"),
            track(b"/m/rockabilly/c.mp3", inode=3, quick_hash="3"),
        ],
    )
    changed = ingest.mark_missing(db_conn, prefixes=[b"/m/rock"])
    assert sorted(r["path"] for r in changed) == [b"/m/rock/a.mp3", b"/m/rock/sub/b.mp3"]


def test_purge_removes_long_missing_tracks_and_their_orphans(db_conn):
    [artist] = ingest.upsert_artists(db_conn, [{"name": "Solo"}])
    [album] = ingest.upsert_albums(db_conn, [{"title": "Only", "album_artist_id": artist["id"]}])
    ingest.upsert_tracks(
        db_conn, [track(b"/m/x.mp3", track_artist_id=artist["id"], album_id=album["id"])]
    )
    ingest.mark_missing(db_conn, [b"/m/x.mp3"])
    assert (
        ingest.purge_missing(db_conn, older_than=time.time() - 3600) == 0
    )  # within the grace period
    assert ingest.purge_missing(db_conn, older_than=time.time() + 1) == 1
    assert library.totals.counts(db_conn) == {
        "tracks": 0,
        "missing_tracks": 0,
        "albums": 0,
        "artists": 0,
        "scan_errors": 0,
    }


def test_artists_are_one_whatever_the_case(db_conn):
    a = ingest.upsert_artists(
        db_conn, [{"name": "ABBA"}, {"name": "abba", "musicbrainz_artistid": "x"}]
    )
    assert a[0]["id"] == a[1]["id"] and a[1]["musicbrainz_artistid"] == "x"


def test_a_bad_item_rolls_back_its_whole_batch(db_conn):
    with pytest.raises(InvalidInput):
        ingest.upsert_tracks(db_conn, [track(b"/m/ok.mp3"), {"path": b"/m/bad.mp3", "size": "big"}])
    assert library.totals.counts(db_conn)["tracks"] == 0


def test_sort_fields_are_an_enumeration(db_conn):
    with pytest.raises(InvalidInput):
        library.tracks.list_tracks(db_conn, sort="title; DROP TABLE tracks")


def test_undoing_the_edits_of_an_album_with_no_track_answers_the_album(db_conn):
    from soniquebay.library import edits

    album = edits.create_album(db_conn, {"title": "Empty"})
    assert edits.revert_album(db_conn, album["id"])["title"] == "Empty"
