"""Signing in and out (the login page, sessions), and API tokens: their page and their API.
Who is asking and whether they may is :mod:`soniquebay.web.auth`."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import secrets
from urllib.parse import urlsplit

from aiohttp import web

from soniquebay import credentials
from soniquebay.errors import Forbidden, InvalidInput
from soniquebay.library import accounts
from soniquebay.web import keys
from soniquebay.web.auth import SESSION_COOKIE, AuthState
from soniquebay.web.jsonbody import json_response
from soniquebay.web.params import safe_next
from soniquebay.web.render import render
from soniquebay.web.throttle import client_address, is_https

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ login pages


@functools.cache
def _dummy_hash() -> str:
    """A hash no password matches, checked for user names that do not exist."""
    return credentials.hash_password(secrets.token_urlsafe(16))


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


async def login_page(request: web.Request) -> web.Response:
    changed = request.query.get("changed") == "1"
    return render(
        request, "login.html", next=safe_next(request.query.get("next")), error=None,
        notice="Your password was changed: log in with the new one." if changed else None,
    )  # fmt: skip


async def login(request: web.Request) -> web.Response:
    if not _same_origin(request):
        raise Forbidden("a login must come from this site's own form")
    form = await request.post()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    database, settings = request.app[keys.DB], request.app[keys.SETTINGS]
    state: AuthState = request.app[keys.AUTH]
    address = client_address(request, state.proxies)
    wait = state.throttle.retry_after(username, address)
    if wait > 0:
        log.warning("login for user %r from %s throttled for %.0fs", username[:60], address, wait)
        seconds = math.ceil(wait)
        response = render(
            request,
            "login.html",
            next=target,
            error=f"Too many failed attempts: try again in {seconds} s.",
        )
        response.set_status(429)
        response.headers["Retry-After"] = str(seconds)
        return response
    user = database.read(accounts.user_by_name, username) if username else None
    # scrypt takes tens of ms of CPU: off the event loop, and as long for a user who does not
    # exist (the dummy hash) so the answer's time does not tell which names exist.
    stored = user["password_hash"] if user else _dummy_hash()
    good = await asyncio.get_running_loop().run_in_executor(
        None, credentials.check_password, password, stored
    )
    if user is None or not good:
        state.throttle.failed(username, address)
        log.info("failed login for user %r from %s", username[:60], address)
        response = render(request, "login.html", next=target, error="Wrong user name or password.")
        response.set_status(401)
        return response
    state.throttle.succeeded(username)
    cookie = secrets.token_urlsafe(32)
    await database.write(
        accounts.create_session,
        credentials.hash_token(cookie),
        user["id"],
        secrets.token_urlsafe(24),
        settings.session_days * 86400,
    )
    response = web.Response(status=302, headers={"Location": target})
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(settings.session_days * 86400),
        httponly=True,
        samesite="Lax",
        secure=settings.secure_cookies == "always" or is_https(request, state.proxies),
        path="/",
    )
    return response


async def logout(request: web.Request) -> web.Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await request.app[keys.DB].write(accounts.delete_session, credentials.hash_token(cookie))
    response = web.Response(status=302, headers={"Location": "/login"})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


# ------------------------------------------------------------------ tokens (API and page)


async def make_token(request: web.Request, name: str, scope: str) -> tuple[str, dict]:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a token needs a name of 1 to 100 characters", details={"field": "name"})
    if scope not in accounts.SCOPES:
        raise InvalidInput(
            f"scope must be one of {', '.join(accounts.SCOPES)}",
            details={"field": "scope", "allowed": list(accounts.SCOPES)},
        )
    token = credentials.new_token()
    # A token made by a signed-in user acts as that user (their stars, plays, playlists).
    owner = request["principal"].user_id
    row = await request.app[keys.DB].write(
        accounts.create_token,
        name,
        credentials.hash_token(token),
        token[:10],
        scope=scope,
        user_id=owner,
    )
    return token, row


async def revoke(request: web.Request, token_id: int) -> None:
    await request.app[keys.DB].write(accounts.revoke_token, token_id)
    request.app[keys.AUTH].forget_tokens()


async def list_tokens(request: web.Request) -> web.Response:
    return json_response({"items": request.app[keys.DB].read(accounts.list_tokens)})


async def create_token(request: web.Request) -> web.Response:
    from soniquebay.web.validation import check_object, json_object

    body = check_object(await json_object(request), {"name": str, "scope": str}, required=("name",))
    token, row = await make_token(request, body["name"], body.get("scope") or "write")
    return json_response(
        {**row, "token": token}, status=201, headers={"Location": f"/api/tokens/{row['id']}"}
    )


async def delete_token(request: web.Request) -> web.Response:
    from soniquebay.web.params import path_id

    await revoke(request, path_id(request))
    return web.Response(status=204)


async def tokens_page(request: web.Request, new_token: str | None = None) -> web.Response:
    return render(
        request,
        "tokens.html",
        tokens=request.app[keys.DB].read(accounts.list_tokens),
        new_token=new_token,
        csrf=request["principal"].csrf,
        scopes=accounts.SCOPES,
    )


async def tokens_page_get(request: web.Request) -> web.Response:
    return await tokens_page(request)


async def tokens_page_create(request: web.Request) -> web.Response:
    form = await request.post()
    token, _ = await make_token(request, str(form.get("name", "")), str(form.get("scope", "write")))
    return await tokens_page(request, new_token=token)


async def tokens_page_revoke(request: web.Request) -> web.Response:
    from soniquebay.web.params import path_id

    await revoke(request, path_id(request))
    raise web.HTTPFound("/tokens")
