"""Issue 27, item 5, through a real `serve` as a person uses the pages (a session with its
CSRF token): change your own password (the current one asked), an admin gives a user a new
password (shown once) and sets their role."""

from __future__ import annotations

import re
import urllib.error

import pytest
from support.browsing import PASSWORD
from support.servers import WebSession

KID_PASSWORD = "kid password 1"


def test_passwords_and_roles_from_the_pages(serve):
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    server.cli("user", "add", "kid", stdin=KID_PASSWORD + "\n")
    kid = WebSession(server.url, "kid", KID_PASSWORD)
    assert 'action="/settings/password"' in kid.page("/settings")

    # The current password is asked; the two new ones must agree.
    html = {"Accept": "text/html"}
    status, body, _ = kid.request("POST", "/settings/password", headers=html,
                                  form={"current": "wrong", "password": "new password 2", "again": "new password 2"})  # fmt: skip
    assert status == 400 and "current password" in body
    status, body, _ = kid.request("POST", "/settings/password", headers=html,
                                  form={"current": KID_PASSWORD, "password": "new password 2", "again": "other one 2"})  # fmt: skip
    assert status == 400 and "differ" in body
    status, body, _ = kid.request("POST", "/settings/password", headers=html,
                                  form={"current": KID_PASSWORD, "password": "new password 2", "again": "new password 2"})  # fmt: skip
    assert status == 200 and "log in with the new one" in body  # followed to the login page
    assert 'name="password"' in kid.request("GET", "/settings", headers=html)[1]  # logged out
    with pytest.raises(urllib.error.HTTPError):
        WebSession(server.url, "kid", KID_PASSWORD)  # the old one no longer opens a session
    WebSession(server.url, "kid", "new password 2")

    # The admin: a new password for kid, generated and shown once; then kid an administrator.
    admin = WebSession(server.url, "admin", PASSWORD)
    users = admin.page("/users")
    kid_id = re.search(
        r'action="/users/(\d+)/password"[^>]*aria-label="New password for kid"', users
    )
    kid_id = kid_id.group(1) if kid_id else re.findall(r"/users/(\d+)/password", users)[-1]
    status, page, _ = admin.request("POST", f"/users/{kid_id}/password", form={}, headers=html)
    shown = re.search(r"The new password of kid, shown this once: <code>([^<]+)</code>", page)
    assert status == 200 and shown
    WebSession(server.url, "kid", shown.group(1))
    assert (
        "Users"
        not in WebSession(server.url, "kid", shown.group(1)).page("/settings").split("<main")[0]
    )
    admin.request("POST", f"/users/{kid_id}/role", form={"role": "admin"})
    promoted = WebSession(server.url, "kid", shown.group(1))
    assert 'href="/users"' in promoted.page("/settings")
    try:
        admin.request("POST", f"/users/{kid_id}/role", form={"role": "listener"})
    except urllib.error.HTTPError:
        pass
    assert 'href="/users"' not in WebSession(server.url, "kid", shown.group(1)).page("/settings")
