"""The RQ worker entry: one process per worker, forking a work-horse per job.

The context (settings, plugins, connections) is built from the settings this process was
started with and bound before the first fork, so each job starts with plugins already imported
instead of paying for it again. What a plugin did not load at start (the analysis backend in
the low-memory profile) it loads in ``warm_up`` before the first job of its queue; the worker
then holds it only while work keeps coming, and restarts itself in place (``execv``: same
process id, so neither systemd nor ``serve`` sees a stop) after ``release_idle_seconds``
without a job, which gives that memory back.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import sys
import time

import redis
from rq import Worker
from rq.serializers import JSONSerializer

from soniquebay import names, queueing
from soniquebay.config import Settings
from soniquebay.daemon import jobs
from soniquebay.daemon.layout import profile_queues
from soniquebay.names import QUEUES
from soniquebay.plugins import Plugins

log = logging.getLogger(__name__)

MAINTENANCE_SECONDS = 30


def wait_for_redis(client: redis.Redis) -> None:
    pause = 0.5
    while True:
        try:
            client.ping()
            return
        except redis.RedisError as exc:
            log.warning("waiting for Redis: %s", exc)
            time.sleep(pause)
            pause = min(pause * 2, 30)


# Compare-and-delete: free a lock only if the dead worker still holds it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _alive(pid: int) -> bool:
    """Running, not a zombie (a killed worker's scheduler may wait to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


def release_dead_schedulers(client: redis.Redis, queues: list[str]) -> list[str]:
    """Free the scheduler locks a dead scheduler process of this host still holds.

    RQ keeps a queue's scheduler lock for a minute after its holder dies, and the other
    workers look for free locks only every maintenance interval (ten minutes by default): a
    killed worker left the retries of failed jobs waiting in ``rq:scheduled:*`` for 16
    minutes. A worker starting on the same host (the supervisor's or systemd's restart) frees
    the dead one's locks at once, and its own scheduler takes them."""
    host = socket.gethostname()
    release = client.register_script(_RELEASE)
    freed = []
    for queue in queues:
        key = names.rq_scheduler_lock(queue)
        holder = client.get(key)
        if not holder:
            continue
        about = client.hgetall(names.rq_scheduler(_text(holder)))
        pid = _text(about.get(b"pid", b"0"))
        if _text(about.get(b"hostname", b"")) != host or not pid.isdigit() or int(pid) == 0:
            continue  # another host's, or not started yet: its lock's TTL will tell
        if not _alive(int(pid)) and release(keys=[key], args=[holder]):
            log.warning("freed the scheduler lock of %s, held by a dead scheduler (pid %s)",
                        queue, pid)  # fmt: skip
            freed.append(queue)
    return freed


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# The native libraries' thread pools (OpenBLAS under numpy and scipy, OpenMP): one thread per
# worker. Workers are the parallelism, one per core at most; with a pool each, two librosa
# workers on two cores fought over them (54 tracks/min in bench/analysis.py, 74 with one each).
NATIVE_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_native_thread() -> None:
    """Set before numpy is first imported (plugins load it); a value given by the user wins."""
    for name in NATIVE_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


class LibraryWorker(Worker):
    """RQ's forking worker, with the plugins' ``warm_up`` before the first job of each queue,
    and ``released`` set when what they loaded should be given back (an idle spell)."""

    def __init__(self, *args: object, plugins: Plugins, release_after: float, **kwargs: object):
        super().__init__(*args, **kwargs)
        self.plugins = plugins
        self.release_after = release_after
        self.warmed: set[str] = set()
        self.holding: list[str] = []  # plugins whose warm-up is given back when work stops
        self.released = False

    def execute_job(self, job, queue) -> None:
        if queue.name not in self.warmed:
            self.warmed.add(queue.name)
            started = time.perf_counter()
            loaded = self.plugins.warm_up(queue.name)
            if loaded:
                self.holding += loaded
                log.info("%s loaded for the %s queue in %.1fs; given back after %gs without a job",
                         ", ".join(loaded), queue.name, time.perf_counter() - started,
                         self.release_after)  # fmt: skip
            self.heartbeat()
        super().execute_job(job, queue)

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        if self.holding and max_idle_time is None:
            max_idle_time = max(1, math.ceil(self.release_after))
        result = super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        if result is None and self.holding and timeout is not None:
            self.released = True  # idle that long (not a burst's empty queue): work() returns
        return result


def restart_in_place() -> None:
    """Run this worker's command again in this process: what plugins loaded is gone, the pid
    stays (systemd's unit and ``serve``'s supervisor keep watching the same process)."""
    for name in ("RQ_WORKER_ID", "RQ_JOB_ID", "RQ_EXECUTION_ID"):  # the last job's, set by RQ
        os.environ.pop(name, None)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, sys.orig_argv)


def build_worker(settings: Settings, queues: list[str]) -> LibraryWorker:
    one_native_thread()
    queues = profile_queues(settings, queues)
    if settings.low_memory:
        log.info("low-memory profile: serving %s", ", ".join(queues))
    unknown = set(queues) - set(QUEUES)
    if unknown:
        raise ValueError(f"unknown queue(s) {sorted(unknown)}; known: {', '.join(QUEUES)}")
    client = queueing.connect(settings)
    wait_for_redis(client)
    context = jobs.WorkerContext.build(settings, tuple(queues))
    jobs.bind(context)
    release_dead_schedulers(client, queues)
    return LibraryWorker(
        [queueing.get_queue(client, q) for q in queues],
        plugins=context.plugins,
        release_after=settings.release_idle_seconds,
        connection=client,
        serializer=JSONSerializer,
        exception_handlers=[jobs.on_stage_timeout],
        # Look for free scheduler locks (a worker on another host died) every 30 s, not 10 min.
        maintenance_interval=MAINTENANCE_SECONDS,
    )


def run_worker(settings: Settings, queues: list[str], *, burst: bool = False) -> None:
    worker = build_worker(settings, queues)
    worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level)
    if worker.released and not burst and not worker._stop_requested:
        log.info("no job for %gs: restarting in place to give back what %s loaded",
                 worker.release_after, ", ".join(worker.holding))  # fmt: skip
        restart_in_place()
