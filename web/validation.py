"""Checking what clients send: JSON bodies and query parameters, each error naming its field.

Malformed input (not JSON, not an integer) is a 400; well-formed input that breaks a rule (a
wrong type inside the JSON, an unknown field, a vector of the wrong dimension) is a 422. Both
carry ``details.field`` so a client can point at what to fix.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from soniquebay.errors import InvalidInput, Unprocessable

MAX_TEXT = 10_000
MAX_QUERY_TEXT = 200
JSON = object()  # any JSON value
TYPE_NAMES = {
    int: "an integer",
    float: "a number",
    str: "a string",
    bool: "true or false",
    list: "a list",
}


async def json_body(request: web.Request) -> Any:
    if not request.can_read_body:
        raise InvalidInput("this request needs a JSON body", details={"field": "body"})
    return parse_json(await request.read())


def parse_json(raw: bytes, what: str = "the request body is not valid JSON") -> Any:
    """JSON from a client. Nesting deeper than Python's recursion limit is refused as invalid
    (it used to surface as a RecursionError, a 500)."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput(what, details={"field": "body"}) from None


def check_text(field: str, value: str) -> str:
    """Text that can be stored: no lone surrogates (JSON's "\\ud800" parses, UTF-8 cannot hold
    it). A ``path`` may carry surrogate-escaped bytes (\\udc80-\\udcff): non-UTF-8 names."""
    try:
        value.encode("utf-8", "surrogateescape" if field == "path" else "strict")
    except UnicodeEncodeError:
        raise Unprocessable(
            f"{field} is not valid Unicode text (it holds a lone surrogate)",
            details={"field": field},
        ) from None
    return value


async def json_object(request: web.Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise Unprocessable("the request body must be a JSON object", details={"field": "body"})
    return body


def check_value(field: str, value: Any, kind: Any) -> Any:
    if kind is JSON:
        return value
    ok = (
        (kind is int and isinstance(value, int) and not isinstance(value, bool))
        or (kind is float and isinstance(value, (int, float)) and not isinstance(value, bool))
        or (kind is str and isinstance(value, str))
        or (kind is bool and isinstance(value, bool))
        or (kind is list and isinstance(value, list))
    )
    if not ok:
        raise Unprocessable(
            f"{field} must be {TYPE_NAMES[kind]}, got {type(value).__name__}",
            details={"field": field},
        )
    if kind is float:
        if not math.isfinite(value):
            raise Unprocessable(f"{field} must be a finite number", details={"field": field})
        return float(value)
    if kind is int and not -(2**63) <= value < 2**63:
        raise Unprocessable(f"{field} does not fit in 64 bits", details={"field": field})
    if kind is str:
        check_text(field, value)
    if kind is str and len(value) > MAX_TEXT:
        raise Unprocessable(
            f"{field} is longer than {MAX_TEXT} characters", details={"field": field}
        )
    return value


def check_object(
    data: Mapping[str, Any],
    spec: Mapping[str, Any],
    *,
    required: tuple[str, ...] = (),
    not_null: tuple[str, ...] = (),
    prefix: str = "",
) -> dict[str, Any]:
    """``data`` checked against ``spec`` (field -> int/float/str/bool/JSON); unknown fields refused,
    and anything but a JSON object (a list, a number) too."""
    if not isinstance(data, Mapping):
        raise Unprocessable(
            f"expected a JSON object, got {type(data).__name__}",
            details={"field": prefix or "body"},
        )
    for field in data:
        if field not in spec:
            raise Unprocessable(
                f"unknown field {field[:60]!r}",
                details={"field": prefix + field[:60], "allowed": sorted(spec)},
            )
    for field in required:
        if data.get(field) is None:
            raise Unprocessable(f"{field} is required", details={"field": prefix + field})
    out = {}
    for field, value in data.items():
        if value is None:
            if field in not_null:
                raise Unprocessable(f"{field} cannot be null", details={"field": prefix + field})
            out[field] = None
        else:
            out[field] = check_value(prefix + field, value, spec[field])
    for field in not_null:
        if isinstance(out.get(field), str) and not out[field].strip():
            raise Unprocessable(f"{field} cannot be empty", details={"field": prefix + field})
    return out


def query_value(request: web.Request, name: str, kind: type) -> Any:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if kind is str:
        if len(raw) > MAX_QUERY_TEXT:
            raise InvalidInput(
                f"{name} is longer than {MAX_QUERY_TEXT} characters", details={"field": name}
            )
        return check_text(name, raw)
    if kind is bool:
        lowered = raw.lower()
        if lowered in ("1", "true", "yes"):
            return True
        if lowered in ("0", "false", "no"):
            return False
        raise InvalidInput(f"{name} must be true or false", details={"field": name})
    try:
        value = kind(raw)
    except ValueError:
        raise InvalidInput(
            f"{name} must be {TYPE_NAMES[kind]}, got {raw[:40]!r}", details={"field": name}
        ) from None
    if kind is float and not math.isfinite(value):
        raise InvalidInput(f"{name} must be a finite number", details={"field": name})
    if kind is int and not -(2**63) <= value < 2**63:
        raise InvalidInput(f"{name} does not fit in 64 bits", details={"field": name})
    return value
