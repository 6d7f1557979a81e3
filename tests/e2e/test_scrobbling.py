"""Issue 26, item 6, against a real `serve` and loopback ListenBrainz and Last.fm answering
with their documented shapes (tests/support/fake_scrobblers.py): a user connects both on the
scrobble plugin's settings page; the player's "now playing" and counted plays reach both,
signed as Last.fm asks; while a service is away or rate-limits, scrobbles wait in Redis and
are sent later, once each; a revoked token drops them, said on the page; an app's scrobble
goes the same way; Last.fm gets no track of 30 s or less."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from support.browsing import PASSWORD
from support.fake_scrobblers import FakeScrobblers
from support.servers import WebSession

LB_TOKEN = "lb-token-of-ann"
APP_PASSWORD = "apps' own secret"
QUIET = "[plugin.analysis_essentia]\nenabled = false\n[plugin.analysis_librosa]\nenabled = false\n"


@pytest.fixture
def fake():
    services = FakeScrobblers(lb_tokens={LB_TOKEN: "ann-lb"}, lastfm_users={"ann-fm": "fm secret"})
    yield services.start()
    services.stop()


def test_plays_reach_listenbrainz_and_lastfm_once_each_whatever_happens(
    serve, library, audio, tmp_path, fake
):
    conf = tmp_path / "soniquebay.conf"
    conf.write_text(
        QUIET + "[plugin.scrobble]\nenabled = true\n"
        f"listenbrainz_url = {fake.listenbrainz_url}\nlastfm_url = {fake.lastfm_url}\n"
        f"lastfm_api_key = {fake.lastfm_key}\nlastfm_api_secret = {fake.lastfm_secret}\n"
        "retry_seconds = 1\n"
    )
    audio.make(library / "Set" / "long.mp3", seconds=40, title="Long one", artist="Band",
               album="Set", track="1")  # fmt: skip
    audio.make(library / "Set" / "short.mp3", seconds=5, title="Short one", artist="Band",
               album="Set", track="2")  # fmt: skip
    server = serve(env={"SONIQUEBAY_CONFIG": str(conf), "SONIQUEBAY_ADMIN_PASSWORD": PASSWORD})
    ids = {t["title"]: t["id"] for t in server.wait_for_tracks(2)}
    ann = WebSession(server.url, "admin", PASSWORD)

    # Connecting: the settings page links the plugin's page; a wrong token is refused.
    assert 'href="/plugins/scrobble/settings"' in ann.page("/settings")
    status, body, _ = ann.request(
        "POST", "/plugins/scrobble/settings", form={"action": "listenbrainz", "token": "nope"},
        headers={"Accept": "text/html"},
    )  # fmt: skip
    assert status == 400 and "does not know this token" in body
    ann.request(
        "POST", "/plugins/scrobble/settings", form={"action": "listenbrainz", "token": LB_TOKEN}
    )
    ann.request("POST", "/plugins/scrobble/settings",
                form={"action": "lastfm", "username": "ann-fm", "password": "fm secret"})  # fmt: skip
    page = ann.page("/plugins/scrobble/settings")
    assert (
        "connected as <strong>ann-lb</strong>" in page
        and "connected as <strong>ann-fm</strong>" in page
    )
    assert "fm secret" not in page and LB_TOKEN not in page

    def play(title: str) -> None:
        assert ann.request("POST", f"/api/tracks/{ids[title]}/now-playing")[0] == 204
        assert ann.request("POST", f"/api/tracks/{ids[title]}/plays")[0] == 204

    # Now playing, then a counted play: both services, signed and complete.
    play("Long one")
    server.wait_until(lambda: len(fake.listens) == 1 and len(fake.scrobbles) == 1, timeout=20,
                      what="the first scrobble on both services")  # fmt: skip
    assert sorted(fake.now_playing) == [("lastfm", "Long one"), ("listenbrainz", "Long one")]
    listen = fake.listens[0]
    assert listen["user"] == "ann-lb" and listen["track_metadata"]["track_name"] == "Long one"
    assert listen["track_metadata"]["release_name"] == "Set"
    assert listen["track_metadata"]["additional_info"]["duration_ms"] == pytest.approx(
        40_000, abs=600
    )
    scrobble = fake.scrobbles[0]
    assert (scrobble["user"], scrobble["artist"], scrobble["track"]) == (
        "ann-fm",
        "Band",
        "Long one",
    )
    assert abs(int(scrobble["timestamp"]) - listen["listened_at"]) <= 1

    # Both away: the plays wait in Redis and go once they are back, once each, oldest first.
    fake.down |= {"listenbrainz", "lastfm"}
    play("Long one")
    play("Short one")
    server.wait_until(lambda: fake.count("listenbrainz", "single", 503) >= 2, timeout=20,
                      what="scrobbles tried while ListenBrainz is away")  # fmt: skip
    fake.down.clear()
    server.wait_until(lambda: len(fake.listens) == 3, timeout=30, what="the waiting listens")
    server.wait_until(lambda: len(fake.scrobbles) == 2, timeout=30, what="the waiting scrobble")
    assert [x["track_metadata"]["track_name"] for x in fake.listens] == [
        "Long one",
        "Long one",
        "Short one",
    ]
    assert [x["track"] for x in fake.scrobbles] == ["Long one", "Long one"]  # 5 s: not for Last.fm

    # Rate limited once each: sent again after the wait the service asks for, once.
    before = len(fake.now_playing)
    assert ann.request("POST", f"/api/tracks/{ids['Long one']}/now-playing")[0] == 204
    server.wait_until(lambda: len(fake.now_playing) == before + 2, timeout=20,
                      what="now playing sent")  # fmt: skip
    fake.rate_limited.update({"listenbrainz": 1, "lastfm": 1})
    assert ann.request("POST", f"/api/tracks/{ids['Long one']}/plays")[0] == 204
    server.wait_until(lambda: len(fake.listens) == 4 and len(fake.scrobbles) == 3, timeout=30,
                      what="the scrobbles after a rate limit")  # fmt: skip
    assert (
        fake.count("listenbrainz", "single", 429) == 1
        and fake.count("lastfm", "track.scrobble", 429) == 1
    )

    # An app's scrobble goes the same way.
    server.cli("user", "subsonic-password", "admin", "--password", APP_PASSWORD)
    query = urllib.parse.urlencode({"u": "admin", "p": APP_PASSWORD, "v": "1.16.1", "c": "DSub",
                                    "f": "json", "id": f"tr-{ids['Long one']}"})  # fmt: skip
    with urllib.request.urlopen(f"{server.url}/rest/scrobble?{query}") as resp:
        assert b'"ok"' in resp.read()
    server.wait_until(lambda: len(fake.listens) == 5, timeout=20, what="the app's scrobble")
    assert fake.listens[-1]["track_metadata"]["additional_info"]["media_player"] == "DSub"

    # A token revoked at ListenBrainz: the scrobble is dropped, not tried forever, and said.
    fake.lb_tokens.clear()
    play("Long one")
    server.wait_until(lambda: len(fake.scrobbles) == 5, timeout=20, what="Last.fm still scrobbled")
    server.wait_until(lambda: "Not sent" in ann.page("/plugins/scrobble/settings"), timeout=20,
                      what="the refusal on the settings page")  # fmt: skip
    assert fake.count("listenbrainz", "single", 401) == 1
    assert len(fake.listens) == 5
