"""Calling remote services politely: the shared rate limit, retries, the circuit breaker and the
cache, against the fake services on loopback and the real Redis (where the shared state lives)."""

from __future__ import annotations

import logging
import multiprocessing

import pytest
import redis
from support.fake_remote import FakeRemote
from support.servers import free_port, wait_for

from soniquebay import remote
from soniquebay.errors import TryLater

INTERVAL = 0.25  # 4 requests a second


@pytest.fixture
def fake():
    server = FakeRemote().start()
    server.searches["anything"] = []
    yield server
    server.stop()


def client(fake, redis_url, tmp_path, **policy) -> remote.Remote:
    settings = {"per_second": 1 / INTERVAL, "backoff": 0.05, **policy}
    return remote.Remote(
        remote.Policy("musicbrainz", f"{fake.url}/ws/2", **settings),
        redis.Redis.from_url(redis_url),
        agent=remote.user_agent("tests@soniquebay.invalid"),
        cache=remote.ResponseCache(tmp_path / "responses.db"),
    )


def _search(base: str, redis_url: str, n: int) -> None:
    """One worker's requests, from its own process (as two RQ work-horses would)."""
    r = remote.Remote(
        remote.Policy("musicbrainz", base, per_second=1 / INTERVAL),
        redis.Redis.from_url(redis_url),
        agent=remote.user_agent(),
    )
    for i in range(n):
        r.get("recording", {"query": 'recording:"anything"', "n": i}, cache=False)


def test_two_workers_together_keep_to_the_rate_limit(fake, redis_url):
    ctx = multiprocessing.get_context("fork")
    workers = [
        ctx.Process(target=_search, args=(f"{fake.url}/ws/2", redis_url, 5)) for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    times = sorted(s.at for s in fake.requests("musicbrainz"))
    assert len(times) == 10
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # Send times are handed out INTERVAL apart on Redis's clock; arrival adds a little jitter.
    assert min(gaps) > INTERVAL * 0.7, gaps
    assert times[-1] - times[0] >= 9 * INTERVAL * 0.95
    assert all(s.user_agent.startswith("SoniqueBay/") for s in fake.requests())


def test_a_503_is_retried_after_retry_after_and_then_answers(fake, redis_url, tmp_path):
    fake.fail_next("musicbrainz", (503, {"Retry-After": "1"}), (503, {"Retry-After": "1"}))
    answer = client(fake, redis_url, tmp_path).get("recording", {"query": 'recording:"x"'})
    assert answer.status == 200 and answer.json()["recordings"] == []
    times = [s.at for s in fake.requests("musicbrainz")]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.95 and times[2] - times[1] >= 0.95  # it waited as told
    assert remote.breaker_state(redis.Redis.from_url(redis_url), "musicbrainz")["state"] == "closed"


def test_a_long_retry_after_defers_instead_of_sleeping(fake, redis_url, tmp_path):
    fake.fail_next("musicbrainz", (429, {"Retry-After": "600"}))
    with pytest.raises(TryLater) as caught:
        client(fake, redis_url, tmp_path).get("recording", {"query": "q"})
    assert caught.value.seconds == pytest.approx(600, abs=1)
    assert len(fake.requests("musicbrainz")) == 1


def test_the_breaker_opens_after_failures_in_a_row_and_closes_when_the_service_answers(
    fake, redis_url, tmp_path, caplog
):
    fake.always_fail["musicbrainz"] = 503
    r = client(fake, redis_url, tmp_path, retries=1, failures_to_open=3, cooldown=1.0)
    caplog.set_level(logging.WARNING, logger="soniquebay.remote")
    for _ in range(3):
        with pytest.raises(TryLater):
            r.get("recording", {"query": "q"}, cache=False)
    assert len(fake.requests("musicbrainz")) == 6  # each call: one try and one retry
    state = remote.breaker_state(r.redis, "musicbrainz")
    assert state["state"] == "open" and state["failures"] == 3
    assert state["last_error"] == "HTTP 503"
    with pytest.raises(TryLater) as caught:  # open: refused here, nothing sent
        r.get("recording", {"query": "q"}, cache=False)
    assert "unavailable" in caught.value.message
    assert len(fake.requests("musicbrainz")) == 6
    opened = [rec for rec in caplog.records if "unreachable" in rec.getMessage()]
    assert len(opened) == 1  # said once, not once per call

    del fake.always_fail["musicbrainz"]
    wait_for(
        lambda: remote.breaker_state(r.redis, "musicbrainz")["state"] == "half-open",
        timeout=10,
        what="the cool-down to end",
    )
    assert r.get("recording", {"query": "q"}, cache=False).status == 200  # the trial call
    assert remote.breaker_state(r.redis, "musicbrainz") == {
        "state": "closed", "failures": 0, "retry_in": 0.0, "last_error": "HTTP 503"
    }  # fmt: skip
    assert any("answers again" in rec.getMessage() for rec in caplog.records)


def test_answers_and_not_found_are_cached_so_asking_again_sends_nothing(fake, redis_url, tmp_path):
    fake.recordings["known"] = {"id": "known", "title": "Song"}
    first = client(fake, redis_url, tmp_path)
    assert first.get("recording/known", {"fmt": "json"}).json()["title"] == "Song"
    assert first.get("recording/gone", {"fmt": "json"}).status == 404
    assert len(fake.requests()) == 2
    again = client(fake, redis_url, tmp_path)  # another process, the same cache file
    assert again.get("recording/known", {"fmt": "json"}).cached
    assert again.get("recording/gone", {"fmt": "json"}).status == 404
    assert len(fake.requests()) == 2


def test_no_network_defers_and_opens_the_breaker(redis_url, tmp_path, caplog):
    closed = f"http://127.0.0.1:{free_port()}/ws/2"  # nothing listens there
    r = remote.Remote(
        remote.Policy("musicbrainz", closed, per_second=100, retries=1, backoff=0.01,
                      failures_to_open=2, cooldown=60),
        redis.Redis.from_url(redis_url),
        agent=remote.user_agent(),
    )  # fmt: skip
    caplog.set_level(logging.WARNING, logger="soniquebay.remote")
    for _ in range(5):
        with pytest.raises(TryLater):
            r.get("recording/x")
    state = remote.breaker_state(r.redis, "musicbrainz")
    assert state["state"] == "open" and "ConnectionError" in state["last_error"]
    assert len([rec for rec in caplog.records if "unreachable" in rec.getMessage()]) == 1
