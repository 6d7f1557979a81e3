"""Issue 22: a library as real tags make it — missing album artists, a soundtrack whose tracks
each name their composer, untagged files, lists of artists, a number as album artist,
compilations, a box set over two folders — landed in a real `serve`. Every file is in an album
and under an artist, in REST, GraphQL, the pages and Subsonic (py-sonic); counts hold by
construction; an album edit regroups; the lyrics plugin reads every format without failing."""

from __future__ import annotations

import subprocess
import sys

import libsonic
import pytest

PASSWORD = "correct horse battery"
APP_PASSWORD = "apps' own secret"
STAGES_OFF = {  # the grouping is what is tested: no analysis to wait for
    "SONIQUEBAY_PLUGIN_ANALYSIS_ESSENTIA_ENABLED": "false",
    "SONIQUEBAY_PLUGIN_ANALYSIS_LIBROSA_ENABLED": "false",
    "SONIQUEBAY_PLUGIN_FINGERPRINT_ENABLED": "false",
    "SONIQUEBAY_PLUGIN_VECTORS_ENABLED": "false",
    "SONIQUEBAY_PLUGIN_LYRICS_ENABLED": "true",
}
# (title, album artist, track count) of every album the corpus must give, by construction.
EXPECTED_ALBUMS = {
    ("The Battle for Wesnoth OST", "Wesnoth", 6),
    ("HyperRogue", "Various Artists", 4),
    ("[Untagged]", "Unknown artist", 3),
    ("[Loose]", "Loner", 2),
    ("Multi", "Ann", 1),
    ("Hits", "Various Artists", 2),
    ("Box", "Kim", 2),
}
FILES = sum(n for _, _, n in EXPECTED_ALBUMS)


def make_corpus(audio, root) -> None:
    formats = ("ogg", "flac", "opus", "mp3", "m4a")
    for i in range(6):  # two of six lack the album artist
        audio.make(root / "Wesnoth" / f"{i:02d}.{formats[i % 5]}", title=f"Wesnoth {i}",
                   artist=f"Composer {i}", album="The Battle for Wesnoth OST",
                   **({"album_artist": "Wesnoth"} if i % 3 else {}))  # fmt: skip
    for i in range(4):  # each track names its composer, no album artist
        audio.make(root / "HyperRogue" / f"{i}.ogg", title=f"Rogue {i}",
                   artist=f"Rogue Composer {i}", album="HyperRogue")  # fmt: skip
    for i in range(3):  # no tags at all
        audio.make(root / "Untagged" / f"track{i}.{formats[i]}")
    for i in range(2):  # an artist but no album
        audio.make(root / "Loose" / f"{i}.mp3", title=f"Loose {i}", artist="Loner")
    audio.make(root / "Multi" / "1.flac", title="Duet", artist=["Ann", "Bob"],
               album="Multi", album_artist="4", genre="Rock;Pop", lyrics="la la")  # fmt: skip
    for i in range(2):
        audio.make(root / "Hits" / f"{i}.m4a", title=f"Hit {i}", artist="Solo", album="Hits",
                   compilation=1)  # fmt: skip
    for disc in (1, 2):
        audio.make(root / "Box" / f"CD{disc}" / "1.flac", title=f"Box {disc}", artist="Kim",
                   album="Box", album_artist="Kim", disc=f"{disc}/2")  # fmt: skip


@pytest.fixture
def server(serve, library, audio):
    make_corpus(audio, library)
    server = serve(env={**STAGES_OFF, "SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    server.wait_for_tracks(FILES, timeout=60)

    def lyrics_done() -> bool:
        duet = [t for t in server.tracks() if t["title"] == "Duet"][0]
        read = server.get(f"/api/tracks/{duet['id']}")
        queues = server.get("/api/health")["redis"]["queues"]
        return "lyrics" in read["plugin_data"] and not any(queues.values())

    server.wait_until(lyrics_done, timeout=60, what="the lyrics stage to run on every track")
    return server


def albums_of(server) -> set[tuple[str, str, int]]:
    items = server.get("/api/albums?limit=100")["items"]
    return {(a["title"], a["album_artist_name"], a["track_count"]) for a in items}


def test_every_file_is_in_an_album_and_under_an_artist_everywhere(server):
    assert albums_of(server) == EXPECTED_ALBUMS
    tracks = server.get("/api/tracks?limit=100")["items"]
    assert len(tracks) == FILES
    assert all(t["album_id"] and t["track_artist_id"] for t in tracks)
    artists = {a["name"] for a in server.get("/api/artists?limit=100")["items"]}
    assert {"Ann", "Bob", "Unknown artist", "Various Artists", "Loner", "Kim"} <= artists
    assert not {"4", "Ann; Bob", "Ann;Bob"} & artists
    duet = server.get(f"/api/tracks/{next(t['id'] for t in tracks if t['title'] == 'Duet')}")
    assert [a["name"] for a in duet["artists"]] == ["Ann", "Bob"]
    assert duet["genres"] == ["Rock", "Pop"] and duet["display_artist"] == "Ann, Bob"

    body = server.graphql(
        "{ albums(limit: 100) { items { title album_artist_name track_count } } }"
    )
    assert {(a["title"], a["album_artist_name"], a["track_count"])
            for a in body["data"]["albums"]["items"]} == EXPECTED_ALBUMS  # fmt: skip

    body = server.graphql(
        "query ($id: Int!) { track(id: $id) { display_artist artists { name } genres"
        " album { title compilation from_folder album_artist { name } } } }",
        {"id": duet["id"]},
    )
    assert body["data"]["track"] == {
        "display_artist": "Ann, Bob", "artists": [{"name": "Ann"}, {"name": "Bob"}],
        "genres": ["Rock", "Pop"],
        "album": {"title": "Multi", "compilation": False, "from_folder": False,
                  "album_artist": {"name": "Ann"}},
    }  # fmt: skip
    listed = server.graphql("{ tracks(limit: 100) { items { title artists { name } } } }")
    assert all(t["artists"] for t in listed["data"]["tracks"]["items"])
    assert {a["title"]: a["artists"] for a in listed["data"]["tracks"]["items"]}["Duet"] == [
        {"name": "Ann"}, {"name": "Bob"}
    ]  # fmt: skip
    rest_listed = {t["title"]: t for t in tracks}
    assert [a["name"] for a in rest_listed["Duet"]["artists"]] == ["Ann", "Bob"]

    for track in tracks:  # the lyrics plugin ran on every format, and failed on none
        assert server.get(f"/api/tracks/{track['id']}")["stage_failures"] == []


def test_pages_show_every_album_and_disc_headers(server):
    from support.servers import WebSession

    session = WebSession(server.url, "admin", PASSWORD)
    home = session.page("/albums")
    for title, _, _ in EXPECTED_ALBUMS:
        assert title in home
    box = next(a for a in server.get("/api/albums?limit=100")["items"] if a["title"] == "Box")
    page = session.page(f"/albums/{box['id']}")
    assert "Disc 1" in page and "Disc 2" in page and "2 discs" in page
    untagged = next(a for a in server.get("/api/albums?limit=100")["items"]
                    if a["title"] == "[Untagged]")  # fmt: skip
    assert "named after its folder" in session.page(f"/albums/{untagged['id']}")
    duet = next(t for t in server.tracks() if t["title"] == "Duet")
    page = session.page(f"/tracks/{duet['id']}")
    artists = {a["name"]: a["id"] for a in server.get("/api/artists?limit=100")["items"]}
    for name in ("Ann", "Bob"):  # each credited artist, linked; never the raw tag
        assert f'<a href="/artists/{artists[name]}">{name}</a>' in page
    shown = page.split('<details class="edit">')[0]  # the form and layers show the raw tags
    assert "Ann; Bob" not in shown and "Rock, Pop" in shown and "Rock;Pop" not in shown


def test_subsonic_apps_see_the_same_albums_and_artist_lists(server):
    subprocess.run(
        [sys.executable, "-m", "soniquebay", "user", "subsonic-password", "admin", "--password",
         APP_PASSWORD, "--data-dir", str(server.data_dir)],
        env=server.env, check=True, capture_output=True,
    )  # fmt: skip
    conn = libsonic.Connection("http://127.0.0.1", "admin", APP_PASSWORD, port=server.port,
                               appName="tests", apiVersion="1.16.1")  # fmt: skip
    listed = conn.getAlbumList2("alphabeticalByName", size=100)["albumList2"]["album"]
    assert {(a["name"], a["artist"], a["songCount"]) for a in listed} == EXPECTED_ALBUMS
    indexed = conn.getArtists()["artists"]["index"]
    names = {a["name"] for letter in indexed for a in letter["artist"]}
    assert {"Ann", "Bob", "Unknown artist", "Various Artists"} <= names and "4" not in names
    multi = next(a for a in listed if a["name"] == "Multi")
    [song] = conn.getAlbum(multi["id"])["album"]["song"]
    assert [a["name"] for a in song["artists"]] == ["Ann", "Bob"]
    assert song["displayArtist"] == "Ann, Bob"
    assert [g["name"] for g in song["genres"]] == ["Rock", "Pop"]


def test_an_album_edit_regroups_and_the_empty_album_disappears(server):
    albums = {a["title"]: a for a in server.get("/api/albums?limit=100")["items"]}
    loose = albums["[Loose]"]
    status, renamed = server.request(
        "PATCH", f"/api/albums/{loose['id']}", {"title": "Found at last", "year": 2004}
    )
    assert status == 200, renamed
    assert (renamed["title"], renamed["album_artist_name"], renamed["year"]) == (
        "Found at last", "Loner", 2004,
    )  # fmt: skip
    assert renamed["id"] == loose["id"]  # every track moved together: the album keeps its id
    titles = {a["title"] for a in server.get("/api/albums?limit=100")["items"]}
    assert "[Loose]" not in titles and "Found at last" in titles
    # A stray track given another album's title and album artist moves there; its old album,
    # now empty, is gone from every listing.
    hit = next(t for t in server.tracks() if t["title"] == "Hit 0")
    status, _ = server.request("PATCH", f"/api/tracks/{hit['id']}",
                               {"album_title": "Box", "album_artist_name": "Kim",
                                "compilation": 0})  # fmt: skip
    assert status == 200
    box = next(a for a in server.get("/api/albums?limit=100")["items"] if a["title"] == "Box")
    assert box["track_count"] == 3
    server.request("DELETE", f"/api/tracks/{hit['id']}/edits")
    box = next(a for a in server.get("/api/albums?limit=100")["items"] if a["title"] == "Box")
    assert box["track_count"] == 2


def test_the_album_page_form_merges_a_split_album_and_undo_splits_it_again(server):
    """Two albums a typo split ("Hits" and "Hits!" by Various Artists): one form on the
    album page merges them; undo gives the files' own titles back."""
    from support.servers import WebSession

    session = WebSession(server.url, "admin", PASSWORD)
    hit = next(t for t in server.tracks() if t["title"] == "Hit 1")
    server.request("PATCH", f"/api/tracks/{hit['id']}", {"album_title": "Hits!"})
    albums = {a["title"]: a for a in server.get("/api/albums?limit=100")["items"]}
    assert albums["Hits"]["track_count"] == 1 and albums["Hits!"]["track_count"] == 1
    page = session.page(f"/albums/{albums['Hits!']['id']}")
    assert "Edit the album" in page and 'action="/albums/' in page
    status, merged, _ = session.request(
        "POST", f"/albums/{albums['Hits!']['id']}/edit",
        form={"title": "Hits", "album_artist_name": "Various Artists", "year": "2001",
              "genre": "", "compilation": "1"},
        headers={"Accept": "text/html"},
    )  # fmt: skip
    assert status == 200 and "Undo album edits" in merged
    albums = {a["title"]: a for a in server.get("/api/albums?limit=100")["items"]}
    assert "Hits!" not in albums and albums["Hits"]["track_count"] == 2
    assert albums["Hits"]["year"] == 2001
    status, back = server.request("DELETE", f"/api/albums/{albums['Hits']['id']}/edits")
    assert status == 200, back
    titles = {a["title"]: a["track_count"] for a in server.get("/api/albums?limit=100")["items"]}
    assert titles["Hits"] == 2  # the files say "Hits" for both: the undo keeps them together
    assert server.get("/api/albums?limit=100")["items"] and "Hits!" not in titles


def test_a_lyrics_file_added_later_is_read_for_its_track(server, library):
    """The watcher notices a .lrc beside a track that is already in the library, and the
    lyrics stage runs again for that track alone."""
    track = next(t for t in server.tracks() if t["title"] == "Wesnoth 0")
    assert "lyrics" not in server.get(f"/api/tracks/{track['id']}")["plugin_data"]
    (library / "Wesnoth" / "00.lrc").write_text("[00:00.20]Sing\n[00:00.70]Along\n")

    def lyrics():
        return server.get(f"/api/tracks/{track['id']}")["plugin_data"].get("lyrics")

    found = server.wait_until(lyrics, timeout=30, what="the lyrics of the .lrc added later")
    assert found["lyrics_synced"] == [[0.2, "Sing"], [0.7, "Along"]]
    assert found["lyrics_source"] == "lrc file"
    (library / "Wesnoth" / "00.lrc").write_text("[00:00.20]Sung\n")
    server.wait_until(
        lambda: (lyrics() or {}).get("lyrics") == "Sung", timeout=30, what="the .lrc changed"
    )
    other = next(t for t in server.tracks() if t["title"] == "Wesnoth 1")
    assert "lyrics" not in server.get(f"/api/tracks/{other['id']}")["plugin_data"]
