"""The RQ worker entry: one process per worker, forking a work-horse per job.

The context (settings, plugins, connections) is built from the settings this process was
started with and bound before the first fork, so each job starts with plugins already imported
instead of paying for it again.
"""

from __future__ import annotations

import logging
import time

import redis
from rq import Worker
from rq.serializers import JSONSerializer

from soniquebay import queueing
from soniquebay.config import Settings
from soniquebay.daemon import jobs
from soniquebay.names import QUEUES, expand_queues

log = logging.getLogger(__name__)


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


def build_worker(settings: Settings, queues: list[str]) -> Worker:
    queues = expand_queues(queues)
    unknown = set(queues) - set(QUEUES)
    if unknown:
        raise ValueError(f"unknown queue(s) {sorted(unknown)}; known: {', '.join(QUEUES)}")
    client = queueing.connect(settings)
    wait_for_redis(client)
    jobs.bind(jobs.WorkerContext.build(settings, tuple(queues)))
    return Worker(
        [queueing.get_queue(client, q) for q in queues],
        connection=client,
        serializer=JSONSerializer,
        exception_handlers=[jobs.on_stage_timeout],
    )


def run_worker(settings: Settings, queues: list[str], *, burst: bool = False) -> None:
    worker = build_worker(settings, queues)
    worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level)
