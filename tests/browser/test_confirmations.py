"""Issue 27, item 5: deleting a playlist or a user asked nothing. Now a dialog asks in the
browser, and without script the server shows a page that asks; nothing goes before a yes."""

from __future__ import annotations

from support.browsing import PASSWORD, log_in
from support.servers import WebSession


def test_destructive_actions_ask_first_with_and_without_script(serve, browser):
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    session = WebSession(server.url, "admin", PASSWORD)
    made = session.request("POST", "/api/playlists", {"name": "Keep me", "track_ids": []})[1]

    # without script: the first POST is a page that asks; the playlist is still there
    status, page, _ = session.request("POST", f"/playlists/{made['id']}/delete", form={},
                                      headers={"Accept": "text/html"})  # fmt: skip
    assert status == 200 and "Delete the playlist “Keep me”?" in page
    assert session.request("GET", f"/api/playlists/{made['id']}")[0] == 200

    # in the browser: a dialog; "cancel" keeps it, "OK" deletes it
    page = browser.new_context().new_page()
    log_in(page, server.url, next_path=f"/playlists/{made['id']}")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("text=Delete this playlist")
    assert asked and "Keep me" in asked[0]  # dismissed: the submit was stopped, nothing sent
    assert page.url.endswith(f"/playlists/{made['id']}")
    assert session.request("GET", f"/api/playlists/{made['id']}")[0] == 200
    page.once("dialog", lambda d: d.accept())
    page.click("text=Delete this playlist")
    page.wait_for_url(server.url + "/playlists")
    assert session.request("GET", f"/api/playlists/{made['id']}")[0] == 404

    # removing a user asks too
    session.request("POST", "/users", form={"username": "kid", "password": "kid's password"})
    page.goto(server.url + "/users")
    page.once("dialog", lambda d: d.accept())
    page.locator("tr", has_text="kid").locator("button.danger").click()
    page.locator("table", has_not_text="kid").first.wait_for()
    assert "kid" not in page.locator("main").inner_text()
