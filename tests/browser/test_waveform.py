"""Issue 26, item 4, in Chromium against a real `serve`: the analysis stores a waveform (200
peaks) per track, and the player draws it behind the seek bar; a click on it plays from there,
on a desktop and on a phone. The README's player screenshots (waveform and synced lyrics) are
taken here: to $SONIQUEBAY_SCREENSHOTS when set, else the test's temporary folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from support.audio_files import tag
from support.browsing import PASSWORD, log_in


def loud_then_quiet(path) -> None:
    """20 s: a loud first half, a half 18 dB quieter."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "sine=frequency=330:duration=20", "-af", "volume='if(lt(t,10),0.8,0.1)':eval=frame",
         "-c:a", "flac", str(path)],
        check=True,
    )  # fmt: skip


def click_at(page, share: float) -> None:
    box = page.locator("#player .seek-wrap").bounding_box()
    page.mouse.click(box["x"] + box["width"] * share, box["y"] + box["height"] / 2)


def test_the_seek_bar_shows_the_waveform_and_a_click_plays_from_there(
    serve, library, browser, tmp_path
):
    shots = Path(os.environ.get("SONIQUEBAY_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    (library / "Wave").mkdir(parents=True)
    (library / "Wave" / "01.lrc").write_text(
        "[00:00.50]Loud at first\n[00:05.00]Still loud\n[00:10.00]Then quiet\n[00:15.00]Quieter\n"
    )
    loud_then_quiet(library / "Wave" / "01.flac")
    tag(library / "Wave" / "01.flac", title="Halves", artist="Tones", album="Wave", track="1")
    server = serve(
        env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD, "SONIQUEBAY_PLUGIN_LYRICS_ENABLED": "true"}
    )
    [track] = server.wait_for_tracks(1)
    peaks = server.wait_until(
        lambda: server.get(f"/api/tracks/{track['id']}/waveform")["peaks"],
        timeout=300,
        what="the analysis's waveform",
    )
    assert len(peaks) == 200
    assert min(peaks[:95]) > 200 and max(peaks[105:]) < 50  # 0.8 then 0.1 of full scale

    for viewport, share, expected, name in (
        ({"width": 1280, "height": 860}, 0.75, 15.0, "player-desktop"),
        ({"width": 360, "height": 740}, 0.25, 5.0, "player-phone"),
    ):
        page = browser.new_context(viewport=viewport).new_page()
        errors = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        log_in(page, server.url, next_path=f"/albums/{track['album_id']}")
        page.click("button.play.wide")
        page.wait_for_function("() => document.getElementById('audio').currentTime > 0.2")
        page.locator("#player .timeline.has-wave .wave").wait_for()
        assert page.get_attribute("#player .wave-all", "d").count("M") == 200
        click_at(page, share)
        page.wait_for_function(
            f"() => Math.abs(document.getElementById('audio').currentTime - {expected}) < 1.5"
        )
        played = float(page.get_attribute("#player .wave-clip", "width"))
        assert abs(played - 200 * share) < 12, played  # the played part is drawn up to there
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.click("#player [data-act=toggle]")  # paused: the picture is the same each time
        page.click("#player [data-act=lyrics]")  # for the README: waveform and synced lyrics
        page.locator("#lyrics-panel li.current").wait_for()
        page.screenshot(path=str(shots / f"{name}.png"))
        page.click("#player [data-act=lyrics]")
        page.click("#player [data-act=toggle]")
        page.focus("#player .seek")  # the range input under the waveform keeps the keyboard
        page.keyboard.press("End")
        page.wait_for_function("() => document.getElementById('audio').currentTime > 17")
        assert errors == []
        page.context.close()
