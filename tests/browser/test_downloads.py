"""Issue 26, item 7, against a real `serve`: a track's original, an album and a playlist as a
zip streamed while it is built, under safe names; an admin turns a user's downloads off (pages,
REST and Subsonic's downloadRole). The album is downloaded by Chromium from its page."""

from __future__ import annotations

import io
import urllib.parse
import urllib.request
import zipfile

import libsonic
from support.browsing import PASSWORD, log_in
from support.servers import WebSession

TITLES = ("Été indien", "Deux/Trois", "Été indien")  # accents, a slash, a name twice
APP_PASSWORD = "apps' own secret"


def test_tracks_albums_and_playlists_download_and_an_admin_can_turn_it_off(
    serve, library, audio, browser, tmp_path
):
    paths = [
        audio.make(
            library / "Zipped" / f"{n}.mp3",
            seconds=2,
            title=title,
            artist="Joe",
            album="Été",
            album_artist="Joe",
            track=str(n),
        )  # fmt: skip
        for n, title in enumerate(TITLES, start=1)
    ]
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    tracks = sorted(server.wait_for_tracks(3), key=lambda t: t["track_number"])
    album_id = tracks[0]["album_id"]

    # Chromium downloads the album from its page.
    page = browser.new_context(
        viewport={"width": 1280, "height": 860}, accept_downloads=True
    ).new_page()
    log_in(page, server.url, next_path=f"/albums/{album_id}")
    with page.expect_download() as info:
        page.click("a.download")
    download = info.value
    assert download.suggested_filename == "Joe - Été.zip"
    with zipfile.ZipFile(download.path()) as archive:
        assert archive.namelist() == ["01 - Été indien.mp3", "02 - Deux Trois.mp3",
                                      "03 - Été indien.mp3"]  # fmt: skip
        assert [archive.read(n) for n in archive.namelist()] == [p.read_bytes() for p in paths]
        assert archive.testzip() is None

    # A track's original, and a playlist in its order.
    admin = WebSession(server.url, "admin", PASSWORD)
    status, body, headers = admin.request("GET", f"/api/tracks/{tracks[1]['id']}/download")
    assert status == 200 and body == paths[1].read_bytes()
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"Joe - Deux Trois.mp3\"; filename*=UTF-8''Joe%20-%20Deux%20Trois.mp3"
    )
    status, playlist, _ = admin.request(
        "POST",
        "/api/playlists",
        {"name": "Road/trip", "track_ids": [tracks[2]["id"], tracks[0]["id"]]},
    )
    assert status == 201, playlist
    status, body, headers = admin.request("GET", f"/api/playlists/{playlist['id']}/download")
    assert status == 200 and "Road trip.zip" in headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.namelist() == ["001 - Joe - Été indien.mp3", "002 - Joe - Été indien.mp3"]
        assert archive.read(archive.namelist()[0]) == paths[2].read_bytes()

    # A listener whose downloads the admin turned off (through Subsonic's createUser): no
    # buttons, 403s, and apps are told (downloadRole, error 50); streaming still plays.
    server.cli("user", "subsonic-password", "admin", "--password", APP_PASSWORD)
    host = urllib.parse.urlsplit(server.url)
    sonic = libsonic.Connection(f"{host.scheme}://{host.hostname}", "admin", APP_PASSWORD,
                                port=host.port, appName="tests")  # fmt: skip
    sonic.createUser("kid", "kid password 1", "", downloadRole=False)
    assert sonic.getUser("kid")["user"]["downloadRole"] is False
    kid = WebSession(server.url, "kid", "kid password 1")
    assert "Download (zip)" not in kid.page(f"/albums/{album_id}")
    assert kid.request("GET", f"/api/albums/{album_id}/download")[0] == 403
    assert kid.request("GET", f"/api/tracks/{tracks[0]['id']}/download")[0] == 403
    assert kid.request("GET", f"/api/tracks/{tracks[0]['id']}/stream")[0] == 200
    query = urllib.parse.urlencode(
        {"u": "kid", "p": "kid password 1", "v": "1.16.1", "c": "tests", "f": "json",
         "id": f"tr-{tracks[0]['id']}"}
    )  # fmt: skip
    with urllib.request.urlopen(f"{server.url}/rest/download?{query}") as resp:
        assert b'"code":50' in resp.read().replace(b" ", b"")
    # The admin allows it again from the users page.
    users = admin.page("/users")
    kid_id = (
        users.split('aria-label="Downloads for kid"')[0]
        .rsplit('action="/users/', 1)[1]
        .split("/")[0]
    )
    admin.request("POST", f"/users/{kid_id}/downloads", form={"allowed": "1"})
    assert kid.request("GET", f"/api/tracks/{tracks[0]['id']}/download")[0] == 200
    assert "Download (zip)" in kid.page(f"/albums/{album_id}")
