"""A private redis-server for `soniquebay serve` when no Redis URL is configured.

It listens only on a Unix socket inside the data folder (no TCP port) and keeps an append-only
file there, so queued jobs survive a restart.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

from soniquebay.errors import ServiceUnavailable


def start_private_redis(
    data_dir: Path,
    socket: Path,
    timeout: float = 15.0,
    preexec_fn: Callable[[], None] | None = None,
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
        start_new_session=True,  # a Ctrl-C in the terminal reaches serve, which stops redis last
        preexec_fn=preexec_fn,
    )
    deadline = time.monotonic() + timeout
    client = redis.Redis(unix_socket_path=str(socket.resolve()))
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceUnavailable(f"redis-server exited at start (status {process.returncode})")
        try:
            if socket.exists() and client.ping():
                return process
        except redis.RedisError:
            pass
        time.sleep(0.05)
    process.kill()
    raise ServiceUnavailable(f"redis-server did not answer on {socket} within {timeout:.0f}s")
