"""Tag reading with mutagen: ID3 (MP3, WAV, AIFF), Vorbis comments (FLAC, Ogg, Opus) and MP4.

Tag text is attacker-controlled: every value is stripped of NULs and capped in length here, and
escaped again wherever it is shown.
"""

from __future__ import annotations

import errno
import os
import re
import struct
from typing import Any

import mutagen
from mutagen.apev2 import APENoHeaderError, APEv2
from mutagen.id3 import ID3
from mutagen.id3._id3v1 import ParseID3v1
from mutagen.mp4 import MP4Tags

from soniquebay import artwork, hookimpl
from soniquebay.errors import BadAudioFile
from soniquebay.library.fields import NUMBER_RANGES
from soniquebay.plugins.builtin import integrity

EXTENSIONS = [
    ".mp3",
    ".flac",
    ".ogg",
    ".oga",
    ".opus",
    ".m4a",
    ".mp4",
    ".aac",
    ".wav",
    ".aif",
    ".aiff",
]
MAX_TEXT = 1024  # longer tag values are cut: nothing legitimate needs more
YEAR = re.compile(r"\s*(\d{4})(?!\d)")
TRUNCATED = 0.95  # less audio than this share of the declared length: a cut copy

ID3_TEXT = {
    "TIT2": "title",
    "TPE1": "artist",
    "TALB": "album",
    "TPE2": "album_artist",
    "TCON": "genre",
    "TRCK": "track_number",
    "TPOS": "disc_number",
    "TDRC": "year",
    "TYER": "year",
    "TCOM": "composer",
    "TCMP": "compilation",
    "TSOP": "artist_sort",
    "TSO2": "album_artist_sort",
    "TSOT": "title_sort",
    "TDOR": "original_year",
    "TORY": "original_year",
    "TSST": "disc_subtitle",
}
ID3_TXXX = {
    "MusicBrainz Album Id": "musicbrainz_albumid",
    "MusicBrainz Artist Id": "musicbrainz_artistid",
    "MusicBrainz Album Artist Id": "musicbrainz_albumartistid",
    "MusicBrainz Release Track Id": "musicbrainz_trackid",
    "MusicBrainz Album Type": "release_type",
    "RELEASETYPE": "release_type",
    "ALBUMVERSION": "album_version",
}
VORBIS = {
    "title": "title",
    "artist": "artist",
    "album": "album",
    "albumartist": "album_artist",
    "album artist": "album_artist",
    "genre": "genre",
    "tracknumber": "track_number",
    "tracktotal": "track_total",
    "totaltracks": "track_total",
    "discnumber": "disc_number",
    "disctotal": "disc_total",
    "totaldiscs": "disc_total",
    "date": "year",
    "year": "year",
    "musicbrainz_trackid": "musicbrainz_recordingid",
    "musicbrainz_releasetrackid": "musicbrainz_trackid",
    "musicbrainz_albumid": "musicbrainz_albumid",
    "musicbrainz_artistid": "musicbrainz_artistid",
    "musicbrainz_albumartistid": "musicbrainz_albumartistid",
    "composer": "composer",
    "performer": "performer",
    "compilation": "compilation",
    "artistsort": "artist_sort",
    "albumartistsort": "album_artist_sort",
    "titlesort": "title_sort",
    "originaldate": "original_year",
    "originalyear": "original_year",
    "discsubtitle": "disc_subtitle",
    "releasetype": "release_type",
    "musicbrainz_albumtype": "release_type",
    "albumversion": "album_version",
}
# ReplayGain as tagged, whatever the case of the name ("REPLAYGAIN_TRACK_GAIN" in ID3's TXXX,
# Vorbis comments, APE, MP4 freeform atoms); Opus's R128_*_GAIN (Q7.8 dB against -23 LUFS).
GAIN = {
    "replaygain_track_gain": "tagged_track_gain",
    "replaygain_track_peak": "tagged_track_peak",
    "replaygain_album_gain": "tagged_album_gain",
    "replaygain_album_peak": "tagged_album_peak",
    "r128_track_gain": "r128_track_gain",
    "r128_album_gain": "r128_album_gain",
}
VORBIS.update(GAIN)
GAIN_NUMBER = re.compile(r"\s*([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(?:dB|LU)?\s*$", re.I)
R128_TO_REPLAYGAIN = 5.0  # dB: R128's -23 LUFS reference is 5 dB below ReplayGain 2.0's -18
APE = {**VORBIS, "track": "track_number", "disc": "disc_number", "musicbrainz_trackid":
       "musicbrainz_recordingid"}  # fmt: skip
RIFF_INFO = {"INAM": "title", "IART": "artist", "IPRD": "album", "ICRD": "year",
             "IGNR": "genre", "ITRK": "track_number", "IPRT": "track_number"}  # fmt: skip
MP4 = {
    "\xa9nam": "title",
    "\xa9ART": "artist",
    "\xa9alb": "album",
    "aART": "album_artist",
    "\xa9gen": "genre",
    "\xa9day": "year",
    "----:com.apple.iTunes:MusicBrainz Track Id": "musicbrainz_recordingid",
    "----:com.apple.iTunes:MusicBrainz Release Track Id": "musicbrainz_trackid",
    "----:com.apple.iTunes:MusicBrainz Album Id": "musicbrainz_albumid",
    "----:com.apple.iTunes:MusicBrainz Artist Id": "musicbrainz_artistid",
    "----:com.apple.iTunes:MusicBrainz Album Artist Id": "musicbrainz_albumartistid",
    "\xa9wrt": "composer",
    "soar": "artist_sort",
    "soaa": "album_artist_sort",
    "sonm": "title_sort",
    "----:com.apple.iTunes:ORIGINALDATE": "original_year",
    "----:com.apple.iTunes:DISCSUBTITLE": "disc_subtitle",
    "----:com.apple.iTunes:MusicBrainz Album Type": "release_type",
    "----:com.apple.iTunes:RELEASETYPE": "release_type",
}
# Fields that hold a list: every value is kept, joined by "; " (the store splits them again on
# its configured separators, docs/library.md).
MULTI = ("artist", "album_artist", "genre", "composer", "performer")
INSTRUMENT = re.compile(r"\s*\([^)]*\)\s*$")  # "Jane Doe (piano)": the name is the credit
MAX_VALUES = 100  # values kept of one repeated field
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@hookimpl
def audio_extensions() -> list[str]:
    return EXTENSIONS


@hookimpl
def read_tags(path: str) -> dict[str, Any] | None:
    if os.path.splitext(path)[1].lower() not in EXTENSIONS:
        return None
    try:
        if os.stat(path).st_size == 0:
            raise BadAudioFile("empty file (0 bytes)")
        audio = mutagen.File(path)
    except BadAudioFile:
        raise
    except PermissionError:
        raise BadAudioFile("cannot read the file: permission denied") from None
    except FileNotFoundError:
        raise BadAudioFile("the file disappeared before it could be read") from None
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        if exc.errno == errno.EIO:
            reason = "input/output error (failing disk?)"
        raise BadAudioFile(f"cannot read the file: {reason}") from None
    except mutagen.MutagenError as exc:
        cause = exc.args[0] if exc.args else None  # mutagen wraps the I/O error it met
        if isinstance(cause, PermissionError):
            raise BadAudioFile("cannot read the file: permission denied") from None
        if isinstance(cause, OSError):
            raise BadAudioFile(f"cannot read the file: {cause.strerror or cause}") from None
        raise BadAudioFile(
            f"not a readable audio file: {_clean(str(exc)) or type(exc).__name__}"
        ) from None
    except Exception as exc:  # mutagen raises assorted errors on hostile input
        raise BadAudioFile(
            f"corrupt audio file: {type(exc).__name__}: {_clean(str(exc))}"
        ) from None
    if audio is None:
        raise BadAudioFile("not a recognised audio format (content does not match the extension)")

    info = audio.info
    length = float(getattr(info, "length", 0.0) or 0.0)
    if length <= 0:
        raise BadAudioFile("no audio stream found (zero duration)")
    warning = None
    present = integrity.present_seconds(path, audio, length)
    if present is not None and present < TRUNCATED * length and length - present > 1.0:
        if present < 0.5:
            raise BadAudioFile(f"truncated: the file declares {length:.1f} s but holds no audio")
        warning = f"truncated: the file declares {length:.1f} s of audio but holds {present:.1f} s"
        length = present  # what will play, not what the header promised
    result: dict[str, Any] = {
        "duration": round(length, 3),
        "bitrate": int(getattr(info, "bitrate", 0) or 0) or None,
        "sample_rate": int(getattr(info, "sample_rate", 0) or 0) or None,
        "channels": int(getattr(info, "channels", 0) or 0) or None,
        "format": type(audio).__name__.lower(),
    }
    if result["format"] == "oggopus":
        result["sample_rate"] = 48000  # Opus always decodes at 48 kHz; mutagen does not say it
    tags = audio.tags
    if isinstance(tags, ID3):
        result.update(_from_id3(tags))
    elif isinstance(tags, MP4Tags):
        result.update(_from_mp4(tags))
    elif tags is not None and hasattr(tags, "keys"):
        result.update(_from_vorbis(tags))
    # What mutagen's file types leave aside, as TagLib reads it: ID3v1 and APEv2 on MP3, the
    # RIFF INFO list in WAV. They only fill fields the main tag does not have.
    if result["format"] == "mp3":
        _fill(result, _ape(path))
        _fill(result, _id3v1(path))
    elif result["format"] == "wave":
        _fill(result, _riff_info(path))
    if result["bitrate"] is None and length > 0:
        # Lossless formats report no bitrate: derive the average from the file size.
        result["bitrate"] = int(os.stat(path).st_size * 8 / length)
    for field, (low, high) in NUMBER_RANGES.items():  # nonsense in a tag is dropped, not stored
        value = result.get(field)
        if isinstance(value, int | float) and not low <= value <= high:
            result[field] = None
    oversized = [n for _, n in artwork.embedded_pictures(audio) if n > artwork.MAX_IMAGE_BYTES]
    if oversized:  # kept in the file, never read again: covers pass it over
        limit = artwork.MAX_IMAGE_BYTES // 2**20
        note = f"embedded picture of {max(oversized) / 2**20:.0f} MB ignored (over {limit} MB)"
        warning = f"{warning}; {note}" if warning else note
    if warning:
        result["warning"] = warning
    return result


def _clean(value: Any) -> str:
    text = CONTROL.sub(" ", str(value)).strip()
    return text[:MAX_TEXT]


def _values(raw: Any) -> str:
    """One field's values as one string: a list (repeated comments, ID3v2.4's NUL-separated
    frames, MP4 atoms) joined by "; ", capped like any tag text."""
    if isinstance(raw, list | tuple):
        parts = [_clean(v.decode("utf-8", "replace") if isinstance(v, bytes) else v)
                 for v in raw[:MAX_VALUES]]  # fmt: skip
        return _clean("; ".join(p for p in parts if p))
    return _clean(raw)


def _number_pair(raw: str) -> tuple[int | None, int | None]:
    first, _, second = raw.partition("/")
    return _int(first), _int(second)


def _int(raw: Any) -> int | None:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if 0 <= value < 100000 else None


def _year(raw: str) -> int | None:
    """The year of "1999", "2001-05-01", "2001/05": four digits, not five ("99999" is none)."""
    found = YEAR.match(raw)
    return int(found.group(1)) if found else None


def _store(result: dict[str, Any], key: str, raw: Any) -> None:
    raw = _values(raw) if key in MULTI else _clean(raw[0] if isinstance(raw, list) else raw)
    if not raw:
        return
    if key == "track_number":
        result["track_number"], total = _number_pair(raw)
        if total:
            result["track_total"] = total
    elif key == "disc_number":
        result["disc_number"], total = _number_pair(raw)
        if total:
            result["disc_total"] = total
    elif key in ("track_total", "disc_total"):
        result[key] = _int(raw)
    elif key in ("year", "original_year"):
        result[key] = _year(raw)
    elif key == "performer":
        result[key] = "; ".join(INSTRUMENT.sub("", p) for p in raw.split("; ") if p.strip())
    elif key == "compilation":
        result[key] = 1 if raw.strip().lower() in ("1", "true", "yes") else 0
    elif key.startswith("tagged_"):  # "-6.50 dB", "0.988547"
        found = GAIN_NUMBER.match(raw)  # out of range ("1e9") is dropped below
        result[key] = float(found.group(1)) if found else None
    elif key.startswith("r128_"):  # "-1664": Q7.8 fixed point, against -23 LUFS
        number = _int(raw.lstrip("-"))
        if number is not None:
            gain = (-number if raw.strip().startswith("-") else number) / 256 + R128_TO_REPLAYGAIN
            result.setdefault(key.replace("r128_", "tagged_"), round(gain, 2))
    else:
        result[key] = raw


def _from_id3(tags: ID3) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for frame_id, key in ID3_TEXT.items():
        frame = tags.get(frame_id)
        if frame is not None and frame.text and key not in result:
            _store(result, key, [str(t) for t in frame.text])
    for frame in tags.getall("TXXX"):
        key = ID3_TXXX.get(frame.desc) or GAIN.get(frame.desc.lower())
        if key and frame.text:
            _store(result, key, [str(t) for t in frame.text])
    for frame in tags.getall("TMCL"):  # ID3v2.4 musicians: [instrument, name, instrument, name…]
        names = [str(name) for _, name in getattr(frame, "people", ()) if str(name).strip()]
        if names:
            _store(result, "performer", names)
    for frame in tags.getall("UFID"):
        if frame.owner == "http://musicbrainz.org" and frame.data:
            _store(result, "musicbrainz_recordingid", frame.data.decode("ascii", "replace"))
    return result


def _from_vorbis(tags: Any, names: dict[str, str] | None = None) -> dict[str, Any]:
    names = names or VORBIS
    result: dict[str, Any] = {}
    for raw_key in tags.keys():
        key = names.get(str(raw_key).lower())
        values = tags[raw_key]
        if key and values and key not in result:
            _store(result, key, values)
        elif key in MULTI and values and key in result:  # "ARTIST" and "artist" both present
            _store(result, key, [result[key], *(values if isinstance(values, list) else [values])])
    return result


def _fill(result: dict[str, Any], found: dict[str, Any]) -> None:
    for key, value in found.items():
        if value is not None and result.get(key) is None:
            result[key] = value


def _ape(path: str) -> dict[str, Any]:
    """APEv2 at the end of an MP3 (foobar2000, mp3gain write it)."""
    try:
        tags = APEv2(path)
    except (APENoHeaderError, mutagen.MutagenError, OSError, ValueError):
        return {}
    return _from_vorbis({k: str(v) for k, v in tags.items()}, APE)


def _id3v1(path: str) -> dict[str, Any]:
    """The 128-byte ID3v1 tag at the end of old MP3s (mutagen reads it only beside an ID3v2)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(-128, os.SEEK_END)
            tail = fh.read(128)
    except OSError:
        return {}
    frames = ParseID3v1(tail) if tail.startswith(b"TAG") else None
    if not frames:
        return {}
    tags = ID3()
    for frame in frames.values():
        tags.add(frame)
    return _from_id3(tags)


def _riff_info(path: str) -> dict[str, Any]:
    """The LIST/INFO chunk of a WAV file (ffmpeg, sox and most editors write it)."""
    found: dict[str, Any] = {}
    try:
        with open(path, "rb") as fh:
            if fh.read(12)[8:] != b"WAVE":
                return {}
            offset = 12
            for _ in range(64):  # a WAV has a handful of chunks; a hostile one no more than this
                fh.seek(offset)
                header = fh.read(12)
                if len(header) < 8:
                    break
                kind, size = header[:4], struct.unpack("<I", header[4:8])[0]
                if kind == b"LIST" and header[8:12] == b"INFO" and size <= 1 << 20:
                    _info_items(fh.read(size - 4), found)
                    break
                offset += 8 + size + (size & 1)
    except (OSError, struct.error):
        pass
    return found


def _info_items(body: bytes, found: dict[str, Any]) -> None:
    i = 0
    while i + 8 <= len(body):
        sub, n = body[i : i + 4].decode("latin-1"), struct.unpack("<I", body[i + 4 : i + 8])[0]
        raw = body[i + 8 : i + 8 + n].split(b"\0", 1)[0]
        if sub in RIFF_INFO and raw:
            _store(found, RIFF_INFO[sub], raw.decode("utf-8", "replace"))
        i += 8 + n + (n & 1)


def _from_mp4(tags: MP4Tags) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for raw_key, key in MP4.items():
        values = tags.get(raw_key)
        if values:
            _store(result, key, [v.decode("utf-8", "replace") if isinstance(v, bytes)
                                 else str(v) for v in values])  # fmt: skip
    for raw_key, number, total in (
        ("trkn", "track_number", "track_total"),
        ("disk", "disc_number", "disc_total"),
    ):
        values = tags.get(raw_key)
        if values:
            n, t = values[0]
            result[number] = _int(n)
            if t:
                result[total] = _int(t)
    for raw_key, values in tags.items():
        key = GAIN.get(raw_key.rpartition(":")[2].lower()) if raw_key.startswith("----:") else None
        if key and values:
            _store(result, key, [v.decode("utf-8", "replace") if isinstance(v, bytes)
                                 else str(v) for v in values])  # fmt: skip
    if tags.get("cpil") is not None:
        result["compilation"] = 1 if tags["cpil"] else 0
    return result
