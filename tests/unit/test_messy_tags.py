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
