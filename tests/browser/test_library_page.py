"""The library page in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

HOSTILE = "<img src=x onerror=\"document.title='pwned'\">Song"


def test_new_tracks_appear_live_and_tag_text_stays_text(serve, library, audio, browser, tmp_path):
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": "correct horse battery"})
    audio.make(library / "first.mp3", title="First Song", artist="Someone")
    server.wait_for_tracks(1)

    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/tracks")
    # Reads are not open to anonymous users by default: the page sends us to log in.
    assert "/login" in page.url
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct horse battery")
    page.click("form.login button, form.login input[type=submit]")
    page.wait_for_url(server.url + "/tracks")
    assert page.locator("#tracks tbody tr").count() == 1
    assert page.locator("#count-tracks").inner_text() == "1"

    # A file lands while the page is open: the row appears without a reload.
    audio.make(library / "second.flac", title=HOSTILE, artist="Mallory", album="<b>Bold</b>")
    # (a locator wait: the page's Content-Security-Policy forbids evaluating strings)
    page.locator("#tracks tbody tr", has_text="Mallory").wait_for(timeout=20_000)
    assert page.locator("#tracks tbody tr").count() == 2
    assert page.locator("#count-tracks").inner_text() == "2"
    cells = page.locator("#tracks tbody tr", has_text="Mallory").locator("td")
    assert cells.nth(1).inner_text() == HOSTILE
    assert cells.nth(3).inner_text() == "<b>Bold</b>"
    assert page.locator("#tracks img, #tracks b").count() == 0
    assert page.title() != "pwned"
    page.screenshot(path=str(tmp_path / "library.png"), full_page=True)

    # The track page, rendered by Jinja, escapes the same text.
    page.locator("#tracks tbody tr", has_text="Mallory").locator(".col-title a").click()
    page.locator("h1", has_text="Song").wait_for()  # the page loads in place
    assert page.locator("h1").inner_text() == HOSTILE
    assert page.locator("main img").count() == 0
    assert errors == []
