"""Chromaprint fingerprints: decoding AcoustID's compressed form and comparing two of them.

Shared by the fingerprint stage (a worker) and the duplicate index (the web process). Decoding
uses libchromaprint through pyacoustid's ``chromaprint`` binding (Debian's ``libchromaprint1``,
which ``fpcalc`` needs anyway, on amd64 and arm64 alike).

Two encodings of the same recording (FLAC and a 64 kb/s MP3) differ in well under 5 % of their
fingerprint bits; unrelated audio differs in about half. The comparison allows a small shift
(encoders add a few ms of delay) and reads the first ``HEAD_ITEMS`` items, about 15 s of audio.
"""

from __future__ import annotations

from soniquebay import lazy

np = lazy.module("numpy")  # when fingerprints are compared, not when the web starts

HEAD_ITEMS = 120  # fingerprint items compared: ~8 per second of audio
MAX_SHIFT = 4  # items either way
DUPLICATE_BIT_ERROR = 0.15  # fewer differing bits than this: the same recording
DURATION_TOLERANCE = 3.0  # seconds: candidates for duplicates differ by less


def decode(fingerprint: str) -> np.ndarray:
    """The raw 32-bit items of a compressed (base64) fingerprint; ValueError if it is not one."""
    import chromaprint  # pyacoustid's binding; loads libchromaprint on first use

    try:
        items, _algorithm = chromaprint.decode_fingerprint(fingerprint.encode("ascii"))
    except (chromaprint.FingerprintError, UnicodeEncodeError):
        raise ValueError("not a Chromaprint fingerprint") from None
    return np.asarray(items, dtype=np.int64).astype(np.uint32)


def head(fingerprint: str) -> bytes:
    """What the duplicate index keeps of a fingerprint: its first items, little-endian."""
    return decode(fingerprint)[:HEAD_ITEMS].astype("<u4").tobytes()


def bit_error(a: bytes | np.ndarray, b: bytes | np.ndarray) -> float:
    """The smallest share of differing bits over the shifts tried (1.0: nothing to compare)."""
    x, y = _items(a), _items(b)
    best = 1.0
    for shift in range(-MAX_SHIFT, MAX_SHIFT + 1):
        xs, ys = (x[shift:], y) if shift >= 0 else (x, y[-shift:])
        n = min(len(xs), len(ys))
        if n < 16:
            continue
        diff = np.bitwise_xor(xs[:n], ys[:n])
        best = min(best, float(np.unpackbits(diff.view(np.uint8)).sum()) / (32 * n))
    return best


def _items(value: bytes | np.ndarray) -> np.ndarray:
    if isinstance(value, bytes | bytearray | memoryview):
        return np.frombuffer(bytes(value), dtype="<u4").astype(np.uint32)
    return np.asarray(value, dtype=np.uint32)
