"""What real files hold, read by the shipped plugins: lists of artists in each tag format,
compilation flags, sort names; lyrics in every format, and none without being an error."""

from types import SimpleNamespace

import pytest

from soniquebay.plugins.builtin import tags
from soniquebay.plugins.contrib import lyrics

FORMATS = ("mp3", "flac", "ogg", "opus", "m4a")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_value_of_a_multi_valued_field_is_read(audio, tmp_path, fmt):
    path = audio.make(tmp_path / f"a.{fmt}", title="T", artist=["Ann", "Bob"],
                      genre=["Rock", "Pop"], composer="Zed", compilation=1,
                      artist_sort="Ann, The")  # fmt: skip
    read = tags.read_tags(str(path))
    assert read["artist"] == "Ann; Bob"
    assert read["genre"] == "Rock; Pop"
    assert read["composer"] == "Zed"
    assert read["compilation"] == 1
    assert read["artist_sort"] == "Ann, The"


def test_control_characters_in_tags_become_spaces(audio, tmp_path):
    path = audio.make(tmp_path / "c.ogg", title="Bell\x07Song\x1b[31m", artist="A\x00B")
    read = tags.read_tags(str(path))
    assert read["title"] == "Bell Song [31m" and read["artist"] == "A B"


@pytest.mark.parametrize("fmt", FORMATS)
def test_lyrics_are_read_from_every_format_and_their_absence_is_no_error(audio, tmp_path, fmt):
    ctx = SimpleNamespace(options={"max_chars": 100_000})  # what the stage reads of its ctx
    with_lyrics = audio.make(tmp_path / f"l.{fmt}", title="T", lyrics="la la\nlo lo")
    found = lyrics.process_track(ctx=ctx, path=str(with_lyrics))
    assert found["lyrics"] == "la la\nlo lo"
    assert found["lyrics_source"].startswith("embedded")
    bare = audio.make(tmp_path / f"n.{fmt}", title="T")
    assert lyrics.process_track(ctx=ctx, path=str(bare)) is None
    (tmp_path / "n.lrc").write_text("[00:01.50]first\n[00:03.00]second\n")
    beside = lyrics.process_track(ctx=ctx, path=str(bare))
    assert beside["lyrics_synced"] == [[1.5, "first"], [3.0, "second"]]


def test_a_failure_without_a_message_says_where_it_was_raised():
    from soniquebay.plugins import one_line

    def plugin_code():
        raise ValueError

    try:
        plugin_code()
    except ValueError as exc:
        reason = one_line(exc)
    assert reason.startswith("ValueError (raised with no message) at test_messy_tags.py:")
    assert reason.endswith("in plugin_code")


def _flac_with_pictures(audio, path, pictures):
    from mutagen.flac import FLAC, Picture

    audio.make(path, title="T")
    flac = FLAC(path)
    for kind, data in pictures:
        pic = Picture()
        pic.type, pic.mime, pic.data = kind, "image/jpeg", data
        flac.add_picture(pic)
    flac.save()
    return path


def test_the_best_embedded_picture_is_the_front_cover_then_the_largest(audio, tmp_path):
    from support.audio_files import picture

    from soniquebay import artwork

    small_front = picture(tmp_path / "front.jpg", (100, 100))
    large_back = picture(tmp_path / "back.jpg", (800, 800), (10, 10, 200))
    path = _flac_with_pictures(audio, tmp_path / "p.flac", [(4, large_back), (3, small_front)])
    assert artwork.best_embedded(str(path)) == (True, small_front)
    only_backs = _flac_with_pictures(
        audio, tmp_path / "b.flac", [(4, small_front), (4, large_back)]
    )
    assert artwork.best_embedded(str(only_backs)) == (False, large_back)


def test_an_oversized_embedded_picture_is_passed_over_with_a_recorded_warning(audio, tmp_path):
    from mutagen.id3 import APIC, ID3

    from soniquebay import artwork

    huge = b"\xff\xd8\xff" + bytes(artwork.MAX_IMAGE_BYTES + 1)  # FLAC blocks cap at 16 MB
    path = audio.make(tmp_path / "h.mp3", title="T")
    id3 = ID3(path)
    id3.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=huge))
    id3.save()
    read = tags.read_tags(str(path))
    assert read["title"] == "T"
    assert read["warning"].startswith("embedded picture of 16 MB ignored (over 16 MB)")
    assert artwork.best_embedded(str(path)) is None


def test_performers_are_read_without_their_instruments(audio, tmp_path):
    from mutagen.id3 import ID3, TMCL

    flac = audio.make(tmp_path / "p.flac", title="T", performer=["Jane Doe (piano)", "Joe (drums)"])
    assert tags.read_tags(str(flac))["performer"] == "Jane Doe; Joe"
    mp3 = audio.make(tmp_path / "p.mp3", title="T")
    id3 = ID3(mp3)
    id3.add(TMCL(encoding=3, people=[["piano", "Jane Doe"], ["drums", "Joe"]]))
    id3.save()
    assert tags.read_tags(str(mp3))["performer"] == "Jane Doe; Joe"
