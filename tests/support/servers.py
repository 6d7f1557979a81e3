"""Real servers for tests and benchmarks: redis-server, `soniquebay serve`/`web` as processes,
the web app in a thread, and an SSE reader."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``predicate`` until it is true (its value is returned); fail after ``timeout``
    seconds saying what never happened. A bound on waiting, never a measurement."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
    return value


def get_json(url: str, token: str = "", timeout: float = 5) -> Any:
    """A GET of a JSON document, with a bearer token if given (the installed-package tests,
    which talk to a service they did not start)."""
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(
    folder: Path, *, port: int = 0, extra: list[str] | None = None
) -> tuple[subprocess.Popen, str]:
    """A throwaway redis-server on a Unix socket (and ``port``, with ``extra`` options such as
    ``--bind``); returns (process, url)."""
    folder.mkdir(parents=True, exist_ok=True)
    sock = folder / "redis.sock"
    args = [
        "redis-server",
        "--port",
        str(port),
        "--unixsocket",
        str(sock),
        "--dir",
        str(folder),
        "--save",
        "",
        "--appendonly",
        "no",
        "--loglevel",
        "warning",
        *(extra or []),
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not sock.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.02)
    url = f"redis://127.0.0.1:{port}/0" if port else f"unix://{sock}"
    return process, url


class Server:
    """A `soniquebay serve` (or `web`) subprocess on temporary folders, observed through HTTP.

    It is given a worker token (``SONIQUEBAY_API_TOKEN``) that :meth:`request` sends, so tests
    read and write as the workers do; pass ``auth=False`` to a request to go without it.
    """

    def __init__(
        self,
        library: Path,
        data_dir: Path,
        *,
        command: str = "serve",
        env: dict[str, str] | None = None,
        port: int | None = None,
        extra_args: list[str] | None = None,
        wrap: Callable[[list[str]], list[str]] | None = None,
    ):
        self.library, self.data_dir, self.command = library, data_dir, command
        self.port = port or free_port()
        self.token = (env or {}).get("SONIQUEBAY_API_TOKEN") or "sbt_test_" + secrets.token_hex(8)
        self.env = {
            **os.environ,
            "SONIQUEBAY_DEBOUNCE_SECONDS": "0.5",
            "SONIQUEBAY_API_TOKEN": self.token,
            **(env or {}),
        }
        self.env.setdefault("SONIQUEBAY_CONFIG", "")  # no /etc/soniquebay file: only what we pass
        # The seed's test double for text embeddings, unless a test asks for the real model
        # (tests/e2e/test_vectors.py does): embedding every file of a 2,000-file test costs.
        self.env.setdefault("SONIQUEBAY_EMBEDDING_MODEL", "mock-v1")
        self.extra_args = extra_args or []
        self.wrap = wrap or (lambda argv: argv)  # e.g. run it with fewer capabilities
        self.process: subprocess.Popen | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-{command}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> Server:
        self.library.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.wrap(
                [
                    sys.executable,
                    "-m",
                    "soniquebay",
                    self.command,
                    "--library",
                    str(self.library),
                    "--data-dir",
                    str(self.data_dir),
                    "--port",
                    str(self.port),
                    *self.extra_args,
                ]
            ),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        if wait:

            def ready() -> bool:
                health = self.get("/api/health", ok_only=False)
                if self.command != "serve":
                    return health is not None
                return bool(health and health.get("watcher", {}).get("reconciled"))

            self.wait_until(
                ready, timeout=60, what="the server to answer and the watcher to reconcile"
            )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """``soniquebay ARGS`` on this server's data folder, as an admin types it (must work)."""
        return subprocess.run(
            [sys.executable, "-m", "soniquebay", *args, "--data-dir", str(self.data_dir)],
            env=self.env, input=stdin, capture_output=True, text=True, check=True,
        )  # fmt: skip

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict | None = None,
        *,
        auth: bool = True,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else raw
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={
                "Content-Type": "application/json",
                **(self.auth_headers() if auth else {}),
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                status = resp.status
                kind = resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raw, status, kind = exc.read(), exc.code, exc.headers.get("Content-Type", "")
        return status, (json.loads(raw) if "json" in kind else raw.decode("utf-8", "replace"))

    def get(self, path: str, ok_only: bool = True) -> Any:
        try:
            status, body = self.request("GET", path)
        except OSError:
            return None
        if ok_only and status != 200:
            raise AssertionError(f"GET {path} -> {status}: {body}")
        return body

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        status, body = self.request(
            "POST", "/api/graphql", {"query": query, "variables": variables or {}}
        )
        return body

    def tracks(self) -> list[dict]:
        return self.get("/api/tracks?limit=500")["items"]

    def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 30, what: str = "a condition"
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"{self.command} exited ({self.process.returncode}):\n{self.log()[-4000:]}"
                )
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}\n--- log:\n{self.log()[-4000:]}"
                )
            time.sleep(0.1)

    def wait_for_tracks(self, count: int, timeout: float = 30) -> list[dict]:
        def ready() -> list[dict] | None:
            tracks = self.tracks()
            return tracks if len(tracks) == count else None

        return self.wait_until(ready, timeout, f"{count} tracks")


class SSEReader:
    """Reads /api/events in a thread; ``events`` collects (id, parsed data)."""

    def __init__(
        self,
        url: str,
        last_event_id: str | None = None,
        channels: str | None = None,
        token: str | None = None,
    ):
        self.url = url + "/api/events" + (f"?channels={channels}" if channels else "")
        self.headers = {"Accept": "text/event-stream"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if last_event_id:
            self.headers["Last-Event-ID"] = last_event_id
        self.events: list[tuple[str | None, dict]] = []
        self.connected = threading.Event()
        self._sock: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> SSEReader:
        self._thread.start()
        if not self.connected.wait(10):
            raise AssertionError("the event stream did not connect")
        return self

    def _run(self) -> None:
        # HTTP/1.0 over a plain socket: no chunked encoding, every line arrives as it is sent.
        parts = urllib.parse.urlsplit(self.url)
        try:
            self._sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            head = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
            self._sock.sendall(
                f"GET {target} HTTP/1.0\r\nHost: {parts.hostname}\r\n{head}\r\n".encode()
            )
            stream = self._sock.makefile("rb")
            while stream.readline() not in (b"\r\n", b"\n", b""):
                pass  # status line and headers
            event_id, data, name = None, [], None
            for raw in stream:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if data:
                        payload = json.loads("\n".join(data))
                        if name == "hello":
                            self.connected.set()
                        else:
                            self.events.append((event_id, payload))
                    event_id, data, name = None, [], None
                elif line.startswith("id:"):
                    event_id = line[3:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip())
                elif line.startswith("event:"):
                    name = line[6:].strip()
        except (OSError, ValueError):
            pass  # closed by close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()

    def of_type(self, prefix: str) -> list[dict]:
        return [e for _, e in self.events if e.get("type", "").startswith(prefix)]


class AppServer(Server):
    """The web application in a thread of this process, on a real socket: cheap to start per
    test, and its parts (``app``, the database connections) can be looked at directly. So
    that what is looked at is what answers, GraphQL queries stay in this process unless the
    settings ask for reader processes (``graphql_readers``; test_graphql_readers does)."""

    def __init__(self, settings: Any, token: str | None = None, port: int | None = None):
        import dataclasses

        self.token = token or settings.api_token or "sbt_test_" + secrets.token_hex(8)
        readers = "0" if settings.graphql_readers == "auto" else settings.graphql_readers
        self.settings = dataclasses.replace(
            settings, api_token=self.token, port=port or free_port(), graphql_readers=readers
        )
        self.port = self.settings.port
        self.process = None
        self.command = "web (in-process)"
        self.log_path = self.settings.data_dir / "app.log"
        self.app = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner = None

    def start(self, wait: bool = True) -> AppServer:
        from aiohttp import web

        from soniquebay.web.app import create_app

        ready, failure = threading.Event(), []
        self.app = create_app(self.settings)

        async def serve() -> None:
            self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(serve())
            except Exception as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name="app-server", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        return self

    def settle(self) -> None:
        """Wait until the web's after-store work (events, stage scheduling) has caught up."""
        from soniquebay.web import keys

        self.call(self.app[keys.PIPELINE].drained)

    def call(self, coro_fn: Callable[[], Any], timeout: float = 30) -> Any:
        """Run ``coro_fn()`` on the server's event loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro_fn(), self._loop).result(timeout)

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            try:
                self.call(self._runner.cleanup, timeout=10)
            except TimeoutError:
                pass  # a connection that lingers; stopping the loop ends it
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(30)

    def log(self) -> str:
        return ""


class WebSession:
    """A person in a browser, without the browser: a session cookie from /login, and the page's
    CSRF token sent with every change, as the pages' forms and scripts send it."""

    def __init__(self, base_url: str, username: str, password: str):
        import http.cookiejar
        import re

        self.url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        body = urllib.parse.urlencode({"username": username, "password": password, "next": "/"})
        req = urllib.request.Request(
            base_url + "/login", data=body.encode(), headers={"Origin": base_url}, method="POST"
        )
        with self.opener.open(req, timeout=30) as resp:
            page = resp.read().decode()
        found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
        assert found, "no CSRF token on the page after logging in"
        self.csrf = found.group(1)

    def request(
        self, method: str, path: str, body: Any = None, *, form: dict | None = None,
        headers: dict | None = None, raw: bytes | None = None,
    ) -> tuple[int, Any, dict]:  # fmt: skip
        """(status, body as JSON or text or bytes, headers)."""
        hdrs = {"X-CSRF-Token": self.csrf, **(headers or {})}
        data = raw
        if body is not None:
            data, hdrs["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data = urllib.parse.urlencode({"csrf_token": self.csrf, **form}).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with self.opener.open(req, timeout=30) as resp:
                status, raw_body, got = resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            status, raw_body, got = exc.code, exc.read(), dict(exc.headers)
        kind = got.get("Content-Type", "")
        if "json" in kind:
            return status, json.loads(raw_body), got
        if kind.startswith("text/"):
            return status, raw_body.decode("utf-8", "replace"), got
        return status, raw_body, got

    def page(self, path: str) -> str:
        status, body, _ = self.request("GET", path, headers={"Accept": "text/html"})
        assert status == 200, (path, status, str(body)[:500])
        return body
