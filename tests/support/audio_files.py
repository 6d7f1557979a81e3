"""Real audio files for tests and benchmarks: an ffmpeg tone per format, tagged with mutagen.

Generated at run time; nothing is committed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import mutagen
from mutagen import id3
from mutagen.mp4 import MP4

CODECS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
    "flac": ["-c:a", "flac"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "0"],
    "opus": ["-c:a", "libopus", "-b:a", "24k"],
    "m4a": ["-c:a", "aac", "-b:a", "48k"],
    "wav": ["-c:a", "pcm_s16le"],
    "aiff": ["-c:a", "pcm_s16be"],
}
FORMATS = tuple(CODECS)


def generate(
    path: Path, seconds: float = 1.0, frequency: int = 440, sample_rate: int = 44100
) -> Path:
    """An untagged sine tone in the format named by ``path``'s extension."""
    fmt = path.suffix.lstrip(".").lower()
    rate = 48000 if fmt == "opus" else sample_rate
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={frequency}:duration={seconds}:sample_rate={rate}",
            "-map_metadata",
            "-1",
            *CODECS[fmt],
            os.fsdecode(path),
        ],
        check=True,
    )
    return path


ID3_FRAMES = {
    "title": id3.TIT2,
    "artist": id3.TPE1,
    "album": id3.TALB,
    "album_artist": id3.TPE2,
    "genre": id3.TCON,
    "date": id3.TDRC,
    "composer": id3.TCOM,
    "compilation": id3.TCMP,
    "original_date": id3.TDOR,
    "artist_sort": id3.TSOP,
}
ID3_TXXX = {
    "musicbrainz_albumid": "MusicBrainz Album Id",
    "musicbrainz_artistid": "MusicBrainz Artist Id",
    "musicbrainz_albumartistid": "MusicBrainz Album Artist Id",
}
VORBIS_KEYS = {
    "album_artist": "albumartist",
    "track": "tracknumber",
    "disc": "discnumber",
    "musicbrainz_recordingid": "musicbrainz_trackid",
    "original_date": "originaldate",
    "artist_sort": "artistsort",
}
MP4_KEYS = {
    "title": "\xa9nam",
    "artist": "\xa9ART",
    "album": "\xa9alb",
    "album_artist": "aART",
    "genre": "\xa9gen",
    "date": "\xa9day",
    "composer": "\xa9wrt",
    "lyrics": "\xa9lyr",
    "artist_sort": "soar",
}


def _values(value: Any) -> list[str]:
    """A list writes a multi-valued tag (repeated comments, an ID3v2.4 list, MP4 atoms)."""
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def tag(path: Path, **tags: Any) -> None:
    """Write tags with mutagen. Keys: title, artist, album, album_artist, genre, date, track
    ("3/12"), disc ("1/2"), composer, compilation, original_date, artist_sort, lyrics,
    musicbrainz_recordingid, musicbrainz_albumid, musicbrainz_artistid,
    musicbrainz_albumartistid. A list value writes several values."""
    audio = mutagen.File(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt in ("mp3", "wav", "aiff"):
        if audio.tags is None:
            audio.add_tags()
        frames = audio.tags
        for key, value in tags.items():
            if key in ID3_FRAMES:
                frames.add(ID3_FRAMES[key](encoding=3, text=_values(value)))
            elif key == "lyrics":
                frames.add(id3.USLT(encoding=3, lang="eng", desc="", text=str(value)))
            elif key == "track":
                frames.add(id3.TRCK(encoding=3, text=[str(value)]))
            elif key == "disc":
                frames.add(id3.TPOS(encoding=3, text=[str(value)]))
            elif key in ID3_TXXX:
                frames.add(id3.TXXX(encoding=3, desc=ID3_TXXX[key], text=[str(value)]))
            elif key == "musicbrainz_recordingid":
                frames.add(id3.UFID(owner="http://musicbrainz.org", data=str(value).encode()))
        audio.save()
    elif fmt == "m4a":
        mp4 = MP4(path)
        for key, value in tags.items():
            if key in MP4_KEYS:
                mp4[MP4_KEYS[key]] = _values(value)
            elif key == "compilation":
                mp4["cpil"] = bool(int(value))
            elif key in ("track", "disc"):
                number, _, total = str(value).partition("/")
                mp4["trkn" if key == "track" else "disk"] = [(int(number), int(total or 0))]
            elif key.startswith("musicbrainz_"):
                name = {
                    "musicbrainz_recordingid": "MusicBrainz Track Id",
                    "musicbrainz_albumid": "MusicBrainz Album Id",
                    "musicbrainz_artistid": "MusicBrainz Artist Id",
                    "musicbrainz_albumartistid": "MusicBrainz Album Artist Id",
                }[key]
                mp4["----:com.apple.iTunes:" + name] = [str(value).encode()]
        mp4.save()
    else:
        for key, value in tags.items():
            audio[VORBIS_KEYS.get(key, key)] = _values(value)
        audio.save()


class AudioFactory:
    """Makes tagged files fast: one ffmpeg run per (format, length), then copies re-tagged."""

    def __init__(self, cache: Path):
        self.cache = cache
        self.cache.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def template(self, fmt: str, seconds: float = 1.0, frequency: int = 440) -> Path:
        path = self.cache / f"t-{seconds}-{frequency}.{fmt}"
        with self._lock:
            if not path.exists():
                partial = path.with_name("partial-" + path.name)
                generate(partial, seconds, frequency)
                partial.rename(path)
        return path

    def make(
        self,
        dest: Path | str | bytes,
        fmt: str | None = None,
        seconds: float = 1.0,
        frequency: int = 440,
        **tags: Any,
    ) -> Path:
        """A file at ``dest`` (its folder is created), tagged with ``tags``."""
        dest_b = os.fsencode(dest)
        fmt = fmt or os.path.splitext(dest_b)[1].decode().lstrip(".")
        os.makedirs(os.path.dirname(dest_b), exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.cache)) / f"file.{fmt}"
        shutil.copyfile(self.template(fmt, seconds, frequency), staging)
        if tags:
            tag(staging, **tags)
        os.replace(os.fsencode(staging), dest_b)  # appears complete, like a finished copy
        staging.parent.rmdir()
        return Path(os.fsdecode(dest_b))


def picture(path: Path, size: tuple[int, int] = (640, 640), colour=(200, 40, 40)) -> bytes:
    """A real JPEG (Pillow) with a gradient, so thumbnails have something to shrink."""
    from PIL import Image

    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 8):
        for y in range(0, size[1], 8):
            image.putpixel((x, y), (x % 256, y % 256, 128))
    image.save(path, "JPEG", quality=90)
    return path.read_bytes()


def embed_cover(path: Path, image: bytes) -> None:
    """Embed ``image`` as the front cover: ID3 APIC for MP3, a FLAC picture for FLAC."""
    from mutagen.flac import FLAC, Picture

    if path.suffix == ".mp3":
        audio = id3.ID3(path)
        audio.add(id3.APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=image))
        audio.save(path)
    elif path.suffix == ".flac":
        flac = FLAC(path)
        pic = Picture()
        pic.type, pic.mime, pic.data = 3, "image/jpeg", image
        flac.add_picture(pic)
        flac.save()
    else:
        raise ValueError(f"no cover embedding for {path.suffix} here")


def land_analysed(
    server: Any, folder: Path, staging: Path, name: str, timeout: float = 120, **track: Any
) -> dict:
    """Write a synthetic track (``soniquebay.synth.make_track(**track)``) in ``staging``, move it
    into the library ``folder`` at once, as a copy finishing would, and return the server's
    listing of it once its analysis is done (the first track listed)."""
    from soniquebay.synth import encode, make_track

    source = staging / name
    encode(make_track(**track), source)
    source.rename(folder / name)
    return server.wait_until(
        lambda: (t := server.tracks()) and t[0].get("analyzed_at") and t[0],
        timeout=timeout,
        what=f"the analysis of {name} to finish",
    )
