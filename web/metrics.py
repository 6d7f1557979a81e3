"""GET /metrics: Prometheus text format (prometheus-client).

The web process's own figures (request latency, error counts) are in-process; the workers'
(scan, analysis, vectorisation) come from Redis (see :mod:`soniquebay.recorded_metrics`), read at scrape
time together with the queue depths, so one scrape shows the whole installation.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from soniquebay import names
from soniquebay import recorded_metrics as shared
from soniquebay.names import QUEUES
from soniquebay.remote import describe_breaker
from soniquebay.web import keys
from soniquebay.web.viewer import refuse_listeners

REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Snapshot:
    """A collector that yields what the /metrics handler just fetched from Redis."""

    def __init__(self) -> None:
        self.shared: dict[str, dict[str, float]] = {}
        self.queues: dict[str, tuple[int, int, int]] = {}
        self.workers: int | None = None
        self.breakers: dict[str, dict] = {}

    def collect(self):
        for metric in shared.SHARED.values():
            fields = self.shared.get(metric.name, {})
            if metric.kind == "counter":
                family = CounterMetricFamily(metric.name, metric.help)
                family.add_metric([], fields.get("value", 0.0))
            else:
                family = HistogramMetricFamily(metric.name, metric.help)
                family.add_metric(
                    [], shared.cumulative_buckets(metric, fields), fields.get("sum", 0.0)
                )
            yield family
        depth = GaugeMetricFamily("queue_depth", "Jobs waiting in each RQ queue", labels=["queue"])
        started = GaugeMetricFamily("queue_started_jobs", "Jobs running now", labels=["queue"])
        failed = GaugeMetricFamily(
            "queue_failed_jobs", "Jobs in each queue's failed registry", labels=["queue"]
        )
        for queue, (waiting, running, failures) in self.queues.items():
            depth.add_metric([queue], waiting)
            started.add_metric([queue], running)
            failed.add_metric([queue], failures)
        yield from (depth, started, failed)
        if self.workers is not None:
            yield GaugeMetricFamily("workers_alive", "RQ workers registered", value=self.workers)
        opened = GaugeMetricFamily(
            "remote_circuit_open", "1 while a remote service's circuit breaker is open",
            labels=["service"],
        )  # fmt: skip
        failing = GaugeMetricFamily(
            "remote_consecutive_failures", "Failed calls in a row to a remote service",
            labels=["service"],
        )  # fmt: skip
        for service, state in self.breakers.items():
            opened.add_metric([service], 1.0 if state["state"] == "open" else 0.0)
            failing.add_metric([service], state["failures"])
        yield from (opened, failing)


class WebMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.request_duration = Histogram(
            "api_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route", "status"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.request_errors = Counter(
            "api_request_errors_total",
            "HTTP answers with a 4xx or 5xx status",
            ["status"],
            registry=self.registry,
        )
        self.plugin_failures = Counter(
            "plugin_failures_total",
            "Per-track stages that failed, by stage and plugin",
            ["stage", "plugin"],
            registry=self.registry,
        )
        self.snapshot = Snapshot()
        self.registry.register(self.snapshot)

    def stage_failures(self, results: list[dict]) -> None:
        for r in results:
            self.plugin_failures.labels(r["stage"], r.get("plugin") or "?").inc()

    def observe(self, request: web.Request, status: int, seconds: float) -> None:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        self.request_duration.labels(request.method, route, str(status)).observe(seconds)
        if status >= 400:
            self.request_errors.labels(str(status)).inc()


async def _fetch(client: aioredis.Redis, snapshot: Snapshot) -> None:
    pipe = client.pipeline(transaction=False)
    for metric in shared.SHARED.values():
        pipe.hgetall(metric.key)
    for queue in QUEUES:
        pipe.llen(names.rq_queue(queue))
        pipe.zcard(names.rq_started(queue))
        pipe.zcard(names.rq_failed(queue))
    pipe.scard(names.RQ_WORKERS)
    answers = await pipe.execute()
    n = len(shared.SHARED)
    snapshot.shared = {
        m.name: {k: float(v) for k, v in fields.items()}
        for m, fields in zip(shared.SHARED.values(), answers[:n], strict=True)
    }
    rest = answers[n:]
    snapshot.queues = {q: tuple(rest[i * 3 : i * 3 + 3]) for i, q in enumerate(QUEUES)}
    snapshot.workers = rest[-1]
    snapshot.breakers = await remote_services(client)


async def remote_services(client: aioredis.Redis) -> dict[str, dict]:
    """Each remote service's circuit breaker, as every worker sees it."""
    services = sorted(await client.smembers(names.REMOTE_SERVICES))
    pipe = client.pipeline(transaction=False)
    for service in services:
        pipe.hgetall(names.remote_breaker(service))
    return {
        service: describe_breaker(fields)
        for service, fields in zip(services, await pipe.execute(), strict=True)
    }


async def handle_metrics(request: web.Request) -> web.Response:
    # A scraper (its token, or none with metrics_public), an admin: not a listener's session.
    refuse_listeners(request, "/metrics")
    web_metrics: WebMetrics = request.app[keys.METRICS]
    started = time.monotonic()
    try:
        await _fetch(request.app[keys.REDIS], web_metrics.snapshot)
    except (aioredis.RedisError, OSError):
        web_metrics.snapshot.queues, web_metrics.snapshot.workers = {}, None
        web_metrics.snapshot.breakers = {}
    # No await between the fetch above and this render: concurrent scrapes cannot interleave.
    body = generate_latest(web_metrics.registry)
    body += f"# scrape took {time.monotonic() - started:.4f}s\n".encode()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
