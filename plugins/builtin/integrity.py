"""Is the whole file there? A container's declared length against the audio actually present.

A copy cut short (``head -c 1000000 full.flac``) still carries its header: mutagen reports the
full 262 s from FLAC's STREAMINFO, an MP3's Xing frame count, a WAV's data chunk size. Each
check here is cheap (a read of the file's tail, or of its chunk headers) and answers how many
seconds the file really holds, or None when it cannot tell (Ogg and Opus need no check: their
length comes from the last page present).

- FLAC: the last complete frame header in the tail (sync code, CRC-8 checked) gives the sample
  where the audio stops.
- MP3: the audio bytes present at the bitrate the Xing/Info header declares.
- WAV, AIFF: the data chunk's declared size against the bytes after it.
- MP4/M4A: the ``mdat`` box's declared size against the bytes present.
"""

from __future__ import annotations

import os
import struct
from typing import Any

TAIL = 256 * 1024  # a FLAC frame is at most tens of KB: the last one is in here


def present_seconds(path: str, audio: Any, length: float) -> float | None:
    """Seconds of audio the file holds, or None when the check does not apply or cannot tell."""
    kind = type(audio).__name__
    try:
        size = os.path.getsize(path)
        if kind == "FLAC":
            return _flac(path, audio.info, size)
        if kind in ("MP3", "EasyMP3"):
            return _mp3(path, audio, size, length)
        if kind == "WAVE":
            return _chunked(path, size, audio.info, little=True)
        if kind == "AIFF":
            return _chunked(path, size, audio.info, little=False)
        if kind in ("MP4", "EasyMP4"):
            return _mp4(path, size, length)
    except (OSError, struct.error, AttributeError, ZeroDivisionError):
        return None
    return None


# ---------------------------------------------------------------- FLAC


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _utf8_number(data: bytes, i: int) -> tuple[int, int] | None:
    """FLAC's UTF-8-style coded frame/sample number at data[i]: (value, bytes used)."""
    first = data[i]
    if first < 0x80:
        return first, 1
    for length, mask in ((2, 0x1F), (3, 0x0F), (4, 0x07), (5, 0x03), (6, 0x01), (7, 0x00)):
        if first & (0xFF << (8 - length - 1)) & 0xFF == (0xFF << (8 - length)) & 0xFF:
            if i + length > len(data):
                return None
            value = first & mask
            for b in data[i + 1 : i + length]:
                if b & 0xC0 != 0x80:
                    return None
                value = (value << 6) | (b & 0x3F)
            return value, length
    return None


def _frame_header(data: bytes, i: int, info: Any) -> tuple[int, int] | None:
    """(first sample, block size) of a valid frame header at data[i], else None."""
    if i + 6 > len(data) or data[i] != 0xFF or data[i + 1] not in (0xF8, 0xF9):
        return None
    variable = data[i + 1] == 0xF9
    bs_code, sr_code = data[i + 2] >> 4, data[i + 2] & 0x0F
    channels, sample_size, reserved = data[i + 3] >> 4, (data[i + 3] >> 1) & 7, data[i + 3] & 1
    if bs_code == 0 or sr_code == 15 or channels > 10 or sample_size in (3, 7) or reserved:
        return None
    coded = _utf8_number(data, i + 4)
    if coded is None:
        return None
    number, used = coded
    j = i + 4 + used
    if bs_code == 6:
        block, j = data[j] + 1 if j < len(data) else 0, j + 1
    elif bs_code == 7:
        block, j = (int.from_bytes(data[j : j + 2], "big") + 1 if j + 2 <= len(data) else 0), j + 2
    elif bs_code == 1:
        block = 192
    elif bs_code <= 5:
        block = 576 << (bs_code - 2)
    else:
        block = 256 << (bs_code - 8)
    j += {12: 1, 13: 2, 14: 2}.get(sr_code, 0)
    if j >= len(data) or not block or _crc8(data[i:j]) != data[j]:
        return None
    fixed = getattr(info, "max_blocksize", 0) or block
    sample = number if variable else number * fixed
    if sample > info.total_samples:
        return None
    return sample, block


def _flac(path: str, info: Any, size: int) -> float | None:
    if not getattr(info, "total_samples", 0) or not info.sample_rate:
        return None
    with open(path, "rb") as fh:
        fh.seek(max(0, size - TAIL))
        tail = fh.read()
    i = len(tail)
    while True:
        i = tail.rfind(b"\xff", 0, i)
        if i < 0:
            return None  # no frame in the tail: leave it to the decoder
        header = _frame_header(tail, i, info)
        if header:
            sample, block = header
            return min(info.total_samples, sample + block) / info.sample_rate


# ---------------------------------------------------------------- MP3


def _mp3(path: str, audio: Any, size: int, length: float) -> float | None:
    bitrate = getattr(audio.info, "bitrate", 0)
    if not bitrate:
        return None
    start = getattr(audio.tags, "size", 0) if audio.tags is not None else 0
    end = size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 128))
        if fh.read(3) == b"TAG":
            end -= 128
    return min(length, max(0, end - start) * 8 / bitrate)


# ---------------------------------------------------------------- WAV, AIFF


def _chunked(path: str, size: int, info: Any, *, little: bool) -> float | None:
    """RIFF (WAV, little-endian) or IFF (AIFF, big-endian): the data chunk against the file."""
    data_id, order = (b"data", "<I") if little else (b"SSND", ">I")
    bytes_per_second = info.sample_rate * info.channels * info.bits_per_sample / 8
    if not bytes_per_second:
        return None
    with open(path, "rb") as fh:
        offset = 12
        while offset + 8 <= size:
            fh.seek(offset)
            header = fh.read(8)
            chunk, declared = header[:4], struct.unpack(order, header[4:])[0]
            if chunk == data_id:
                skip = 0 if little else 8  # SSND starts with offset and block size fields
                available = max(0, size - offset - 8 - skip)
                return min(declared - skip, available) / bytes_per_second
            offset += 8 + declared + (declared & 1)
    return None


# ---------------------------------------------------------------- MP4


def _mp4(path: str, size: int, length: float) -> float | None:
    with open(path, "rb") as fh:
        offset = 0
        while offset + 8 <= size:
            fh.seek(offset)
            box, kind = struct.unpack(">I4s", fh.read(8))
            header = 8
            if box == 1:
                box, header = struct.unpack(">Q", fh.read(8))[0], 16
            elif box == 0:
                box = size - offset
            if box < header:
                return None
            if kind == b"mdat" and offset + box > size:
                return length * max(0, size - offset - header) / (box - header)
            offset += box
    return None
