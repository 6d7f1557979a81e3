"""Chromaprint fingerprints: decoding AcoustID's compressed form and comparing two of them.

Shared by the fingerprint stage (a worker) and the duplicate index (the web process). Decoding
uses libchromaprint through pyacoustid's ``chromaprint`` binding (Debian's ``libchromaprint1``,
which ``fpcalc`` needs anyway, on amd64 and arm64 alike).

Two encodings of the same recording (FLAC and a 64 kb/s MP3) differ in well under 5 % of their
fingerprint bits; unrelated audio differs in about half. The comparison allows a small shift
(encoders add a few ms of delay) and reads the first ``HEAD_ITEMS`` items, about 15 s of audio.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

HEAD_ITEMS = 120  # fingerprint items compared: ~8 per second of audio
MAX_SHIFT = 4  # items either way
DUPLICATE_BIT_ERROR = 0.15  # fewer differing bits than this: the same recording
DURATION_TOLERANCE = 3.0  # seconds: candidates for duplicates differ by less


def decode(fingerprint: str) -> list[int]:
    """The raw 32-bit items of a compressed (base64) fingerprint; ValueError if it is not one."""
    import chromaprint  # pyacoustid's binding; loads libchromaprint on first use

    try:
        items, _algorithm = chromaprint.decode_fingerprint(fingerprint.encode("ascii"))
    except (chromaprint.FingerprintError, UnicodeEncodeError):
        raise ValueError("not a Chromaprint fingerprint") from None
    return [item & 0xFFFFFFFF for item in items]


def head(fingerprint: str) -> bytes:
    """What the duplicate index keeps of a fingerprint: its first items, little-endian."""
    items = decode(fingerprint)[:HEAD_ITEMS]
    return struct.pack(f"<{len(items)}I", *items)


def bit_error(a: bytes | Sequence[int], b: bytes | Sequence[int]) -> float:
    """The smallest share of differing bits over the shifts tried (1.0: nothing to compare).
    Plain integers, no numpy: the web process compares every fingerprint stored, and numpy
    would be 25 MB of it for this alone; XOR of two 480-byte integers and a popcount is C."""
    x, y = _packed(a), _packed(b)
    best = 1.0
    for shift in range(-MAX_SHIFT, MAX_SHIFT + 1):
        xs, ys = (x[4 * shift :], y) if shift >= 0 else (x, y[-4 * shift :])
        n = min(len(xs), len(ys)) // 4
        if n < 16:
            continue
        diff = int.from_bytes(xs[: 4 * n], "little") ^ int.from_bytes(ys[: 4 * n], "little")
        best = min(best, diff.bit_count() / (32 * n))
    return best


def _packed(value: bytes | Sequence[int]) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return struct.pack(f"<{len(value)}I", *(int(v) & 0xFFFFFFFF for v in value))
