"""A user's view: `soniquebay serve` on a folder, observed only through HTTP."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from support.audio_files import FORMATS

ALBUM_TAGS = dict(
    artist="Nina Test",
    album="Generated Hits",
    album_artist="Various Testers",
    genre="Electronic",
    date="2024",
    disc="1/2",
    musicbrainz_albumid="11111111-2222-3333-4444-555555555555",
    musicbrainz_artistid="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
)


def by_title(tracks):
    return {t["title"]: t for t in tracks}


def test_album_in_every_format_is_listed_everywhere(serve, library, audio):
    server = serve()
    for number, fmt in enumerate(FORMATS, start=1):
        audio.make(
            library / "Album" / f"{number:02d} track.{fmt}",
            title=f"Song {fmt}",
            track=f"{number}/7",
            musicbrainz_recordingid=f"00000000-0000-0000-0000-00000000000{number}",
            **ALBUM_TAGS,
        )
    tracks = by_title(server.wait_for_tracks(len(FORMATS)))

    for number, fmt in enumerate(FORMATS, start=1):
        t = tracks[f"Song {fmt}"]
        assert t["artist_name"] == "Nina Test", fmt
        assert t["album_title"] == "Generated Hits", fmt
        assert t["album_artist_name"] == "Various Testers", fmt
        assert (t["track_number"], t["track_total"]) == (number, 7), fmt
        assert t["disc_number"] == 1, fmt
        assert t["year"] == 2024, fmt
        assert t["genre"] == "Electronic", fmt
        assert 0.9 < t["duration"] < 1.2, fmt
        assert t["bitrate"] > 0 and t["sample_rate"] in (44100, 48000), fmt
        assert t["musicbrainz_albumid"] == ALBUM_TAGS["musicbrainz_albumid"], fmt
        assert t["musicbrainz_id"] == f"00000000-0000-0000-0000-00000000000{number}", fmt
        assert t["path"].endswith(f"{number:02d} track.{fmt}")

    artists = {a["name"] for a in server.get("/api/artists")["items"]}
    assert artists == {"Nina Test", "Various Testers"}
    albums = server.get("/api/albums")["items"]
    assert [(a["title"], a["album_artist_name"], a["track_count"]) for a in albums] == [
        ("Generated Hits", "Various Testers", 7)
    ]
    answer = server.graphql(
        "{ tracks(limit: 10, sort: album) { total items { title track_number album { title } "
        "artist { name } } } }"
    )
    assert answer["data"]["tracks"]["total"] == 7
    assert [t["track_number"] for t in answer["data"]["tracks"]["items"]] == list(range(1, 8))
    assert {t["album"]["title"] for t in answer["data"]["tracks"]["items"]} == {"Generated Hits"}
    page = server.get("/tracks")  # every track listed
    for fmt in FORMATS:
        assert f"Song {fmt}" in page
    assert "Generated Hits" in server.get("/")  # the albums page (home)


def test_moved_and_renamed_files_keep_their_ids(serve, library, audio):
    server = serve()
    audio.make(library / "a.mp3", title="Wanderer")
    audio.make(library / "b.flac", title="Stayer")
    before = by_title(server.wait_for_tracks(2))

    (library / "sub" / "deeper").mkdir(parents=True)
    os.rename(library / "a.mp3", library / "sub" / "deeper" / "renamed.mp3")
    moved = server.wait_until(
        lambda: (
            (t := by_title(server.tracks()))
            and "Wanderer" in t
            and t["Wanderer"]["path"].endswith("deeper/renamed.mp3")
            and t
        ),
        what="the move to be seen",
    )
    assert moved["Wanderer"]["id"] == before["Wanderer"]["id"]
    assert moved["Stayer"]["id"] == before["Stayer"]["id"]
    assert len(server.tracks()) == 2

    os.rename(library / "sub", library / "moved-folder")  # a whole folder moves
    moved = server.wait_until(
        lambda: (
            (t := by_title(server.tracks()))
            and "Wanderer" in t
            and "moved-folder" in t["Wanderer"]["path"]
            and t
        ),
        what="the folder move to be seen",
    )
    assert moved["Wanderer"]["id"] == before["Wanderer"]["id"]
    assert len(server.tracks()) == 2


def test_deleted_file_leaves_listings_and_comes_back_with_its_id(serve, library, audio, tmp_path):
    server = serve()
    audio.make(library / "keep.mp3", title="Keeper", artist="Stays")
    audio.make(library / "gone.ogg", title="Leaver", artist="Goes", album="Gone Album")
    before = by_title(server.wait_for_tracks(2))

    outside = tmp_path / "outside.ogg"
    shutil.copy2(library / "gone.ogg", outside)  # the user keeps a copy elsewhere...
    (library / "gone.ogg").unlink()
    tracks = server.wait_for_tracks(1)
    assert tracks[0]["title"] == "Keeper"
    assert [a["name"] for a in server.get("/api/artists")["items"]] == ["Stays"]
    # "Gone Album" left the listings; the keeper, untagged, is in its folder's album.
    assert [a["title"] for a in server.get("/api/albums")["items"]] == [f"[{library.name}]"]
    assert server.get(f"/api/tracks/{before['Leaver']['id']}")["missing"] is True

    shutil.copy2(
        outside, library / "back-again.ogg"
    )  # ...and puts it back: a move seen as delete + create
    back = by_title(server.wait_for_tracks(2))
    assert back["Leaver"]["id"] == before["Leaver"]["id"]
    assert back["Leaver"]["path"].endswith("back-again.ogg")


def test_vanished_library_folder_deletes_nothing(serve, library, audio, tmp_path):
    server = serve()
    for i in range(3):
        audio.make(library / f"{i}.mp3", title=f"T{i}")
    server.wait_for_tracks(3)
    parked = tmp_path / "unplugged"
    os.rename(library, parked)  # the drive goes away
    time.sleep(3)  # give the watcher every chance to (wrongly) delete
    assert len(server.tracks()) == 3
    health = server.get("/api/health", ok_only=False)
    assert health["library"][0]["online"] is False
    os.rename(parked, library)


def test_emptied_library_folder_deletes_nothing_at_restart(serve, library, audio, tmp_path):
    server = serve()
    for i in range(2):
        audio.make(library / f"{i}.flac", title=f"T{i}")
    server.wait_for_tracks(2)
    server.stop()
    parked = tmp_path / "parked"
    shutil.move(library, parked)
    library.mkdir()  # an empty mount point: the drive is not plugged in
    server.start()
    time.sleep(3)
    assert len(server.tracks()) == 2


def test_restart_reconciles_without_rereading_unchanged_files(serve, library, audio):
    server = serve()
    audio.make(library / "same.mp3", title="Same")
    audio.make(library / "changes.mp3", title="Before")
    audio.make(library / "removed.mp3", title="Removed")
    before = by_title(server.wait_for_tracks(3))
    server.stop()

    audio.make(library / "changes.mp3", title="After", seconds=2.0)
    (library / "removed.mp3").unlink()
    audio.make(library / "new.opus", title="New")
    server.start()
    after = server.wait_until(
        lambda: (t := by_title(server.tracks())) and set(t) == {"Same", "After", "New"} and t,
        what="the reconcile",
    )
    assert after["Same"]["updated_at"] == before["Same"]["updated_at"]  # not read again
    assert after["After"]["id"] == before["Before"]["id"]
    assert after["After"]["duration"] > 1.5


def test_half_copied_file_is_read_once_when_complete(serve, library, audio, tmp_path):
    server = serve()
    source = audio.make(tmp_path / "src" / "slow.flac", title="Slow Copy", seconds=4.0)
    data = source.read_bytes()
    with open(library / "slow.flac", "wb") as out:
        out.write(data[: len(data) // 3])
        out.flush()
        time.sleep(2.5)  # a stalled copy: longer than the quiet period
        out.write(data[len(data) // 3 :])
    track = server.wait_for_tracks(1)[0]
    time.sleep(1.5)  # would a second read happen?
    track = server.get(f"/api/tracks/{track['id']}")
    assert track["title"] == "Slow Copy"
    assert 3.9 < track["duration"] < 4.2
    assert track["updated_at"] == track["date_added"], "the file was read more than once"
    assert server.get("/api/scan/errors")["total"] == 0


def test_bad_files_are_recorded_and_the_scan_goes_on(serve, library, audio):
    server = serve()
    (library / "empty.mp3").write_bytes(b"")
    (library / "text.mp3").write_text("this is not music\n" * 50)
    good = audio.make(library / "../good-source.flac", title="Truncated")
    (library / "truncated.flac").write_bytes(good.read_bytes()[:120])
    (library / "garbage.m4a").write_bytes(os.urandom(4096))
    audio.make(library / "fine.wav", title="Fine")
    name = b"caf\xe9-latin1.mp3"  # not UTF-8
    audio.make(os.path.join(os.fsencode(library), name), title="Latin-1 Name")

    tracks = by_title(server.wait_for_tracks(2))
    assert set(tracks) == {"Fine", "Latin-1 Name"}
    assert "\ufffd" in tracks["Latin-1 Name"]["path"]
    errors = server.wait_until(
        lambda: (e := server.get("/api/scan/errors")) and e["total"] == 4 and e,
        what="4 scan errors",
    )
    reasons = {os.path.basename(e["path"]): e["reason"] for e in errors["items"]}
    assert "empty" in reasons["empty.mp3"]
    assert reasons["text.mp3"] and reasons["truncated.flac"] and reasons["garbage.m4a"]
    assert "Latin-1 Name" in server.get("/tracks")


# Root reads any file, so "unreadable" can only be shown by dropping to `nobody`, which needs
# root; a non-root run already sees permission errors in normal use. CI runs as root.
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the reader as another user")
def test_unreadable_file_is_recorded_with_its_reason(audio):
    """As root every file is readable, so the reader runs as `nobody` on a file it may not read."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="soniquebay-locked-"))  # pytest's own tmp is root-only
    folder.chmod(0o755)
    path = audio.make(folder / "secret.mp3", title="Secret")
    path.chmod(0o000)
    code = (
        "import json, os, sys; from soniquebay import config; from soniquebay.plugins import get_plugin_manager;"
        "from soniquebay.daemon.reading import read_file;"
        "pm = get_plugin_manager(config.load(environ={}));"
        "os.setgid(65534); os.setuid(65534);"
        f"r = read_file(pm, {str(path)!r});"
        "print(json.dumps(r.error))"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
    finally:
        path.unlink()
        folder.rmdir()
    assert "cannot read the file: permission denied" in out.stdout
