"""Who may do what: 401 without credentials, 403 without the scope, sessions with CSRF."""

from __future__ import annotations

import dataclasses
import http.cookiejar
import io
import json
import logging
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from support.servers import AppServer

ADMIN_PASSWORD = "correct horse battery"  # tests/conftest.py's api fixture
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def write_routes(app):
    for route in app.router.routes():
        # /login is for anonymous users; /rest/ (the Subsonic API) checks its own credentials
        # (u+t+s, p, apiKey) and answers in its protocol: tests/e2e/test_subsonic.py
        if route.method in UNSAFE and route.resource.canonical not in ("/login", "/rest/{method}"):
            yield (
                route.method,
                route.resource.canonical.replace("{id}", "1").replace("{kind}", "track"),
            )


def make_token(api, name, scope):
    status, body = api.request(
        "POST", "/api/tokens", {"name": name, "scope": scope}, headers=admin(api)
    )
    assert status == 201, body
    return body["token"]


def admin(api):
    token = getattr(api, "_admin_token", None)
    if token is None:
        session = login(api)
        status, body = session.call("POST", "/api/tokens", {"name": "admin-cli", "scope": "admin"})
        assert status == 201, body
        token = api._admin_token = body["token"]
    return {"Authorization": f"Bearer {token}"}


class Browser:
    """A cookie-keeping client, as a browser would be (no redirects followed)."""

    def __init__(self, api):
        self.api = api
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )
        self.csrf = ""

    def call(self, method, path, body=None, *, form=None, headers=None):
        data, kind = None, "application/json"
        if form is not None:
            data, kind = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
        h = {"Content-Type": kind, **(headers or {})}
        if self.csrf and method in UNSAFE and form is None:
            h.setdefault("X-CSRF-Token", self.csrf)
        req = urllib.request.Request(self.api.url + path, data=data, method=method, headers=h)
        try:
            with self.opener.open(req, timeout=10) as resp:
                raw, status, ctype, loc = (
                    resp.read(),
                    resp.status,
                    resp.headers.get("Content-Type", ""),
                    resp.headers.get("Location"),
                )
        except urllib.error.HTTPError as exc:
            raw, status, ctype, loc = (
                exc.read(),
                exc.code,
                exc.headers.get("Content-Type", ""),
                exc.headers.get("Location"),
            )
        self.location = loc
        return status, json.loads(raw) if "json" in ctype else raw.decode()


def login(api, password=ADMIN_PASSWORD):
    browser = Browser(api)
    status, _ = browser.call(
        "POST", "/login", form={"username": "admin", "password": password, "next": "/tokens"}
    )
    assert status == 302, status
    status, page = browser.call("GET", "/tokens")
    assert status == 200
    browser.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return browser


def test_every_write_route_refuses_anonymous_and_read_only_callers(api):
    read_token = make_token(api, "reader", "read")
    routes = sorted(set(write_routes(api.app)))
    assert len(routes) > 20
    for method, path in routes:
        status, body = api.request(method, path, {}, auth=False)
        assert status == 401, (method, path, status, body)
        status, body = api.request(
            method, path, {}, auth=False, headers={"Authorization": f"Bearer {read_token}"}
        )
        if path == "/api/graphql":
            continue  # queries are reads: see the mutation check below
        assert status == 403, (method, path, status, body)
        assert body["error"]["code"] == "forbidden"
    mutation = {"query": "mutation { delete_tracks(ids: [1]) }"}
    assert api.request("POST", "/api/graphql", mutation, auth=False)[0] == 401
    status, _ = api.request(
        "POST",
        "/api/graphql",
        mutation,
        auth=False,
        headers={"Authorization": f"Bearer {read_token}"},
    )
    assert status == 403
    assert (
        api.request("GET", "/api/tracks", auth=False, headers={"Authorization": "Bearer nope"})[0]
        == 401
    )
    assert (
        api.request("GET", "/api/tracks", auth=False, headers={"Authorization": "Basic eDp5"})[0]
        == 401
    )


def test_reads_need_credentials_unless_opened_to_anonymous(api, settings):
    assert api.request("GET", "/api/tracks", auth=False)[0] == 401
    assert api.request("GET", "/api/health", auth=False)[0] in (200, 503)
    status, _ = api.request("GET", "/", auth=False)  # a page sends people to the login form
    assert status == 200  # urllib followed the redirect to /login
    server = AppServer(dataclasses.replace(settings, anonymous_read=True)).start()
    try:
        assert server.request("GET", "/api/tracks", auth=False)[0] == 200
        assert server.request("GET", "/", auth=False)[0] == 200
        assert server.request("POST", "/api/tracks", {"path": "/x"}, auth=False)[0] == 401
        assert server.graphql("{ tracks { total } }")["data"]["tracks"]["total"] == 0
    finally:
        server.stop()


def test_session_login_with_csrf_protection(api):
    browser = Browser(api)
    status, _ = browser.call("GET", "/")
    assert status == 302 and browser.location.startswith("/login?next=")
    status, page = browser.call("POST", "/login", form={"username": "admin", "password": "wrong"})
    assert status == 401 and "Wrong user name or password" in page
    status, _ = browser.call(
        "POST",
        "/login",
        form={"username": "admin", "password": ADMIN_PASSWORD, "next": "//evil.example/x"},
    )
    assert status == 302 and browser.location == "/"
    assert browser.call("GET", "/")[0] == 200
    assert browser.call("GET", "/api/tracks")[0] == 200
    status, body = browser.call("POST", "/api/tracks", {"path": "/m/s.mp3"})
    assert status == 403 and body["error"]["details"]["field"] == "csrf_token"
    status, page = browser.call("GET", "/tokens")
    browser.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert browser.call("POST", "/api/tracks", {"path": "/m/s.mp3"})[0] == 201
    status, _ = browser.call(
        "POST",
        "/login",
        form={"username": "admin", "password": ADMIN_PASSWORD},
        headers={"Origin": "http://evil.example"},
    )
    assert status == 403  # login CSRF
    status, _ = browser.call("POST", "/logout", form={"csrf_token": browser.csrf})
    assert status == 302
    assert browser.call("GET", "/api/tracks")[0] == 401


def test_tokens_from_the_page_and_api_work_until_revoked(api):
    browser = login(api)
    status, page = browser.call(
        "POST", "/tokens", form={"name": "phone", "scope": "read", "csrf_token": browser.csrf}
    )
    assert status == 200
    token = re.search(r'<code id="new-token">([^<]+)</code>', page).group(1)
    auth = {"Authorization": f"Bearer {token}"}
    assert api.request("GET", "/api/tracks", auth=False, headers=auth)[0] == 200
    assert api.request("GET", "/api/tokens", auth=False, headers=auth)[0] == 403  # admin only
    status, listed = browser.call("GET", "/api/tokens")
    phone = next(t for t in listed["items"] if t["name"] == "phone")
    assert "token" not in phone and "token_hash" not in phone
    # issue 27: the tokens page says when each was last used (noted just after the request)
    deadline = time.monotonic() + 10
    while not phone["last_used_at"] and time.monotonic() < deadline:
        time.sleep(0.05)
        phone = next(
            t for t in browser.call("GET", "/api/tokens")[1]["items"] if t["name"] == "phone"
        )
    assert phone["last_used_at"] >= phone["created_at"]
    row = browser.call("GET", "/tokens")[1].split(">phone<")[1].split("</tr>")[0]
    assert len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d", row)) == 2  # created, last used
    assert browser.call("DELETE", f"/api/tokens/{phone['id']}")[0] == 204
    assert api.request("GET", "/api/tracks", auth=False, headers=auth)[0] == 401


def test_access_log_has_request_ids_and_never_secrets(api):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    access = logging.getLogger("soniquebay.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        login(api)
        api.request(
            "GET", f"/api/tracks?token={api.token}&genre=x", headers={"X-Request-ID": "abc123"}
        )
    finally:
        access.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    mine = [line for line in lines if line["request_id"] == "abc123"]
    assert mine and mine[0]["query"] == "token=***&genre=x" and mine[0]["user"] == "worker:worker"
    text = stream.getvalue()
    assert api.token not in text and ADMIN_PASSWORD not in text
    assert "soniquebay_session" not in text and "sbt_" not in text
    assert all({"method", "path", "status", "ms", "user"} <= set(line) for line in lines)


def test_cli_creates_a_token_the_server_accepts(api, settings):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "soniquebay",
            "--data-dir",
            str(settings.data_dir),
            "token",
            "create",
            "desktop worker",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:  # options come after the subcommand in this CLI
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "soniquebay",
                "token",
                "--data-dir",
                str(settings.data_dir),
                "create",
                "desktop worker",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    token = out.stdout.strip()
    assert token.startswith("sbt_") and "not shown again" in out.stderr
    auth = {"Authorization": f"Bearer {token}"}
    assert (
        api.request("POST", "/api/artists", {"name": "Via CLI"}, auth=False, headers=auth)[0] == 201
    )


@pytest.mark.parametrize("path", ["/api/openapi.json", "/api/docs", "/login", "/static/style.css"])
def test_public_pages_need_no_login(api, path):
    assert api.request("GET", path, auth=False)[0] == 200


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "/\t/evil.example", "/\n/evil.example", "/\\evil.example",
     "https://evil.example/", "/ /evil.example", "/\x7f/evil.example"],
)  # fmt: skip
def test_after_login_the_redirect_never_leaves_the_site(api, target):
    """Browsers drop tabs and newlines from a Location: '/\\t/evil.example' would be
    '//evil.example', another site."""
    browser = Browser(api)
    status, _ = browser.call(
        "POST", "/login", form={"username": "admin", "password": ADMIN_PASSWORD, "next": target}
    )
    assert status == 302 and browser.location == "/"


def test_after_login_a_path_on_the_site_is_kept(api):
    browser = Browser(api)
    status, _ = browser.call(
        "POST",
        "/login",
        form={"username": "admin", "password": ADMIN_PASSWORD, "next": "/tracks/3?x=1"},
    )
    assert status == 302 and browser.location == "/tracks/3?x=1"


# Routes whose allowed call would end this test's own callers (their session or token).
ENDS_A_CALLER = {("POST", "/logout"), ("POST", "/users/{id}/delete"),
                 ("DELETE", "/api/tokens/{id}"), ("POST", "/tokens/{id}/revoke")}  # fmt: skip


def test_who_may_call_each_write_is_the_access_table(api):
    """Issue 24, item 7: a listener could call the workers' writes (GraphQL mark_missing hid
    20 of 21 tracks) and the catalogue's (DELETE /api/artists/{id}). Every write route and
    every GraphQL mutation, called as a listener, a write token, an admin token and the
    workers' token: refused (403) exactly where web/access.py says."""
    import apsw

    from soniquebay import credentials
    from soniquebay.library import accounts
    from soniquebay.web import access, keys

    make_token(api, "spare", "read")  # token 1: a route revoking token 1 revokes this one
    conn = apsw.Connection(str(api.settings.db_path))
    accounts.create_user(conn, "bob", credentials.hash_password("bob's password"))
    conn.close()
    bob = Browser(api)
    assert bob.call("POST", "/login", form={"username": "bob", "password": "bob's password",
                                            "next": "/"})[0] == 302  # fmt: skip
    bob.csrf = re.search(r'name="csrf_token" value="([^"]+)"', bob.call("GET", "/settings")[1])[1]
    write_token, admin_token = make_token(api, "script", "write"), make_token(api, "ops", "admin")

    def bearer(token):
        return lambda m, p, b: api.request(m, p, b, auth=False,
                                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip

    callers = {
        "listener": bob.call,
        "write": bearer(write_token),
        "admin": bearer(admin_token),
        "worker": lambda m, p, b: api.request(m, p, b),
    }
    scopes = api.app[keys.SCOPES]
    routes = sorted({(r.method, r.resource.canonical) for r in api.app.router.routes()
                     if r.method in UNSAFE and r.resource.canonical not in ("/login", "/rest/{method}")})  # fmt: skip

    def refused_for(status, body) -> str | None:
        """The scope the access table refused the call for (a handler's own refusal, such as
        "this needs a user" for the workers' token on a playlist, is not one)."""
        if status != 403 or not isinstance(body, dict):
            return None
        return body.get("error", {}).get("details", {}).get("needs")

    for scope, call in callers.items():
        for method, canonical in routes:
            wanted = scopes[(method, canonical)]
            path = canonical.replace("{id}", "1").replace("{kind}", "track")
            if access.granted(scope, wanted):
                if (method, canonical) in ENDS_A_CALLER:
                    continue
                status, body = call(method, path, {})
                assert status != 401 and refused_for(status, body) != wanted, (
                    scope, method, canonical, status, body)  # fmt: skip
            else:
                status, body = call(method, path, {})
                assert refused_for(status, body) == wanted, (
                    scope, method, canonical, wanted, status, body)  # fmt: skip
        for mutation, wanted in access.MUTATIONS.items():  # refused before validation, or let
            status, body = call("POST", "/api/graphql", {"query": f"mutation {{ {mutation} }}"})
            if access.granted(scope, wanted):  # then validated and run (400: arguments missing)
                assert status in (200, 400), (scope, mutation, status, body)
            else:
                assert refused_for(status, body) == wanted, (scope, mutation, status, body)
    listener_may = {c for m, c in routes if access.granted("listener", scopes[(m, c)])}
    assert "/api/library/files" not in listener_may and "/api/artists/{id}" not in listener_may
    assert "/api/playlists" in listener_may and "/api/stars/{kind}/{id}" in listener_may
