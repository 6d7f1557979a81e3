"""Issue 9, cases 10 and 12: password guessing is throttled (without locking the real user out
for good), and the session cookie is Secure behind a TLS proxy we trust, and only then."""

from __future__ import annotations

import dataclasses
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import ADMIN_PASSWORD
from support.servers import AppServer, wait_for


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(server, user: str, password: str, headers: dict | None = None):
    """(status, headers) of a login form post, as a browser sends it."""
    data = urllib.parse.urlencode({"username": user, "password": password, "next": "/"}).encode()
    request = urllib.request.Request(
        server.url + "/login",
        data=data,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
    )
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as resp:
            return resp.status, resp.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


def test_guessing_one_account_is_slowed_down_then_the_owner_gets_in(api):
    for _ in range(5):
        assert login(api, "admin", "wrong")[0] == 401
    status, headers = login(api, "admin", "wrong again")
    assert status == 429 and int(headers["Retry-After"]) >= 1
    status, _ = login(api, "admin", ADMIN_PASSWORD)  # even the right one waits its turn
    assert status == 429
    wait_for(
        lambda: login(api, "admin", ADMIN_PASSWORD)[0] == 302,
        timeout=30,
        what="the owner's login once the wait is over",
    )
    assert login(api, "admin", "wrong")[0] == 401  # a success cleared the account's count


def test_guessing_many_accounts_from_one_address_is_slowed_down(api):
    for i in range(20):
        assert login(api, f"user{i}", "guess")[0] == 401
    status, headers = login(api, "someone-else", "guess")
    assert status == 429 and "Retry-After" in headers


@pytest.mark.parametrize(("trusted", "secure"), [("", False), ("127.0.0.1", True)])
def test_the_session_cookie_is_secure_behind_a_trusted_tls_proxy(settings, trusted, secure):
    conf = dataclasses.replace(settings, admin_password=ADMIN_PASSWORD, trusted_proxies=trusted)
    server = AppServer(conf).start()
    try:
        status, headers = login(server, "admin", ADMIN_PASSWORD, {"X-Forwarded-Proto": "https"})
        assert status == 302
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie and ("Secure" in cookie) is secure
        status, headers = login(server, "admin", ADMIN_PASSWORD)  # plain HTTP: never Secure
        assert "Secure" not in headers["Set-Cookie"]
    finally:
        server.stop()
