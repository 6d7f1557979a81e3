"""Issue 27, item 6, in Chromium against a real `serve`: a playlist's tracks and the queue's
reorder by drag and drop, and the ↑ ↓ buttons no longer send the page back to its top (the
keyboard stays on the button pressed)."""

from __future__ import annotations

from support.browsing import PASSWORD, log_in
from support.servers import WebSession

TITLES = [f"Song {n}" for n in range(1, 9)]


def order(page) -> list[str]:
    return page.locator("#playlist-tracks > li .pl-title").all_inner_texts()


def test_playlists_and_the_queue_reorder_by_drag_and_drop_without_jumping(
    serve, library, audio, browser
):
    for n, title in enumerate(TITLES, start=1):
        audio.make(library / "Eight" / f"{n:02d}.mp3", seconds=4, title=title, artist="Band",
                   album="Eight", track=str(n))  # fmt: skip
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    tracks = sorted(server.wait_for_tracks(len(TITLES)), key=lambda t: t["track_number"])
    admin = WebSession(server.url, "admin", PASSWORD)
    status, made, _ = admin.request(
        "POST", "/api/playlists", {"name": "Long", "track_ids": [t["id"] for t in tracks]}
    )
    assert status == 201, made

    page = browser.new_context(viewport={"width": 1000, "height": 420}).new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, server.url, next_path=f"/playlists/{made['id']}")
    assert order(page) == TITLES
    # A button low on the page: the list changes, the page does not move, the focus stays.
    button = page.get_by_role("button", name="Move Song 7 down")
    button.scroll_into_view_if_needed()
    before = page.evaluate("() => window.scrollY")
    assert before > 0
    button.click()
    page.wait_for_function(
        "() => document.querySelectorAll('#playlist-tracks .pl-title')[7].textContent === 'Song 7'"
    )
    assert abs(page.evaluate("() => window.scrollY") - before) <= 2
    assert (
        page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Move Song 7 up"
    )
    # Drag the last row onto the first (the whole list in view: no scrolling mid-drag).
    page.set_viewport_size({"width": 1000, "height": 1000})
    page.evaluate("() => window.scrollTo(0, 0)")
    page.drag_and_drop("#playlist-tracks > li:nth-child(8)", "#playlist-tracks > li:nth-child(1)")
    page.wait_for_function(
        "() => document.querySelector('#playlist-tracks .pl-title').textContent === 'Song 7'"
    )
    assert order(page) == ["Song 7", *TITLES[:6], "Song 8"]
    assert [
        t["title"] for t in admin.request("GET", f"/api/playlists/{made['id']}")[1]["tracks"]
    ] == order(page)

    # The queue: play the playlist, drag the third onto the first.
    page.click("button.play.wide")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.1")
    page.click("#player [data-act=queue]")
    page.drag_and_drop(
        "#queue-panel .queue-list li:nth-child(3)", "#queue-panel .queue-list li:nth-child(1)"
    )
    page.wait_for_function("() => SoniqueBay.player.state.queue[0].title === 'Song 2'")
    assert page.evaluate("() => SoniqueBay.player.state.queue.slice(0, 3).map(t => t.title)") == [
        "Song 2", "Song 7", "Song 1"]  # fmt: skip
    assert errors == []
