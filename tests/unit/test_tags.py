import pytest
from mutagen.id3 import ID3, TIT2
from support.audio_files import FORMATS

from soniquebay.errors import BadAudioFile
from soniquebay.plugins.builtin import tags


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_yields_tags_and_stream_info(audio, tmp_path, fmt):
    path = audio.make(
        tmp_path / f"x.{fmt}",
        title="Tïtle",
        artist="Ärtist",
        album="Album",
        album_artist="AA",
        track="2/9",
        disc="1/1",
        date="1999-05-01",
        genre="Jazz",
        musicbrainz_albumid="mbid-album",
        musicbrainz_recordingid="mbid-rec",
    )
    result = tags.read_tags(str(path))
    assert (
        result["title"] == "Tïtle"
        and result["artist"] == "Ärtist"
        and result["album_artist"] == "AA"
    )
    assert (result["track_number"], result["track_total"], result["disc_number"]) == (2, 9, 1)
    assert (result["year"], result["genre"]) == (1999, "Jazz")
    assert result["musicbrainz_albumid"] == "mbid-album"
    assert result["musicbrainz_recordingid"] == "mbid-rec"
    assert result["duration"] == pytest.approx(1.0, abs=0.1)
    assert result["bitrate"] > 0 and result["sample_rate"] and result["channels"] >= 1


def test_absurd_tag_sizes_are_cut(audio, tmp_path):
    path = audio.make(tmp_path / "big.mp3")
    id3 = ID3(path)
    id3.add(TIT2(encoding=3, text=["Ab" * 500_000]))
    id3.save(path)
    title = tags.read_tags(str(path))["title"]
    assert title == ("Ab" * 512)[: tags.MAX_TEXT]


def test_other_extensions_are_not_ours(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    assert tags.read_tags(str(tmp_path / "notes.txt")) is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"hello world\n" * 100, "not a readable audio file"),
        (b"ID3\x04\x00", ""),
    ],
)
def test_bad_files_raise_a_clear_error(tmp_path, content, reason):
    path = tmp_path / "bad.mp3"
    path.write_bytes(content)
    with pytest.raises(BadAudioFile) as caught:
        tags.read_tags(str(path))
    assert reason in caught.value.message
