"""Issue 9: every tag format TagLib reads for our containers, written by the tools that write
them (ffmpeg, mutagen), read by the builtin tag plugin."""

from __future__ import annotations

import subprocess

from mutagen.apev2 import APEv2
from mutagen.id3 import ID3, TALB, TCON, TDRC, TIT2, TPE1, TRCK
from mutagen.id3 import delete as delete_id3
from mutagen.wave import WAVE
from support.audio_files import generate

from soniquebay.plugins.builtin.tags import read_tags

EXPECTED = {"title": "T", "artist": "A", "album": "B", "year": 1999, "track_number": 3}


def ffmpeg(out, *args):
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "sine=duration=2", *args, str(out)],
        check=True,
    )  # fmt: skip
    return out


def meta(**tags) -> list[str]:
    return [arg for key, value in tags.items() for arg in ("-metadata", f"{key}={value}")]


def picked(found: dict, keys=EXPECTED) -> dict:
    return {k: found.get(k) for k in keys}


def test_id3v1_only_mp3(tmp_path):
    path = generate(tmp_path / "v1.mp3", seconds=2)
    tags = ID3()
    for frame in (TIT2(text=["T"]), TPE1(text=["A"]), TALB(text=["B"]), TDRC(text=["1999"]),
                  TRCK(text=["3"]), TCON(text=["Jazz"])):  # fmt: skip
        tags.add(frame)
    tags.save(path, v1=2)  # mutagen writes both; keep only the 128-byte v1 at the end
    delete_id3(path, delete_v1=False, delete_v2=True)
    assert not path.read_bytes().startswith(b"ID3") and path.read_bytes()[-128:-125] == b"TAG"
    found = read_tags(str(path))
    assert picked(found) == EXPECTED and found["genre"] == "Jazz"


def test_id3v22_mp3(tmp_path):
    """No tool writes ID3v2.2 any more (iTunes did): the 2.2 layout is built here by hand,
    3-letter frame ids and 3-byte sizes, in front of an ffmpeg MP3."""
    frames = b""
    for frame_id, text in (("TT2", "T"), ("TP1", "A"), ("TAL", "B"), ("TYE", "1999"),
                           ("TRK", "3")):  # fmt: skip
        data = b"\x00" + text.encode("latin-1")
        frames += frame_id.encode() + len(data).to_bytes(3, "big") + data
    size = len(frames)
    syncsafe = bytes((size >> s) & 0x7F for s in (21, 14, 7, 0))
    audio = generate(tmp_path / "plain.mp3", seconds=2).read_bytes()
    path = tmp_path / "v22.mp3"
    path.write_bytes(b"ID3\x02\x00\x00" + syncsafe + frames + audio)
    assert picked(read_tags(str(path))) == EXPECTED


def test_apev2_on_mp3(tmp_path):
    path = ffmpeg(tmp_path / "ape.mp3", "-id3v2_version", "0")
    ape = APEv2()
    ape.update({"Title": "T", "Artist": "A", "Album": "B", "Year": "1999", "Track": "3/9"})
    ape.save(path)
    found = read_tags(str(path))
    assert picked(found) == EXPECTED and found["track_total"] == 9


def test_apev2_fills_only_what_id3v2_lacks(tmp_path):
    path = ffmpeg(tmp_path / "both.mp3", *meta(title="From ID3"))
    ape = APEv2()
    ape.update({"Title": "From APE", "Artist": "A"})
    ape.save(path)
    found = read_tags(str(path))
    assert (found["title"], found["artist"]) == ("From ID3", "A")


def test_riff_info_in_wav(tmp_path):
    path = ffmpeg(tmp_path / "info.wav", *meta(title="T", artist="A", album="B", date="1999",
                                               track="3", genre="Rock"))  # fmt: skip
    assert b"LIST" in path.read_bytes() and b"INFO" in path.read_bytes()
    found = read_tags(str(path))
    assert picked(found) == EXPECTED and found["genre"] == "Rock"


def test_id3_chunk_in_aiff(tmp_path):
    path = ffmpeg(tmp_path / "id3.aiff", "-write_id3v2", "1",
                  *meta(title="T", artist="A", album="B", date="1999", track="3"))  # fmt: skip
    assert b"ID3" in path.read_bytes()
    assert picked(read_tags(str(path))) == EXPECTED


def test_id3_chunk_in_wav_wins_over_riff_info_and_info_fills_the_rest(tmp_path):
    """ffmpeg writes WAV metadata as RIFF INFO; mutagen adds the "id3 " chunk."""
    path = ffmpeg(tmp_path / "both.wav", *meta(title="Info title", genre="Rock"))
    wave = WAVE(path)
    wave.add_tags()
    for frame in (TIT2(text=["T"]), TPE1(text=["A"]), TALB(text=["B"]), TDRC(text=["1999"]),
                  TRCK(text=["3"])):  # fmt: skip
        wave.tags.add(frame)
    wave.save()
    assert b"id3 " in path.read_bytes() and b"INFO" in path.read_bytes()
    found = read_tags(str(path))
    assert picked(found) == EXPECTED and found["genre"] == "Rock"


def test_replaygain_tags_in_every_container(tmp_path):
    """ReplayGain as foobar2000, mp3gain, rsgain and opusenc write it: TXXX frames (any case),
    Vorbis comments, APEv2 on MP3, iTunes freeform atoms, and Opus's R128_* (Q7.8 dB against
    -23 LUFS, so -1664 is -6.5 dB at -23, -1.5 dB at ReplayGain's -18)."""
    from mutagen.id3 import TXXX
    from mutagen.mp4 import MP4, MP4FreeForm
    from mutagen.oggopus import OggOpus

    mp3 = generate(tmp_path / "rg.mp3", seconds=2)
    tags = ID3(mp3)
    tags.add(TXXX(encoding=3, desc="REPLAYGAIN_TRACK_GAIN", text=["-6.50 dB"]))
    tags.add(TXXX(encoding=3, desc="replaygain_track_peak", text=["0.988547"]))
    tags.add(TXXX(encoding=3, desc="REPLAYGAIN_ALBUM_GAIN", text=["-7.10 dB"]))
    tags.save(mp3)
    found = read_tags(str(mp3))
    assert (found["tagged_track_gain"], found["tagged_track_peak"]) == (-6.5, 0.988547)
    assert found["tagged_album_gain"] == -7.1 and found.get("tagged_album_peak") is None

    ape_mp3 = generate(tmp_path / "mp3gain.mp3", seconds=2)
    ape = APEv2()
    ape["REPLAYGAIN_TRACK_GAIN"] = "+2.30 dB"
    ape.save(str(ape_mp3))
    assert read_tags(str(ape_mp3))["tagged_track_gain"] == 2.3

    flac = ffmpeg(tmp_path / "rg.flac", *meta(REPLAYGAIN_TRACK_GAIN="-3.20 dB",
                                               REPLAYGAIN_ALBUM_PEAK="1.000000"))  # fmt: skip
    found = read_tags(str(flac))
    assert (found["tagged_track_gain"], found["tagged_album_peak"]) == (-3.2, 1.0)

    m4a = ffmpeg(tmp_path / "rg.m4a", "-c:a", "aac")
    mp4 = MP4(m4a)
    mp4["----:com.apple.iTunes:replaygain_track_gain"] = [MP4FreeForm(b"-4.00 dB")]
    mp4.save()
    assert read_tags(str(m4a))["tagged_track_gain"] == -4.0

    opus = ffmpeg(tmp_path / "rg.opus", "-c:a", "libopus")
    ogg = OggOpus(opus)
    ogg["R128_TRACK_GAIN"] = "-1664"
    ogg["R128_ALBUM_GAIN"] = "256"
    ogg.save()
    found = read_tags(str(opus))
    assert (found["tagged_track_gain"], found["tagged_album_gain"]) == (-1.5, 6.0)

    nonsense = ffmpeg(tmp_path / "bad.flac", *meta(REPLAYGAIN_TRACK_GAIN="loud",
                                                   REPLAYGAIN_TRACK_PEAK="1e9"))  # fmt: skip
    found = read_tags(str(nonsense))
    assert found.get("tagged_track_gain") is None and found.get("tagged_track_peak") is None
