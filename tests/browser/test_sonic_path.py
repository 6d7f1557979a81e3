"""Issue 23: "Path to…" on a track page, in Chromium against a real `serve`: find the track
to end on, see the route from one sound to the other, play it as a queue."""

from __future__ import annotations

from support.audio_files import tag
from support.browsing import PASSWORD, log_in

from soniquebay.synth import encode, make_track

# (title, bpm): a climb in tempo, one key; the lengths differ so no two are one recording
TEMPOS = [
    ("Crawl", 70),
    ("Stroll", 90),
    ("Walk", 110),
    ("Trot", 130),
    ("Run", 150),
    ("Sprint", 170),
]


def test_path_to_builds_a_queue_from_one_sound_to_another(serve, library, browser):
    for n, (title, bpm) in enumerate(TEMPOS):
        path = library / "Tempo" / f"{n + 1:02d} {title}.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        encode(make_track(bpm=bpm, key="D", seconds=10.0 + 3 * n, seed=n), path)
        tag(path, title=title, artist="Metronome", album="Tempo", track=str(n + 1))
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    server.wait_until(
        lambda: len([t for t in server.tracks() if t.get("analyzed_at")]) == len(TEMPOS),
        timeout=300, what="every track analysed",
    )  # fmt: skip
    ids = {t["title"]: t["id"] for t in server.tracks()}
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, server.url, next_path=f"/tracks/{ids['Crawl']}")
    page.fill("#path-to-q", "sprint")
    page.click("form.path-to button")
    page.locator("ul.path-choices a", has_text="Sprint").click()
    rows = page.locator("#path tbody tr")
    rows.first.wait_for()
    titles = [t.strip() for t in page.locator("#path tbody .col-title").all_inner_texts()]
    assert titles[0] == "Crawl" and titles[-1] == "Sprint" and len(set(titles)) == len(titles)
    order = [TEMPOS.index(next(x for x in TEMPOS if x[0] == t)) for t in titles]
    assert order == sorted(order)  # each step nearer the end: the tempos climb
    page.click("button.play.wide")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.2")
    assert page.locator("#player .np-title").inner_text() == "Crawl"
    queued = page.evaluate("() => SoniqueBay.player.state.queue.map(t => t.id)")
    assert queued == [ids[t] for t in titles]  # the route is the queue
    # a track with no analysis yet, or nothing found, says so
    page.goto(server.url + f"/tracks/{ids['Crawl']}/path?q=zzzz")
    assert "No track matches" in page.locator("main").inner_text()
    assert not errors, errors
