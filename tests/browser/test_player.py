"""Issue 10 as a person tries it, in headless Chromium against a real `soniquebay serve`:
log in, an album folder with a cover lands while the albums page is open, search, play,
seek, transcode, playlists (per user), hostile tag text, a phone's viewport.

Screenshots of the main pages go to $SONIQUEBAY_SCREENSHOTS when set (docs/screenshots is
made that way), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from support.audio_files import picture
from support.browsing import PASSWORD, audio_state, log_in

HOSTILE = "<img src=x onerror=alert(1)>"
PHONE = {"width": 360, "height": 740}


def no_horizontal_scroll(page):
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def shoot(page, folder: Path, name: str):
    page.screenshot(path=str(folder / f"{name}.png"), full_page=False)


def test_a_music_lover_browses_plays_and_makes_playlists(serve, library, audio, browser, tmp_path):
    shots = Path(os.environ.get("SONIQUEBAY_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    for n, (genre, year) in enumerate((("Jazz", 1959), ("Ambient", 1983), ("Rock", 1971))):
        audio.make(library / f"Other {n}" / "01.mp3", title=f"Opening {n}", artist=f"Band {n}",
                   album=f"Record {n}", genre=genre, date=str(year))  # fmt: skip
    server.wait_for_tracks(3)

    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors, streams = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: "/stream" in r.url and streams.append((r.url, r.status, r.request.headers.get("range"))))  # fmt: skip
    log_in(page, server.url)
    page.locator("#albums .card").nth(2).wait_for()

    # An album folder with its cover lands while the albums page is open.
    staging = tmp_path / "Nocturnes"
    audio.make(staging / "01.wav", seconds=40, title="Nocturne in C", artist="Chopin Trio",
               album="Nocturnes", track=1, genre="Classical", date="2001")  # fmt: skip
    audio.make(staging / "02.mp3", seconds=5, title=HOSTILE, artist="Chopin Trio",
               album="Nocturnes", track=2, genre="Classical", date="2001")  # fmt: skip
    audio.make(staging / "03.mp3", seconds=5, title="Nocturne in E", artist="Chopin Trio",
               album="Nocturnes", track=3, genre="Classical", date="2001")  # fmt: skip
    picture(staging / "cover.jpg", (600, 600), (30, 90, 200))
    shutil.copytree(staging, library / "Nocturnes")
    card = page.locator("#albums .card", has_text="Nocturnes")
    card.wait_for(timeout=30_000)
    cover = card.locator("img")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=cover.element_handle()
    )
    assert "/cover?size=300" in cover.get_attribute("src")
    shoot(page, shots, "albums-desktop")

    # Search as you type; the suggestion leads to the album.
    page.fill("#q", "noctur")
    suggestion = page.locator("#suggestions a[href^='/albums/']", has_text="Nocturnes")
    suggestion.wait_for()
    shoot(page, shots, "search-desktop")
    suggestion.click()
    page.locator("h1", has_text="Nocturnes").wait_for()
    rows = page.locator("#tracks tbody tr")
    assert rows.count() == 3
    assert rows.nth(1).locator(".col-title").inner_text() == HOSTILE  # text, not markup
    assert page.locator("main img[src='x']").count() == 0

    # Play the album; seek in the first track (a WAV: Range requests).
    page.click("button.play.wide")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.3")
    assert page.locator("#player .np-title").inner_text() == "Nocturne in C"
    assert page.locator("tr.playing .col-title").inner_text() == "Nocturne in C"
    page.evaluate(
        "() => { const s = document.querySelector('#player .seek');"
        " s.value = 30; s.dispatchEvent(new Event('change')); }"
    )
    page.wait_for_function("() => document.getElementById('audio').currentTime >= 30")
    assert any(status == 206 for _, status, _ in streams), streams
    shoot(page, shots, "album-desktop")

    # The queue survives navigation: pages load in place while the music goes on.
    page.click("header nav a[href='/artists']") if page.locator(
        "header nav a[href='/artists']"
    ).is_visible() else page.goto(server.url + "/artists")
    page.locator("h1", has_text="Artists").wait_for()
    state = audio_state(page)
    assert not state["paused"] and "/stream" in state["src"]
    shoot(page, shots, "artists-desktop")

    # Next track, then the hostile title in the player bar is text too.
    page.click("#player [data-act=next]")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.2")
    assert page.locator("#player .np-title").inner_text() == HOSTILE

    # A transcoded stream plays.
    page.select_option("#quality", "opus:64")
    page.wait_for_function(
        "() => { const a = document.getElementById('audio');"
        " return a.currentSrc.includes('format=opus') && a.currentTime > 0.2; }"
    )
    assert any("format=opus" in url and status == 200 for url, status, _ in streams)
    page.select_option("#quality", "")

    # A playlist from the album page: made, reordered, still so after a reload.
    page.goto(server.url + "/")
    page.locator("#albums .card", has_text="Nocturnes").locator("a.card-link").click()
    page.locator("h1", has_text="Nocturnes").wait_for()
    page.select_option(".add-to-playlist select", "new")
    page.fill(".add-to-playlist input[name=new_name]", "Road trip")
    page.click(".add-to-playlist button")
    page.locator("h1#playlist-name", has_text="Road trip").wait_for()
    titles = page.locator("#playlist-tracks .pl-title")
    assert titles.all_inner_texts() == ["Nocturne in C", HOSTILE, "Nocturne in E"]
    page.locator("#playlist-tracks li").nth(0).locator("button.move-down").click()
    page.wait_for_function(
        "() => document.querySelector('#playlist-tracks .pl-title').textContent !== 'Nocturne in C'"
    )
    page.reload()
    assert page.locator("#playlist-tracks .pl-title").all_inner_texts() == [
        HOSTILE,
        "Nocturne in C",
        "Nocturne in E",
    ]
    shoot(page, shots, "playlist-desktop")
    playlist_url = page.url

    # A second user, made by the admin, sees none of it.
    page.goto(server.url + "/users")
    page.fill("#new-user input[name=username]", "bea")
    page.fill("#new-user input[name=password]", "bea's password")
    page.click("#new-user button")
    page.locator("td", has_text="bea").wait_for()
    other = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    phone = other.new_page()
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(phone, server.url, "bea", "bea's password", "/playlists")
    assert "Road trip" not in phone.locator("main").inner_text()
    phone.goto(playlist_url)
    assert "Nothing here" in phone.title()

    # On a phone: no page scrolls sideways.
    for path, name in (("/", "albums-phone"), ("/tracks", "tracks-phone"), ("/artists", "artists-phone"),
                       ("/search?q=nocturne", "search-phone"), ("/playlists", None), ("/genres", None),
                       ("/activity", "activity-phone")):  # fmt: skip
        phone.goto(server.url + path)
        assert no_horizontal_scroll(phone), path
        if name:
            shoot(phone, shots, name)
    phone.goto(server.url + "/")
    phone.locator("#albums .card", has_text="Nocturnes").locator("a.card-link").click()
    phone.locator("h1", has_text="Nocturnes").wait_for()
    phone.click("button.play.wide")
    phone.wait_for_function("() => document.getElementById('audio').currentTime > 0.2")
    assert no_horizontal_scroll(phone)
    shoot(phone, shots, "album-phone")

    # A track page once the analysis ran: readable units, the features drawn, what sounds like it.
    nocturne = server.wait_until(
        lambda: next((t for t in server.tracks() if t["title"] == "Nocturne in C" and t.get("analyzed_at")), None),
        timeout=120, what="the analysis of Nocturne in C",
    )  # fmt: skip
    page.goto(f"{server.url}/tracks/{nocturne['id']}")
    assert "BPM" in page.locator("main").inner_text() and page.locator("svg.features").count() == 1
    shoot(page, shots, "track-desktop")
    page.goto(server.url + "/settings")
    shoot(page, shots, "settings-desktop")
    assert errors == []
