"""Which tracks, albums and artists a music-folder scope covers (library/folders.py), on a
real SQLite library: paths compared as bytes through the path index, a folder whose name
begins another's ("music" and "music-kids") kept apart."""

from __future__ import annotations

import os

import pytest

from soniquebay import library
from soniquebay.library import db, folders, grouping, ingest
from soniquebay.library.folders import Scope

MUSIC, KIDS = b"/srv/music", b"/srv/music-kids"


def track(root: bytes, album: str, artist: str, title: str, n: int) -> dict:
    return {
        "path": root + f"/{album}/{n:02d} {title}.flac".encode(),
        "size": 1000 + n,
        "mtime_ns": n,
        "title": title,
        "artist_name": artist,
        "album_title": album,
        "album_artist_name": artist,
        "track_number": n,
        "genre": "Jazz" if root == MUSIC else "Children",
    }


@pytest.fixture
def conn(tmp_path):
    conn = db.connect(tmp_path / "library.db")
    db.migrate(conn)
    ingest.ingest(
        conn,
        [
            track(MUSIC, "Grown Ups", "Adult Band", "Tax Return Blues", 1),
            track(MUSIC, "Grown Ups", "Adult Band", "Mortgage Waltz", 2),
            track(KIDS, "Nursery", "Kid Band", "Twinkle", 1),
            # a non-UTF-8 name under the kids' folder: bytes compare as bytes
            {**track(KIDS, "Nursery", "Kid Band", "Bus", 2), "path": KIDS + b"/Nursery/\xff.flac"},
            # the adults' band on the kids' compilation: in both folders
            track(KIDS, "Nursery", "Kid Band", "Lullaby", 3) | {"artist_name": "Adult Band"},
        ],
        [],
        grouping.default_rules(),
    )
    yield conn
    conn.close()


def ids_of(conn, kind: str) -> dict[str, int]:
    if kind == "track":
        return {r["title"]: r["id"] for r in library.tracks.list_tracks(conn, limit=50)[0]}
    if kind == "album":
        return {r["title"]: r["id"] for r in library.albums.list_albums(conn, limit=50)[0]}
    return {r["name"]: r["id"] for r in library.artists.list_artists(conn, limit=50)[0]}


def test_a_scope_holds_what_is_under_its_folders_and_nothing_beside_them(conn):
    kids = Scope.of([os.fsdecode(KIDS)])
    tracks = ids_of(conn, "track")
    assert folders.tracks_within(conn, list(tracks.values()), kids) == {
        tracks["Twinkle"],
        tracks["Bus"],
        tracks["Lullaby"],
    }
    music = Scope.of([MUSIC.decode() + "/"])  # a final slash changes nothing
    assert folders.tracks_within(conn, list(tracks.values()), music) == {
        tracks["Tax Return Blues"],
        tracks["Mortgage Waltz"],
    }
    albums, artists = ids_of(conn, "album"), ids_of(conn, "artist")
    assert folders.albums_within(conn, list(albums.values()), kids) == {albums["Nursery"]}
    assert folders.artists_within(conn, list(artists.values()), kids) == set(artists.values())
    assert folders.artists_within(conn, list(artists.values()), music) == {artists["Adult Band"]}
    assert folders.tracks_within(conn, list(tracks.values()), None) == set(tracks.values())
    assert folders.tracks_within(conn, list(tracks.values()), Scope(())) == set()
    assert kids.holds(KIDS + b"/x.flac") and not kids.holds(MUSIC + b"/x.flac")
    assert not Scope.of([os.fsdecode(MUSIC)]).holds(KIDS + b"/Nursery/x.flac")


def test_lists_and_search_keep_to_the_scope(conn):
    kids = Scope.of([os.fsdecode(KIDS)])
    rows, _ = library.tracks.list_tracks(conn, limit=50, filters={"within": kids})
    assert {r["title"] for r in rows} == {"Twinkle", "Bus", "Lullaby"}
    assert library.tracks.count_tracks(conn, {"within": kids}) == 3
    assert [a["title"] for a in library.albums.album_grid(conn, within=kids)] == ["Nursery"]
    assert library.albums.count_album_grid(conn, within=kids) == 1
    assert {a["name"] for a in library.artists.artist_cards(conn, within=kids)} == {
        "Kid Band",
        "Adult Band",
    }
    assert library.artists.count_artists(conn, Scope.of([os.fsdecode(MUSIC)])) == 1
    assert [g["name"] for g in library.genres.genres(conn, kids)] == ["Children"]
    found = library.search.paged_search(
        conn, "waltz", {k: (10, 0) for k in ("artist", "album", "song")}, kids
    )
    assert found == {"artists": [], "albums": [], "tracks": []}
    everything = library.search.paged_search(
        conn, "", {k: (10, 0) for k in ("artist", "album", "song")}, kids
    )
    assert {t["title"] for t in everything["tracks"]} == {"Twinkle", "Bus", "Lullaby"}
    assert {r["title"] for r in library.tracks.random_tracks(conn, 10, within=kids)} == {
        "Twinkle",
        "Bus",
        "Lullaby",
    }
    newest = library.albums.album_list(
        conn, "newest", user_id=None, within=Scope.of([os.fsdecode(MUSIC)])
    )
    assert [a["title"] for a in newest] == ["Grown Ups"]
