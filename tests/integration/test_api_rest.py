"""REST through a real server (in-process, real socket), real Redis and SQLite."""

from __future__ import annotations

import gzip
import json
import urllib.request

import pytest

from soniquebay import queueing


def add_track(api, **fields):
    fields.setdefault("path", f"/music/{fields.get('title', 'x')}-{len(str(fields))}.flac")
    status, body = api.request("POST", "/api/tracks", fields)
    assert status == 201, body
    return body


def ids(page):
    return [t["id"] for t in page["items"]]


def test_paging_with_limit_and_offset_covers_every_track_once(api):
    made = [add_track(api, title=f"T{i:02d}", path=f"/m/{i}.mp3")["id"] for i in range(7)]
    seen = []
    for offset in range(0, 9, 3):
        status, page = api.request("GET", f"/api/tracks?limit=3&offset={offset}")
        assert status == 200 and page["total"] == 7
        seen += ids(page)
    assert seen == made
    assert api.request("GET", "/api/tracks?limit=500&offset=7")[1]["items"] == []
    assert ids(api.request("GET", "/api/tracks?limit=1&offset=6")[1]) == [made[-1]]
    for bad, field in (
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
        ("limit=ten", "limit"),
        ("limit=99999999999999999999999", "limit"),
    ):
        status, body = api.request("GET", f"/api/tracks?{bad}")
        assert status == 400, bad
        assert body["error"]["details"]["field"] == field


def test_cursor_pages_stay_stable_while_tracks_are_added(api):
    for i in range(6):
        add_track(api, title=f"Song {i}", year=2000 + i % 3, path=f"/m/{i}.ogg")
    add_track(api, title="No year", path="/m/none.ogg")  # NULL sorts first ascending
    seen, cursor = [], None
    while True:
        query = "/api/tracks?limit=2&sort=-year" + (f"&cursor={cursor}" if cursor else "")
        status, page = api.request("GET", query)
        assert status == 200, page
        seen += [(t["year"], t["id"]) for t in page["items"]]
        if len(seen) == 2:  # a track lands before the cursor: it must not shift the pages
            add_track(api, title="Late", year=2999, path="/m/late.ogg")
        cursor = page["next_cursor"]
        if not cursor:
            break
    years = [y for y, _ in seen]
    assert len(seen) == len(set(seen)) == 7
    assert years == sorted(years, key=lambda y: (y is None, -(y or 0)))
    assert years[-1] is None
    status, body = api.request("GET", "/api/tracks?cursor=not-a-cursor")
    assert status == 400 and body["error"]["details"]["field"] == "cursor"
    status, body = api.request("GET", f"/api/tracks?cursor={cursor or 'x'}&offset=2")
    assert status == 400


def test_filters_select_exactly_the_matching_tracks(api):
    rows = [
        dict(title="Alpha", genre="Rock", year=1975, artist_name="ABBA", album_title="Arrival"),
        dict(title="Beta", genre="rock", year=1990, artist_name="Blur", album_title="Parklife"),
        dict(
            title="Gamma", genre="Jazz", year=1959, artist_name="Miles", album_title="Kind of Blue"
        ),
        dict(title="Delta Dawn", genre="Pop", year=2001, artist_name="abba", album_title="Arrival"),
    ]
    made = {r["title"]: add_track(api, path=f"/m/{r['title']}.mp3", **r)["id"] for r in rows}
    for title, bpm, key in (("Alpha", 120.0, "A"), ("Beta", 96.5, "C#"), ("Gamma", 140.0, "A")):
        status, _ = api.request(
            "PUT", f"/api/tracks/{made[title]}/features", {"bpm": bpm, "key": key}
        )
        assert status == 200

    def titles(query):
        status, page = api.request("GET", "/api/tracks?sort=title&" + query)
        assert status == 200, page
        assert page["total"] == len(page["items"])
        return [t["title"] for t in page["items"]]

    assert titles("genre=ROCK") == ["Alpha", "Beta"]
    assert titles("year_min=1960&year_max=1999") == ["Alpha", "Beta"]
    assert titles("bpm_min=100&bpm_max=130") == ["Alpha"]
    assert titles("key=A") == ["Alpha", "Gamma"]
    assert titles("missing_features=true") == ["Delta Dawn"]
    assert titles("missing_features=false&genre=rock") == ["Alpha", "Beta"]
    assert titles("artist=abba") == ["Alpha", "Delta Dawn"]
    assert titles("album=arrival&year_min=2000") == ["Delta Dawn"]
    assert titles("q=dawn") == ["Delta Dawn"]
    assert titles("q=%22unbalanced%20AND%20(") == []  # free text is never FTS syntax
    status, body = api.request("GET", "/api/tracks?sort=path")
    assert status == 400 and body["error"]["details"]["field"] == "sort"
    assert "year" in body["error"]["details"]["allowed"]
    status, body = api.request("GET", "/api/tracks?bpm_min=fast")
    assert status == 400 and body["error"]["details"]["field"] == "bpm_min"
    status, body = api.request("GET", "/api/tracks?gnre=rock")
    assert status == 400 and body["error"]["details"]["field"] == "gnre"


def test_track_create_read_update_replace_delete(api):
    status, body = api.request(
        "POST", "/api/tracks", {"path": "/m/a.mp3", "title": "A", "year": 1999}
    )
    assert status == 201
    track_id = body["id"]
    assert body["title"] == "A" and body["year"] == 1999 and body["missing"] is False
    status, again = api.request("POST", "/api/tracks", {"path": "/m/a.mp3"})
    assert status == 409 and again["error"]["code"] == "conflict"

    status, body = api.request("PATCH", f"/api/tracks/{track_id}", {"genre": "Dub"})
    assert status == 200 and (body["title"], body["genre"], body["year"]) == ("A", "Dub", 1999)
    status, body = api.request("PUT", f"/api/tracks/{track_id}", {"title": "B"})
    assert status == 200 and (body["title"], body["genre"], body["year"]) == ("B", None, None)
    assert api.request("GET", f"/api/tracks/{track_id}")[1]["title"] == "B"

    assert api.request("DELETE", f"/api/tracks/{track_id}")[0] == 204
    status, body = api.request("GET", f"/api/tracks/{track_id}")
    assert status == 404 and body["error"]["code"] == "not_found"
    assert api.request("DELETE", f"/api/tracks/{track_id}")[0] == 404
    assert api.request("PATCH", f"/api/tracks/{track_id}", {"title": "x"})[0] == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("POST", "/api/tracks", {"title": "no path"}, 422, "path"),
        ("POST", "/api/tracks", {"path": "/m/x", "year": "1999"}, 422, "year"),
        ("POST", "/api/tracks", {"path": "/m/x", "colour": "red"}, 422, "colour"),
        ("POST", "/api/tracks", [1, 2], 422, "body"),
        ("POST", "/api/tracks", b"{not json", 400, "body"),
        ("PATCH", "/api/tracks/abc", {"title": "x"}, 400, "id"),
        ("PATCH", "/api/tracks/1", {"album_id": 424242}, 422, None),
        ("PATCH", "/api/tracks/1", {"duration": True}, 422, "duration"),
        ("PUT", "/api/tracks/1/features", {"bpm": "fast"}, 422, "bpm"),
        ("PUT", "/api/tracks/1/features", {}, 422, "body"),
        ("POST", "/api/artists", {"name": "  "}, 422, "name"),
        ("POST", "/api/albums", {"title": "T", "album_artist_id": 999}, 409, None),
        ("POST", "/api/track-vectors/", {"track_id": 1, "vector": [0.5]}, 422, "vector"),
        ("POST", "/api/track-vectors/", {"track_id": 1, "vector": "x"}, 422, "vector"),
        ("POST", "/api/tracks/analyze-audio", {"track_ids": ["a"]}, 422, "track_ids"),
        ("POST", "/api/tokens", {"name": "t", "scope": "root"}, 400, "scope"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(api, method, path, body, status, field):
    add_track(api, path="/m/1.mp3", title="one")
    if isinstance(body, bytes):
        got, answer = api.request(method, path, raw=body)
    else:
        got, answer = api.request(method, path, body)
    if path == "/api/tokens":  # admin only: the worker token is refused before validation
        assert got == 403
        return
    assert got == status, answer
    assert set(answer["error"]) == {"code", "message", "details"}
    if field:
        assert answer["error"]["details"]["field"] == field


def test_artists_and_albums_crud_with_nested_reads(api):
    status, artist = api.request("POST", "/api/artists", {"name": "Nina"})
    assert status == 201 and artist["track_count"] == 0
    assert [a["name"] for a in api.request("GET", "/api/artists")[1]["items"]] == ["Nina"]
    assert api.request("POST", "/api/artists", {"name": "NINA"})[0] == 409
    status, album = api.request(
        "POST", "/api/albums", {"title": "First", "album_artist_id": artist["id"], "year": 2020}
    )
    assert status == 201 and album["album_artist_name"] == "Nina"
    for n in (2, 1):
        add_track(
            api,
            path=f"/m/{n}.flac",
            title=f"Track {n}",
            track_number=n,
            album_id=album["id"],
            track_artist_id=artist["id"],
        )
    albums = api.request("GET", f"/api/artists/{artist['id']}/albums")[1]
    assert [a["title"] for a in albums["items"]] == ["First"]
    tracks = api.request("GET", f"/api/albums/{album['id']}/tracks")[1]
    assert [t["track_number"] for t in tracks["items"]] == [1, 2]
    assert api.request("GET", f"/api/artists/{artist['id']}/tracks")[1]["total"] == 2
    assert api.request("GET", "/api/albums?year_min=2021")[1]["total"] == 0
    assert api.request("GET", "/api/artists?q=ni")[1]["total"] == 1

    status, renamed = api.request("PATCH", f"/api/artists/{artist['id']}", {"name": "Nina S."})
    assert status == 200 and renamed["name"] == "Nina S."
    status, body = api.request("PUT", f"/api/albums/{album['id']}", {"title": "Second"})
    assert status == 200 and body["album_artist_id"] is None and body["year"] is None
    assert api.request("PUT", f"/api/albums/{album['id']}", {"year": 1})[0] == 422
    assert api.request("DELETE", f"/api/albums/{album['id']}")[0] == 204
    assert api.request("GET", f"/api/albums/{album['id']}/tracks")[0] == 404
    orphan = api.request("GET", "/api/tracks?sort=title")[1]["items"]
    assert [t["album_id"] for t in orphan] == [None, None]  # the tracks stay
    assert api.request("DELETE", f"/api/artists/{artist['id']}")[0] == 204
    assert api.request("GET", f"/api/artists/{artist['id']}")[0] == 404


def test_track_vectors_crud_checks_the_dimension(api):
    track = add_track(api, path="/m/v.mp3", title="V")
    dim = api.settings.embedding_dimension
    vector = [i / dim for i in range(dim)]
    status, created = api.request(
        "POST", "/api/track-vectors/", {"track_id": track["id"], "vector": vector}
    )
    assert status == 201 and created["dimension"] == dim and created["name"] == "default"
    assert created["vector"] == pytest.approx(vector, rel=1e-6)
    assert (
        api.request("POST", "/api/track-vectors/", {"track_id": track["id"], "vector": vector})[0]
        == 409
    )
    status, body = api.request("POST", "/api/track-vectors/", {"track_id": 999, "vector": vector})
    assert status == 404
    status, body = api.request(
        "POST", "/api/track-vectors/", {"track_id": track["id"], "vector": vector[:-1]}
    )
    assert status == 422 and body["error"]["details"]["expected"] == dim
    status, body = api.request(
        "POST",
        "/api/track-vectors/",
        {"track_id": track["id"], "name": "b", "vector": [1e39] * dim},
    )
    assert status == 422 and body["error"]["details"]["field"] == "vector"
    vid = created["id"]
    assert api.request("GET", f"/api/track-vectors/{vid}")[1]["vector"] == created["vector"]
    status, body = api.request("PUT", f"/api/track-vectors/{vid}", {"vector": [0.25] * dim})
    assert status == 200 and body["vector"] == [0.25] * dim
    listed = api.request("GET", f"/api/track-vectors/?track_id={track['id']}")[1]
    assert listed["total"] == 1 and "vector" not in listed["items"][0]
    listed = api.request("GET", "/api/track-vectors/?with_vectors=true")[1]
    assert listed["items"][0]["vector"] == [0.25] * dim
    assert api.request("DELETE", f"/api/track-vectors/{vid}")[0] == 204
    assert api.request("GET", f"/api/track-vectors/{vid}")[0] == 404


def test_analyze_audio_queues_jobs_for_tracks_without_features(api, redis_client):
    a = add_track(api, path="/m/a.wav", title="a")
    b = add_track(api, path="/m/b.wav", title="b")
    api.settle()
    # Stored tracks get their analysis queued by the web process itself...
    assert redis_client.llen("rq:queue:analysis") >= 1
    api.request("PUT", f"/api/tracks/{b['id']}/features", {"bpm": 100.0})
    # ...and asking for it queues the tracks that still lack features (or finds them queued).
    status, body = api.request("POST", "/api/tracks/analyze-audio")
    assert status == 202 and body["tracks"] == 1 and len(body["jobs"]) == 1
    queued = {j.decode() for j in redis_client.lrange("rq:queue:analysis", 0, -1)}
    assert set(body["jobs"]) <= queued
    status, body = api.request(
        "POST", "/api/tracks/analyze-audio", {"track_ids": [a["id"], b["id"]]}
    )
    assert status == 202 and body["tracks"] == 2
    status, body = api.request("POST", "/api/tracks/analyze-audio", {"track_ids": [12345]})
    assert status == 404 and body["error"]["details"]["ids"] == [12345]


def test_jobs_show_failed_jobs_with_reasons_and_retry_or_cancel_them(api, redis_client):
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    queue = queueing.get_queue(redis_client, "scan")
    job = queue.enqueue("soniquebay.daemon.jobs.scan_tree", kwargs={"wrong": 1}, job_id="bad-job")
    SimpleWorker([queue], connection=redis_client, serializer=JSONSerializer).work(burst=True)
    status, body = api.request("GET", "/api/jobs")
    assert status == 200
    scan = next(q for q in body["queues"] if q["name"] == "scan")
    assert scan["failed"] == 1
    failed = scan["failed_jobs"][0]
    assert failed["id"] == job.id and "TypeError" in failed["reason"]
    assert api.request("POST", "/api/jobs/nope/retry")[0] == 404
    status, body = api.request("POST", f"/api/jobs/{job.id}/retry")
    assert status == 200 and body["status"] == "queued"
    assert redis_client.lrange("rq:queue:scan", 0, -1) == [b"bad-job"]
    assert api.request("POST", f"/api/jobs/{job.id}/retry")[0] == 409
    status, body = api.request("POST", f"/api/jobs/{job.id}/cancel")
    assert status == 200 and body["status"] == "canceled"
    assert redis_client.llen("rq:queue:scan") == 0


def test_json_is_gzipped_when_asked_and_cors_follows_the_config(api):
    for i in range(30):
        add_track(api, path=f"/m/{i}.mp3", title=f"Track {i}")
    req = urllib.request.Request(
        api.url + "/api/tracks?limit=30",
        headers={**api.auth_headers(), "Accept-Encoding": "gzip", "Origin": "http://evil.example"},
    )
    with urllib.request.urlopen(req) as resp:
        assert resp.headers["Content-Encoding"] == "gzip"
        assert "Access-Control-Allow-Origin" not in resp.headers
        assert resp.headers["X-Request-ID"]
        assert len(json.loads(gzip.decompress(resp.read()))["items"]) == 30


def test_cors_allows_configured_origins_only(settings):
    import dataclasses

    from support.servers import AppServer

    server = AppServer(dataclasses.replace(settings, cors_origins="http://player.lan:8080")).start()
    try:
        preflight = urllib.request.Request(
            server.url + "/api/tracks",
            method="OPTIONS",
            headers={"Origin": "http://player.lan:8080", "Access-Control-Request-Method": "POST"},
        )
        with urllib.request.urlopen(preflight) as resp:
            assert resp.status == 204
            assert resp.headers["Access-Control-Allow-Origin"] == "http://player.lan:8080"
            assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]
        status, _ = server.request(
            "GET", "/api/tracks", headers={"Origin": "http://player.lan:8080"}
        )
        assert status == 200
    finally:
        server.stop()


def test_openapi_describes_every_route_the_server_answers(api):
    """Generated from the route table: every API route carries its description."""
    status, doc = api.request("GET", "/api/openapi.json", auth=False)
    assert status == 200 and doc["openapi"].startswith("3.")
    missing = []
    for route in api.app.router.routes():
        method = route.method.lower()
        if method == "head":
            continue
        path = route.resource.canonical
        if path.startswith("/api/") or path == "/metrics":
            if method not in doc["paths"].get(path, {}):
                missing.append(f"{route.method} {path}")
    assert missing == []
    for path, methods in doc["paths"].items():  # and nothing documented that does not exist
        for method in methods:
            assert any(
                r.resource.canonical == path and r.method.lower() == method
                for r in api.app.router.routes()
            ), f"{method} {path}"
    status, page = api.request("GET", "/api/docs", auth=False)
    assert status == 200 and "/api/track-vectors/{id}" in page
    assert '<script src="http' not in page and "cdn" not in page.lower()
