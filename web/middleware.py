"""One error shape everywhere: ``{"error": {"code", "message", "details"}}`` with the right status."""

from __future__ import annotations

import json
import logging
import uuid

from aiohttp import web

from soniquebay.errors import SoniqueBayError

log = logging.getLogger(__name__)


def error_response(
    status: int, code: str, message: str, details: dict | None = None
) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message, "details": details or {}}}, status=status
    )


@web.middleware
async def errors_middleware(request: web.Request, handler) -> web.StreamResponse:
    request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
    try:
        response = await handler(request)
    except SoniqueBayError as exc:
        response = error_response(exc.status, exc.code, exc.message, exc.details)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status, "http_error"
        )
        response = error_response(exc.status, code, exc.reason)
    except json.JSONDecodeError:
        response = error_response(400, "invalid_json", "the request body is not valid JSON")
    except Exception:
        log.exception(
            "unhandled error on %s %s (request %s)", request.method, request.path, request_id
        )
        response = error_response(
            500, "internal_error", "internal error", {"request_id": request_id}
        )
    if not response.prepared:
        response.headers["X-Request-ID"] = request_id
    return response
