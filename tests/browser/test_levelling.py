"""Issue 26, item 3, in Chromium against a real `serve`: ReplayGain in the player. Two tracks
12 dB apart in loudness play within 1 dB of each other in track mode, measured at the output
by a Web Audio analyser; off, they are 12 dB apart again."""

from __future__ import annotations

import statistics
import subprocess

from support.audio_files import tag
from support.browsing import PASSWORD, log_in


def sine(path, db: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "sine=frequency=440:duration=12", "-af", f"volume={db}dB", "-c:a", "flac", str(path)],
        check=True,
    )  # fmt: skip


def measured(page) -> float:
    """The output level (dBFS), the median of a second's readings."""
    readings = []
    for _ in range(10):
        page.wait_for_timeout(100)
        readings.append(page.evaluate("() => SoniqueBay.player.level()"))
    return statistics.median(readings)


def play_and_measure(page, title: str) -> float:
    page.locator("#player .queue-list .q-title", has_text=title).click()
    page.wait_for_function("() => document.getElementById('audio').currentTime > 1.0")
    return measured(page)


def test_track_levelling_brings_a_12_db_gap_within_1_db(serve, library, browser):
    sine(library / "Levels" / "01.flac", -6.0)
    sine(library / "Levels" / "02.flac", -18.0)
    tag(library / "Levels" / "01.flac", title="Loud", artist="Tones", album="Levels", track="1")
    tag(library / "Levels" / "02.flac", title="Quiet", artist="Tones", album="Levels", track="2")
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    server.wait_until(
        lambda: [t for t in server.tracks() if t.get("replaygain_track_gain") is not None][1:],
        timeout=300, what="both tracks' loudness measured",
    )  # fmt: skip
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    log_in(page, server.url, next_path=f"/albums/{server.tracks()[0]['album_id']}")
    page.click("button.play.wide")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.2")
    page.click("#player [data-act=queue]")
    page.select_option("#rg-mode", "track")
    levelled = play_and_measure(page, "Loud") - play_and_measure(page, "Quiet")
    assert abs(levelled) < 1.0, f"track mode left {levelled:.1f} dB between them"
    page.select_option("#rg-mode", "off")
    apart = play_and_measure(page, "Loud") - play_and_measure(page, "Quiet")
    assert 11.0 < apart < 13.0, apart  # what the files themselves are
    page.reload()  # the choice is kept
    assert page.input_value("#rg-mode") == "off"
