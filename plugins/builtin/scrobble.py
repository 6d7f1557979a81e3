"""Scrobbling to ListenBrainz and Last.fm, per user, off until switched on::

    [plugin.scrobble]
    enabled = true
    lastfm_api_key = ...      ; an API account of yours: https://www.last.fm/api/account/create
    lastfm_api_secret = ...   ; (without them, only ListenBrainz is offered)

Each user connects their own accounts on the plugin's settings page (Settings → Plugins): a
ListenBrainz user token (checked with ``validate-token``), a Last.fm login (exchanged for a
session key with ``auth.getMobileSession``; the password is not kept). Tokens and session keys
are kept sealed with the server's key.

What is sent, by each service's documented rules: "now playing" when a track starts
(ListenBrainz ``playing_now``, Last.fm ``track.updateNowPlaying``), best effort, never queued;
a scrobble once a play counts (half the track or 4 minutes, as the player and apps count it;
Last.fm takes only tracks longer than 30 s). Scrobbles go through a Redis list: a service that
cannot be reached, answers 5xx or says to slow down (ListenBrainz 429, Last.fm errors 11, 16,
29) keeps them there, and they are sent later, oldest first; nothing is lost across restarts
(a scrobble being sent when the web process stopped is put back at start). A scrobble is taken
off the list only once its service accepted it, so it is not sent twice, barring a crash in
the instant between the answer and the removal; both services drop a repeated scrobble of the
same track at the same time anyway. A refusal that retrying cannot cure (a revoked token, an
invalid session) drops it, logs it and shows it on the user's settings page.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from aiohttp import web

from soniquebay import Option, credentials, hookimpl
from soniquebay.errors import InvalidInput
from soniquebay.plugins.context import PluginContext

PENDING = "soniquebay:scrobble:pending"
SENDING = "soniquebay:scrobble:sending"
PROBLEMS = "soniquebay:scrobble:problems:{user}"  # the last refusals, per user
TIMEOUT = 10.0
LASTFM_MIN_SECONDS = 30.0
LASTFM_RETRY = {11, 16, 29}  # service offline, temporarily unavailable, rate limit exceeded
CLIENT = "SoniqueBay"


class Retry(Exception):
    """The service could not take it now: try again later (after ``seconds``)."""

    def __init__(self, reason: str, seconds: float | None = None):
        super().__init__(reason)
        self.seconds = seconds


class Refused(Exception):
    """The service refused it for good (a revoked token, an invalid session)."""


@hookimpl
def plugin_options() -> list[Option]:
    return [
        Option("listenbrainz_url", str, "https://api.listenbrainz.org", "ListenBrainz's API"),
        Option("lastfm_url", str, "https://ws.audioscrobbler.com/2.0/", "Last.fm's API"),
        Option("lastfm_api_key", str, "", "your Last.fm API key (empty: no Last.fm)"),
        Option("lastfm_api_secret", str, "", "its shared secret"),
        Option("retry_seconds", float, 60.0, "how long a scrobble waits after a failed send"),
    ]


# ---------------------------------------------------------------- the two services


def _request(url: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, dict]:
    """(status, JSON body); a connection that fails is a Retry."""
    req = urllib.request.Request(url, data=data, headers={"User-Agent": CLIENT, **headers})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            status, raw, got = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as exc:
        status, raw, got = exc.code, exc.read(), exc.headers
    except (OSError, ValueError) as exc:  # refused, reset, timed out, DNS
        raise Retry(f"cannot reach it: {exc}") from None
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = {}
    if status == 429:
        wait = got.get("X-RateLimit-Reset-In") or got.get("Retry-After")
        raise Retry("rate limited", float(wait) if wait and wait.isdigit() else None)
    if status >= 500:
        raise Retry(f"HTTP {status}")
    return status, body if isinstance(body, dict) else {}


def listenbrainz(ctx: PluginContext, token: str, kind: str, listen: dict[str, Any]) -> None:
    track = listen["track"]
    info: dict[str, Any] = {"submission_client": CLIENT, "media_player": listen["client"]}
    if track.get("duration"):
        info["duration_ms"] = int(track["duration"] * 1000)
    if track.get("musicbrainz_trackid"):
        info["recording_mbid"] = track["musicbrainz_trackid"]
    if track.get("track_number"):
        info["tracknumber"] = track["track_number"]
    metadata = {"artist_name": track.get("artist_name") or "", "track_name": track.get("title") or "",
                "additional_info": info}  # fmt: skip
    if track.get("album_title"):
        metadata["release_name"] = track["album_title"]
    item: dict[str, Any] = {"track_metadata": metadata}
    if kind == "single":
        item["listened_at"] = int(listen["at"])
    body = json.dumps({"listen_type": kind, "payload": [item]}).encode()
    status, answer = _request(
        ctx.options["listenbrainz_url"].rstrip("/") + "/1/submit-listens",
        body,
        {"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    if status != 200:
        raise Refused(f"ListenBrainz: {answer.get('error') or f'HTTP {status}'}")


def lastfm_call(ctx: PluginContext, method: str, params: dict[str, Any]) -> dict:
    """A signed Last.fm call (api_sig: md5 of the sorted parameters and the secret)."""
    signed = {**{k: str(v) for k, v in params.items() if v not in (None, "")}, "method": method,
              "api_key": ctx.options["lastfm_api_key"]}  # fmt: skip
    text = "".join(k + signed[k] for k in sorted(signed)) + ctx.options["lastfm_api_secret"]
    signed["api_sig"] = hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Last.fm's scheme
    signed["format"] = "json"
    status, answer = _request(
        ctx.options["lastfm_url"], urllib.parse.urlencode(signed).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    if "error" in answer:
        code = answer.get("error")
        message = f"Last.fm error {code}: {answer.get('message', '')}"
        if code in LASTFM_RETRY:
            raise Retry(message)
        raise Refused(message)
    if status != 200:
        raise Refused(f"Last.fm: HTTP {status}")
    return answer


def lastfm(ctx: PluginContext, session: str, method: str, listen: dict[str, Any]) -> None:
    track = listen["track"]
    params = {"artist": track.get("artist_name"), "track": track.get("title"),
              "album": track.get("album_title"), "albumArtist": track.get("album_artist_name"),
              "trackNumber": track.get("track_number"), "mbid": track.get("musicbrainz_trackid"),
              "duration": int(track["duration"]) if track.get("duration") else None, "sk": session}  # fmt: skip
    if method == "track.scrobble":
        params["timestamp"] = int(listen["at"])
    lastfm_call(ctx, method, params)


# ---------------------------------------------------------------- listens


def _accounts(ctx: PluginContext, user_id: int) -> dict[str, str]:
    """service -> its credential (unsealed) for the user's connected accounts."""
    kept = ctx.library.user_data(user_id)
    out = {}
    for service in ("listenbrainz", "lastfm"):
        sealed = kept.get(f"{service}_secret")
        secret = credentials.unseal(ctx.settings, sealed) if sealed else None
        if secret:
            out[service] = secret
    if not ctx.options["lastfm_api_key"]:
        out.pop("lastfm", None)
    return out


@hookimpl
def on_listen(ctx: PluginContext, listen: dict[str, Any]) -> None:
    accounts = _accounts(ctx, listen["user_id"])
    if listen["kind"] == "playing":  # best effort, never queued: it is stale in minutes
        for service, secret in accounts.items():
            try:
                if service == "listenbrainz":
                    listenbrainz(ctx, secret, "playing_now", listen)
                else:
                    lastfm(ctx, secret, "track.updateNowPlaying", listen)
            except (Retry, Refused) as exc:
                ctx.log.info("now playing not sent to %s: %s", service, exc)
        return
    for service in accounts:
        duration = listen["track"].get("duration") or 0
        if service == "lastfm" and duration and duration <= LASTFM_MIN_SECONDS:
            continue  # Last.fm's rule: only tracks longer than 30 s
        job = json.dumps({"service": service, "listen": listen}, sort_keys=True)
        _redis(ctx).lpush(PENDING, job)


_clients: dict[str, Any] = {}


def _redis(ctx: PluginContext):
    import redis

    url = ctx.settings.redis_url
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=30)
    return _clients[url]


# ---------------------------------------------------------------- the sender


@hookimpl
def startup(ctx: PluginContext, process: str) -> None:
    """In the web process, a thread sends what is queued, oldest first."""
    if process == "web":
        threading.Thread(target=_send_forever, args=(ctx,), name="scrobbler", daemon=True).start()


def _send_forever(ctx: PluginContext) -> None:
    client = _redis(ctx)
    while True:
        try:
            recover(client)
            while True:
                send_next(ctx, client, block=5)
        except Exception:  # Redis away, a bug: log, wait, go on (the jobs stay in Redis)
            ctx.log.exception("the scrobbler stopped; starting again in 10 s")
            time.sleep(10)


def recover(client) -> int:
    """Scrobbles whose send was cut short (the web process stopped mid-send) go back to the
    head of the line. Returns how many."""
    moved = 0
    while client.lmove(SENDING, PENDING, "LEFT", "RIGHT"):
        moved += 1
    return moved


def send_next(ctx: PluginContext, client, block: float) -> bool:
    """Take the oldest waiting scrobble and send it (waiting after a failure as the service
    asks). False when none came within ``block`` seconds."""
    job = client.blmove(PENDING, SENDING, block, "RIGHT", "LEFT")
    if job is None:
        return False
    wait = _send(ctx, client, job)
    if wait:
        time.sleep(wait)
    return True


def _send(ctx: PluginContext, client, job: bytes) -> float:
    """Send one queued scrobble; the seconds to wait before the next (0: go on)."""
    entry = json.loads(job)
    service, listen = entry["service"], entry["listen"]
    secret = _accounts(ctx, listen["user_id"]).get(service)
    try:
        if secret is None:
            raise Refused(f"{service} is no longer connected")
        if service == "listenbrainz":
            listenbrainz(ctx, secret, "single", listen)
        else:
            lastfm(ctx, secret, "track.scrobble", listen)
    except Retry as exc:
        ctx.log.info("scrobble to %s waits: %s", service, exc)
        with client.pipeline() as pipe:  # back at the head of the line
            pipe.lrem(SENDING, 1, job).rpush(PENDING, job).execute()
        return exc.seconds or float(ctx.options["retry_seconds"])
    except Refused as exc:
        ctx.log.error("scrobble to %s dropped: %s", service, exc)
        problem = json.dumps({"at": time.time(), "service": service, "reason": str(exc),
                              "title": listen["track"].get("title")})  # fmt: skip
        key = PROBLEMS.format(user=listen["user_id"])
        with client.pipeline() as pipe:
            pipe.lrem(SENDING, 1, job).lpush(key, problem).ltrim(key, 0, 9).execute()
        return 0.0
    client.lrem(SENDING, 1, job)
    return 0.0


# ---------------------------------------------------------------- the user's settings page


@hookimpl
def register_routes(ctx: PluginContext) -> list[web.RouteDef]:
    path = f"/plugins/{ctx.plugin}/settings"

    async def page(request: web.Request) -> web.Response:
        return _page(ctx, request)

    async def form(request: web.Request) -> web.Response:
        principal = request["principal"]
        if principal.user_id is None:
            raise InvalidInput("these settings belong to a signed-in user")
        posted = await request.post()
        await _apply(ctx, principal.user_id, posted)
        raise web.HTTPSeeOther(path)

    return [web.get(path, page), web.post(path, form)]


async def _apply(ctx: PluginContext, user_id: int, posted: Any) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    action = posted.get("action")
    if action == "listenbrainz":
        token = str(posted.get("token", "")).strip()
        name = await loop.run_in_executor(None, _validate_listenbrainz, ctx, token)
        await ctx.library.keep_user_data(user_id, {
            "listenbrainz_secret": credentials.seal(ctx.settings, token), "listenbrainz_name": name})  # fmt: skip
    elif action == "lastfm" and ctx.options["lastfm_api_key"]:
        username, password = str(posted.get("username", "")), str(posted.get("password", ""))
        session, name = await loop.run_in_executor(None, _lastfm_session, ctx, username, password)
        await ctx.library.keep_user_data(user_id, {
            "lastfm_secret": credentials.seal(ctx.settings, session), "lastfm_name": name})  # fmt: skip
    elif action in ("forget-listenbrainz", "forget-lastfm"):
        service = action.removeprefix("forget-")
        await ctx.library.keep_user_data(
            user_id, {f"{service}_secret": None, f"{service}_name": None}
        )
    else:
        raise InvalidInput("unknown action", details={"field": "action"})


def _validate_listenbrainz(ctx: PluginContext, token: str) -> str:
    if not token or len(token) > 200:
        raise InvalidInput("paste your ListenBrainz user token", details={"field": "token"})
    try:
        _, answer = _request(ctx.options["listenbrainz_url"].rstrip("/") + "/1/validate-token",
                             None, {"Authorization": f"Token {token}"})  # fmt: skip
    except Retry as exc:
        raise InvalidInput(f"ListenBrainz cannot be reached ({exc}); try again later") from None
    if not answer.get("valid"):
        raise InvalidInput("ListenBrainz does not know this token", details={"field": "token"})
    return str(answer.get("user_name") or "")


def _lastfm_session(ctx: PluginContext, username: str, password: str) -> tuple[str, str]:
    try:
        answer = lastfm_call(
            ctx, "auth.getMobileSession", {"username": username, "password": password}
        )
    except Retry as exc:
        raise InvalidInput(f"Last.fm cannot be reached ({exc}); try again later") from None
    except Refused as exc:
        raise InvalidInput(
            f"Last.fm refused the login: {exc}", details={"field": "password"}
        ) from None
    session = answer.get("session") or {}
    if not session.get("key"):
        raise InvalidInput("Last.fm answered without a session", details={"field": "password"})
    return str(session["key"]), str(session.get("name") or username)


def _page(ctx: PluginContext, request: web.Request) -> web.Response:
    principal = request["principal"]
    if principal.user_id is None:
        raise InvalidInput("these settings belong to a signed-in user")
    kept = ctx.library.user_data(principal.user_id)
    csrf = html.escape(principal.csrf)
    problems = [
        json.loads(p) for p in _redis(ctx).lrange(PROBLEMS.format(user=principal.user_id), 0, 4)
    ]
    e = html.escape

    def connected(service: str, label: str) -> str:
        name = kept.get(f"{service}_name")
        if f"{service}_secret" not in kept:
            return ""
        return (f'<p class="notice">{label}: connected as <strong>{e(name or "?")}</strong>. '
                f'<form method="post" class="inline"><input type="hidden" name="csrf_token" value="{csrf}">'
                f'<input type="hidden" name="action" value="forget-{service}"><button type="submit">Disconnect</button></form></p>')  # fmt: skip

    lastfm_form = ""
    if ctx.options["lastfm_api_key"]:
        lastfm_form = (connected("lastfm", "Last.fm") or
            f'<form method="post" class="stacked" id="lastfm"><input type="hidden" name="csrf_token" value="{csrf}">'
            '<input type="hidden" name="action" value="lastfm"><label>Last.fm user <input name="username" required></label>'
            '<label>Password (not kept) <input name="password" type="password" required></label>'
            '<button type="submit">Connect Last.fm</button></form>')  # fmt: skip
    listenbrainz_form = connected("listenbrainz", "ListenBrainz") or (
        f'<form method="post" class="stacked" id="listenbrainz"><input type="hidden" name="csrf_token" value="{csrf}">'
        '<input type="hidden" name="action" value="listenbrainz"><label>ListenBrainz user token '
        '<input name="token" required autocomplete="off"></label><button type="submit">Connect ListenBrainz</button></form>')  # fmt: skip
    trouble = "".join(
        f"<li>{e(p['service'])}: {e(str(p.get('title')))} — {e(p['reason'])}</li>" for p in problems
    )
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Scrobbling — SoniqueBay</title>
<link rel="stylesheet" href="/static/style.css"></head><body><main id="main">
<p><a href="/settings">← Settings</a></p><h1>Scrobbling</h1>
<p class="sub">What you play is sent to the services you connect: "now playing" as a track starts, a
scrobble once half of it (or 4 minutes) was heard. Sent later if a service is away.</p>
<h2>ListenBrainz</h2>{listenbrainz_form}
{"<h2>Last.fm</h2>" + lastfm_form if lastfm_form else ""}
{"<h2>Not sent</h2><ul class='problems'>" + trouble + "</ul>" if trouble else ""}
</main></body></html>"""
    return web.Response(text=body, content_type="text/html")
