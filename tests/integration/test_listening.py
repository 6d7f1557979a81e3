"""Listening through the web process (in-process server, real socket, real Redis and SQLite,
real files made with ffmpeg): streaming with Range and transcoding, covers and thumbnails,
each user's playlists, stars and plays, search, and error pages for browsers."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import urllib.request

import pytest
from conftest import ADMIN_PASSWORD
from PIL import Image
from support.audio_files import embed_cover, picture
from support.servers import AppServer, WebSession, wait_for

from soniquebay.web import keys


def _named(api, kind, field, name):
    """The id of the artist or album with this name, made through the API if it is new."""
    status, page = api.request("GET", f"/api/{kind}?limit=500")
    for row in page["items"]:
        if row[field] == name:
            return row["id"]
    status, body = api.request("POST", f"/api/{kind}", {field: name})
    assert status == 201, body
    return body["id"]


def add_file(api, path, **tags):
    """A track for a real file, as a scan would store it (with its artist's and album's ids)."""
    st = os.stat(path)
    if tags.get("artist_name"):
        tags["track_artist_id"] = _named(api, "artists", "name", tags["artist_name"])
    if tags.get("album_title"):
        tags["album_id"] = _named(api, "albums", "title", tags["album_title"])
    status, body = api.request(
        "POST",
        "/api/tracks",
        {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, **tags},
    )
    assert status == 201, body
    return body


def fetch(api, path, headers=None, method="GET"):
    req = urllib.request.Request(
        api.url + path, method=method, headers={**api.auth_headers(), **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def probe(data: bytes, tmp_path) -> dict:
    target = tmp_path / "probe.bin"
    target.write_bytes(data)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(target)],
        capture_output=True,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.fixture
def admin(api):
    return WebSession(api.url, "admin", ADMIN_PASSWORD)


def test_original_streams_with_range_etag_and_the_right_type(api, library, audio):
    path = audio.make(library / "a" / "song.flac", seconds=3, title="Song")
    track = add_file(api, path, title="Song")
    status, body, headers = fetch(api, f"/api/tracks/{track['id']}/stream")
    assert status == 200 and body == path.read_bytes()
    assert headers["Content-Type"] == "audio/flac"
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["ETag"] and headers["Last-Modified"]

    status, part, headers = fetch(
        api, f"/api/tracks/{track['id']}/stream", {"Range": "bytes=100-199"}
    )
    assert status == 206 and part == path.read_bytes()[100:200]
    assert headers["Content-Range"] == f"bytes 100-199/{path.stat().st_size}"

    etag = fetch(api, f"/api/tracks/{track['id']}/stream")[2]["ETag"]
    status, body, _ = fetch(api, f"/api/tracks/{track['id']}/stream", {"If-None-Match": etag})
    assert status == 304 and body == b""


def test_only_files_under_a_library_folder_are_served(api, library, audio, tmp_path):
    outside = audio.make(tmp_path / "elsewhere" / "secret.mp3", title="Secret")
    link = library / "link.mp3"
    link.symlink_to(outside)
    track = add_file(api, link, title="Through a link")
    status, body, _ = fetch(api, f"/api/tracks/{track['id']}/stream")
    assert status == 403 and b"outside the library" in body

    gone = audio.make(library / "gone.mp3", title="Gone")
    track = add_file(api, gone, title="Gone")
    gone.unlink()
    assert fetch(api, f"/api/tracks/{track['id']}/stream")[0] == 404
    assert fetch(api, "/api/tracks/999999/stream")[0] == 404
    assert fetch(api, f"/api/tracks/{track['id']}/stream?format=wav")[0] == 400
    assert fetch(api, f"/api/tracks/{track['id']}/stream?bitrate=9000&format=mp3")[0] == 400


@pytest.mark.parametrize(("fmt", "kbps", "codec"), [("opus", 64, "opus"), ("mp3", 128, "mp3")])
def test_transcoded_stream_is_the_asked_format_and_bitrate(api, library, audio, tmp_path, fmt, kbps, codec):  # fmt: skip
    path = audio.make(library / "long.aiff", seconds=6, title="Long")
    track = add_file(api, path, title="Long")
    status, body, headers = fetch(
        api, f"/api/tracks/{track['id']}/stream?format={fmt}&bitrate={kbps}"
    )
    assert status == 200, body[:300]
    assert headers["Content-Type"].startswith("audio/ogg" if fmt == "opus" else "audio/mpeg")
    info = probe(body, tmp_path)
    stream = info["streams"][0]
    assert stream["codec_name"] == codec
    assert 5.0 < float(info["format"]["duration"]) < 7.0
    if fmt == "mp3":
        assert int(stream["bit_rate"]) == kbps * 1000
    else:  # Opus VBR: the whole file's rate is near the target
        rate = len(body) * 8 / float(info["format"]["duration"]) / 1000
        assert kbps * 0.5 < rate < kbps * 1.6, rate


def test_covers_the_folder_image_first_then_the_embedded_with_thumbnails(
    api, library, audio, tmp_path
):
    embedded = picture(tmp_path / "red.jpg", (800, 800), (200, 30, 30))
    beside = picture(tmp_path / "blue.jpg", (500, 500), (30, 30, 200))
    one = audio.make(library / "One" / "01.mp3", title="A", album="One", artist="X")
    embed_cover(one, embedded)
    (library / "One" / "cover.jpg").write_bytes(beside)
    two = audio.make(library / "Two" / "01.flac", title="B", album="Two", artist="X")
    (library / "Two" / "folder.jpg").write_bytes(beside)
    three = audio.make(library / "Three" / "01.ogg", title="C", album="Three", artist="X")
    # An album whose first file has no picture and whose second does: any track's counts.
    four_bare = audio.make(library / "Four" / "01.mp3", title="D1", album="Four", artist="X")
    four = audio.make(library / "Four" / "02.mp3", title="D2", album="Four", artist="X")
    embed_cover(four, embedded)
    albums = {}
    for path, album in ((one, "One"), (two, "Two"), (three, "Three"), (four_bare, "Four")):
        albums[album] = add_file(api, path, title=album, album_title=album)["album_id"]
    add_file(api, four, title="Four b", album_title="Four", track_number=2)

    status, body, headers = fetch(api, f"/api/albums/{albums['One']}/cover")
    assert status == 200 and body == beside and headers["X-Cover-Source"] == "folder"
    status, body, headers = fetch(api, f"/api/albums/{albums['Two']}/cover")
    assert status == 200 and body == beside and headers["X-Cover-Source"] == "folder"
    status, body, headers = fetch(api, f"/api/albums/{albums['Four']}/cover")
    assert status == 200 and body == embedded and headers["X-Cover-Source"] == "embedded"

    for asked, longest in ((64, 64), (300, 300), (250, 300), (2000, 600)):
        status, body, headers = fetch(api, f"/api/albums/{albums['Four']}/cover?size={asked}")
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        with Image.open(io.BytesIO(body)) as image:
            assert max(image.size) == longest
            assert image.getpixel((image.size[0] // 2, image.size[1] // 2))[0] > 150  # red
        etag = headers["ETag"]
        assert (
            fetch(api, f"/api/albums/{albums['Four']}/cover?size={asked}", {"If-None-Match": etag})[
                0
            ]
            == 304
        )
    thumbs = list((api.settings.data_dir / "thumbs").glob("*.jpg"))
    assert len(thumbs) == 3  # 64, 300 and 600, each made once
    status, body, headers = fetch(api, f"/api/albums/{albums['Four']}/cover?size=64")
    assert "max-age" in headers["Cache-Control"]

    assert fetch(api, f"/api/albums/{albums['Three']}/cover")[0] == 404
    status, body, headers = fetch(api, f"/api/albums/{albums['Three']}/cover?size=300")
    assert status == 200 and headers["Content-Type"] == "image/svg+xml"
    assert headers["X-Cover-Source"] == "placeholder" and b"<svg" in body
    track = api.get(f"/api/tracks?album_id={albums['Two']}")["items"][0]
    status, body, headers = fetch(api, f"/api/tracks/{track['id']}/cover?size=64")
    assert status == 200 and headers["X-Cover-Source"] == "folder"
    assert fetch(api, f"/api/albums/{albums['One']}/cover?size=abc")[0] == 400


def test_a_cover_that_is_not_an_image_gets_the_placeholder(api, library, audio):
    path = audio.make(library / "Bad" / "01.mp3", title="Bad", album="Bad")
    (library / "Bad" / "cover.jpg").write_bytes(b"\xff\xd8\xff" + b"not really a jpeg" * 100)
    album = add_file(api, path, title="Bad", album_title="Bad")["album_id"]
    status, body, headers = fetch(api, f"/api/albums/{album}/cover?size=300")
    assert status == 200 and headers["X-Cover-Source"] == "placeholder"


def test_playlists_stars_and_plays_belong_to_each_user(api, library, audio, admin):
    ids = [
        add_file(api, audio.make(library / f"{n}.mp3", title=f"T{n}"), title=f"T{n}")["id"]
        for n in range(4)
    ]
    status, _, _ = admin.request(
        "POST", "/users", form={"username": "bea", "password": "bea password 1"}
    )
    assert status == 200
    bea = WebSession(api.url, "bea", "bea password 1")

    status, made, _ = admin.request(
        "POST", "/api/playlists", {"name": "Morning", "track_ids": ids[:3]}
    )
    assert status == 201 and made["track_count"] == 3
    pid = made["id"]
    status, moved, _ = admin.request(
        "PATCH", f"/api/playlists/{pid}", {"track_ids": [ids[2], ids[0], ids[1]]}
    )
    assert status == 200
    status, got, _ = admin.request("GET", f"/api/playlists/{pid}")
    assert [t["id"] for t in got["tracks"]] == [ids[2], ids[0], ids[1]]
    assert admin.request("POST", f"/api/playlists/{pid}/tracks", {"track_ids": [ids[3]]})[0] == 200
    # the page's forms: move the last one to the top, remove the second
    assert (
        admin.request("POST", f"/playlists/{pid}/move", form={"position": "3", "to": "0"})[0] == 200
    )
    assert admin.request("POST", f"/playlists/{pid}/remove", form={"position": "1"})[0] == 200
    got = admin.request("GET", f"/api/playlists/{pid}")[1]
    assert [t["id"] for t in got["tracks"]] == [ids[3], ids[0], ids[1]]

    # Bea sees none of it, and cannot touch it
    assert bea.request("GET", "/api/playlists")[1]["items"] == []
    assert bea.request("GET", f"/api/playlists/{pid}")[0] == 404
    assert bea.request("PATCH", f"/api/playlists/{pid}", {"name": "Mine now"})[0] == 404
    assert bea.request("DELETE", f"/api/playlists/{pid}")[0] == 404
    assert "Morning" not in bea.page("/playlists")
    assert "Morning" in admin.page("/playlists")

    # stars and plays are per user too
    assert admin.request("PUT", f"/api/stars/track/{ids[1]}")[0] == 204
    assert [t["id"] for t in admin.request("GET", "/api/stars")[1]["tracks"]] == [ids[1]]
    assert bea.request("GET", "/api/stars")[1]["tracks"] == []
    assert admin.request("PUT", "/api/stars/track/999999")[0] == 404
    assert admin.request("PUT", f"/api/stars/planet/{ids[1]}")[0] == 400
    for _ in range(2):
        assert admin.request("POST", f"/api/tracks/{ids[0]}/plays")[0] == 204
    assert bea.request("POST", f"/api/tracks/{ids[0]}/plays")[0] == 204
    assert admin.request("GET", f"/api/tracks/{ids[0]}")[1]["me"]["play_count"] == 2
    assert bea.request("GET", f"/api/tracks/{ids[0]}")[1]["me"]["play_count"] == 1
    assert admin.request("GET", f"/api/tracks/{ids[1]}")[1]["me"]["starred_at"]
    assert bea.request("GET", f"/api/tracks/{ids[1]}")[1]["me"]["starred_at"] is None
    assert admin.request("PUT", f"/api/ratings/track/{ids[0]}", {"rating": 4})[0] == 204
    assert admin.request("GET", f"/api/tracks/{ids[0]}")[1]["me"]["rating"] == 4
    assert admin.request("PUT", f"/api/ratings/track/{ids[0]}", {"rating": 6})[0] == 400

    # the worker's token has no user: it is refused, not answered with someone's data
    status, body = api.request("GET", "/api/playlists")
    assert status == 403 and body["error"]["details"]["needs"] == "user"


def test_m3u8_export_and_import_round_trip(api, library, audio, admin):
    paths = [audio.make(library / "pl" / f"{n} é.mp3", title=f"Chanson {n}") for n in range(3)]
    ids = [
        add_file(api, p, title=f"Chanson {n}", artist_name="Zoé")["id"] for n, p in enumerate(paths)
    ]
    pid = admin.request("POST", "/api/playlists", {"name": "Été 2024", "track_ids": ids[::-1]})[1][
        "id"
    ]
    status, raw, headers = admin.request("GET", f"/api/playlists/{pid}/m3u8")
    text = raw.decode("utf-8")
    assert status == 200 and headers["Content-Type"].startswith("audio/x-mpegurl")
    assert "attachment" in headers["Content-Disposition"]
    assert re.match(r"#EXTM3U\n#PLAYLIST:Été 2024\n#EXTINF:-?\d+,Zoé - Chanson 2\n/", text)
    imported = text + "/nowhere/unknown.mp3\n"
    status, made, _ = admin.request(
        "POST", "/api/playlists/import?name=Back", raw=imported.encode(),
        headers={"Content-Type": "audio/x-mpegurl"},
    )  # fmt: skip
    assert status == 201 and made["name"] == "Back" and made["track_count"] == 3
    assert made["unknown"] == ["/nowhere/unknown.mp3"]
    got = admin.request("GET", f"/api/playlists/{made['id']}")[1]
    assert [t["id"] for t in got["tracks"]] == ids[::-1]


def test_search_groups_artists_albums_and_tracks_ignoring_accents(api, library, audio, admin):
    add_file(
        api,
        audio.make(library / "b1.mp3"),
        title="Clair de lune",
        artist_name="Debussy",
        album_title="Suite bergamasque",
    )
    add_file(
        api,
        audio.make(library / "b2.mp3"),
        title="Rêverie",
        artist_name="Debussy",
        album_title="Piano",
    )
    add_file(
        api, audio.make(library / "b3.mp3"), title="Debut", artist_name="Björk", album_title="Début"
    )
    status, found, _ = admin.request("GET", "/api/search?q=debu")
    assert status == 200
    assert [a["name"] for a in found["artists"]] == ["Debussy"]
    assert [a["title"] for a in found["albums"]] == ["Début"]
    assert {t["title"] for t in found["tracks"]} == {"Clair de lune", "Rêverie", "Debut"}
    assert [t["title"] for t in admin.request("GET", "/api/search?q=reverie")[1]["tracks"]] == [
        "Rêverie"
    ]
    assert admin.request("GET", "/api/search?q=bjork")[1]["artists"][0]["name"] == "Björk"
    page = admin.page("/search?q=debussy")
    assert "Clair de lune" in page and "Suite bergamasque" in page
    assert admin.request("GET", "/api/search?q=" + "x" * 500)[0] == 400


def test_search_ranks_by_bm25_with_snippets_and_forgets_deleted_tracks(api, library, audio, admin):
    """A match in the title outranks one in the album, which outranks one in the genre; the
    snippet marks the words that matched, escaped; a deleted track leaves no ghost result."""
    make = lambda name, **tags: add_file(api, audio.make(library / name), **tags)  # noqa: E731
    make(
        "n1.mp3", title="Etude", artist_name="Ben Ode", album_title="Studies", genre="Nocturne Jazz"
    )
    make("n2.mp3", title="Opening", artist_name="Cy Lane", album_title="Nocturnes", genre="Piano")
    make(
        "n3.mp3",
        title="Nocturne in Blue",
        artist_name="Ana Ruiz",
        album_title="Night",
        genre="Jazz",
    )
    hostile = make("n4.mp3", title="<b>Noctis</b>", artist_name="Dee", album_title="X", genre="Pop")
    found = admin.request("GET", "/api/search?q=noct")[1]["tracks"]
    titles = [t["title"] for t in found]
    assert titles.index("Nocturne in Blue") < titles.index("Opening") < titles.index("Etude")
    snippets = {t["title"]: t["snippet_html"] for t in found}
    assert snippets["Nocturne in Blue"] == "<mark>Nocturne</mark> in Blue"
    assert snippets["Opening"] == "<mark>Nocturnes</mark>"
    assert snippets["<b>Noctis</b>"] == "&lt;b&gt;<mark>Noctis</mark>&lt;/b&gt;"
    etude = next(t for t in found if t["title"] == "Etude")
    assert api.request("DELETE", f"/api/tracks/{etude['id']}")[0] == 204
    again = admin.request("GET", "/api/search?q=noct")[1]["tracks"]
    assert "Etude" not in [t["title"] for t in again] and len(again) == 3
    assert admin.request("GET", "/api/search?q=ben+ode")[1] == {
        "artists": [],
        "albums": [],
        "tracks": [],
    }
    assert api.request("DELETE", f"/api/tracks/{hostile['id']}")[0] == 204
    assert admin.request("GET", "/api/search?q=noctis")[1]["tracks"] == []


def test_pages_escape_tag_text_and_show_readable_units(api, library, audio, admin):
    hostile = "<img src=x onerror=alert(1)>"
    path = audio.make(library / "h.mp3", title=hostile)
    track = add_file(
        api,
        path,
        title=hostile,
        artist_name=hostile,
        album_title=hostile,
        bitrate=160000,
        sample_rate=44100,
    )
    api.request(
        "PUT",
        f"/api/tracks/{track['id']}/features",
        {"bpm": 110.75559, "key": "D", "scale": "minor", "loudness_lufs": -16.62},
    )
    for page in ("/", "/tracks", f"/tracks/{track['id']}", f"/albums/{track['album_id']}",
                 f"/artists/{track['track_artist_id']}", "/artists", "/search?q=img"):  # fmt: skip
        html = admin.page(page)
        assert hostile not in html, page
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, page
    html = admin.page(f"/tracks/{track['id']}")
    assert "111 BPM" in html and "160 kbps" in html and "D minor" in html and "44.1 kHz" in html
    assert "−16.6 LUFS" in html and "110.75559" not in html and "160000" not in html
    assert "<svg" in html  # the features drawn


def test_errors_are_pages_for_browsers_and_json_for_the_api(api, admin):
    status, html, headers = admin.request("GET", "/albums/99999", headers={"Accept": "text/html"})
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert "album 99999 does not exist" in html and "<title>Nothing here" in html
    status, html, _ = admin.request("GET", "/no/such/page", headers={"Accept": "text/html"})
    assert status == 404 and "<title>Nothing here" in html
    status, body, _ = admin.request("GET", "/api/albums/99999", headers={"Accept": "text/html"})
    assert status == 404 and body["error"]["code"] == "not_found"
    status, html, _ = admin.request("GET", "/users", headers={"Accept": "text/html"})
    assert status == 200
    admin.request("POST", "/users", form={"username": "cal", "password": "cal password 1"})
    cal = WebSession(api.url, "cal", "cal password 1")
    status, html, _ = cal.request("GET", "/users", headers={"Accept": "text/html"})
    assert status == 403 and "<title>You may not go there" in html


def test_an_edit_from_the_track_page_is_kept_as_an_edit(api, library, audio, admin):
    path = audio.make(library / "e.mp3", title="Orig", genre="Rock")
    track = add_file(api, path, title="Orig", genre="Rock")
    status, html, _ = admin.request(
        "POST", f"/tracks/{track['id']}/edit", form={"genre": "Fantasy OST", "title": "Orig"}
    )
    assert status == 200 and "Fantasy OST" in html and "edited" in html
    got = api.get(f"/api/tracks/{track['id']}")
    assert got["genre"] == "Fantasy OST" and got["layers"]["edits"] == {"genre": "Fantasy OST"}
    admin.request("POST", f"/tracks/{track['id']}/edit", form={"genre": ""})
    assert api.get(f"/api/tracks/{track['id']}")["genre"] == "Rock"


def test_an_artist_page_lists_albums_they_head_and_albums_they_appear_on(
    api, library, audio, admin
):
    own = add_file(
        api,
        audio.make(library / "o.mp3"),
        title="Solo",
        artist_name="Nina",
        album_title="Nina Alone",
    )
    api.request(
        "PATCH", f"/api/albums/{own['album_id']}", {"album_artist_id": own["track_artist_id"]}
    )
    guest = add_file(
        api, audio.make(library / "g.mp3"), title="Duet", artist_name="Nina", album_title="Friends"
    )
    host = _named(api, "artists", "name", "Max")
    api.request("PATCH", f"/api/albums/{guest['album_id']}", {"album_artist_id": host})
    html = admin.page(f"/artists/{own['track_artist_id']}")
    assert "Nina Alone" in html and "Appears on" in html and "Friends" in html
    body = api.graphql(
        "query ($id: Int!) { artist(id: $id) { albums { title } appears_on { title album_artist { name } } } }",
        {"id": own["track_artist_id"]},
    )
    assert body["data"]["artist"]["albums"] == [{"title": "Nina Alone"}]
    assert body["data"]["artist"]["appears_on"] == [
        {"title": "Friends", "album_artist": {"name": "Max"}}
    ]


def test_the_activity_page_shows_queues_and_an_admin_can_rescan(api, admin, redis_client):
    from soniquebay import names

    html = admin.page("/activity")
    assert "Queues" in html and "Rescan the library" in html
    status, html, _ = admin.request(
        "POST", "/activity/rescan", form={}, headers={"Accept": "text/html"}
    )
    assert status == 200 and "being read again" in html
    assert redis_client.llen(names.rq_queue("scan")) == len(api.settings.library)
    admin.request("POST", "/users", form={"username": "eve", "password": "eve password 1"})
    eve = WebSession(api.url, "eve", "eve password 1")
    # A listener sees neither the page (its folders' paths, the scan errors) nor the button.
    assert eve.request("GET", "/activity", headers={"Accept": "text/html"})[0] == 403
    assert eve.request("POST", "/activity/rescan", form={})[0] == 403


def test_a_listener_leaving_mid_transcode_is_no_server_error(api, library, audio, caplog):
    """Issue 24, item 13: it was logged as an unhandled error and counted as a 500."""
    import http.client

    path = audio.make(library / "very long.aiff", seconds=300, title="Very long")
    track = add_file(api, path, title="Very long")
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
    conn.request("GET", f"/api/tracks/{track['id']}/stream?format=mp3&bitrate=128",
                 headers=api.auth_headers())  # fmt: skip
    answer = conn.getresponse()
    assert answer.status == 200 and len(answer.read(16384)) == 16384
    conn.close()  # the listener closes the player

    def metrics() -> str:
        return fetch(api, "/metrics")[1].decode()

    wait_for(lambda: 'api_request_errors_total{status="499"}' in metrics(), 60, "the 499")
    assert 'status="500"' not in metrics()
    assert not [r for r in caplog.records if "unhandled error" in r.getMessage()]
    assert fetch(api, f"/api/tracks/{track['id']}/stream?format=mp3")[0] == 200  # slot freed


def test_a_changed_cover_leaves_no_stale_thumbnails(api, library, audio, tmp_path):
    """Issue 24, item 14: each cover change used to add three thumbnails for good."""
    from soniquebay.library.tracks import existing_ids

    path = audio.make(library / "Changing" / "01.mp3", title="C", album="Changing")
    album = add_file(api, path, title="C", album_title="Changing")["album_id"]
    cover = library / "Changing" / "cover.jpg"
    thumbs = api.settings.data_dir / "thumbs"
    covers = api.app[keys.COVERS]
    for n, colour in enumerate(((200, 30, 30), (30, 200, 30), (30, 30, 200))):
        picture(tmp_path / f"c{n}.jpg", (400 + n, 400), colour)
        cover.write_bytes((tmp_path / f"c{n}.jpg").read_bytes())
        covers.forget(album)  # as after SOURCE_SECONDS: the new file is looked at
        for size in (64, 300):
            assert fetch(api, f"/api/albums/{album}/cover?size={size}")[0] == 200
        assert len(list(thumbs.glob("*.jpg"))) == 2, sorted(p.name for p in thumbs.iterdir())
    # The album goes; the hourly sweep takes its thumbnails and any nobody names.
    (thumbs / "0123456789abcdef01234567-64.jpg").write_bytes(b"left by an old version")
    os.utime(thumbs / "0123456789abcdef01234567-64.jpg", (0, 0))
    assert api.request("DELETE", f"/api/albums/{album}")[0] == 204
    gone = covers.sweep(lambda kind, ids: api.app[keys.DB].read(existing_ids, kind, ids),
                        grace=0)  # fmt: skip
    assert gone == 3 and not list(thumbs.glob("*.jpg")) and not list(thumbs.glob("*.src"))


def test_paused_listeners_do_not_hold_transcode_slots(settings, library, audio):
    """Issue 24, item 5: three players that stopped reading kept a fourth at 503 for good."""
    import dataclasses
    import http.client

    server = AppServer(dataclasses.replace(settings, max_transcodes=3, transcode_stall_seconds=2,
                                           admin_password=ADMIN_PASSWORD))  # fmt: skip
    server.start()
    try:
        path = audio.make(library / "paused.aiff", seconds=300, title="Paused")
        track = add_file(server, path, title="Paused")
        url = f"/api/tracks/{track['id']}/stream?format=mp3&bitrate=320"
        paused = []
        for _ in range(3):  # each reads a little, then holds the connection without reading
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            conn.request("GET", url, headers=server.auth_headers())
            answer = conn.getresponse()
            assert answer.status == 200 and answer.read(4096)
            paused.append(conn)
        assert fetch(server, url)[0] == 503  # every slot is taken
        wait_for(lambda: server.app[keys.TRANSCODERS].running == 0, 60, "the slots to free")
        status, body, _ = fetch(server, url)
        assert status == 200 and len(body) > 100_000  # a fourth listener gets the whole stream
        for conn in paused:
            conn.close()
    finally:
        server.stop()


def test_a_huge_cover_is_refused_without_taking_the_memory(api, library, audio):
    """Issue 24, item 6: a 303 KB, 9800 x 9800 PNG took the web process from 376 MiB to 2 GiB.
    Its header says how large it is: refused before any decoding, the placeholder shown."""
    import resource

    (library / "huge").mkdir(parents=True)
    Image.new("1", (9800, 9800), 1).save(library / "huge" / "cover.png")  # 1 bit: cheap to make
    assert (library / "huge" / "cover.png").stat().st_size < 1_000_000  # small on disk
    path = audio.make(library / "huge" / "01.mp3", title="Huge", album="Huge")
    album = add_file(api, path, title="Huge", album_title="Huge")["album_id"]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    status, body, headers = fetch(api, f"/api/albums/{album}/cover?size=300")
    assert status == 200 and headers["X-Cover-Source"] == "placeholder" and b"<svg" in body
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 100, f"the refused cover still cost {grown_mib:.0f} MiB"


def test_a_playlist_from_another_machine_imports_by_folders_paths_and_labels(
    api, library, audio, admin
):
    """Issue 27, item 6: an .m3u8 with library-relative paths, or from another machine,
    imported as an empty playlist without a word. Each entry is now matched by path, by a path
    relative to a library folder, by its longest tail of folders and file name, then by its
    #EXTINF artist and title; the answer says how, and which were not found and why."""
    made = {}
    for folder, title in (("Kraftwerk/Computerwelt", "Numbers"), ("Kraftwerk/Radioaktivität", "Numbers"),
                          ("Can/Tago Mago", "Oh Yeah"), ("Neu!/Neu!", "Hallogallo")):  # fmt: skip
        path = audio.make(library / folder / f"01 {title}.mp3", title=title)
        made[folder] = add_file(api, path, title=title, artist_name=folder.split("/")[0])["id"]
    playlist = "\n".join([
        "#EXTM3U",
        "Can/Tago Mago/01 Oh Yeah.mp3",  # relative to the library folder
        r"D:\Music\Kraftwerk\Radioaktivität\01 Numbers.mp3",  # Windows, by its tail
        "/home/someone/Musik/Kraftwerk/Computerwelt/01 Numbers.mp3",  # another machine
        "#EXTINF:312,Neu! - Hallogallo",
        "/elsewhere/renamed.flac",  # by its label
        "/elsewhere/Numbers.mp3",  # the name alone fits two tracks: not a guess
        "#EXTINF:100,Nobody - Nothing",
        "/nowhere/nothing.mp3",
    ])  # fmt: skip
    status, made_list, _ = admin.request("POST", "/api/playlists/import?name=Krautrock",
                                         raw=playlist.encode())  # fmt: skip
    assert status == 201, made_list
    got = admin.request("GET", f"/api/playlists/{made_list['id']}")[1]
    assert [t["id"] for t in got["tracks"]] == [
        made["Can/Tago Mago"], made["Kraftwerk/Radioaktivität"],
        made["Kraftwerk/Computerwelt"], made["Neu!/Neu!"],
    ]  # fmt: skip
    assert made_list["entries"] == 6 and made_list["unknown_count"] == 2
    assert made_list["matched"] == {"by path": 0, "relative to a library folder": 1,
                                    "by folders and file name": 2, "by artist and title": 1}  # fmt: skip
    assert [m["location"] for m in made_list["not_matched"]] == [
        "/elsewhere/Numbers.mp3", "/nowhere/nothing.mp3"]  # fmt: skip
    assert "no track here" in made_list["not_matched"][0]["why"]

    # The same list as a .pls and as XSPF (told by their first lines): the same tracks.
    pls = "\n".join([
        "[playlist]",
        "File1=Can/Tago Mago/01 Oh Yeah.mp3",
        r"File2=D:\Music\Kraftwerk\Radioaktivität\01 Numbers.mp3",
        "File3=/home/someone/Musik/Kraftwerk/Computerwelt/01 Numbers.mp3",
        "File4=/elsewhere/renamed.flac", "Title4=Neu! - Hallogallo",
        "NumberOfEntries=4", "Version=2",
    ])  # fmt: skip
    xspf = """<?xml version="1.0" encoding="UTF-8"?>
<playlist version="1" xmlns="http://xspf.org/ns/0/"><title>Kraut</title><trackList>
<track><location>file:///home/someone/Musik/Can/Tago%20Mago/01%20Oh%20Yeah.mp3</location></track>
<track><location>file:///D:/Music/Kraftwerk/Radioaktivit%C3%A4t/01%20Numbers.mp3</location></track>
<track><location>file:///home/someone/Musik/Kraftwerk/Computerwelt/01%20Numbers.mp3</location></track>
<track><creator>Neu!</creator><title>Hallogallo</title></track>
</trackList></playlist>"""
    wanted = [made["Can/Tago Mago"], made["Kraftwerk/Radioaktivität"],
              made["Kraftwerk/Computerwelt"], made["Neu!/Neu!"]]  # fmt: skip
    for text, name in ((pls, "From pls"), (xspf, None)):
        status, made_list, _ = admin.request(
            "POST", "/api/playlists/import" + (f"?name={name.replace(' ', '%20')}" if name else ""),
            raw=text.encode(),
        )  # fmt: skip
        assert status == 201 and made_list["unknown_count"] == 0, made_list
        assert made_list["name"] == (name or "Kraut")
        got = admin.request("GET", f"/api/playlists/{made_list['id']}")[1]
        assert [t["id"] for t in got["tracks"]] == wanted
    status, refused, _ = admin.request(
        "POST", "/api/playlists/import",
        raw=b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><playlist/>',
    )  # fmt: skip
    assert status == 400 and "DTD" in refused["error"]["message"]
