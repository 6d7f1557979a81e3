"""Webhook: POST live events as JSON to URLs of your choice (a home-automation hub, a chat bot,
another library), with a timeout and retries, never holding up the library.

Enable with::

    [plugin.webhook]
    enabled = true
    urls = https://hub.example/soniquebay, http://192.168.1.20:8123/api/webhook/music
    events = track.added, scan.finished     ; any types of the event catalogue
    batch_seconds = 1.0                     ; events that come together go in one POST
    timeout = 5
    retries = 3                             ; then the batch is dropped, with a log line

Each POST carries ``{"events": [{"type": ..., "ts": ..., ...}, ...]}`` with
``Content-Type: application/json`` and ``User-Agent: SoniqueBay-webhook``. A 2xx answer is a
success; anything else, a timeout or a refused connection is retried after 1, 2, 4... seconds
(honouring ``Retry-After``). Deliveries run on a thread of their own with a bounded queue: a
slow or dead receiver never slows the events for anyone else.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from soniquebay import Option, __version__, hookimpl
from soniquebay.errors import ConfigError

NAME = "webhook"
QUEUE_LIMIT = 10_000
log = logging.getLogger(f"soniquebay.plugin.{NAME}")


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class Deliverer:
    def __init__(self, urls: list[str], timeout: float, retries: int, batch_seconds: float):
        self.urls, self.timeout, self.retries, self.batch = urls, timeout, retries, batch_seconds
        self.events: queue.Queue = queue.Queue(maxsize=QUEUE_LIMIT)
        self.delivered = 0
        self._thread = threading.Thread(target=self._run, name="webhook", daemon=True)
        self._thread.start()

    def put(self, event: dict[str, Any]) -> None:
        try:
            self.events.put_nowait(event)
        except queue.Full:  # the receiver is down for long: drop, say so, keep the library going
            log.warning("webhook queue full (%d events): dropping %s", QUEUE_LIMIT, event["type"])

    def _run(self) -> None:
        while True:
            batch = [self.events.get()]
            deadline = time.monotonic() + self.batch
            while len(batch) < 500 and (left := deadline - time.monotonic()) > 0:
                try:
                    batch.append(self.events.get(timeout=left))
                except queue.Empty:
                    break
            body = json.dumps({"events": batch}, ensure_ascii=False).encode()
            for url in self.urls:
                self._post(url, body, len(batch))

    def _post(self, url: str, body: bytes, count: int) -> None:
        pause = 1.0
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=body, method="POST")
            request.add_header("Content-Type", "application/json")
            request.add_header("User-Agent", f"SoniqueBay-webhook/{__version__}")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    answer.read()
                self.delivered += count
                return
            except urllib.error.HTTPError as exc:
                reason = f"answered {exc.code}"
                retry_after = exc.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    pause = min(float(retry_after), 300.0)
            except (urllib.error.URLError, OSError) as exc:
                reason = str(getattr(exc, "reason", exc))
            if attempt < self.retries:
                log.info("webhook %s %s; trying again in %.0fs", url, reason, pause)
                time.sleep(pause)
                pause = min(pause * 2, 300.0)
        log.warning(
            "webhook %s %s after %d tries: %d events dropped", url, reason, self.retries + 1, count
        )


_deliverers: dict[str, Deliverer] = {}  # per process: one delivery thread, made on first event


@hookimpl
def plugin_options():
    return [
        Option("urls", str, "", help="comma-separated URLs to POST events to"),
        Option("events", str, "track.added, scan.finished", help="event types to send"),
        Option("batch_seconds", float, 1.0, help="events that come together go in one POST"),
        Option("timeout", float, 5.0, help="seconds to wait for an answer"),
        Option("retries", int, 3, help="tries after the first, 1, 2, 4... seconds apart"),
    ]


@hookimpl
def startup(ctx, process):
    for url in _list(ctx.options["urls"]):
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"plugin.{NAME}", "urls", f"not an http(s) URL: {url!r}")


@hookimpl
def on_event(ctx, event):
    if event["type"] not in _list(ctx.options["events"]):
        return
    urls = _list(ctx.options["urls"])
    if not urls:
        return
    deliverer = _deliverers.get(ctx.plugin)
    if deliverer is None:
        deliverer = _deliverers[ctx.plugin] = Deliverer(
            urls, ctx.options["timeout"], ctx.options["retries"], ctx.options["batch_seconds"]
        )
    deliverer.put(event)
