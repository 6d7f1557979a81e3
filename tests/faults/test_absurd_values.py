"""Issue 24, item 2: one absurd Subsonic call (a scrobble in the year 3 billion, a time in
microseconds, a position of 10^20 ms) used to make every later answer for that user "internal
error", across restarts. Times are now corrected or refused where they enter, a stored bad value
cannot break an answer, and a migration repairs what older versions stored."""

import hashlib
import json
import time
import urllib.parse
import urllib.request

import apsw

from soniquebay import credentials
from soniquebay.library import accounts, annotations, db

APP_PASSWORD = "app secret"


def subsonic(api, method: str, **params) -> dict:
    salt = "5a1t"
    query = urllib.parse.urlencode({
        "u": "admin", "t": hashlib.md5((APP_PASSWORD + salt).encode()).hexdigest(), "s": salt,
        "v": "1.16.1", "c": "tests", "f": "json", **params,
    })  # fmt: skip
    with urllib.request.urlopen(f"{api.url}/rest/{method}.view?{query}", timeout=30) as resp:
        return json.loads(resp.read())["subsonic-response"]


def test_absurd_times_and_positions_never_break_a_users_answers(api):
    conn = apsw.Connection(str(api.settings.db_path))
    accounts.set_subsonic_password(conn, "admin", credentials.seal(api.settings, APP_PASSWORD))
    conn.close()
    status, track = api.request(
        "POST",
        "/api/tracks",
        {"path": "/m/a.mp3", "title": "A", "artist_name": "X", "album_title": "Y"},
    )
    assert status == 201, track
    song = f"tr-{track['id']}"

    for absurd in ("99999999999999999999999", "-5", "abc"):
        assert subsonic(api, "scrobble", id=song, time=absurd)["status"] == "ok"
    microseconds = int((time.time() - 3600) * 1_000_000)  # an hour ago, in the wrong unit
    assert subsonic(api, "scrobble", id=song, time=str(microseconds * 1000))["status"] == "ok"
    for method, params in (
        ("getSong", {"id": song}),
        ("getAlbumList2", {"type": "recent"}),
        ("getRandomSongs", {}),
        ("getStarred2", {}),
    ):
        answer = subsonic(api, method, **params)
        assert answer["status"] == "ok", (method, answer)
    played = subsonic(api, "getSong", id=song)["song"]
    assert played["playCount"] == 4
    assert played["played"].startswith(time.strftime("%Y-", time.gmtime()))

    refused = subsonic(api, "savePlayQueue", id=song, position="100000000000000000000")
    assert refused["status"] == "failed" and "position" in refused["error"]["message"]
    refused = subsonic(api, "createBookmark", id=song, position="100000000000000000000")
    assert refused["status"] == "failed" and "position" in refused["error"]["message"]
    queue = subsonic(api, "getPlayQueue")
    assert queue["status"] == "ok" and "changed" in queue["playQueue"]  # DSub reads both
    assert "changedBy" in queue["playQueue"]


def test_the_store_reads_a_play_time_in_any_unit_and_never_stores_nonsense():
    now = 1_800_000_000.0
    assert annotations.play_time(now - 60, now) == now - 60
    assert annotations.play_time((now - 60) * 1000, now) == now - 60  # milliseconds
    assert annotations.play_time((now - 60) * 1_000_000, now) == now - 60  # microseconds
    for nonsense in (1e20, -1.0, float("nan"), float("inf"), None):
        assert annotations.play_time(nonsense, now) == now


def test_the_migration_repairs_values_older_versions_stored(tmp_path):
    conn = db.connect(tmp_path / "library.db")
    with conn:  # a library as it was before the repair
        for version, _, statements in db.migrations():
            if version < 12:
                conn.execute(statements)
                conn.execute(f"PRAGMA user_version={version}")
        conn.execute("INSERT INTO users (username, password_hash, created_at, updated_at)"
                     " VALUES ('u', 'x', 0, 0)")  # fmt: skip
        conn.execute("INSERT INTO annotations (user_id, kind, item_id, play_count, last_played)"
                     " VALUES (1, 'track', 1, 3, 1e20)")  # fmt: skip
        conn.execute("INSERT INTO play_queues (user_id, track_ids, position_ms, changed_at)"
                     " VALUES (1, '[]', 100000000000000, 5e19)")  # fmt: skip
    db.migrate(conn)
    row = conn.execute("SELECT play_count, last_played FROM annotations").fetchall()[0]
    assert (row["play_count"], row["last_played"]) == (3, None)
    queue = conn.execute("SELECT position_ms, changed_at FROM play_queues").fetchall()[0]
    assert queue["position_ms"] == 0 and queue["changed_at"] < time.time() + 1
