"""The scrobble queue in a real Redis: a send cut short by a restart goes back to the head of
the line, and a service that cannot be reached leaves the scrobble waiting, in order."""

from __future__ import annotations

import json

import redis
from support.servers import free_port

from soniquebay import credentials
from soniquebay.config import Settings
from soniquebay.plugins.builtin import scrobble
from soniquebay.plugins.context import PluginContext


class Kept:
    """ctx.library's per-user data, as the web process gives it (one user, ListenBrainz)."""

    def __init__(self, settings):
        self.data = {"listenbrainz_secret": credentials.seal(settings, "token")}

    def user_data(self, user_id):
        return self.data


def job(title: str) -> str:
    listen = {"kind": "played", "at": 1_800_000_000, "user_id": 1, "username": "ann",
              "client": "web player", "track": {"title": title, "artist_name": "Band"}}  # fmt: skip
    return json.dumps({"service": "listenbrainz", "listen": listen}, sort_keys=True)


def test_cut_short_and_unreachable_scrobbles_wait_in_order(redis_url, tmp_path):
    settings = Settings(data_dir=tmp_path, redis_url=redis_url)
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    options = {"listenbrainz_url": nowhere, "lastfm_url": nowhere, "lastfm_api_key": "",
               "lastfm_api_secret": "", "retry_seconds": 0.01}  # fmt: skip
    kept = Kept(settings)
    ctx = PluginContext(settings, "web", "scrobble", options, library_of=lambda: kept)
    client = redis.Redis.from_url(redis_url)
    client.lpush(scrobble.PENDING, job("second"))  # the older one is on the right
    client.lpush(scrobble.PENDING, job("third"))
    client.lpush(scrobble.SENDING, job("first"))  # being sent when the process stopped

    assert scrobble.recover(client) == 1
    assert client.llen(scrobble.SENDING) == 0
    assert scrobble.send_next(ctx, client, block=1)  # the service is away: it stays
    titles = [
        json.loads(j)["listen"]["track"]["title"] for j in client.lrange(scrobble.PENDING, 0, -1)
    ]
    assert titles == ["third", "second", "first"]  # "first" is still the next to go
    assert client.llen(scrobble.SENDING) == 0
