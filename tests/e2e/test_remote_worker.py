"""A worker on another host: in a network namespace of its own, it reaches Redis and the API
only over a veth pair, with the music at the same path, and takes its share of a scan.

This is the README's scale-out set-up: `web` and `watch` on the main host with Redis on TCP,
one worker there, and `soniquebay worker` on a second host with only three settings.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest
import redis
from rq import Worker
from rq.job import Job
from rq.serializers import JSONSerializer
from support.audio_files import AudioFactory
from support.servers import free_port, start_redis, wait_for

from soniquebay import queueing

HOST_IP, WORKER_IP = "10.77.0.1", "10.77.0.2"  # addresses inside the namespace made below


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def namespace():
    # Skipped only where it cannot run: network namespaces need root (CI runs as root).
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    # A run killed before its clean-up leaves its namespace and veth, still holding HOST_IP:
    # traffic to the new namespace would be routed into the stale one.
    for stale in subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True
    ).stdout.split("\n"):
        if stale.startswith("sbw-"):
            subprocess.run(["ip", "netns", "del", stale.split()[0]], capture_output=True)
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    for line in links.splitlines():
        link = line.split(":")[1].strip().split("@")[0]
        if link.startswith("sbh"):
            subprocess.run(["ip", "link", "del", link], capture_output=True)
    name, tag = "sbw-" + secrets.token_hex(3), secrets.token_hex(2)
    host_if, ns_if = f"sbh{tag}", f"sbn{tag}"
    ip("netns", "add", name)
    try:
        ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        ip("link", "set", ns_if, "netns", name)
        ip("addr", "add", f"{HOST_IP}/30", "dev", host_if)
        ip("link", "set", host_if, "up")
        ip("netns", "exec", name, "ip", "addr", "add", f"{WORKER_IP}/30", "dev", ns_if)
        ip("netns", "exec", name, "ip", "link", "set", ns_if, "up")
        ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)


def test_a_worker_in_another_network_namespace_takes_its_share_of_a_scan(
    namespace, tmp_path, library
):
    an_hour_ago = time.time() - 3600
    factory = AudioFactory(tmp_path / "templates")
    for i in range(400):
        path = factory.make(library / f"album {i // 20}" / f"{i:03d}.mp3", title=f"Far {i}")
        os.utime(path, (an_hour_ago, an_hour_ago))

    redis_port, api_port = free_port(), free_port()
    redis_process, _ = start_redis(
        tmp_path / "redis", port=redis_port, extra=["--bind", HOST_IP, "--protected-mode", "no"]
    )
    api_url = f"http://{HOST_IP}:{api_port}"
    env = {
        **os.environ,
        "SONIQUEBAY_CONFIG": "",
        "SONIQUEBAY_REDIS_URL": f"redis://{HOST_IP}:{redis_port}/0",
        "SONIQUEBAY_API_URL": api_url,
        "SONIQUEBAY_API_TOKEN": "sbt_far_" + secrets.token_hex(8),
        "SONIQUEBAY_HOST": HOST_IP,
        "SONIQUEBAY_PORT": str(api_port),
        "CHUNK_SIZE": "20",  # 20 scan jobs, to share
        "SONIQUEBAY_PLUGIN_ANALYSIS_ESSENTIA_ENABLED": "false",
        "SONIQUEBAY_PLUGIN_ANALYSIS_LIBROSA_ENABLED": "false",
    }
    processes = []

    def run(name: str, *args: str, prefix: tuple[str, ...] = (), data: str = "data"):
        log = open(tmp_path / f"{name}.log", "wb")
        command = [*prefix, sys.executable, "-m", "soniquebay", *args]
        command += ["--library", str(library), "--data-dir", str(tmp_path / data)]
        processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))

    try:
        run("web", "web")

        def answers() -> bool:
            try:
                urllib.request.urlopen(api_url + "/api/health", timeout=2)
            except OSError:
                return False
            return True

        wait_for(answers, 60, "the web process to answer")
        # The far worker has its own data folder: it shares only the music, Redis and the API.
        far = ("ip", "netns", "exec", namespace)
        run("far-worker", "worker", "--queue", "scan", prefix=far, data="far-data")
        run("near-worker", "worker", "--queue", "scan")
        client = redis.Redis.from_url(env["SONIQUEBAY_REDIS_URL"])
        queue = queueing.get_queue(client, "scan")

        def worker_ips() -> set[str]:
            return {w.ip_address.rsplit(":", 1)[0] for w in Worker.all(connection=client)}

        # Both workers listen before the scan starts: on a busy machine the far one, slower to
        # start, could otherwise find the near one had done every job already.
        wait_for(lambda: worker_ips() == {HOST_IP, WORKER_IP}, 60, "both workers to register")
        run("watch", "watch")

        def all_listed() -> bool:
            request = urllib.request.Request(
                api_url + "/api/tracks?limit=1",
                headers={"Authorization": f"Bearer {env['SONIQUEBAY_API_TOKEN']}"},
            )
            total = json.loads(urllib.request.urlopen(request).read())["total"]
            return total == 400 and queue.count == 0

        wait_for(all_listed, 120, "400 tracks, the far worker's share among them")

        workers = {w.name: w.ip_address.rsplit(":", 1)[0] for w in Worker.all(connection=client)}
        assert set(workers.values()) == {HOST_IP, WORKER_IP}, workers
        finished = Job.fetch_many(
            queue.finished_job_registry.get_job_ids(), connection=client, serializer=JSONSerializer
        )
        done_by = [workers.get(job.worker_name) for job in finished if job is not None]
        assert done_by.count(WORKER_IP) >= 1 and done_by.count(HOST_IP) >= 1, done_by
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        redis_process.terminate()
        redis_process.wait(10)
        shutil.rmtree(tmp_path / "redis", ignore_errors=True)
