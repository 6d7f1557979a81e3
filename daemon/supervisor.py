"""`soniquebay serve`: one command runs Redis (if needed), the web server, the watcher and a worker.

Each part is its own process, as under systemd, so a crash in one is restarted without the
others noticing; Ctrl-C or SIGTERM stops them in reverse order, Redis last.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from soniquebay import credentials
from soniquebay.config import Settings
from soniquebay.daemon.layout import runs_in_profile
from soniquebay.daemon.redis_server import start_private_redis
from soniquebay.errors import ServiceUnavailable
from soniquebay.names import SCAN

log = logging.getLogger(__name__)

STOP_TIMEOUT = 15.0
MAX_RESTARTS_PER_MINUTE = 5
RELEASE_TIMEOUT = 20.0  # how long a start waits for a dead instance's leftovers to go
PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent(parent: int | None = None) -> None:
    """Run in a child between fork and exec: when serve dies, even by SIGKILL, the kernel sends
    the child SIGTERM, so no orphan keeps the port, the socket or the queues. ``parent``: the
    pid that started the child, when the child runs this later than at once (a process that
    imports first may find itself an orphan already)."""
    parent = os.getppid() if parent is None else parent
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the line above: follow it now
        os.kill(os.getpid(), signal.SIGTERM)


def backoff(restarts: list[float], now: float) -> tuple[list[float], float]:
    """The restarts of the last minute (this one too), and how long to wait before starting
    again: at once for the first few, then doubling up to a minute. A child that cannot run
    for now (a full disk, Redis refusing writes) is tried again, never given up on."""
    recent = [t for t in restarts if now - t < 60] + [now]
    over = len(recent) - MAX_RESTARTS_PER_MINUTE
    return recent, 0.0 if over <= 0 else min(2.0**over, 60.0)


def _restarting(name: str, status: int | None, delay: float) -> None:
    later = f" in {delay:.0f}s (it keeps failing)" if delay else ""
    log.warning("%s exited with status %s: restarting%s", name, status, later)


class Child:
    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name, self.args, self.env = name, args, env
        self.process: subprocess.Popen | None = None
        self.restarts: list[float] = []
        self.due: float | None = None  # when an exited child is started again

    def start(self) -> None:
        # Each child leads its own process group, so whatever it forked dies with it (below).
        self.process = subprocess.Popen(
            [sys.executable, "-m", "soniquebay", *self.args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        log.info("started %s (pid %d)", self.name, self.process.pid)

    def reap_orphans(self) -> None:
        """Kill what a dead child left behind. An RQ worker's scheduler process inherits the
        worker's Redis socket: alive, it keeps the dead worker's blocking pop open, and Redis
        would hand the next job to a connection nobody reads."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs: killing it", self.name, STOP_TIMEOUT)
        self.reap_orphans()
        self.process.wait()


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceUnavailable(
                f"the web server exited at start (status {process.returncode})"
            )
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers; 503 only means degraded
        except OSError:
            time.sleep(0.1)
    raise ServiceUnavailable(f"the web server did not answer at {url} within {timeout:.0f}s")


def _pid_file(settings: Settings):
    return settings.data_dir / "serve.pid"


def _running_instance(settings: Settings) -> int | None:
    """The pid of a serve still running on this data folder, if any."""
    try:
        pid = int(_pid_file(settings).read_text().strip())
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
    except (OSError, ValueError):
        return None
    return pid if pid != os.getpid() and b"soniquebay" in cmdline else None


def _in_use(settings: Settings) -> list[str]:
    """What a dead instance may still hold: the port, a Redis on the private socket."""
    busy = []
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, settings.port))
        except OSError:
            busy.append(f"port {settings.port}")
    if not settings.redis_url and settings.redis_socket.exists():
        with socket.socket(socket.AF_UNIX) as probe:
            probe.settimeout(1)
            with contextlib.suppress(OSError):
                probe.connect(str(settings.redis_socket))
                busy.append(f"a Redis on {settings.redis_socket}")
    return busy


def claim(settings: Settings) -> None:
    """Refuse to start beside a running instance, and wait a moment for a dead one's children
    to let go of the port and the socket, instead of half-starting."""
    pid = _running_instance(settings)
    if pid is not None:
        raise ServiceUnavailable(
            f"SoniqueBay is already running on {settings.data_dir} (pid {pid}): stop it first"
        )
    deadline = time.monotonic() + RELEASE_TIMEOUT
    while busy := _in_use(settings):
        if time.monotonic() > deadline:
            raise ServiceUnavailable(
                f"cannot start: {' and '.join(busy)} still in use (another program, or a"
                " SoniqueBay on this data folder or port that is not stopping)"
            )
        log.info("waiting for %s to be released", " and ".join(busy))
        time.sleep(0.5)
    _pid_file(settings).write_text(f"{os.getpid()}\n")


def serve(settings: Settings, config_path: str | None = None) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    claim(settings)
    for root in settings.library:
        if not root.exists():
            root.mkdir(parents=True)
            log.info("created the library folder %s", root)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    redis_process = None
    env = {**os.environ, **settings.env()}
    if config_path:
        env["SONIQUEBAY_CONFIG"] = str(config_path)
    # Zero configuration: the children agree on a worker token kept in data_dir (mode 0600).
    env["SONIQUEBAY_API_TOKEN"] = credentials.worker_token(settings, create=True)
    if not settings.redis_url:
        redis_process = start_private_redis(
            settings.data_dir, settings.redis_socket, preexec_fn=die_with_parent
        )
        env["SONIQUEBAY_REDIS_URL"] = settings.effective_redis_url
        log.info("private redis-server on %s", settings.redis_socket)
    redis_restarts: list[float] = []

    children = [
        Child("web", ["web"], env),
        Child("watch", ["watch"], env),
        # The scan queue has a worker of its own: a new file never waits behind analysis.
        Child("scan-worker", ["worker", "--queue", SCAN], env),
        *(
            [Child("stage-worker", ["worker", "--queue", "stages"], env)]
            if runs_in_profile(settings, ["stages"])[0]
            else []  # low-memory profile: the scan worker serves every queue
        ),
    ]
    try:
        web = children[0]
        web.start()
        wait_for_http(settings.effective_api_url + "/api/health", web.process)
        for child in children[1:]:
            child.start()
        log.info(
            "SoniqueBay is serving %s at http://%s:%d/",
            ", ".join(map(str, settings.library)),
            settings.host,
            settings.port,
        )
        redis_due: float | None = None
        while not stop.wait(0.5):
            now = time.monotonic()
            if redis_process is not None and redis_process.poll() is not None:
                # Like any other child: restarted. Its append-only file keeps the queued jobs,
                # the outbox and the reconcile bring in whatever was in flight.
                if redis_due is None:
                    redis_restarts, delay = backoff(redis_restarts, now)
                    _restarting("redis-server", redis_process.returncode, delay)
                    redis_due = now + delay
                if now >= redis_due:
                    redis_due = None
                    try:
                        redis_process = start_private_redis(
                            settings.data_dir, settings.redis_socket, preexec_fn=die_with_parent
                        )
                    except ServiceUnavailable as exc:  # tried again after a pause
                        log.error("%s", exc)
            for child in children:
                if child.process.poll() is None:
                    continue
                if child.due is None:
                    child.restarts, delay = backoff(child.restarts, now)
                    _restarting(child.name, child.process.returncode, delay)
                    child.reap_orphans()
                    child.due = now + delay
                if now >= child.due:
                    child.due = None
                    child.start()
        return 0
    finally:
        for child in reversed(children):
            child.stop()
        if redis_process is not None:
            redis_process.terminate()
            try:
                redis_process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                redis_process.kill()
        _pid_file(settings).unlink(missing_ok=True)
        log.info("SoniqueBay stopped")
