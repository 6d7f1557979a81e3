"""Issue 26, item 2, in Chromium against a real `serve`: a live album cut from one continuous
sine sweep plays without a gap — when a track ends, the next one is already loaded in the other
audio element and starts at once, with no new request (the time from ``ended`` to ``playing``
is printed, not asserted: speed belongs in bench/) — and the optional crossfade overlaps two
tracks, the outgoing one fading out while the next fades in."""

from __future__ import annotations

import subprocess

from support.audio_files import tag
from support.browsing import PASSWORD, log_in

PARTS = 3
SECONDS = 8


def sweep_album(folder) -> None:
    """One sweep, 200 Hz to 2 kHz over 24 s, cut into three 8 s FLAC tracks (sample-exact)."""
    folder.mkdir(parents=True, exist_ok=True)
    whole = folder.parent / "whole.wav"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"aevalsrc='0.5*sin(2*PI*(200*t+1800*t*t/(2*{PARTS * SECONDS})))':s=44100:d={PARTS * SECONDS}",
         str(whole)],
        check=True,
    )  # fmt: skip
    for n in range(PARTS):
        path = folder / f"{n + 1:02d}.flac"
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(whole),
             "-af", f"atrim=start_sample={n * SECONDS * 44100}:end_sample={(n + 1) * SECONDS * 44100}",
             str(path)],
            check=True,
        )  # fmt: skip
        tag(path, title=f"Part {n + 1}", artist="Sweep", album="Live sweep", track=str(n + 1))
    whole.unlink()


WATCH = """() => {
  window.gaps = []; window.turns = []; window.lastEnded = null;
  for (const el of [document.getElementById('audio'), document.getElementById('audio-next')]) {
    el.addEventListener('ended', (e) => {
      window.lastEnded = e.timeStamp;
      // The player's own handler ran first: the element now playing took its turn.
      const now = document.getElementById('audio');
      window.turns.push({other: now !== e.target, loaded: now.readyState >= 3,
                         src: now.currentSrc.split('/api/tracks/')[1]});
    });
    el.addEventListener('playing', (e) => {
      if (window.lastEnded !== null) { window.gaps.push(e.timeStamp - window.lastEnded); window.lastEnded = null; }
    });
  }
}"""


def test_a_live_album_plays_without_gaps_and_crossfades_when_asked(serve, library, browser):
    sweep_album(library / "Live sweep")
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    server.wait_for_tracks(PARTS)
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, server.url, next_path=f"/albums/{server.tracks()[0]['album_id']}")
    page.evaluate(WATCH)
    page.click("button.play.wide")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.2")
    page.evaluate("() => { document.getElementById('audio').currentTime = 5.5; }")  # near the end
    page.wait_for_function(
        "() => document.querySelector('#player .np-title').textContent === 'Part 2'"
        " && window.gaps.length === 1", timeout=20_000,
    )  # fmt: skip
    page.evaluate("() => { document.getElementById('audio').currentTime = 5.5; }")
    page.wait_for_function(
        "() => document.querySelector('#player .np-title').textContent === 'Part 3'"
        " && window.gaps.length === 2", timeout=20_000,
    )  # fmt: skip
    gaps = page.evaluate("() => window.gaps")
    print(f"gaps between tracks: {[round(g, 1) for g in gaps]} ms")
    turns = page.evaluate("() => window.turns")
    ids = sorted(t["id"] for t in server.tracks())  # the album's order: parts 1, 2, 3
    # Each end: the other element, already loaded ahead with the next track, took over.
    assert turns == [{"other": True, "loaded": True, "src": f"{ids[1]}/stream"},
                     {"other": True, "loaded": True, "src": f"{ids[2]}/stream"}], turns  # fmt: skip
    assert errors == []

    # Crossfade: 4 s; the outgoing track fades out while the next one fades in, both playing.
    page.click("#player [data-act=queue]")
    page.select_option("#crossfade", "4")
    page.locator("#player .queue-list .q-title", has_text="Part 1").click()
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.2")
    page.evaluate("() => { document.getElementById('audio').currentTime = 2.5; }")
    page.wait_for_function(
        "() => document.querySelector('#player .np-title').textContent === 'Part 2'", timeout=20_000
    )
    both = page.evaluate(
        "() => { const a = document.getElementById('audio'), b = document.getElementById('audio-next');"
        " return {inPlaying: !a.paused, outPlaying: !b.paused, inVolume: a.volume, outVolume: b.volume}; }"
    )
    assert both["inPlaying"] and both["outPlaying"], both  # an overlap, not a cut
    assert both["inVolume"] < 1 and both["outVolume"] > 0, both
    page.wait_for_function(
        "() => document.getElementById('audio-next').paused"
        " && document.getElementById('audio').volume === 1", timeout=20_000,
    )  # fmt: skip
    page.reload()
    assert page.input_value("#crossfade") == "4"  # this browser's choice, kept
    assert errors == []
