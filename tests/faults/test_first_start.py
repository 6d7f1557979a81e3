"""A first start cannot fail, whichever part starts first (systemd's ``After=`` alone does not
wait for the web to be ready): the workers' token exists or is read when needed, and the web
tells systemd when it answers."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys

import redis
from rq import Queue
from rq.registry import FailedJobRegistry
from support.servers import Server

from soniquebay import config, credentials, queueing
from soniquebay.names import SCAN


def test_workers_started_before_the_web_run_every_job(tmp_path, library, audio, redis_url):
    data_dir = tmp_path / "data"
    # No SONIQUEBAY_API_TOKEN: web and workers agree through data_dir/worker-token, as installed.
    env = {"SONIQUEBAY_REDIS_URL": redis_url, "SONIQUEBAY_API_TOKEN": ""}
    web = Server(library, data_dir, command="web", env=env)
    worker_log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "soniquebay", "worker", "--queue", SCAN],
        env={
            **web.env,
            "SONIQUEBAY_LIBRARY": str(library),
            "SONIQUEBAY_DATA_DIR": str(data_dir),
            "SONIQUEBAY_PORT": str(web.port),
        },
        stdout=worker_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        client = redis.Redis.from_url(redis_url)
        web.wait_until(
            lambda: client.scard("rq:workers") > 0, what="the worker to listen before the web"
        )
        assert not (data_dir / "worker-token").exists()
        settings = config.load(
            environ={
                "SONIQUEBAY_LIBRARY": str(library),
                "SONIQUEBAY_DATA_DIR": str(data_dir),
                "SONIQUEBAY_REDIS_URL": redis_url,
                "SONIQUEBAY_PORT": str(web.port),
            }
        )
        files = [audio.make(library / f"{i}.flac", title=f"First {i}") for i in range(3)]
        jobs = [
            queueing.enqueue_scan(
                client,
                settings,
                [{"path": str(f), "size": f.stat().st_size, "mtime_ns": f.stat().st_mtime_ns}],
            )
            for f in files
        ]
        web.start()
        web.token = credentials.worker_token(settings)
        assert web.token
        tracks = web.wait_for_tracks(3, timeout=90)
        assert sorted(t["title"] for t in tracks) == ["First 0", "First 1", "First 2"]
        queue = Queue(SCAN, connection=client)
        # A job's track is listed before its work-horse marks it finished: wait for the ends.
        ends = web.wait_until(
            lambda: (
                (s := [j.get_status(refresh=True) for j in jobs])
                and all(x in ("finished", "failed") for x in s)
                and s
            ),
            what="the three jobs to end",
        )
        assert ends == ["finished"] * 3
        assert FailedJobRegistry(queue=queue).count == 0
        assert "answered 401" not in worker_log.read_text()
    finally:
        worker.terminate()
        worker.wait(30)
        web.stop()


def test_migrate_makes_the_worker_token(tmp_path):
    data_dir = tmp_path / "data"
    subprocess.run(
        [sys.executable, "-m", "soniquebay", "migrate", "--data-dir", str(data_dir)],
        check=True,
        capture_output=True,
        env={**os.environ, "SONIQUEBAY_CONFIG": "", "SONIQUEBAY_API_TOKEN": ""},
    )
    token = data_dir / "worker-token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600 and len(token.read_text().strip()) > 20


def test_the_web_tells_systemd_it_is_ready_once_it_answers(tmp_path, library, redis_url):
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(60)
    web = Server(
        library,
        tmp_path / "data",
        command="web",
        env={"SONIQUEBAY_REDIS_URL": redis_url, "NOTIFY_SOCKET": address},
    )
    web.start(wait=False)
    try:
        message = listener.recv(256)
        assert message == b"READY=1"
        assert web.get("/api/health", ok_only=False) is not None  # answering already
    finally:
        web.stop()
        listener.close()
