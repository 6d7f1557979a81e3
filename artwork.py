"""Cover images: where an album's picture is (embedded in a file, or beside it), thumbnails of
it (Pillow), and a placeholder drawn for albums with none.

Shared by the web process (which serves covers) and the cover art stage (which fetches one only
when neither kind exists). Image bytes are untrusted: Pillow opens them with a pixel cap.
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import io
import os
from html import escape

import mutagen
from mutagen.flac import Picture

COVER_NAMES = ("cover", "folder", "front", "album", "albumart")
COVER_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
THUMB_SIZES = (64, 300, 600)
MAX_IMAGE_BYTES = 16 * 1024 * 1024
# A cover is a few megapixels; a "cover" of 100,000 x 100,000 is an attack on memory.
MAX_IMAGE_PIXELS = 50_000_000
# What a thumbnail may decode: 4096 x 4096 (about 50 MB as RGB). A JPEG of any size fits, decoded
# at a fraction of its size (draft); a larger PNG or WebP is refused (a 303 KB PNG of 9800 x
# 9800 once took the web process to 2 GiB) and the placeholder is shown.
DECODE_PIXELS = 4096 * 4096
IMAGE_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png", b"RIFF": "image/webp"}


class BadImage(ValueError):
    """The bytes are not an image Pillow can read within its limits."""


def image_type(data: bytes) -> str | None:
    return next((t for magic, t in IMAGE_TYPES.items() if data.startswith(magic)), None)


def folder_cover(path: str) -> str | None:
    """A cover image beside the file, by the names people and taggers use."""
    try:
        entries = os.listdir(os.path.dirname(path) or ".")
    except OSError:
        return None
    for entry in sorted(entries):
        stem, ext = os.path.splitext(entry.lower())
        if stem in COVER_NAMES and ext in COVER_EXTENSIONS:
            return os.path.join(os.path.dirname(path), entry)
    return None


FRONT_COVER = 3  # the picture type ID3 APIC and FLAC pictures give a front cover


def embedded_pictures(audio: object) -> list[tuple[int, int]]:
    """(picture type, size in bytes) of every picture a mutagen file holds: what the tag
    reader checks without keeping any (MP4 covers have no type: taken as front covers)."""
    return [(kind, len(data)) for kind, data in _pictures(audio)]


def _pictures(audio: object) -> list[tuple[int, bytes]]:
    found: list[tuple[int, bytes]] = []
    for picture in getattr(audio, "pictures", None) or []:  # FLAC
        found.append((int(picture.type), bytes(picture.data)))
    tags = getattr(audio, "tags", None) or {}
    for key in list(getattr(tags, "keys", lambda: [])()):
        value = tags[key]
        if str(key).startswith("APIC"):
            found.append((int(value.type), bytes(value.data)))
        elif key == "covr":
            found.extend((FRONT_COVER, bytes(v)) for v in value)
        elif str(key).lower() == "metadata_block_picture":
            for raw in value:
                try:
                    picture = Picture(base64.b64decode(raw))
                except (ValueError, TypeError, mutagen.MutagenError):
                    continue
                found.append((int(picture.type), bytes(picture.data)))
    return found


def best_embedded(path: str) -> tuple[bool, bytes] | None:
    """The file's best embedded picture, and whether it is a front cover: a front cover before
    any other, then the largest; pictures over :data:`MAX_IMAGE_BYTES`, or that are no image,
    are passed over."""
    try:
        audio = mutagen.File(path)
    except Exception:  # unreadable here is the tag reader's business, not the cover's
        return None
    if audio is None:
        return None
    usable = [(kind == FRONT_COVER, data) for kind, data in _pictures(audio)
              if len(data) <= MAX_IMAGE_BYTES and image_type(data)]  # fmt: skip
    return max(usable, key=lambda p: (p[0], len(p[1]))) if usable else None


def embedded_cover(path: str) -> bytes | None:
    """The file's best embedded picture (:func:`best_embedded`), as bytes."""
    found = best_embedded(path)
    return found[1] if found else None


def thumbnail(data: bytes, size: int) -> bytes:
    """A JPEG at most ``size`` pixels on its longer side (never enlarged)."""
    from PIL import Image, UnidentifiedImageError  # with the first thumbnail, not at start-up

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header: nothing decoded yet
            image.draft("RGB", (size, size))  # JPEG: decode at a fraction of full size
            width, height = image.size
            if width * height > DECODE_PIXELS:
                raise BadImage(
                    f"{width} x {height} pixels is more than a cover may have"
                    f" ({DECODE_PIXELS:,} pixels once decoded)"
                )
            image = image.convert("RGB")
            image.thumbnail((size, size), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=82, optimize=True, progressive=size > 100)
        if width * height > 1_000_000:
            _give_back_memory()
        return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise BadImage(str(exc)) from exc


def _give_back_memory() -> None:
    """glibc keeps freed memory for later; a large decoded image's is handed back at once, so a
    big cover does not leave the web process larger for good."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        pass


PALETTE = ("#3b6e8f", "#7a4e8c", "#8c4e5a", "#4e8c6a", "#8c7a4e", "#4e5a8c", "#5a8c4e", "#8c5e3b")


def _colour_and_initials(title: str) -> tuple[str, str]:
    digest = hashlib.sha1(title.encode("utf-8", "replace")).digest()
    initials = "".join(w[0] for w in title.split()[:2] if w[:1].isprintable()).upper() or "♪"
    return PALETTE[digest[0] % len(PALETTE)], initials


def placeholder_png(title: str, size: int) -> bytes:
    """:func:`placeholder_svg` drawn as a PNG, for apps that cannot show SVG (Android's image
    decoders): a Subsonic avatar, a cover an app asks for that does not exist."""
    from PIL import Image, ImageDraw, ImageFont

    colour, initials = _colour_and_initials(title)
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(8, int(size * 0.36)))
    draw.text((size / 2, size / 2), initials, fill=(255, 255, 255), font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def placeholder_svg(title: str, size: int) -> bytes:
    """A square in a colour chosen by the title, with its initials: never a broken image."""
    colour, initials = _colour_and_initials(title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 100 100"><rect width="100" height="100" fill="{colour}"/>'
        f'<text x="50" y="50" dy="0.35em" text-anchor="middle" font-family="sans-serif" '
        f'font-size="36" fill="#ffffffcc">{escape(initials)}</text></svg>'
    ).encode()
