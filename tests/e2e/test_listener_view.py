"""Issue 27, item 5, page by page as a listener (a signed-in user who is not an admin), against
a real `serve`: no file-system path, no /metrics, no scan errors or activity (the service's
workings), no other user's playlists or the admin pages; an admin sees all of it."""

from __future__ import annotations

from support.browsing import PASSWORD
from support.servers import WebSession

KID_PASSWORD = "kid password 1"


def test_a_listener_sees_music_not_files_or_the_services_workings(serve, library, audio):
    audio.make(library / "Folder secret" / "01.mp3", seconds=2, title="Heard", artist="Band",
               album="Shown")  # fmt: skip
    (library / "broken.mp3").write_bytes(b"not audio at all")
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    [track] = server.wait_for_tracks(1)
    server.wait_until(lambda: server.get("/api/scan/errors")["total"] >= 1, timeout=30,
                      what="the unreadable file recorded")  # fmt: skip
    server.cli("user", "add", "kid", stdin=KID_PASSWORD + "\n")
    admin = WebSession(server.url, "admin", PASSWORD)
    kid = WebSession(server.url, "kid", KID_PASSWORD)
    status, mine, _ = admin.request(
        "POST", "/api/playlists", {"name": "Admin's own", "track_ids": [track["id"]]}
    )
    assert status == 201

    secret = str(library)
    html = {"Accept": "text/html"}
    pages = ["/", "/albums", f"/albums/{track['album_id']}", "/artists", "/tracks", "/genres",
             f"/tracks/{track['id']}", "/search?q=heard", "/playlists", "/favourites", "/shares",
             "/settings", "/plugins"]  # fmt: skip
    for path in pages:
        page = kid.page(path)
        assert secret not in page and "Folder secret" not in page, path  # no file-system path
        assert 'href="/errors"' not in page and 'href="/activity"' not in page, path
        assert 'href="/users"' not in page and 'href="/tokens"' not in page, path
    for path in ("/errors", "/activity", "/users", "/tokens", "/metrics", "/api/scan/errors",
                 f"/playlists/{mine['id']}"):  # fmt: skip
        assert kid.request("GET", path, headers=html)[0] in (403, 404), path
    # The admin sees the files and the workings.
    assert secret in admin.page(f"/tracks/{track['id']}")
    assert "broken.mp3" in admin.page("/errors") and admin.request("GET", "/metrics")[0] == 200
