"""Several music folders (issue 23): `[music_folders]` names the library's folders, apps list
them and narrow any list with `musicFolderId`, pages offer them as a filter, and an account
kept to "Kids" sees nothing else — through py-sonic as apps use the API, and through the pages
and the player's routes as a person in a browser does. A real `soniquebay serve` with generated
audio in two folders whose names share a prefix ("music" and "music-kids")."""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.parse

import libsonic
import pytest
from libsonic.errors import DataNotFoundError
from support.audio_files import tag
from support.servers import Server, WebSession

from soniquebay.synth import encode, make_track

ADMIN_PASSWORD = "admin login password"
APP_PASSWORD = "apps' own secret"
KID_PASSWORD = "kid login password"
KID_APP_PASSWORD = "kid app password"
# folder -> album -> (artist, genre, titles)
MUSIC = {
    "music": {"Grown Ups": ("Adult Band", "Jazz", ("Tax Return Blues", "Mortgage Waltz"))},
    "music-kids": {"Nursery": ("Kid Band", "Children", ("Wheels On The Bus", "Twinkle"))},
}
QUIET = {  # no analysis, fingerprints or vectors: this is about folders, not audio
    f"SONIQUEBAY_PLUGIN_{name.upper()}_ENABLED": "false"
    for name in ("analysis_essentia", "analysis_librosa", "fingerprint", "vectors")
}


def cli(server: Server, *args: str, stdin: str | None = None, check: bool = True):
    return subprocess.run(
        [sys.executable, "-m", "soniquebay", *args, "--data-dir", str(server.data_dir)],
        env=server.env, input=stdin, capture_output=True, text=True, check=check,
    )  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("folders")
    made = root / "made"
    for folder, albums in MUSIC.items():
        for album, (artist, genre, titles) in albums.items():
            for n, title in enumerate(titles, start=1):
                path = made / folder / album / f"{n:02d} {title}.flac"
                path.parent.mkdir(parents=True, exist_ok=True)
                encode(make_track(bpm=90 + 10 * n, key="C", seconds=4, seed=n), path)
                tag(path, title=title, artist=artist, album=album, track=str(n), genre=genre)
    config = root / "soniquebay.conf"
    config.write_text(f"[music_folders]\nMain = {root / 'music'}\nKids = {root / 'music-kids'}\n")
    env = {"SONIQUEBAY_CONFIG": str(config), "SONIQUEBAY_ADMIN_PASSWORD": ADMIN_PASSWORD}
    server = Server(
        root / "music",
        root / "data",
        env={**env, **QUIET},
        extra_args=["--library", str(root / "music-kids")],
    )
    (root / "music-kids").mkdir()
    server.start()
    for folder in MUSIC:
        for album in MUSIC[folder]:
            shutil.copytree(made / folder / album, root / folder / album)
    server.wait_until(lambda: len(server.tracks()) == 4, timeout=120, what="4 tracks listed")
    cli(server, "user", "subsonic-password", "admin", "--password", APP_PASSWORD)
    cli(server, "user", "add", "kid", stdin=KID_PASSWORD + "\n")
    cli(server, "user", "subsonic-password", "kid", "--password", KID_APP_PASSWORD)
    kept = cli(server, "user", "folders", "kid", "Kids")
    assert kept.stdout.strip() == "kid sees Kids"
    server.ids = {t["title"]: t["id"] for t in server.tracks()}
    server.albums = {a["title"]: a["id"] for a in server.get("/api/albums")["items"]}
    yield server
    server.stop()


def sonic(server: Server, user: str = "admin", password: str = APP_PASSWORD):
    return libsonic.Connection(
        "http://127.0.0.1", user, password, port=server.port, appName="tests", apiVersion="1.16.1"
    )


def titles(songs) -> set[str]:
    return {s["title"] for s in songs}


MAIN_TITLES = set(MUSIC["music"]["Grown Ups"][2])
KID_TITLES = set(MUSIC["music-kids"]["Nursery"][2])


def test_apps_list_the_named_folders_and_music_folder_id_narrows_every_list(server):
    app = sonic(server)
    folders = app.getMusicFolders()["musicFolders"]["musicFolder"]
    assert folders == [{"id": 1, "name": "Main"}, {"id": 2, "name": "Kids"}]

    def artist_names(answer, key):
        return {a["name"] for index in answer[key]["index"] for a in index["artist"]}

    assert artist_names(app.getArtists(), "artists") == {"Adult Band", "Kid Band"}
    assert artist_names(app.getArtists(musicFolderId=2), "artists") == {"Kid Band"}
    assert artist_names(app.getIndexes(musicFolderId=1), "indexes") == {"Adult Band"}
    albums = app.getAlbumList2("alphabeticalByName", musicFolderId=1)["albumList2"]["album"]
    assert [a["name"] for a in albums] == ["Grown Ups"]
    found = app.search3("", musicFolderId=2)["searchResult3"]
    assert titles(found["song"]) == KID_TITLES
    assert [a["name"] for a in found["album"]] == ["Nursery"]
    assert titles(app.getRandomSongs(size=10, musicFolderId=1)["randomSongs"]["song"]) == (
        MAIN_TITLES
    )
    genres = {g["value"] for g in app.getGenres()["genres"]["genre"]}
    assert genres == {"Jazz", "Children"}
    directory = app.getMusicDirectory("2")["directory"]
    assert directory["name"] == "Kids" and [c["title"] for c in directory["child"]] == ["Kid Band"]
    with pytest.raises(DataNotFoundError):
        app.getAlbumList2("newest", musicFolderId=9)


def test_an_account_kept_to_kids_sees_nothing_else_in_its_apps(server):
    kid = sonic(server, "kid", KID_APP_PASSWORD)
    assert kid.getMusicFolders()["musicFolders"]["musicFolder"] == [{"id": 2, "name": "Kids"}]
    artists = kid.getArtists()["artists"]["index"]
    assert [a["name"] for index in artists for a in index["artist"]] == ["Kid Band"]
    newest = kid.getAlbumList2("newest")["albumList2"]["album"]
    assert [a["name"] for a in newest] == ["Nursery"]
    assert titles(kid.search3("")["searchResult3"]["song"]) == KID_TITLES
    assert kid.search3("Mortgage")["searchResult3"].get("song", []) == []
    assert titles(kid.getRandomSongs(size=10)["randomSongs"]["song"]) == KID_TITLES
    assert {g["value"] for g in kid.getGenres()["genres"]["genre"]} == {"Children"}
    assert kid.getUser("kid")["user"]["folder"] == [2]
    # What is outside is not found, as if it did not exist: songs, albums, streams, covers.
    main_song, main_album = server.ids["Tax Return Blues"], server.albums["Grown Ups"]
    for call in (
        lambda: kid.getSong(f"tr-{main_song}"),
        lambda: kid.getAlbum(f"al-{main_album}"),
        lambda: kid.stream(f"tr-{main_song}"),
        lambda: kid.getCoverArt(f"al-{main_album}"),
        lambda: kid.getMusicDirectory("1"),
        lambda: kid.getAlbumList2("newest", musicFolderId=1),
    ):
        with pytest.raises(DataNotFoundError):
            call()
    kid_song = server.ids["Twinkle"]
    assert kid.getSong(f"tr-{kid_song}")["song"]["title"] == "Twinkle"
    # A playlist holding songs of both folders (made before the kid was kept to one) shows
    # and counts only theirs; the same for their stars.
    kid.createPlaylist(name="Mixed", songIds=[f"tr-{kid_song}", f"tr-{main_song}"])
    lists = kid.getPlaylists()["playlists"]["playlist"]
    assert [(p["name"], p["songCount"]) for p in lists] == [("Mixed", 1)]
    entries = kid.getPlaylist(lists[0]["id"])["playlist"]["entry"]
    assert [e["title"] for e in entries] == ["Twinkle"]
    kid.star(sids=[f"tr-{kid_song}", f"tr-{main_song}"])
    assert titles(kid.getStarred2()["starred2"]["song"]) == {"Twinkle"}
    assert kid.stream(f"tr-{kid_song}").read(4) == b"fLaC"
    # The admin's own view is unchanged.
    assert titles(sonic(server).search3("")["searchResult3"]["song"]) == MAIN_TITLES | KID_TITLES


def test_pages_keep_the_kid_to_kids_and_offer_everyone_else_a_folder_picker(server):
    kid = WebSession(server.url, "kid", KID_PASSWORD)
    albums = kid.page("/albums")
    assert "Nursery" in albums and "Grown Ups" not in albums
    assert 'name="folder"' not in albums  # one folder seen: no picker
    assert 'id="count-tracks"' not in albums  # the whole library's totals are not theirs
    assert 'data-events="off"' in albums  # nor is its live event stream
    assert "Kid Band" in kid.page("/artists") and "Adult Band" not in kid.page("/artists")
    tracks = kid.page("/tracks")
    assert "Twinkle" in tracks and "Mortgage Waltz" not in tracks
    main_song, main_album = server.ids["Tax Return Blues"], server.albums["Grown Ups"]
    for path in (
        f"/albums/{main_album}",
        f"/tracks/{main_song}",
        f"/api/tracks/{main_song}/stream",
        f"/api/albums/{main_album}/cover?size=100",
    ):
        assert kid.request("GET", path, headers={"Accept": "text/html"})[0] == 404, path
    status, body, _ = kid.request("GET", "/api/tracks")
    assert status == 403 and "Kids" in body["error"]["message"]
    assert (
        kid.request("POST", "/api/graphql", {"query": "{ tracks(limit: 1) { total } }"})[0] == 403
    )
    _, found, _ = kid.request("GET", "/api/search?q=Tax")
    assert found["tracks"] == []
    ids = f"{main_song},{server.ids['Twinkle']}"
    _, queue, _ = kid.request("GET", f"/api/player/tracks?ids={ids}")
    assert [t["title"] for t in queue["items"]] == ["Twinkle"]

    admin = WebSession(server.url, "admin", ADMIN_PASSWORD)
    grid = admin.page("/albums")
    assert "All folders" in grid and "Grown Ups" in grid and "Nursery" in grid
    assert '<span id="count-tracks">4</span>' in grid and "data-events" not in grid
    kids_only = admin.page("/albums?folder=2")
    assert "Nursery" in kids_only and "Grown Ups" not in kids_only
    main_only = admin.page("/tracks?folder=1")
    assert "Mortgage Waltz" in main_only and "Twinkle" not in main_only


def test_admins_choose_a_users_folders_from_apps_and_the_users_page(server):
    app = sonic(server)
    app.createUser("cousin", "cousin app pw", "", musicFolderId=2)
    assert app.getUser("cousin")["user"]["folder"] == [2]
    app.updateUser("cousin", musicFolderId=1)
    assert app.getUser("cousin")["user"]["folder"] == [1]
    cousin = sonic(server, "cousin", "cousin app pw")
    assert titles(cousin.search3("")["searchResult3"]["song"]) == MAIN_TITLES

    admin = WebSession(server.url, "admin", ADMIN_PASSWORD)
    users = admin.page("/users")
    assert 'action="/users/' in users and "/folders" in users
    cousin_id = next(u["id"] for u in _users(server) if u["username"] == "cousin")
    ticked = [("csrf_token", admin.csrf), ("folder", "Main"), ("folder", "Kids")]
    status, _, _ = admin.request(
        "POST",
        f"/users/{cousin_id}/folders",
        raw=urllib.parse.urlencode(ticked).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200  # back on the users page
    assert app.getUser("cousin")["user"]["folder"] == [1, 2]
    assert (
        cli(server, "user", "folders", "cousin").stdout.strip() == "cousin sees every music folder"
    )
    refused = cli(server, "user", "folders", "admin", "Kids", check=False)
    assert refused.returncode == 2 and "administrator" in refused.stderr
    unknown = cli(server, "user", "folders", "cousin", "Attic", check=False)
    assert unknown.returncode == 2 and "Main, Kids" in unknown.stderr


def _users(server: Server) -> list[dict]:
    from soniquebay.library import accounts, db

    conn = db.connect(server.data_dir / "library.db", readonly=True)
    try:
        return accounts.list_users(conn)
    finally:
        conn.close()
