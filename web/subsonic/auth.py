"""Who is asking the Subsonic API.

Three ways in, as the spec and OpenSubsonic have them: ``u`` with a salted token
(``t`` = md5(password + ``s``)), ``u`` with ``p`` (plain or ``enc:`` + hex), or ``apiKey``
alone. The password is the user's **Subsonic password** — never their login password — set
on the settings page or with ``soniquebay user subsonic-password``, kept sealed
(:func:`soniquebay.credentials.seal`). Guessing is throttled like the login page.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
from dataclasses import dataclass

from aiohttp import web

from soniquebay import credentials
from soniquebay.library import accounts
from soniquebay.web import keys
from soniquebay.web.subsonic.protocol import Params, SubsonicError, missing
from soniquebay.web.throttle import client_address

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class User:
    id: int
    name: str
    is_admin: bool
    folders: tuple[str, ...] | None = None  # the music folders they see, by name; None: all
    downloads: bool = True  # downloadRole
    shares: bool = True  # shareRole

    @classmethod
    def of(cls, row: dict) -> User:
        return cls(
            row["id"],
            row["username"],
            bool(row["is_admin"]),
            accounts.folders_of(row),
            row.get("downloads") != 0,
            row.get("shares") != 0,
        )


NOBODY = User(0, "", False)  # the caller of a method the spec answers without credentials


def _wrong() -> SubsonicError:
    return SubsonicError(SubsonicError.WRONG_CREDENTIALS, "Wrong username or password")


async def authenticate(request: web.Request, params: Params) -> User:
    app = request.app
    database, state = app[keys.DB], app[keys.AUTH]
    address = client_address(request, state.proxies)
    api_key, username = params.get("apiKey"), params.get("u")
    if api_key is not None:
        if username is not None or params.get("p") or params.get("t"):
            raise SubsonicError(
                SubsonicError.CONFLICTING_AUTH,
                "Multiple conflicting authentication mechanisms provided: apiKey goes alone",
            )
        # Guesses count against the guessing address (and the key's first characters), never
        # one bucket for all keys: someone else's guesses must not lock a valid key out.
        account = f"apikey:{address}:{api_key[:8]}"
        _throttled(state, account, address)
        row = database.read(accounts.user_by_api_key, credentials.hash_token(api_key))
        if row is None:
            state.throttle.failed(account, address)
            raise SubsonicError(SubsonicError.BAD_API_KEY, "Invalid API key")
        return User.of(row)
    if not username:
        raise missing("u")
    _throttled(state, username, address)
    row = database.read(accounts.subsonic_user, username)
    token, salt, password = params.get("t"), params.get("s"), params.get("p")
    if not (token and salt) and password is None:
        raise missing("t and s, or p, or apiKey")
    secret = (
        await asyncio.get_running_loop().run_in_executor(
            None, credentials.unseal, app[keys.SETTINGS], row["subsonic_password"]
        )
        if row and row["subsonic_password"]
        else None
    )
    if secret is None or not _matches(secret, token, salt, password):
        state.throttle.failed(username, address)
        log.info("failed Subsonic login for user %r from %s", username[:60], address)
        raise _wrong()
    state.throttle.succeeded(username)
    return User.of(row)


def _throttled(state, account: str, address: str) -> None:
    wait = state.throttle.retry_after(account, address)
    if wait > 0:
        raise SubsonicError(
            SubsonicError.WRONG_CREDENTIALS,
            f"Too many failed attempts: try again in {math.ceil(wait)} s",
        )


def _matches(secret: str, token: str | None, salt: str | None, password: str | None) -> bool:
    if token and salt:
        expected = hashlib.md5((secret + salt).encode("utf-8")).hexdigest()  # noqa: S324 (the spec's)
        return hmac.compare_digest(expected, token.lower())
    given = clear_password(password or "")
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))


def clear_password(given: str) -> str | None:
    """A password parameter as the spec allows it: plain, or ``enc:`` + hex of its UTF-8
    (None when that hex is not)."""
    if not given.startswith("enc:"):
        return given
    try:
        return bytes.fromhex(given[4:]).decode("utf-8")
    except ValueError:
        return None
