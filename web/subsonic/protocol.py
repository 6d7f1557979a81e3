"""Subsonic's protocol: the ``subsonic-response`` envelope in XML (the default), JSON or
JSONP, its numbered errors, request parameters (query or form body, repeatable), kind-prefixed
ids and dates.

A response payload is plain data: in a dict, a scalar is an XML attribute, a dict a child
element, a list repeated child elements (always an array in JSON, as apps expect), and the
key ``value`` the element's text. JSON is that data as it is. OpenSubsonic's additions go in
both, as OpenSubsonic writes them in XML (``<song bpm="…"><genres name="…"/>
<replayGain trackGain="…"/></song>``): an XML-only app sees everything a JSON one does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from soniquebay import __version__
from soniquebay.web.jsonbody import json_response

API_VERSION = "1.16.1"
NAMESPACE = "http://subsonic.org/restapi"
SERVER_TYPE = "soniquebay"
KINDS = {"ar": "artist", "al": "album", "tr": "track", "pl": "playlist"}
PREFIXES = {kind: prefix for prefix, kind in KINDS.items()}
ID = re.compile(r"^(ar|al|tr|pl)-(\d{1,18})$")
CALLBACK = re.compile(r"^[A-Za-z_$][\w$.]{0,100}$")
# XML 1.0 cannot hold these even escaped: tag text from files may carry them.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Text(str):
    """A string sent as a child element's text in XML (``<biography>…</biography>``), as a
    plain string in JSON."""


class SubsonicError(Exception):
    """An error as the spec numbers them; answered with HTTP 200 and status "failed"."""

    GENERIC, MISSING, CLIENT_OLD, SERVER_OLD, WRONG_CREDENTIALS = 0, 10, 20, 30, 40
    TOKEN_UNSUPPORTED, AUTH_UNSUPPORTED, CONFLICTING_AUTH, BAD_API_KEY = 41, 42, 43, 44
    NOT_AUTHORIZED, NOT_FOUND = 50, 70

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def missing(name: str) -> SubsonicError:
    return SubsonicError(SubsonicError.MISSING, f"Required parameter is missing: {name}")


def not_found(what: str) -> SubsonicError:
    return SubsonicError(SubsonicError.NOT_FOUND, f"{what} not found")


class Params:
    """The request's parameters: the query string, then a POSTed form (OpenSubsonic
    ``formPost``), each name possibly repeated (``id=1&id=2``)."""

    def __init__(self, query: MultiDictProxy, form: MultiDictProxy | None = None):
        merged: MultiDict[str] = MultiDict(query)
        if form:
            merged.extend((k, v) for k, v in form.items() if isinstance(v, str))
        self._values = merged

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name, default)

    def required(self, name: str) -> str:
        value = self._values.get(name)
        if value is None or value == "":
            raise missing(name)
        return value

    def all(self, name: str) -> list[str]:
        return [v for v in self._values.getall(name, []) if v != ""]

    def int(self, name: str, default: int | None = None, low: int = 0, high: int = 2**62):
        raw = self._values.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SubsonicError(SubsonicError.GENERIC, f"{name} must be a number") from None
        return max(low, min(high, value))

    def bool(self, name: str, default: bool = False) -> bool:
        raw = self._values.get(name)
        return default if raw is None or raw == "" else raw.lower() in ("true", "1", "yes")


def parse_id(raw: str, *kinds: str) -> tuple[str, int]:
    """("artist" | "album" | "track" | "playlist", number) of an id like ``al-12``; a bare
    number is a track (what old clients send for songs)."""
    if raw.isascii() and raw.isdigit() and len(raw) < 18:
        kind, number = "track", int(raw)
    else:
        found = ID.match(raw or "")
        if not found:
            raise not_found(f"id {raw[:40]!r}")
        kind, number = KINDS[found.group(1)], int(found.group(2))
    if kinds and kind not in kinds:
        raise not_found(f"{kind} {raw[:40]!r} (wanted {' or '.join(kinds)})")
    return kind, number


def make_id(kind: str, number: int) -> str:
    return f"{PREFIXES[kind]}-{number}"


def iso(epoch: float | None) -> str | None:
    """A stored time as the spec writes dates; one no calendar holds (stored before the store
    bounded times) is left out rather than failing the whole answer."""
    if not epoch:
        return None
    try:
        moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    except (OverflowError, ValueError, OSError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def clean(data: Any) -> Any:
    """Drop None values (absent attributes), recursively."""
    if isinstance(data, dict):
        return {k: clean(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [clean(v) for v in data]
    return data


def envelope(payload: dict[str, Any] | None = None, status: str = "ok") -> dict[str, Any]:
    return {
        "status": status,
        "version": API_VERSION,
        "type": SERVER_TYPE,
        "serverVersion": __version__,
        "openSubsonic": True,
        **(clean(payload) if payload else {}),
    }


def _attr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return XML_INVALID.sub("", str(value))


def _xml(name: str, data: Any, out: list[str]) -> None:
    if not isinstance(data, dict):
        out.append(f"<{name}>{escape(_attr(data))}</{name}>")
        return
    attrs = "".join(
        f" {k}={quoteattr(_attr(v))}"
        for k, v in data.items()
        if k != "value" and not isinstance(v, (dict, list, Text))
    )
    children = [(k, v) for k, v in data.items() if isinstance(v, (dict, list, Text))]
    text = escape(_attr(data["value"])) if "value" in data else ""
    if not children and not text:
        out.append(f"<{name}{attrs}/>")
        return
    out.append(f"<{name}{attrs}>{text}")
    for key, value in children:
        for item in value if isinstance(value, list) else [value]:
            _xml(key, item, out)
    out.append(f"</{name}>")


def to_xml(body: dict[str, Any]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    _xml("subsonic-response", {"xmlns": NAMESPACE, **body}, out)
    return "".join(out)


def respond(params: Params, body: dict[str, Any]) -> web.Response:
    fmt = (params.get("f") or "xml").lower()
    if fmt == "json":
        return json_response({"subsonic-response": body})
    if fmt == "jsonp":
        callback = params.get("callback") or ""
        if not CALLBACK.match(callback):
            callback = "callback"
        text = f"{callback}({json.dumps({'subsonic-response': body})});"
        return web.Response(text=text, content_type="application/javascript")
    return web.Response(text=to_xml(body), content_type="application/xml", charset="utf-8")


def error(params: Params, exc: SubsonicError) -> web.Response:
    return respond(
        params, envelope({"error": {"code": exc.code, "message": exc.message}}, "failed")
    )
