"""JSON answers: orjson where it can, the standard library where it cannot.

orjson writes a 50-album GraphQL answer in a tenth of the time ``json.dumps`` takes (0.07 ms
against 0.7), and lists and pages are most of what the server sends. It refuses what strict
UTF-8 JSON cannot hold: a lone surrogate (a non-UTF-8 file name, decoded with
``surrogateescape``), an integer beyond 64 bits, a type it does not know. Those answers go
through ``json.dumps(ensure_ascii=True)``, which keeps a surrogate as a ``\\udcXX`` escape that
the worker reading it turns back into the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value, ensure_ascii=True).encode()


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return encoded_response(dumps(data), status=status, headers=headers)


def encoded_response(
    body: bytes, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """An answer already encoded as JSON (a GraphQL reader's)."""
    return web.Response(body=body, status=status, headers=headers, content_type="application/json")
