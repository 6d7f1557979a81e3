"""Issue 26, item 9, in Chromium against a real `serve`: the queue belongs to the user, kept
on the server as Subsonic's play queue. A reload brings it back; an app sees it and the browser
goes on from what an app saved; the next person on the same browser does not inherit it."""

from __future__ import annotations

import urllib.parse

import libsonic
from support.browsing import PASSWORD, log_in
from support.servers import WebSession

APP_PASSWORD = "apps' own secret"
KID_PASSWORD = "kid password 1"


def sonic(server, user: str, password: str):
    host = urllib.parse.urlsplit(server.url)
    return libsonic.Connection(f"{host.scheme}://{host.hostname}", user, password,
                               port=host.port, appName="tests")  # fmt: skip


def test_the_queue_is_the_users_across_reloads_apps_and_a_shared_browser(
    serve, library, audio, browser
):
    for n, title in enumerate(("First", "Second", "Third"), start=1):
        audio.make(library / "Queue" / f"{n}.mp3", seconds=30, title=title, artist="Band",
                   album="Queue", track=str(n))  # fmt: skip
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    ids = {t["title"]: t["id"] for t in server.wait_for_tracks(3)}
    server.cli("user", "subsonic-password", "admin", "--password", APP_PASSWORD)
    server.cli("user", "add", "kid", stdin=KID_PASSWORD + "\n")
    server.cli("user", "subsonic-password", "kid", "--password", APP_PASSWORD + " kid")
    album_id = server.tracks()[0]["album_id"]

    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    log_in(page, server.url, next_path=f"/albums/{album_id}")
    page.click("button.play.wide")
    page.click("#player [data-act=next]")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 1.5")
    page.click("#player [data-act=toggle]")  # pause: the queue is sent
    admin = WebSession(server.url, "admin", PASSWORD)

    def saved():
        return admin.request("GET", "/api/playqueue")[1]

    server.wait_until(
        lambda: saved()["current_id"] == ids["Second"] and saved()["position_ms"] >= 1500,
        timeout=10,
        what="the paused queue on the server",
    )
    assert saved()["track_ids"] == [ids["First"], ids["Second"], ids["Third"]]
    assert saved()["changed_by"] == "web player"
    # An app sees the very queue.
    queue = sonic(server, "admin", APP_PASSWORD).getPlayQueue()["playQueue"]
    assert [e["title"] for e in queue["entry"]] == ["First", "Second", "Third"]
    assert queue["current"] == f"tr-{ids['Second']}"

    # A reload: back where it was, paused.
    page.reload()
    page.wait_for_function(
        "() => document.querySelector('#player .np-title').textContent === 'Second'"
    )
    page.wait_for_function("() => document.getElementById('audio').currentTime >= 1.4")
    assert page.evaluate("() => document.getElementById('audio').paused")

    # The next person on this browser gets their own (empty) queue, not this one.
    page.evaluate("() => document.querySelector('form[action=\"/logout\"]').submit()")
    page.wait_for_url("**/login**")
    log_in(page, server.url, user="kid", password=KID_PASSWORD)
    page.wait_for_function("() => SoniqueBay.player.restored")  # kid's queue asked for: none
    assert page.locator("#player").is_hidden()
    assert page.evaluate("() => SoniqueBay.player.state.queue.length") == 0

    # What kid's phone app left playing, the browser goes on from.
    sonic(server, "kid", APP_PASSWORD + " kid").savePlayQueue(
        [f"tr-{ids['Third']}", f"tr-{ids['First']}"], current=f"tr-{ids['First']}", position=4000
    )
    page.reload()
    page.wait_for_function(
        "() => document.querySelector('#player .np-title').textContent === 'First'"
    )
    assert page.evaluate("() => SoniqueBay.player.state.queue.map(t => t.title)") == [
        "Third",
        "First",
    ]
    page.wait_for_function("() => Math.abs(document.getElementById('audio').currentTime - 4) < 0.5")
    # And the admin's queue is still theirs.
    assert saved()["track_ids"] == [ids["First"], ids["Second"], ids["Third"]]
