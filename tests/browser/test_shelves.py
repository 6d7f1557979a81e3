"""Issue 27, items 1 and 2, in Chromium against a real `serve`: the Albums home page has
shelves — recently added, recently played, most played, random, rediscover, starred — each a
link to its whole list; albums sort by the user's plays, last play and rating, or at random
(the same order while one visit pages through it), and filter by decade or a range of years;
tracks sort by a click on a column's header (again: the other way); a genre's page lists its
tracks too."""

from __future__ import annotations

import time
import urllib.parse
import urllib.request

from support.browsing import PASSWORD, log_in
from support.servers import WebSession

ALBUMS = {"Seventies": 1975, "Eighties": 1984, "Nineties": 1999, "Noughties": 2003}
APP_PASSWORD = "apps' own secret"


def titles(page, where) -> list[str]:
    """The album titles of a part of the page (a CSS selector, or a shelf's title)."""
    if where.startswith("#"):
        return page.locator(f"{where} .card .card-title").all_inner_texts()
    shelf = page.locator("section.shelf").filter(
        has=page.get_by_role("heading", name=where, exact=True)
    )
    return shelf.locator(".card .card-title").all_inner_texts()


def test_shelves_sorts_and_years_on_the_albums_page(serve, library, audio, browser):
    for title, year in ALBUMS.items():
        audio.make(library / title / "01.mp3", seconds=3, title=f"{title} song", artist="Band",
                   album=title, album_artist="Band", date=str(year),
                   genre="Rock" if year in (1984, 1999) else "Jazz")  # fmt: skip
    server = serve(env={"SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    track = {t["album_title"]: t["id"] for t in server.wait_for_tracks(len(ALBUMS))}
    album = {a["title"]: a["id"] for a in server.get("/api/albums")["items"]}
    me = WebSession(server.url, "admin", PASSWORD)
    for _ in range(3):
        me.request("POST", f"/api/tracks/{track['Eighties']}/plays")
    me.request("POST", f"/api/tracks/{track['Nineties']}/plays")  # the last one played
    me.request("PUT", f"/api/stars/album/{album['Noughties']}")
    me.request("PUT", f"/api/ratings/album/{album['Nineties']}", {"rating": 5})
    # Loved long ago: three plays, the last 200 days back (an app's scrobbles with their time).
    server.cli("user", "subsonic-password", "admin", "--password", APP_PASSWORD)
    long_ago = int((time.time() - 200 * 86400) * 1000)
    for n in range(3):
        query = urllib.parse.urlencode({"u": "admin", "p": APP_PASSWORD, "v": "1.16.1", "c": "t",
                                        "f": "json", "id": f"tr-{track['Seventies']}",
                                        "time": long_ago + n})  # fmt: skip
        urllib.request.urlopen(f"{server.url}/rest/scrobble?{query}").read()

    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    log_in(page, server.url)
    assert page.locator("section.shelf h2").all_inner_texts() == [
        "Recently added", "Recently played", "Most played", "Random", "Rediscover", "Starred"]  # fmt: skip
    assert titles(page, "Recently played")[:2] == ["Nineties", "Eighties"]
    assert titles(page, "Most played")[:2] == ["Eighties", "Seventies"]
    assert titles(page, "Rediscover") == ["Seventies"]
    assert titles(page, "Starred") == ["Noughties"]
    assert sorted(titles(page, "Random")) == sorted(ALBUMS)

    # A shelf's title leads to its whole list.
    page.get_by_role("link", name="Most played", exact=True).click()
    page.wait_for_url("**only=played**")
    assert titles(page, "#albums") == ["Eighties", "Seventies", "Nineties"]
    # Sorts of one's own, and years.
    page.goto(server.url + "/albums?sort=rating")
    assert titles(page, "#albums")[0] == "Nineties"
    page.goto(server.url + "/albums?decade=1980")
    assert titles(page, "#albums") == ["Eighties"]
    page.goto(server.url + "/albums?sort=year&year_min=1990&year_max=2010")
    assert titles(page, "#albums") == ["Noughties", "Nineties"]
    page.goto(server.url + "/albums")  # the form: decade
    page.select_option("select[name=decade]", "1970")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**decade=1970**")
    assert titles(page, "#albums") == ["Seventies"]
    # Random: the same order for one visit's seed, page after page.
    page.goto(server.url + "/albums?sort=random&seed=42")
    first = titles(page, "#albums")
    page.goto(server.url + "/albums?sort=random&seed=42")
    assert titles(page, "#albums") == first and sorted(first) == sorted(ALBUMS)

    # Tracks: a click on a header sorts by that column, a second click the other way.
    page.goto(server.url + "/tracks")
    page.click("#tracks thead th.col-year a")
    page.wait_for_url("**sort=year**")
    years = page.locator("#tracks tbody .col-year").all_inner_texts()
    assert (
        years == sorted(years)
        and page.get_attribute("#tracks th.col-year", "aria-sort") == "ascending"
    )
    page.click("#tracks thead th.col-year a")
    page.wait_for_url("**sort=-year**")
    assert page.locator("#tracks tbody .col-year").all_inner_texts() == sorted(years, reverse=True)
    assert page.get_attribute("#tracks th.col-year", "aria-sort") == "descending"
    # A genre's page: its albums and its tracks.
    page.goto(server.url + "/genres")
    page.get_by_role("link", name="Rock 2 albums").click()
    page.wait_for_url("**genre=Rock**")
    assert sorted(titles(page, "#albums")) == ["Eighties", "Nineties"]
    assert sorted(page.locator("#genre-tracks tbody .col-title").all_inner_texts()) == [
        "Eighties song", "Nineties song"]  # fmt: skip
    page.click("text=Every Rock track, sortable")
    page.wait_for_url("**/tracks?genre=Rock")
    assert sorted(page.locator("#tracks tbody .col-title").all_inner_texts()) == [
        "Eighties song", "Nineties song"]  # fmt: skip

    # Artists: by name, album count or one's plays.
    for n in range(2):
        audio.make(library / f"Solo {n}" / "01.mp3", seconds=3, title=f"Solo {n}", artist="Aaron",
                   album=f"Solo {n}", album_artist="Aaron")  # fmt: skip
    server.wait_until(lambda: len(server.tracks()) == len(ALBUMS) + 2, timeout=30, what="2 more")
    page.goto(server.url + "/artists?sort=name")
    assert page.locator("#artists .card-title").all_inner_texts() == ["Aaron", "Band"]
    page.goto(server.url + "/artists?sort=albums")
    assert page.locator("#artists .card-title").all_inner_texts() == ["Band", "Aaron"]
    solo = next(t["id"] for t in server.tracks() if t["title"] == "Solo 0")
    for _ in range(9):
        me.request("POST", f"/api/tracks/{solo}/plays")
    page.goto(server.url + "/artists?sort=plays")
    assert page.locator("#artists .card-title").all_inner_texts() == ["Aaron", "Band"]

    # A phone: the shelves scroll sideways, the page does not.
    phone = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    log_in(phone, server.url)
    assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
