"""A private redis-server for `soniquebay serve` when no Redis URL is configured.

It listens only on a Unix socket inside the data folder (no TCP port) and keeps an append-only
file there, so queued jobs survive a restart.

Redis holds nothing the library cannot rebuild (queues, events, caches: the watcher's outbox,
the start-up reconcile and the stage sweep bring the work back). So when it cannot start on
its files — a corrupt append-only file or RDB after a power cut — they are moved aside (kept,
named in the log and in ``/api/health``) and it starts clean, rather than SoniqueBay staying
down until someone repairs them by hand.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

from soniquebay import names
from soniquebay.errors import ServiceUnavailable

log = logging.getLogger(__name__)


def start_private_redis(
    data_dir: Path,
    socket: Path,
    timeout: float = 15.0,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.Popen:
    """Start it; when it exits at start on files it cannot load, move them aside and start it
    again on a clean folder (once: a clean folder that fails too is a real problem, raised)."""
    try:
        return _start(data_dir, socket, timeout, preexec_fn)
    except _ExitedAtStart as exc:
        folder = data_dir / "redis"
        if not any(folder.iterdir()):
            raise ServiceUnavailable(str(exc)) from None
        aside = data_dir / f"redis.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
        folder.rename(aside)
        reason = exc.reason or "it exited at start"
        log.error(
            "redis-server could not load its files (%s): moved them to %s and started it clean;"
            " the queues are rebuilt from the outbox, the reconcile and the stage sweep",
            reason,
            aside,
        )
        note = {"moved_to": str(aside), "at": time.time(), "reason": reason}
        (data_dir / names.REDIS_RECOVERED).write_text(json.dumps(note))
        try:
            return _start(data_dir, socket, timeout, preexec_fn)
        except _ExitedAtStart as again:
            raise ServiceUnavailable(str(again)) from None


class _ExitedAtStart(Exception):
    def __init__(self, status: int, reason: str | None):
        super().__init__(
            f"redis-server exited at start (status {status})" + (f": {reason}" if reason else "")
        )
        self.reason = reason


def _start(
    data_dir: Path, socket: Path, timeout: float, preexec_fn: Callable[[], None] | None
) -> subprocess.Popen:
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceUnavailable(
            "redis-server is not installed: run `sudo apt-get install redis-server`, "
            "or set SONIQUEBAY_REDIS_URL to an existing Redis"
        )
    folder = data_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    socket.unlink(missing_ok=True)
    log_path = data_dir / "redis.log"  # its own log: the reason it gives when it cannot start
    start_of_log = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "ab") as output:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                "0",
                "--unixsocket",
                str(socket.resolve()),
                "--unixsocketperm",
                "700",
                "--dir",
                str(folder.resolve()),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches serve, which stops redis last
            preexec_fn=preexec_fn,
        )
    deadline = time.monotonic() + timeout
    client = redis.Redis(unix_socket_path=str(socket.resolve()))
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise _ExitedAtStart(process.returncode, _last_complaint(log_path, start_of_log))
        try:
            if socket.exists() and client.ping():
                return process
        except redis.RedisError:
            pass
        time.sleep(0.05)
    process.kill()
    raise ServiceUnavailable(f"redis-server did not answer on {socket} within {timeout:.0f}s")


def _last_complaint(log_path: Path, since: int) -> str | None:
    """The warning redis-server wrote before it gave up ("Bad file format reading the append
    only file…"), without its pid and timestamp."""
    try:
        with open(log_path, "rb") as fh:
            fh.seek(since)
            lines = fh.read(65536).decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        text = line.split(" # ", 1)[-1].split(" * ", 1)[-1].strip()
        if text and "---" not in text:
            return text[:300]
    return None
