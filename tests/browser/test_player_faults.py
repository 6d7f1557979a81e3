"""Issue 26, item 1, in Chromium against a real `serve`: one file the browser cannot play
used to stall the player and switch the stream quality to Opus for every later track. Now an
original the browser cannot play is transcoded (that track only), and a track that cannot be
played at all is announced, recorded on the server, marked in the queue and skipped."""

from __future__ import annotations

from support.browsing import PASSWORD, log_in
from support.servers import WebSession

TITLES = ("Opening", "No original", "Broken", "Closing")


def test_a_bad_file_is_announced_recorded_and_skipped_and_nothing_else_changes(
    serve, library, audio, browser
):
    for n, title in enumerate(TITLES):
        audio.make(library / "Set" / f"{n + 1:02d}.mp3", seconds=6, title=title,
                   artist="Band", album="Set", track=str(n + 1))  # fmt: skip
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    ids = {t["title"]: t["id"] for t in server.wait_for_tracks(len(TITLES))}
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def no_original(route):  # as for a codec this browser lacks: only a transcode plays
        route.abort() if "format=" not in route.request.url else route.continue_()

    page.route(f"**/api/tracks/{ids['No original']}/stream*", no_original)
    page.route(f"**/api/tracks/{ids['Broken']}/stream*", lambda route: route.abort())
    log_in(page, server.url, next_path=f"/albums/{server.tracks()[0]['album_id']}")
    page.click("button.play.wide")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.2")
    assert page.locator("#player .np-title").inner_text() == "Opening"

    page.click("#player [data-act=next]")  # the browser cannot play this original
    page.wait_for_function(
        "() => { const a = document.getElementById('audio');"
        " return a.currentSrc.includes('format=') && a.currentTime > 0.2; }"
    )
    assert page.locator("#player .np-title").inner_text() == "No original"
    assert page.input_value("#quality") == ""  # the chosen quality did not change

    page.click("#player [data-act=next]")  # nothing plays this one
    problem = page.locator("#player .np-problem")
    problem.wait_for()
    assert problem.inner_text().startswith("Can't play this file")
    page.locator("#player .np-title", has_text="Closing").wait_for(timeout=15_000)
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.2")
    src = page.evaluate("() => document.getElementById('audio').currentSrc")
    assert "format=" not in src  # the next track plays its original again
    assert page.locator("#player .queue-list li.unplayable").count() == 1

    broken = server.get(f"/api/tracks/{ids['Broken']}")
    [failure] = [f for f in broken["stage_failures"] if f["stage"] == "playback"]
    assert failure["error"].startswith("could not be played")
    listed = WebSession(server.url, "admin", PASSWORD).page("/errors")
    assert "could not be played" in listed
    assert not errors, errors
