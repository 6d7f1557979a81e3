"""Issue 26, item 5, in Chromium against a real `serve`: the lyrics panel follows time-synced
lyrics (an .lrc beside the track): the current line is lit and kept in view as the music
plays, a click on a line plays from there; plain lyrics show as text."""

from __future__ import annotations

from support.browsing import PASSWORD, log_in

LRC = "[00:00.50]One\n[00:02.00]Two\n[00:04.00]Three\n[00:20.00]Far along\n"


def test_synced_lyrics_follow_the_music_and_a_line_plays_from_there(serve, library, audio, browser):
    folder = library / "Songs"
    folder.mkdir(parents=True)
    (folder / "01.lrc").write_text(LRC)  # beside the track before it lands: read at once
    audio.make(folder / "01.mp3", seconds=30, title="Sung", artist="Band", album="Songs",
               track="1")  # fmt: skip
    audio.make(folder / "02.flac", seconds=5, title="Plain", artist="Band", album="Songs",
               track="2", lyrics="la la\nla")  # fmt: skip
    server = serve(
        env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD, "SONIQUEBAY_PLUGIN_LYRICS_ENABLED": "true"}
    )
    ids = {t["title"]: t["id"] for t in server.wait_for_tracks(2)}
    server.wait_until(
        lambda: all(server.get(f"/api/tracks/{i}/lyrics")["text"] for i in ids.values()),
        timeout=60,
        what="the lyrics stage on both tracks",
    )
    synced = server.get(f"/api/tracks/{ids['Sung']}/lyrics")
    assert synced["synced"] == [[0.5, "One"], [2.0, "Two"], [4.0, "Three"], [20.0, "Far along"]]
    plain = server.get(f"/api/tracks/{ids['Plain']}/lyrics")
    assert plain["synced"] is None and plain["text"] == "la la\nla"

    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, server.url, next_path=f"/albums/{server.tracks()[0]['album_id']}")
    page.click("button.play.wide")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.1")
    page.click("#player [data-act=lyrics]")
    lines = page.locator("#lyrics-panel .lyrics-lines li")
    lines.nth(3).wait_for()
    assert lines.all_inner_texts() == ["One", "Two", "Three", "Far along"]

    # The lit line follows the music.
    page.wait_for_function(
        "() => { const c = document.querySelector('#lyrics-panel li.current');"
        " return c && c.textContent === 'Two' && c.getAttribute('aria-current') === 'true'; }"
    )
    # A click on a line plays from there; that line is lit.
    page.click("#lyrics-panel .lyrics-lines button:text-is('Far along')")
    page.wait_for_function("() => document.getElementById('audio').currentTime >= 20")
    page.wait_for_function(
        "() => document.querySelector('#lyrics-panel li.current').textContent === 'Far along'"
    )

    # The next track's lyrics are plain text; the queue panel and the lyrics take turns.
    page.click("#player [data-act=next]")
    page.locator("#lyrics-panel .lyrics-text", has_text="la la").wait_for()
    assert page.locator("#lyrics-panel .lyrics-lines").count() == 0
    page.click("#player [data-act=queue]")
    assert page.locator("#lyrics-panel").is_hidden() and page.locator("#queue-panel").is_visible()
    assert page.get_attribute("#player [data-act=lyrics]", "aria-expanded") == "false"
    assert errors == []
