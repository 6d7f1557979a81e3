"""Issue 26, item 8, against a real `serve`: a user shares an album from its page; a visitor
without an account opens the link in Chromium, sees the tracks and plays one; visits are
counted; the owner revokes it and the link answers 410 at once (page and streams). Subsonic's
createShare/getShares/updateShare/deleteShare use the same shares (py-sonic); an expired link
and a user whose sharing is off get 410 too."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request

import libsonic
from support.browsing import PASSWORD, log_in
from support.servers import WebSession

APP_PASSWORD = "apps' own secret"


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_shared_album_plays_for_a_visitor_until_it_is_revoked(serve, library, audio, browser):
    for n, title in enumerate(("Shared one", "Shared two"), start=1):
        audio.make(library / "Gift" / f"{n}.mp3", seconds=8, title=title, artist="Band",
                   album="Gift", album_artist="Band", track=str(n))  # fmt: skip
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    tracks = sorted(server.wait_for_tracks(2), key=lambda t: t["track_number"])
    album_id = tracks[0]["album_id"]

    # The owner shares the album from its page (a week, originals, downloads allowed).
    owner = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    log_in(owner, server.url, next_path=f"/albums/{album_id}")
    owner.click("details.share-form summary")
    owner.fill("details.share-form input[name=description]", "for the trip")
    owner.check("details.share-form input[name=downloads]")
    owner.click("details.share-form button[type=submit]")
    owner.wait_for_url("**/shares**")
    url = owner.input_value("input.share-url")
    assert "/s/" in url and "Gift" in owner.inner_text("table.shares")

    # A visitor, logged out, opens it: the tracks, a player, the note; a track plays.
    visitor = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    errors = []
    visitor.on("pageerror", lambda exc: errors.append(str(exc)))
    visitor.goto(url)
    assert visitor.inner_text("h1") == "Gift — Band"
    assert "for the trip" in visitor.content() and "Shared with you by admin" in visitor.content()
    assert visitor.locator(".shared-tracks li").all_inner_texts()[0].startswith("▶ Shared one")
    visitor.click(".shared-play >> nth=1")
    visitor.wait_for_function("() => document.getElementById('shared-audio').currentTime > 0.3")
    assert visitor.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert status_of(url + "/download") == 200 and status_of(url + "/cover") == 200
    stream = f"{url}/tracks/{tracks[0]['id']}/stream"
    assert status_of(stream) == 200
    other = urllib.parse.urlsplit(url).path.rsplit("-", 1)[0] + "-forged"
    assert status_of(server.url + other) == 404  # a link with a wrong signature opens nothing
    assert errors == []
    owner.reload()
    assert owner.inner_text("table.shares tbody tr td:nth-child(4)") == "1"  # one visit

    # Apps see the same share; through them a track is shared with an expiry, updated.
    server.cli("user", "subsonic-password", "admin", "--password", APP_PASSWORD)
    host = urllib.parse.urlsplit(server.url)
    sonic = libsonic.Connection(f"{host.scheme}://{host.hostname}", "admin", APP_PASSWORD,
                                port=host.port, appName="tests")  # fmt: skip
    listed = sonic.getShares()["shares"]["share"]
    assert [s["url"] for s in listed] == [url] and listed[0]["visitCount"] == 1
    assert [e["title"] for e in listed[0]["entry"]] == ["Shared one", "Shared two"]
    made = sonic.createShare(
        [f"tr-{tracks[1]['id']}"], description="just one", expires=time.time() + 3600
    )["shares"]["share"][0]  # fmt: skip (s)
    assert made["entry"][0]["title"] == "Shared two" and status_of(made["url"]) == 200
    assert made["expires"].startswith(time.strftime("%Y-%m-%dT", time.gmtime(time.time() + 3600)))
    # py-sonic's updateShare sends its expiry under a wrong name: the call as apps make it.
    update = urllib.parse.urlencode(
        {"u": "admin", "p": APP_PASSWORD, "v": "1.16.1", "c": "tests", "f": "json",
         "id": made["id"], "description": "still one", "expires": int((time.time() - 1) * 1000)}
    )  # fmt: skip
    with urllib.request.urlopen(f"{server.url}/rest/updateShare?{update}") as resp:
        assert b'"status":"ok"' in resp.read().replace(b" ", b"")
    assert status_of(made["url"]) == 410  # expired: gone at once

    # The owner revokes the album's link: page and streams answer 410 at once.
    owner.once("dialog", lambda dialog: dialog.accept())
    owner.click("table.shares tbody tr:has-text('Gift') button.danger")
    owner.wait_for_url("**/shares")
    assert status_of(url) == 410 and status_of(stream) == 410
    visitor.reload()
    assert "revoked" in visitor.content()

    # A user whose sharing an admin turned off: no form, and their links stop answering.
    kept = sonic.createShare([f"al-{album_id}"])["shares"]["share"][0]
    assert status_of(kept["url"]) == 200
    server.cli("user", "shares", "admin", "off")
    assert status_of(kept["url"]) == 410
    admin = WebSession(server.url, "admin", PASSWORD)
    assert "Share…" not in admin.page(f"/albums/{album_id}")
    assert sonic.getUser("admin")["user"]["shareRole"] is False
