"""Issue 9, case 4: a killed worker must not hold its queue's scheduler for minutes, or the
retries of failed jobs (and every delayed job) wait in rq:scheduled:* that long."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import redis
from rq.job import Job, JobStatus
from support.servers import wait_for

from soniquebay import queueing
from soniquebay.names import rq_scheduler, rq_scheduler_lock


def test_a_killed_worker_does_not_hold_delayed_jobs_back(serve):
    server = serve()
    client = redis.Redis(unix_socket_path=str(server.data_dir / "redis.sock"))
    lock = rq_scheduler_lock("scan")
    holder = wait_for(lambda: client.get(lock), timeout=30, what="a scheduler for the scan queue")
    # The lock is taken before the scheduler process registers itself (its pid): wait for both.
    scheduler = wait_for(
        lambda: (found := client.hgetall(rq_scheduler(holder.decode()))).get(b"pid") and found,
        timeout=30,
        what="the scheduler to register its pid",
    )
    worker = int(open(f"/proc/{int(scheduler[b'pid'])}/stat").read().split()[3])  # its parent
    os.kill(worker, signal.SIGKILL)  # RQ would keep its lock a minute, then wait up to ten more
    wait_for(
        lambda: client.get(lock) not in (None, holder),
        timeout=30,
        what="the restarted worker to take the scheduler lock",
    )
    queue = queueing.get_queue(client, "scan")
    job = queue.enqueue_in(timedelta(seconds=1), queueing.JOBS + "scan_paths", items=[])
    wait_for(
        lambda: (
            Job.fetch(job.id, connection=client, serializer=queue.serializer).get_status()
            == JobStatus.FINISHED
        ),
        timeout=30,
        what="the delayed job to run",
    )
    health = server.get("/api/health")
    assert health["redis"]["overdue_scheduled"] == {q: 0 for q in health["redis"]["queues"]}
