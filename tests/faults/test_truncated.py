"""Issue 9, case 7: a copy cut short is listed with what it really holds and a `truncated`
warning, never silently as the whole track; whole files of every format raise no warning."""

from __future__ import annotations

import mutagen
import pytest
from support.audio_files import FORMATS

from soniquebay.plugins.builtin.integrity import present_seconds
from soniquebay.synth import encode, make_track

SECONDS = 30.0


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    folder = tmp_path_factory.mktemp("whole")
    music = make_track(seconds=SECONDS, seed=3)
    return {
        fmt: encode(music, folder / f"whole.{fmt}",
                    extra=["-movflags", "+faststart"] if fmt == "m4a" else None)
        for fmt in FORMATS
    }  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_whole_file_holds_what_it_declares(whole, fmt):
    audio = mutagen.File(whole[fmt])
    present = present_seconds(str(whole[fmt]), audio, audio.info.length)
    assert present is None or present == pytest.approx(audio.info.length, rel=0.02)


def test_cut_copies_are_listed_as_what_they_hold_with_a_warning(serve, library, whole):
    server = serve()
    for fmt in ("flac", "mp3", "wav", "aiff", "m4a"):
        data = whole[fmt].read_bytes()
        (library / f"cut.{fmt}").write_bytes(data[: len(data) // 4])
        (library / f"whole.{fmt}").write_bytes(data)
    tracks = {t["path"].rpartition("/")[2]: t for t in server.wait_for_tracks(10, timeout=60)}
    server.wait_until(
        lambda: server.get("/api/scan/errors")["total"] >= 5, timeout=30, what="the warnings"
    )
    warned = {e["path"].rpartition("/")[2]: e for e in server.get("/api/scan/errors")["items"]}
    assert set(warned) == {f"cut.{fmt}" for fmt in ("flac", "mp3", "wav", "aiff", "m4a")}
    for name, error in warned.items():
        assert error["stage"] == "integrity" and error["reason"].startswith("truncated:"), error
        assert tracks[name]["duration"] == pytest.approx(SECONDS / 4, abs=1.5), name
    for fmt in ("flac", "mp3", "wav", "aiff", "m4a"):
        assert tracks[f"whole.{fmt}"]["duration"] == pytest.approx(SECONDS, abs=0.1)
    # the track's own page says so too
    status, page = server.request(
        "GET", f"/tracks/{tracks['cut.flac']['id']}", headers={"Accept": "text/html"}
    )
    assert (
        status == 200
        and "Problems with this file" in page
        and "truncated: the file declares" in page
    )
    status, page = server.request(
        "GET", f"/tracks/{tracks['whole.flac']['id']}", headers={"Accept": "text/html"}
    )
    assert status == 200 and "Problems with this file" not in page
