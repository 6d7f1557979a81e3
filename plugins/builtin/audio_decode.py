"""Decode a track once with ffmpeg: mono float32 PCM for the analysis, EBU R128 from the same pass.

One ``ffmpeg`` process reads the file, runs its ``ebur128`` filter on the *original* channels at
the *original* rate (BS.1770 weights each channel, so loudness must be measured before the
downmix: a mono fold-down of a wide stereo mix reads up to 3 LU low), then resamples and folds
to mono for the analysis and writes raw float32 to a pipe that numpy reads into one preallocated
array.

The analysed span is bounded: at most ``max_seconds`` (600 s unless the caller says otherwise).
A longer file (a DJ mix, a concert) is analysed on its *middle* ``max_seconds``: intros and
outros are the least representative part of a long recording, and the middle is reached by a
fast input seek. Memory therefore stays ``max_seconds * sample_rate * 4`` bytes at most (106 MB
for 600 s at 44.1 kHz) whatever the file's length. Loudness, peak and silence are measured on
the same span, so for a file longer than the cap they describe that span, not the whole file
(``analyzed_seconds`` tells which).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass

from soniquebay import lazy
from soniquebay.errors import BadAudioFile

np = lazy.module("numpy")  # loaded when an analysis runs, not when the plugin loads

DEFAULT_MAX_SECONDS = 600.0
STDERR_TAIL = 64 * 1024  # the ebur128 summary and the last errors are at the end


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float | None  # None: below the absolute gate (silence)
    range_lu: float | None
    sample_peak: float | None  # linear, 0..1 (full scale); from a 0.1 dB figure


@dataclass(frozen=True)
class DecodedAudio:
    samples: np.ndarray  # float32 mono
    sample_rate: int
    offset: float  # where the analysed span starts in the file, seconds
    file_duration: float | None  # the whole file, as ffprobe reports it
    source_channels: int
    source_sample_rate: int
    loudness: Loudness

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def reaches_start(self) -> bool:
        return self.offset <= 0.0

    @property
    def reaches_end(self) -> bool:
        if self.file_duration is None:
            return True
        return self.offset + self.seconds >= self.file_duration - 0.5


@dataclass(frozen=True)
class StreamInfo:
    duration: float | None
    channels: int
    sample_rate: int


def probe(path: str) -> StreamInfo:
    """The first audio stream's duration, channels and rate; :class:`BadAudioFile` if there is none.

    mutagen reads the headers in-process in a millisecond; ffprobe (a tenth of a second, as much
    as a third of the decode) only answers for what mutagen cannot parse.
    """
    if not os.path.isfile(path):
        raise BadAudioFile(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise BadAudioFile(f"{path}: empty file")
    quick = _mutagen_probe(path)
    if quick is not None:
        return quick
    cmd = [
        "ffprobe", "-v", "error", "-select_streams", "a:0",
        "-show_entries", "stream=channels,sample_rate,duration:format=duration",
        "-of", "json", path,
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    try:
        info = json.loads(proc.stdout or b"{}")
    except ValueError:
        info = {}
    streams = info.get("streams") or []
    if proc.returncode != 0 or not streams:
        reason = _last_line(proc.stderr.decode("utf-8", "replace")) or "no audio stream"
        raise BadAudioFile(f"{path}: not readable as audio ({reason})")
    stream = streams[0]
    duration = _number(stream.get("duration")) or _number(info.get("format", {}).get("duration"))
    return StreamInfo(
        duration=duration if duration and duration > 0 else None,
        channels=int(stream.get("channels") or 0),
        sample_rate=int(stream.get("sample_rate") or 0),
    )


def _mutagen_probe(path: str) -> StreamInfo | None:
    try:
        import mutagen

        info = mutagen.File(path).info
        length, channels, rate = float(info.length), int(info.channels), int(info.sample_rate)
    except Exception:  # unknown format, damaged header, missing attribute: ask ffprobe
        return None
    if not (length > 0 and channels > 0 and rate > 0):
        return None
    return StreamInfo(duration=length, channels=channels, sample_rate=rate)


def decode(path: str, sample_rate: int, max_seconds: float | None = None) -> DecodedAudio:
    """Decode ``path`` to mono float32 at ``sample_rate``, with its loudness, in one ffmpeg pass.

    Raises :class:`BadAudioFile` when the file has no decodable audio. Silence is valid audio.
    A file with a corrupt stretch decodes as far as ffmpeg can conceal it.
    """
    cap = float(max_seconds) if max_seconds and max_seconds > 0 else DEFAULT_MAX_SECONDS
    info = probe(path)
    offset = 0.0
    if info.duration and info.duration > cap:
        offset = (info.duration - cap) / 2.0

    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info", "-threads", "1"]
    if offset:
        cmd += ["-ss", f"{offset:.3f}"]
    cmd += [
        "-i", path, "-map", "0:a:0", "-vn", "-sn", "-dn", "-t", f"{cap:.3f}",
        # framelog=verbose keeps the per-100ms lines out of the info-level log; the summary stays.
        "-af", f"ebur128=peak=sample:framelog=verbose,aresample={sample_rate},"
        "aformat=sample_fmts=flt:channel_layouts=mono",
        "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1",
    ]  # fmt: skip

    # Preallocated and filled in place: untouched pages cost no memory, and there is no
    # bytes -> array copy. One extra second absorbs resampler rounding.
    capacity = int(math.ceil((cap + 1.0) * sample_rate))
    samples = np.empty(capacity, dtype=np.float32)
    view = memoryview(samples).cast("B")
    filled = 0
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=errfile, stdin=subprocess.DEVNULL
        )
        try:
            while filled < len(view):
                got = proc.stdout.readinto(view[filled:])
                if not got:
                    break
                filled += got
            proc.stdout.close()  # anything past the cap is dropped; ffmpeg stops on the broken pipe
            returncode = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        errfile.seek(max(0, errfile.tell() - STDERR_TAIL))
        log_text = errfile.read().decode("utf-8", "replace")

    count = filled // 4
    if count == 0:
        reason = _last_error(log_text) or f"ffmpeg exited with status {returncode}"
        raise BadAudioFile(f"{path}: no audio could be decoded ({reason})")
    samples = samples[:count]
    if not np.isfinite(samples.sum(dtype=np.float64)):  # one pass; the fix-up only when needed
        np.nan_to_num(samples, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    return DecodedAudio(
        samples=samples,
        sample_rate=sample_rate,
        offset=offset,
        file_duration=info.duration,
        source_channels=info.channels,
        source_sample_rate=info.sample_rate,
        loudness=parse_ebur128_summary(log_text),
    )


_SUMMARY = re.compile(
    r"Integrated loudness:\s*I:\s*(?P<i>[-\w.]+) LUFS.*?"
    r"Loudness range:\s*LRA:\s*(?P<lra>[-\w.]+) LU.*?"
    r"Sample peak:\s*Peak:\s*(?P<peak>[-\w.]+) dBFS",
    re.S,
)


def parse_ebur128_summary(text: str) -> Loudness:
    """Read the summary ffmpeg's ``ebur128`` filter logs when it closes (the last one wins)."""
    matches = list(_SUMMARY.finditer(text))
    if not matches:
        return Loudness(None, None, None)
    m = matches[-1]
    integrated = _number(m["i"])
    # ffmpeg reports -70 LUFS (the absolute gate) for silence: there is no loudness to speak of.
    if integrated is not None and integrated <= -70.0:
        integrated = None
    peak_db = _number(m["peak"])
    peak = 10.0 ** (peak_db / 20.0) if peak_db is not None else 0.0
    lra = _number(m["lra"]) if integrated is not None else None
    return Loudness(integrated_lufs=integrated, range_lu=lra, sample_peak=peak)


def ffmpeg_ebur128(path: str) -> Loudness:
    """ffmpeg's own EBU R128 measure of a whole file: the reference the tests compare against."""
    cmd = [
        "ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info", "-i", path,
        "-map", "0:a:0", "-af", "ebur128=peak=sample:framelog=verbose", "-f", "null", "-",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=600)
    return parse_ebur128_summary(proc.stderr.decode("utf-8", "replace"))


def _number(raw) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _last_error(text: str) -> str:
    for line in reversed(text.splitlines()):
        lowered = line.lower()
        if "error" in lowered or "invalid" in lowered or "could not" in lowered:
            return line.strip()[:300]
    return ""
