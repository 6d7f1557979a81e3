"""Issue 9, case 14: the API fuzzed from its own descriptions — REST from the OpenAPI document,
GraphQL from its schema (schemathesis, hypothesis) — answers no request with a 500."""

from __future__ import annotations

import json
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

STREAMS = ("/api/events", "/api/ws")  # endless by design: a request never "ends"
FUZZ = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def openapi(api):
    document = json.loads(urllib.request.urlopen(api.url + "/api/openapi.json").read())
    return schemathesis.from_dict(document, base_url=api.url).exclude(path=list(STREAMS))


@pytest.fixture
def graphql(api):
    return schemathesis.graphql.from_url(api.url + "/api/graphql", headers=api.auth_headers())


rest_schema = schemathesis.from_pytest_fixture("openapi")
graphql_schema = schemathesis.from_pytest_fixture("graphql")


@rest_schema.parametrize()
@FUZZ
def test_rest_answers_no_request_with_a_500(case, api):
    response = case.call(headers=api.auth_headers(), timeout=10)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])


@graphql_schema.parametrize()
@settings(FUZZ, max_examples=40)
def test_graphql_answers_no_query_with_a_500(case, api):
    response = case.call(headers=api.auth_headers(), timeout=10)
    assert response.status_code < 500, (case.body, response.text[:300])
    for error in response.json().get("errors") or []:
        assert "Traceback" not in error["message"] and "apsw" not in error["message"], error


# ---------------------------------------------------------------- Subsonic

SUBSONIC_KEY = "sbk_fuzzing-key-for-admin"
# Every parameter a Subsonic method reads, and the spec's common ones.
SUBSONIC_PARAMS = (
    "id", "count", "size", "offset", "type", "genre", "fromYear", "toYear", "query",
    "artistCount", "artistOffset", "albumCount", "albumOffset", "songCount", "songOffset",
    "username", "password", "email", "adminRole", "startSongId", "endSongId", "format",
    "maxBitRate", "timeOffset", "estimateContentLength", "songId", "songIdToAdd",
    "songIndexToRemove", "name", "playlistId", "comment", "public", "position", "current",
    "time", "submission", "rating", "albumId", "artistId", "musicFolderId", "ifModifiedSince",
    "artist", "title", "callback", "f", "v", "c",
)  # fmt: skip
HOSTILE = (
    "", "0", "-1", "1", "99999999999999999999999", "-9223372036854775809", "1e309", "NaN",
    "tr-1", "al-1", "ar-1", "pl-1", "tr-0", "tr-99999999999999999", "al-999999999999999999999",
    "xx-1", "tr-", "../../etc/passwd", "\x00", b"\xff\xfe\xc3", "é" * 300, "<x a='\"'>&amp;</x>",
    "' OR 1=1 --", "enc:zz", "enc:" + "41" * 40, "true", "false", "json", "jsonp", "xml",
    "random", "byYear", "byGenre", "a" * 5000, "%00", "\r\nSet-Cookie: x=1",
)  # fmt: skip


@pytest.fixture
def subsonic(api):
    """The API with three tracks and an API key for the admin."""
    from soniquebay import credentials
    from soniquebay.library import accounts, db

    tracks = [{"path": f"/m/{n}.mp3", "size": 10, "mtime_ns": 1, "title": f"T{n}",
               "artist_name": "A", "album_title": "B"} for n in range(3)]  # fmt: skip
    answer = api.graphql(
        "mutation ($t: [TrackIngestInput!]!) { ingest_tracks(tracks: $t) { id } }", {"t": tracks}
    )
    assert "errors" not in answer, answer
    conn = db.connect(api.settings.db_path)
    accounts.create_api_key(conn, "admin", credentials.hash_token(SUBSONIC_KEY))
    conn.close()
    return api


def _subsonic_methods() -> list[str]:
    from soniquebay.web.subsonic.dispatch import ENDPOINTS, GONE, NOT_IMPLEMENTED

    return sorted(ENDPOINTS) + sorted(NOT_IMPLEMENTED | GONE)[:3] + ["noSuchMethod"]


@given(
    method=st.sampled_from(_subsonic_methods()),
    params=st.dictionaries(st.sampled_from(SUBSONIC_PARAMS), st.sampled_from(HOSTILE), max_size=6),
    post=st.booleans(),
    view=st.booleans(),
)
@settings(FUZZ, max_examples=1500)
def test_subsonic_answers_every_method_with_hostile_values_never_with_a_500(
    subsonic, method, params, post, view
):
    """Every method, hostile values in any of its parameters, GET or POSTed form, in any
    format: a Subsonic answer (or the media, or 501/410 for absent features), never a 500,
    and what says it is JSON or XML parses."""
    import urllib.error
    import urllib.parse
    import xml.etree.ElementTree as ET

    fields = {"apiKey": SUBSONIC_KEY, "v": "1.16.1", "c": "fuzz", **params}
    body = urllib.parse.urlencode(fields).encode()  # bytes values: not UTF-8 at all
    url = f"{subsonic.url}/rest/{method}{'.view' if view else ''}"
    request = (
        urllib.request.Request(url, data=body, method="POST")
        if post
        else urllib.request.Request(f"{url}?{body.decode()}")
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:
            status, kind, payload = resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as exc:
        status, kind, payload = exc.code, exc.headers.get("Content-Type", ""), exc.read()
    assert status < 500 or status == 501, (method, params, status, payload[:300])
    if status == 200 and kind.startswith("application/json"):
        assert "subsonic-response" in json.loads(payload)
    elif status == 200 and kind.startswith("application/xml"):
        assert ET.fromstring(payload).tag.endswith("subsonic-response")
