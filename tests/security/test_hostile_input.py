"""Tag text and request parameters are attacker-controlled."""

import json

import pytest
from conftest import ADMIN_PASSWORD
from support.servers import WebSession

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_tag_text_is_escaped_in_every_page(serve, library, audio):
    server = serve()
    audio.make(library / "evil.mp3", title=HOSTILE, artist=HOSTILE, album=HOSTILE)
    [track] = server.wait_for_tracks(1)
    assert track["title"] == HOSTILE  # stored as given, JSON-encoded on the way out
    for page in ("/", f"/tracks/{track['id']}"):
        html = server.get(page)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html


def test_a_file_name_cannot_inject_html(serve, library, audio):
    server = serve()
    (library / "bad.mp3").write_text("not audio")
    (library / "<img src=x onerror=alert(1)>.mp3").write_text("not audio")
    server.wait_until(lambda: server.get("/api/scan/errors")["total"] == 2, what="two scan errors")
    html = server.get("/errors")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.mp3" in html


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/tracks/../../etc/passwd", 404),
        ("/api/tracks/1%20OR%201=1", 400),
        ("/api/tracks/99999999999999999999999", 400),
        ("/api/tracks?limit=100000", 400),
        ("/api/tracks?limit=-1", 400),
        ("/api/tracks?offset=abc", 400),
        ("/api/tracks?sort=title;DROP%20TABLE%20tracks", 400),
        ("/api/tracks/424242", 404),
        ("/api/nothing-here", 404),
        ("/api/tracks/%C2%B2", 400),  # "²" is a digit to str.isdigit(), not an id
        ("/api/tracks/%EF%BC%91", 400),  # fullwidth "１": it used to fetch track 1
    ],
)
def test_bad_requests_get_the_error_shape_never_a_500(serve, path, status):
    server = serve()
    got, body = server.request("GET", path)
    assert got == status, body
    assert set(body["error"]) == {"code", "message", "details"}


def test_graphql_rejects_garbage_with_a_clear_error(serve):
    server = serve()
    for body in (
        None,
        [],
        {"query": 5},
        {"query": "{ tracks { nope } }"},
        {"query": "{", "variables": []},
    ):
        status, answer = server.request("POST", "/api/graphql", body)
        assert status == 400, (body, answer)
    status, answer = server.request("POST", "/api/graphql", {"query": "{ tracks { nope } }"})
    assert "nope" in answer["errors"][0]["message"]


def test_the_data_folder_and_its_files_are_private(serve, library, audio):
    server = serve()
    audio.make(library / "one.mp3", title="One")
    server.wait_for_tracks(1)
    data = server.data_dir
    assert data.stat().st_mode & 0o777 == 0o700
    for name in ("library.db", "library.db-wal", "outbox.db", "redis"):
        assert (data / name).stat().st_mode & 0o077 == 0, name  # nobody else reads hashes


GRAPHQL_UPDATE = "mutation ($d: [TrackUpdateInput!]!) { update_tracks(data: $d) { id } }"
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("method", "path", "raw", "status", "field"),
    [
        ("POST", "/api/jobs/a%2Fb/retry", None, 400, "id"),  # a job id with a slash
        ("GET", "/api/tracks?q=%00", None, 200, None),  # NUL in a search: nothing found
        ("GET", "/api/tracks?q=%ED%A0%80", None, 200, None),  # bad UTF-8 in the URL: U+FFFD
        ("POST", "/api/tracks", b'{"path": "/m/\\ud800.mp3"}', 422, "path"),  # lone surrogate
        ("PATCH", "/api/tracks/1", b'{"title": "\\ud800"}', 422, "title"),
        ("POST", "/api/graphql",
         json.dumps({"query": GRAPHQL_UPDATE, "variables": {"d": [{"id": 1, "title": "\udce9"}]}}
                    ).encode(), 400, None),  # refused as an item of the batch, said plainly
        ("POST", "/api/graphql", ('{"query": "{ tracks { total } }", "variables": {"v": '
                                  + DEEP + "}}").encode(), 400, "body"),  # RecursionError
        ("POST", "/api/graphql",
         json.dumps({"query": "query ($q: String) { artists(q: $q) { total } }",
                     "variables": {"q": "a" * 1_000_000}}).encode(), 400, "q"),
        ("POST", "/api/graphql", json.dumps({"query": '{ tracks(filter: {q: "\\u0000"}) '
                                             "{ total } }"}).encode(), 200, None),
        ("GET", "/api/ws?last_event_id=99999999999999999999-1", None, 400, None),
    ],
)  # fmt: skip
def test_hostile_bodies_and_parameters_get_a_4xx_never_a_500(api, method, path, raw, status, field):
    api.request("POST", "/api/tracks", {"path": "/m/a.mp3", "title": "A"})
    got, body = api.request(method, path, raw=raw)
    assert got == status, body
    if field:
        error = body["error"] if "error" in body else body["errors"][0]["extensions"]
        assert error["details"]["field"] == field, body


@pytest.mark.parametrize(
    ("field", "value"),
    [("track_number", -1), ("year", 99999), ("duration", -5.0), ("disc_number", -2),
     ("bitrate", -1)],
)  # fmt: skip
def test_numbers_out_of_range_are_refused_naming_the_field(api, field, value):
    status, body = api.request("POST", "/api/tracks", {"path": "/m/x.mp3", field: value})
    assert status == 422 and body["error"]["details"]["field"] == field
    status, created = api.request("POST", "/api/tracks", {"path": "/m/ok.mp3"})
    status, body = api.request("PATCH", f"/api/tracks/{created['id']}", {field: value})
    assert status == 422 and body["error"]["details"]["field"] == field
    answer = api.graphql(GRAPHQL_UPDATE, {"d": [{"id": created["id"], field: value}]})
    [item] = answer["errors"][0]["extensions"]["details"]["items"]
    assert item["field"] == field and "between" in item["message"]
    assert api.get(f"/api/tracks/{created['id']}")[field] is None  # nothing was written


def test_a_tag_with_an_absurd_number_is_stored_without_it(tmp_path):
    from support.audio_files import generate, tag

    from soniquebay.plugins.builtin.tags import read_tags

    path = generate(tmp_path / "odd.flac")
    tag(path, title="Odd", date="99999", track="-3")
    found = read_tags(str(path))
    assert found["title"] == "Odd" and found.get("year") is None
    assert found.get("track_number") is None


def test_what_used_to_answer_500_gets_a_clear_answer(api):
    """Issue 24, items 10-12: a track without a title in the player's lists, an id beyond 64
    bits or a list where an object goes in analyze-audio, a playlist named in bytes that are
    not UTF-8."""
    status, track = api.request("POST", "/api/tracks", {"path": "/m/untitled.mp3", "title": "T"})
    assert api.request("PATCH", f"/api/tracks/{track['id']}", {"title": None})[0] == 200
    for path in (f"/api/player/tracks?ids={track['id']}", f"/api/tracks/{track['id']}/mix",
                 f"/api/tracks/{track['id']}/similar"):  # fmt: skip
        status, body = api.request("GET", path)
        assert status == 200, (path, body)
    status, body = api.request("GET", f"/api/player/tracks?ids={track['id']}")
    assert body["items"][0]["title"] == "untitled.mp3"  # its file's name stands in
    for bad in ([], {"track_ids": [2**64]}, {"track_ids": [-1]}):
        status, body = api.request("POST", "/api/tracks/analyze-audio", bad)
        assert status == 422, (bad, body)
    m3u8 = b"#EXTM3U\n#PLAYLIST:Caf\xe9 \xff mix\n/m/untitled.mp3\n"
    admin = WebSession(api.url, "admin", ADMIN_PASSWORD)
    status, body, _ = admin.request("POST", "/api/playlists/import", raw=m3u8)
    assert status == 201 and body["name"] == "Caf\ufffd \ufffd mix", body
