"""Album and artist identity (docs/library.md) on a real library file: the patterns real tags
show, each stored through the scan's own ingest."""

import itertools

from soniquebay.library import edits, grouping, ingest

counter = itertools.count(1)


def file(path: bytes, **tags):
    n = next(counter)
    return {"path": path, "size": 1000 + n, "mtime_ns": n, "inode": n, "device": 1,
            "quick_hash": f"h{n}", **tags}  # fmt: skip


def albums(conn):
    """(title, album artist, sorted track titles) of every album, sorted."""
    rows = conn.execute(
        """SELECT al.title, ar.name AS artist,
                  group_concat(coalesce(t.title, t.path), '|') AS titles
           FROM albums al JOIN artists ar ON ar.id = al.album_artist_id
           JOIN tracks t ON t.album_id = al.id GROUP BY al.id ORDER BY al.title, ar.name"""
    ).fetchall()
    return [(r["title"], r["artist"], sorted(r["titles"].split("|"))) for r in rows]


def artist_names(conn):
    return sorted(r["name"] for r in conn.execute("SELECT name FROM artists"))


def test_a_folder_of_several_artists_with_no_album_artist_is_one_compilation(db_conn):
    ingest.ingest(db_conn, [
        file(b"/m/ost/1.ogg", title="Intro", artist_name="Ann", album_title="HyperRogue"),
        file(b"/m/ost/2.ogg", title="Caves", artist_name="Bob", album_title="HyperRogue"),
        file(b"/m/ost/3.ogg", title="Crossroads", artist_name="Cy", album_title="hyperrogue"),
    ])  # fmt: skip
    assert albums(db_conn) == [("HyperRogue", "Various Artists", ["Caves", "Crossroads", "Intro"])]


def test_tracks_missing_the_album_artist_join_their_folder_mates_album(db_conn):
    tracks = [file(b"/m/wesnoth/%d.ogg" % i, title=f"T{i}", artist_name=f"Composer {i}",
                   album_title="The Battle for Wesnoth OST",
                   album_artist_name="Wesnoth" if i % 3 else None)
              for i in range(6)]  # fmt: skip
    ingest.ingest(db_conn, tracks[:3])
    ingest.ingest(db_conn, tracks[3:])  # the folder's other half, in another chunk
    [(title, artist, titles)] = albums(db_conn)
    assert (title, artist, len(titles)) == ("The Battle for Wesnoth OST", "Wesnoth", 6)


def test_untagged_files_are_in_their_folders_album_under_unknown_artist(db_conn):
    ingest.ingest(db_conn, [file(b"/m/Downloads/a.mp3"), file(b"/m/Downloads/b.mp3")])
    [(title, artist, titles)] = albums(db_conn)
    assert (title, artist, len(titles)) == ("[Downloads]", "Unknown artist", 2)
    row = db_conn.execute("SELECT from_folder FROM albums").fetchall()[0]
    assert row["from_folder"] == 1


def test_one_artist_without_album_artist_owns_the_album(db_conn):
    ingest.ingest(db_conn, [
        file(b"/m/x/1.flac", title="A", artist_name="Nina", album_title="Live"),
        file(b"/m/x/2.flac", title="B", artist_name="Nina feat. Joe", album_title="Live"),
    ])  # fmt: skip
    assert albums(db_conn) == [("Live", "Nina", ["A", "B"])]
    shown = [r["display_artist"] for r in db_conn.execute("SELECT display_artist FROM tracks"
                                                          " ORDER BY title")]  # fmt: skip
    assert shown == ["Nina", "Nina feat. Joe"]
    assert artist_names(db_conn) == ["Joe", "Nina"]


def test_compilation_tag_makes_various_artists_even_with_one_artist(db_conn):
    ingest.ingest(db_conn, [file(b"/m/c/1.mp3", title="A", artist_name="Solo", album_title="Hits",
                                 compilation=1)])  # fmt: skip
    assert albums(db_conn) == [("Hits", "Various Artists", ["A"])]


def test_musicbrainz_release_id_groups_across_folders_and_titles(db_conn):
    mbid = "2b3c8a2e-0000-4000-8000-000000000001"
    ingest.ingest(db_conn, [
        file(b"/m/r/CD1/1.flac", title="A", artist_name="X", album_title="Box",
             musicbrainz_albumid=mbid, disc_number=1),
        file(b"/m/r/CD2/1.flac", title="B", artist_name="X", album_title="Box (disc 2)",
             musicbrainz_albumid=mbid, disc_number=2, disc_subtitle="Live"),
    ])  # fmt: skip
    assert len(albums(db_conn)) == 1
    album = db_conn.execute("SELECT disc_total, disc_subtitles FROM albums").fetchall()[0]
    assert album["disc_total"] == 2 and album["disc_subtitles"] == '{"2": "Live"}'


def test_multi_valued_artists_are_split_but_never_split_names_stay_whole(db_conn):
    ingest.ingest(db_conn, [
        file(b"/m/y/1.mp3", title="A", artist_name="AC/DC; Ann/Bob", album_title="Y",
             album_artist_name="4", genre="Rock/Pop; Rock", composer="Zed", performer="Pia"),
    ])  # fmt: skip
    roles = db_conn.execute(
        """SELECT ta.role, ar.name FROM track_artists ta JOIN artists ar ON ar.id = ta.artist_id
           ORDER BY ta.role, ta.position"""
    ).fetchall()
    assert [(r["role"], r["name"]) for r in roles] == [
        ("albumartist", "AC/DC"),  # "4" is not a name: the track artist owns the album
        ("artist", "AC/DC"),
        ("artist", "Ann"),
        ("artist", "Bob"),
        ("composer", "Zed"),
        ("performer", "Pia"),
    ]
    genres = [
        r["genre"] for r in db_conn.execute("SELECT genre FROM track_genres ORDER BY position")
    ]
    assert genres == ["Rock", "Pop"]
    assert "4" not in artist_names(db_conn)


def test_absurd_fields_are_bounded(db_conn):
    many = "; ".join(f"Artist {i}" for i in range(10_000))
    ingest.ingest(db_conn, [
        file(b"/m/z/1.mp3", title="A", artist_name=many, album_title="Z"),
        file(b"/m/z/2.mp3", title="B", artist_name=";;; / ;", album_title="Z"),
        file(b"/m/z/3.mp3", title="C", artist_name="Bad\x07Name\u202e", album_title="Z"),
    ])  # fmt: skip
    count = db_conn.execute("SELECT count(*) AS n FROM track_artists WHERE role = 'artist'"
                            " AND track_id = 1").fetchall()[0]["n"]  # fmt: skip
    assert count == grouping.MAX_NAMES
    names = artist_names(db_conn)
    assert "Bad Name" in names and "Unknown artist" in names
    assert not any(c in "".join(names) for c in "\x07\u202e;")


def test_sort_names_ignore_articles_unless_tagged(db_conn):
    ingest.ingest(db_conn, [
        file(b"/m/s/1.mp3", title="A", artist_name="The Beatles", album_title="One"),
        file(b"/m/t/1.mp3", title="B", artist_name="Les Rita Mitsouko", album_title="Two",
             artist_sort="Rita Mitsouko, Les"),
    ])  # fmt: skip
    sorts = {
        r["name"]: r["sort_name"] for r in db_conn.execute("SELECT name, sort_name FROM artists")
    }
    assert sorts["The Beatles"] == "Beatles"
    assert sorts["Les Rita Mitsouko"] == "Rita Mitsouko, Les"


def test_album_year_is_the_earliest_original_year_else_the_most_common(db_conn):
    ingest.ingest(db_conn, [
        file(b"/m/v/1.mp3", title="A", artist_name="V", album_title="V", year=2001),
        file(b"/m/v/2.mp3", title="B", artist_name="V", album_title="V", year=2001),
        file(b"/m/v/3.mp3", title="C", artist_name="V", album_title="V", year=2011),
    ])  # fmt: skip
    assert db_conn.execute("SELECT year FROM albums").fetchall()[0]["year"] == 2001
    ingest.ingest(db_conn, [file(b"/m/v/4.mp3", title="D", artist_name="V", album_title="V",
                                 year=2011, original_year=1999)])  # fmt: skip
    assert db_conn.execute("SELECT year FROM albums").fetchall()[0]["year"] == 1999


def test_an_edit_moves_the_track_and_empty_albums_and_artists_go(db_conn):
    ingest.ingest(db_conn, [
        file(b"/m/e/1.mp3", title="A", artist_name="Ed", album_title="First"),
        file(b"/m/f/1.mp3", title="B", artist_name="Stray", album_title="Wrong"),
    ])  # fmt: skip
    stray = db_conn.execute("SELECT id FROM tracks WHERE title = 'B'").fetchall()[0]["id"]
    edits.update_tracks(db_conn, [{"id": stray, "album_title": "First",
                                   "album_artist_name": "Ed"}])  # fmt: skip
    assert albums(db_conn) == [("First", "Ed", ["A", "B"])]
    assert artist_names(db_conn) == ["Ed", "Stray"]  # still the track's artist
    edits.revert(db_conn, stray)
    assert [a[0] for a in albums(db_conn)] == ["First", "Wrong"]


def test_regrouping_an_upgraded_library_keeps_ids_and_stars(db_conn):
    """The upgrade: tracks stored by the old rules (three albums of one title) regroup into
    one album whose id is one of the three; every track keeps its id."""
    ingest.ingest(db_conn, [file(b"/m/w/%d.ogg" % i, title=f"T{i}", artist_name=f"C{i}",
                                 album_title="OST") for i in range(3)])  # fmt: skip
    before = {r["id"] for r in db_conn.execute("SELECT id FROM tracks")}
    # Split it as the old rules did: one album per track artist.
    with db_conn:
        for track in db_conn.execute("SELECT id, track_artist_id FROM tracks").fetchall():
            album = db_conn.execute(
                "INSERT INTO albums (title, album_key, album_artist_id, created_at, updated_at)"
                " VALUES ('OST', ?, ?, 0, 0) RETURNING id",
                (f"ost\x1f{track['track_artist_id']}", track["track_artist_id"]),
            ).fetchall()[0]["id"]
            db_conn.execute("UPDATE tracks SET album_id = ? WHERE id = ?", (album, track["id"]))
        db_conn.execute("DELETE FROM albums WHERE album_key LIKE 'ost\x1f%' AND id NOT IN"
                        " (SELECT album_id FROM tracks)")  # fmt: skip
        db_conn.execute("DELETE FROM library_state")
        db_conn.execute(
            "INSERT INTO users (username, password_hash, is_admin, created_at, updated_at) VALUES ('u', 'x', 1, 0, 0)"
        )
        first = db_conn.execute("SELECT min(album_id) AS a FROM tracks").fetchall()[0]["a"]
        db_conn.execute(
            "INSERT INTO annotations (user_id, kind, item_id, starred_at) VALUES (1, 'album', ?, 1)",
            (first,),
        )
    assert len(albums(db_conn)) == 3
    assert grouping.regroup_library(db_conn, grouping.default_rules()) is not None
    [(title, artist, titles)] = albums(db_conn)
    assert (title, artist, len(titles)) == ("OST", "Various Artists", 3)
    assert {r["id"] for r in db_conn.execute("SELECT id FROM tracks")} == before
    album = db_conn.execute("SELECT DISTINCT album_id FROM tracks").fetchall()[0]["album_id"]
    star = db_conn.execute("SELECT item_id FROM annotations WHERE kind = 'album'").fetchall()
    assert [r["item_id"] for r in star] == [album]
    assert grouping.regroup_library(db_conn, grouping.default_rules()) is None  # done once


def test_an_album_edit_sets_every_track_and_merges_the_split_album(db_conn):
    """Two folders of one album, tagged with two spellings of its title: one album edit
    renames the second, which then merges into the first (one transaction, ids kept)."""
    ingest.ingest(db_conn, [
        file(b"/m/cd1/1.flac", title="A", artist_name="Kim", album_title="Blue", disc_number=1),
        file(b"/m/cd2/1.flac", title="B", artist_name="Kim", album_title="Blue (CD2)",
             disc_number=2),
    ])  # fmt: skip
    blue, cd2 = [a["id"] for a in db_conn.execute("SELECT id FROM albums ORDER BY title")]
    merged = edits.update_album(db_conn, cd2, {"title": "Blue", "year": 1999})
    assert merged["id"] == blue
    assert albums(db_conn) == [("Blue", "Kim", ["A", "B"])]
    assert db_conn.execute("SELECT year, disc_total FROM albums").fetchall() == [
        {"year": 1999, "disc_total": 2}
    ]
    track = db_conn.execute("SELECT id FROM tracks WHERE title = 'B'").fetchall()[0]["id"]
    assert edits.edits_of(db_conn, track)["album_title"]["file_value"] == "Blue (CD2)"


def test_tracks_sort_by_their_title_sort_tag(db_conn):
    from soniquebay import library

    ingest.ingest(db_conn, [
        file(b"/m/ts/1.mp3", title="A Zebra", title_sort="Zebra, A"),  # else first
        file(b"/m/ts/2.mp3", title="Apple"),
        file(b"/m/ts/3.mp3", title="Mango"),
    ])  # fmt: skip
    rows, _ = library.tracks.list_tracks(db_conn, sort="title")
    assert [r["title"] for r in rows] == ["Apple", "Mango", "A Zebra"]
    page, _ = library.tracks.list_tracks(db_conn, sort="title", limit=2)
    cursor = library.tracks.track_cursor(page[-1], "title")  # keyset paging reads the sort column
    rest, _ = library.tracks.list_tracks(db_conn, sort="title", cursor=cursor, with_total=False)
    assert [r["title"] for r in rest] == ["A Zebra"]
