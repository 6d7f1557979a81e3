"""Issue 27, item 1: a 5-star rating control on tracks, albums and artists, the same rating the
Subsonic API sets and returns; each star a 44 px target on a phone."""

from __future__ import annotations

from support.browsing import PASSWORD, log_in


def test_rate_an_album_on_its_page_and_an_app_sees_it(serve, library, audio, browser):
    audio.make(library / "Album" / "01.mp3", title="Song", artist="Band", album="Album")
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    [track] = server.wait_for_tracks(1)
    page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    log_in(page, server.url, next_path=f"/albums/{track['album_id']}")
    stars = page.locator("form.rating button.rate")
    assert stars.count() == 5 and page.locator("form.rating button.rate.on").count() == 0
    box = stars.nth(0).bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44  # a finger's target
    stars.nth(3).click()  # four stars
    page.locator("form.rating button.rate.on").nth(3).wait_for()
    assert page.locator("form.rating button.rate.on").count() == 4
    assert page.locator("form.rating").get_attribute("aria-label") == "Your rating: 4 of 5"
    # the same rating in the Subsonic API (one model for the pages and the apps)
    import hashlib
    import json
    import subprocess
    import sys
    import urllib.request

    subprocess.run([sys.executable, "-m", "soniquebay", "user", "subsonic-password", "admin",
                    "--password", "apps secret!", "--data-dir", str(server.data_dir)],
                   env=server.env, check=True, capture_output=True)  # fmt: skip
    token = hashlib.md5(b"apps secret!s1").hexdigest()  # noqa: S324 (the Subsonic spec's)
    url = (f"{server.url}/rest/getAlbum?u=admin&t={token}&s=s1&v=1.16.1&c=t&f=json"
           f"&id=al-{track['album_id']}")  # fmt: skip
    album = json.loads(urllib.request.urlopen(url).read())["subsonic-response"]["album"]
    assert album["userRating"] == 4
    stars.nth(3).click()  # the chosen star again clears it
    page.wait_for_function("() => !document.querySelector('form.rating button.rate.on')")
    album = json.loads(urllib.request.urlopen(url).read())["subsonic-response"]["album"]
    assert "userRating" not in album
