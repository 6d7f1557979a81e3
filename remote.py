"""Calling remote web services as a good citizen, from any number of workers on any number of hosts.

MusicBrainz allows one request a second per client and AcoustID three; a Pi behind a firewall
has no network at all. Everything that must hold across processes lives in Redis:

- **the rate limit**: a Lua script hands out send times ``interval`` apart on Redis's clock,
  so two workers (or two hosts) together never exceed it;
- **the circuit breaker**: failures in a row and ``open_until``; once open, no request leaves
  until the cool-down ends and callers get :class:`~soniquebay.errors.TryLater` (the stage
  runner defers the track, it does not fail it). The process that opens it says so in the log,
  once; the one that sees it answer again says that, once.

Within one call: retries with exponential backoff and full jitter on timeouts, connection
errors, 5xx and 429, honouring ``Retry-After``. Answers (and "not found") are cached on disk by
URL, so a rescan costs no requests.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import apsw
import redis

from soniquebay import __version__, lazy, names
from soniquebay.errors import SoniqueBayError, TryLater

# With the first call out: the web imports this module for its breakers' state, and requests
# (urllib3, charset_normalizer, idna, certifi) is 6 MB of an idle process that never calls out.
requests = lazy.module("requests")

log = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/soniquebay/soniquebay"
CACHE_DAYS = 90.0

# Hand out send times `interval` microseconds apart, on Redis's clock (one clock for all hosts).
_NEXT_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], string.format('%d', slot + interval), 'PX', 60000 + math.ceil(interval / 1000))
return slot - now
"""


class RemoteError(SoniqueBayError):
    """The service answered, and the answer says our request is wrong (400, 401, 403…):
    retrying would not help; the stage records it as a failure."""

    code = "remote_error"
    status = 502


@dataclass(frozen=True)
class Policy:
    """How one service wants to be called."""

    service: str  # "musicbrainz", "acoustid", "coverart"
    base_url: str
    per_second: float
    retries: int = 3
    backoff: float = 1.0  # mean wait before the first retry; doubles each time
    max_wait: float = 30.0  # a Retry-After longer than this defers the track instead of sleeping
    timeout: float = 15.0
    failures_to_open: int = 5  # calls in a row that failed after their retries
    cooldown: float = 300.0


@dataclass(frozen=True)
class Answer:
    status: int  # 200, or 404 (cached too: "not there" is an answer)
    body: bytes
    content_type: str
    cached: bool

    def json(self) -> Any:
        return json.loads(self.body)


class ResponseCache:
    """Answers by URL in a SQLite file of the plugin's own; opened per process (RQ forks)."""

    def __init__(self, path: Path, max_age_days: float = CACHE_DAYS):
        self.path = Path(path)
        self.max_age = max_age_days * 86400
        self._conn: apsw.Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _connection(self) -> apsw.Connection:
        if self._conn is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = apsw.Connection(str(self.path))
            conn.set_busy_timeout(10_000)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(
                """CREATE TABLE IF NOT EXISTS answers (
                     url TEXT PRIMARY KEY, status INTEGER NOT NULL, content_type TEXT NOT NULL,
                     body BLOB NOT NULL, fetched_at REAL NOT NULL) WITHOUT ROWID"""
            )
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def get(self, url: str) -> Answer | None:
        with self._lock:
            row = (
                self._connection()
                .execute(
                    "SELECT status, content_type, body FROM answers WHERE url = ? AND fetched_at > ?",
                    (url, time.time() - self.max_age),
                )
                .fetchone()
            )
        return Answer(row[0], bytes(row[2]), row[1], cached=True) if row else None

    def put(self, url: str, answer: Answer) -> None:
        with self._lock:
            self._connection().execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)",
                (url, answer.status, answer.content_type, answer.body, time.time()),
            )


def user_agent(contact: str = "") -> str:
    """MusicBrainz asks for ``Application/version ( contact )``."""
    return f"SoniqueBay/{__version__} ( {contact or PROJECT_URL} )"


class Remote:
    """One remote service, called politely. Thread- and process-safe; cheap to build."""

    def __init__(
        self,
        policy: Policy,
        client: redis.Redis,
        *,
        agent: str,
        cache: ResponseCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_request: Callable[[str], None] | None = None,
    ):
        self.policy = policy
        self.redis = client
        self.cache = cache
        self.sleep = sleep
        self.on_request = on_request  # metrics: called with the service's name per request sent
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": agent, "Accept": "application/json"})
        self._next_slot = client.register_script(_NEXT_SLOT)

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        url = self.policy.base_url.rstrip("/") + "/" + path.lstrip("/")
        return f"{url}?{urlencode(sorted(params.items()))}" if params else url

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        cache: bool = True,
        cache_key: str | None = None,
    ) -> Answer:
        """GET ``path``: a 200 or 404 :class:`Answer`; :class:`TryLater` when the service is
        down, overloaded or its breaker is open; :class:`RemoteError` when it refuses us.

        Answers are cached under ``cache_key`` (default: the URL); give one when the URL holds
        a secret or something longer than the identity of the question."""
        url = self.url(path, params)
        key = f"{self.policy.service}:{cache_key}" if cache_key else url
        if cache and self.cache and (hit := self.cache.get(key)):
            return hit
        answer = self._fetch(url)
        if cache and self.cache:
            self.cache.put(key, answer)
        return answer

    def _fetch(self, url: str) -> Answer:
        policy = self.policy
        problem, wait = "", 0.0
        for attempt in range(policy.retries + 1):
            if attempt:
                self.sleep(wait)
            self._check_breaker()
            self._wait_turn()
            if self.on_request:
                self.on_request(policy.service)
            try:
                response = self.session.get(url, timeout=policy.timeout, allow_redirects=True)
            except requests.RequestException as exc:
                problem, wait = _one_line(exc), self._backoff(attempt)
                log.debug("%s: %s (attempt %d)", policy.service, problem, attempt + 1)
                continue
            status = response.status_code
            log.debug("%s: HTTP %d for %s", policy.service, status, _redact(url))
            if status in (200, 404):
                self._succeeded()
                return Answer(
                    status, response.content, response.headers.get("Content-Type", ""), False
                )
            if status == 429 or status >= 500:
                problem = f"HTTP {status}"
                retry_after = _retry_after(response.headers.get("Retry-After"))
                if retry_after is not None and retry_after > policy.max_wait:
                    self._failed(problem)  # counts; never sleeps a worker for minutes
                    raise TryLater(f"{policy.service} asks us to wait: {problem}", retry_after)
                wait = retry_after if retry_after is not None else self._backoff(attempt)
                continue
            self._succeeded()  # it answered: the service is up, our request is the problem
            raise RemoteError(
                f"{policy.service} refused {_redact(url)}: HTTP {status} {_excerpt(response)}"
            )
        seconds = self._failed(problem)
        raise TryLater(f"{policy.service} unavailable: {problem}", seconds)

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, backoff * 2^attempt], capped."""
        return random.uniform(0, min(self.policy.max_wait, self.policy.backoff * 2**attempt))

    def _wait_turn(self) -> None:
        interval_us = int(1_000_000 / self.policy.per_second)
        delay_us = int(self._next_slot(keys=[names.remote_next_slot(self.policy.service)],
                                       args=[interval_us]))  # fmt: skip
        if delay_us > 0:
            self.sleep(delay_us / 1_000_000)

    # ------------------------------------------------------------ the circuit breaker

    def _check_breaker(self) -> None:
        state = breaker_state(self.redis, self.policy.service)
        if state["state"] == "open":
            raise TryLater(
                f"{self.policy.service} is unavailable ({state['last_error']}); "
                f"next try in {state['retry_in']:.0f}s",
                max(1.0, state["retry_in"]),
            )

    def _succeeded(self) -> None:
        key = names.remote_breaker(self.policy.service)
        failures = self.redis.hget(key, "failures")
        if failures and int(failures) >= self.policy.failures_to_open:
            log.warning("%s answers again: enrichment resumes", self.policy.service)
        if failures and int(failures):
            self.redis.hset(key, mapping={"failures": 0, "open_until": 0})

    def _failed(self, problem: str) -> float:
        """Count a failed call; open the breaker after enough in a row. The deferral to use."""
        policy = self.policy
        key = names.remote_breaker(policy.service)
        pipe = self.redis.pipeline()
        pipe.sadd(names.REMOTE_SERVICES, policy.service)
        pipe.hincrby(key, "failures", 1)
        pipe.hset(key, mapping={"last_error": problem, "failed_at": time.time()})
        failures = pipe.execute()[1]
        if failures < policy.failures_to_open:
            return min(policy.cooldown, policy.backoff * 2 ** (failures + 2))
        self.redis.hset(key, "open_until", time.time() + policy.cooldown)
        if failures == policy.failures_to_open:  # the process that opens it says so, once
            log.warning(
                "%s unreachable (%s): remote enrichment paused for %.0fs and retried then; "
                "fingerprints and local covers go on",
                policy.service,
                problem,
                policy.cooldown,
            )
        return policy.cooldown


def breaker_state(client: redis.Redis, service: str) -> dict[str, Any]:
    """``{"state": closed|open|half-open, "failures", "retry_in", "last_error"}``."""
    raw = client.hgetall(names.remote_breaker(service))
    return describe_breaker({_text(k): _text(v) for k, v in raw.items()})


def describe_breaker(fields: Mapping[str, str]) -> dict[str, Any]:
    """The breaker's state from its Redis hash (shared with the web's async reader)."""
    failures = int(fields.get("failures") or 0)
    open_until = float(fields.get("open_until") or 0)
    retry_in = max(0.0, open_until - time.time())
    if retry_in > 0:
        state = "open"
    elif open_until:
        state = "half-open"  # cool-down over: the next call is the trial
    else:
        state = "closed"
    return {
        "state": state,
        "failures": failures,
        "retry_in": round(retry_in, 1),
        "last_error": fields.get("last_error") or None,
    }


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _excerpt(response: requests.Response) -> str:
    return " ".join(response.text[:200].split())


def _redact(url: str) -> str:
    """The URL without query values that may be secrets (AcoustID's client key)."""
    return url.split("?", 1)[0]


_clients: dict[tuple[int, str], Remote] = {}


def for_plugin(ctx: Any, policy: Policy, *, contact: str = "") -> Remote:
    """The :class:`Remote` a plugin uses for ``policy``'s service, one per process (an RQ
    work-horse builds its own: sockets are not shared across ``fork``), with the plugin's
    response cache in its data folder and a request counter in the shared metrics."""
    from soniquebay import queueing, recorded_metrics

    key = (os.getpid(), policy.service)
    client = _clients.get(key)
    if client is None or client.policy != policy:
        connection = queueing.connect(ctx.settings)

        def count(service: str) -> None:
            recorded_metrics.Recorder(connection).inc("remote_requests_total").inc(
                f"{service}_requests_total"
            ).send()

        client = Remote(
            policy,
            connection,
            agent=user_agent(contact),
            cache=ResponseCache(ctx.data_dir / "responses.db"),
            on_request=count,
        )
        _clients[key] = client
    return client
