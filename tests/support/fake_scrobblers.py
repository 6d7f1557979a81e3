"""ListenBrainz and Last.fm, played by one aiohttp server on loopback, with the bodies their
documentation shows: ListenBrainz's ``/1/validate-token`` and ``/1/submit-listens`` (its
``{"code", "error"}`` errors, 401 for a bad token, 429 with ``X-RateLimit-Reset-In``), and
Last.fm's signed ``/2.0/`` calls (``auth.getMobileSession``, ``track.updateNowPlaying``,
``track.scrobble``; errors as ``{"error": n, "message"}``: 4 authentication failed, 9 invalid
session key, 13 invalid method signature, 16 temporarily unavailable, 29 rate limit exceeded).
Every request is recorded; a test makes a service go away, or slow down, for a while."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

LB = "/listenbrainz"
LASTFM = "/lastfm/2.0/"


@dataclass
class FakeScrobblers:
    lb_tokens: dict[str, str] = field(default_factory=dict)  # token -> user name
    lastfm_key: str = "lastfm-key"
    lastfm_secret: str = "lastfm-secret"
    lastfm_users: dict[str, str] = field(default_factory=dict)  # user -> password
    sessions: dict[str, str] = field(default_factory=dict)  # session key -> user
    down: set[str] = field(default_factory=set)  # services answering 503
    rate_limited: dict[str, int] = field(default_factory=dict)  # service -> how many to refuse
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # service, what, status
    listens: list[dict[str, Any]] = field(default_factory=list)  # accepted ListenBrainz listens
    scrobbles: list[dict[str, str]] = field(default_factory=list)  # accepted Last.fm scrobbles
    now_playing: list[tuple[str, str]] = field(default_factory=list)  # (service, title)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port = 0

    @property
    def listenbrainz_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{LB}"

    @property
    def lastfm_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{LASTFM}"

    def _seen(self, service: str, what: str, status: int) -> None:
        with self._lock:
            self.requests.append((service, what, status))

    def _refusal(self, service: str) -> int | None:
        with self._lock:
            if service in self.down:
                return 503
            if self.rate_limited.get(service):
                self.rate_limited[service] -= 1
                return 429
        return None

    # ------------------------------------------------------------ ListenBrainz

    async def lb_validate(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Token ")
        self._seen("listenbrainz", "validate-token", 200)
        if token in self.lb_tokens:
            return web.json_response({"code": 200, "message": "Token valid.", "valid": True,
                                      "user_name": self.lb_tokens[token]})  # fmt: skip
        return web.json_response({"code": 200, "message": "Token invalid.", "valid": False})

    async def lb_submit(self, request: web.Request) -> web.Response:
        body = await request.json()
        what = body.get("listen_type", "?")
        refused = self._refusal("listenbrainz")
        if refused == 503:
            self._seen("listenbrainz", what, 503)
            return web.json_response({"code": 503, "error": "ListenBrainz is down."}, status=503)
        if refused == 429:
            self._seen("listenbrainz", what, 429)
            return web.json_response(
                {"code": 429, "error": "Too many requests. Please wait and try again."},
                status=429,
                headers={"X-RateLimit-Limit": "30", "X-RateLimit-Remaining": "0",
                         "X-RateLimit-Reset-In": "1"},
            )  # fmt: skip
        token = request.headers.get("Authorization", "").removeprefix("Token ")
        if token not in self.lb_tokens:
            self._seen("listenbrainz", what, 401)
            return web.json_response({"code": 401, "error": "Invalid authorization token."},
                                     status=401)  # fmt: skip
        payload = body.get("payload") or []
        metadata = payload[0].get("track_metadata", {}) if payload else {}
        if (what not in ("single", "playing_now", "import") or len(payload) != 1
                or not metadata.get("artist_name") or not metadata.get("track_name")
                or (what == "single") != ("listened_at" in payload[0])):  # fmt: skip
            self._seen("listenbrainz", what, 400)
            return web.json_response({"code": 400, "error": "Invalid listen."}, status=400)
        self._seen("listenbrainz", what, 200)
        with self._lock:
            if what == "playing_now":
                self.now_playing.append(("listenbrainz", metadata["track_name"]))
            else:
                self.listens.append({"user": self.lb_tokens[token], **payload[0]})
        return web.json_response({"status": "ok"})

    # ------------------------------------------------------------ Last.fm

    def _signed(self, params: dict[str, str]) -> bool:
        given = params.get("api_sig", "")
        plain = {k: v for k, v in params.items() if k not in ("api_sig", "format", "callback")}
        text = "".join(k + plain[k] for k in sorted(plain)) + self.lastfm_secret
        return given == hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Last.fm's scheme

    async def lastfm(self, request: web.Request) -> web.Response:
        params = dict(await request.post())
        method = params.get("method", "?")

        def error(code: int, message: str, status: int = 200) -> web.Response:
            self._seen("lastfm", method, status if status != 200 else 400 + code)
            return web.json_response({"error": code, "message": message}, status=status)

        refused = self._refusal("lastfm")
        if refused == 503:
            return error(16, "The service is temporarily unavailable, please try again.", 503)
        if refused == 429:
            return error(29, "Rate Limit Exceded - Your IP has made too many requests in a short period, exceeding our API guidelines", 429)  # fmt: skip
        if params.get("api_key") != self.lastfm_key:
            return error(10, "Invalid API key - You must be granted a valid key by last.fm")
        if not self._signed(params):
            return error(13, "Invalid method signature supplied")
        if method == "auth.getMobileSession":
            user = params.get("username", "")
            if self.lastfm_users.get(user) != params.get("password"):
                return error(4, "Authentication Failed - You do not have permissions to access the service")  # fmt: skip
            key = hashlib.sha1(user.encode()).hexdigest()  # noqa: S324 - a fake session key
            self.sessions[key] = user
            self._seen("lastfm", method, 200)
            return web.json_response({"session": {"name": user, "key": key, "subscriber": 0}})
        user = self.sessions.get(params.get("sk", ""))
        if user is None:
            return error(9, "Invalid session key - Please re-authenticate")
        if method == "track.updateNowPlaying":
            self._seen("lastfm", method, 200)
            with self._lock:
                self.now_playing.append(("lastfm", params.get("track", "")))
            return web.json_response({"nowplaying": {"track": {"#text": params.get("track")},
                                      "ignoredMessage": {"code": "0", "#text": ""}}})  # fmt: skip
        if method == "track.scrobble":
            if not params.get("timestamp") or not params.get("artist") or not params.get("track"):
                return error(6, "Invalid parameters - Your request is missing a required parameter")
            self._seen("lastfm", method, 200)
            with self._lock:
                self.scrobbles.append({"user": user, **params})
            return web.json_response({"scrobbles": {
                "@attr": {"accepted": 1, "ignored": 0},
                "scrobble": {"track": {"#text": params["track"]}, "timestamp": params["timestamp"],
                             "ignoredMessage": {"code": "0", "#text": ""}}}})  # fmt: skip
        return error(3, "Invalid Method - No method with that name in this package")

    # ------------------------------------------------------------ serving

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(f"{LB}/1/validate-token", self.lb_validate)
        app.router.add_post(f"{LB}/1/submit-listens", self.lb_submit)
        app.router.add_post(LASTFM, self.lastfm)
        return app

    def start(self) -> FakeScrobblers:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            runner = web.AppRunner(self.app(), access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="fake-scrobblers")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake scrobbling services did not start")
        return self

    def stop(self) -> None:
        if self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def count(self, service: str, what: str, status: int | None = None) -> int:
        with self._lock:
            return sum(1 for s, w, st in self.requests
                       if s == service and w == what and (status is None or st == status))  # fmt: skip


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
