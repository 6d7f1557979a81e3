"""Reading a request: path ids, query parameters (pages, sorts, filters) and the JSON bodies'
specifications. Every front door parses with these; values are checked by
:mod:`soniquebay.web.validation`."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from soniquebay import library
from soniquebay.errors import InvalidInput
from soniquebay.library import edits, fields
from soniquebay.web.validation import JSON, query_value

MAX_LIMIT = 500
PAGE_PARAMS = ("limit", "offset")

TRACK_SPEC = {
    **fields.TAG_TYPES,
    "track_artist_id": int,
    "album_id": int,
}
TRACK_CREATE_SPEC = {**TRACK_SPEC, "path": str, "size": int, "mtime_ns": int}
FEATURE_SPEC = {f: JSON if t == "json" else t for f, t in fields.FEATURE_TYPES.items()}
ARTIST_SPEC = {"name": str, "musicbrainz_artistid": str}
ALBUM_SPEC = {"title": str, "album_artist_id": int, "year": int, "musicbrainz_albumid": str}
# PATCH may also set any album-wide tag on every track of the album.
ALBUM_PATCH_SPEC = {
    **ALBUM_SPEC,
    **{f: fields.TAG_TYPES[c] for f, c in edits.ALBUM_ON_TRACKS.items() if f not in ALBUM_SPEC},
}
VECTOR_SPEC = {"track_id": int, "name": str, "vector": JSON}


def path_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # "²" and "１" are digits too
        raise InvalidInput(f"{name} must be a positive integer", details={"field": name})
    return int(raw)


def int_param(
    request: web.Request,
    name: str,
    default: int | None = None,
    *,
    low: int = 0,
    high: int | None = None,
) -> int | None:
    value = query_value(request, name, int)
    if value is None:
        return default
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"{name} must be {bound}", details={"field": name})
    return value


def page_params(request: web.Request) -> tuple[int, int]:
    return int_param(request, "limit", 50, low=1, high=MAX_LIMIT), int_param(request, "offset", 0)


def known_params(request: web.Request, *allowed: str) -> None:
    unknown = set(request.query) - set(allowed)
    if unknown:
        name = sorted(unknown)[0][:60]
        raise InvalidInput(
            f"unknown query parameter {name!r}",
            details={"field": name, "allowed": sorted(allowed)},
        )


def sort_param(request: web.Request, default: str) -> tuple[str, bool]:
    sort = request.query.get("sort", default)
    return sort.lstrip("-"), sort.startswith("-")


def track_filters(request: web.Request) -> dict:
    filters = {
        name: query_value(request, name, kind)
        for name, kind in library.tracks.TRACK_FILTERS.items()
    }
    return {k: v for k, v in filters.items() if v is not None}


def safe_next(target: str | None) -> str:
    """Only a path on this site: never //evil.example or https://evil.example. Browsers drop
    tabs and newlines from a URL (``/\t/evil.example`` becomes ``//evil.example``), so any
    control character makes the target refused, as does a backslash."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target)
        or urlsplit(target).netloc
    ):
        return "/"
    return target
