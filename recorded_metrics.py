"""Metrics that cross processes: workers record into Redis, the web process exposes /metrics.

Workers run in forked RQ work-horses, maybe on other hosts: prometheus-client's in-process
registry would die with each work-horse. So a worker adds its figures to Redis hashes in one
pipelined round trip (a counter is one field; a histogram is cumulative buckets, a count and a
sum, exactly what Prometheus exposes), and the web process reads them back at scrape time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis

from soniquebay.names import METRICS_PREFIX

log = logging.getLogger(__name__)

KEY_PREFIX = METRICS_PREFIX
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # "counter" or "histogram"
    help: str
    buckets: tuple[float, ...] = DURATION_BUCKETS

    @property
    def key(self) -> str:
        return KEY_PREFIX + self.name


# The seed's names, plus error counts. Worker-side only: the web process's own metrics
# (api_request_duration_seconds, queue depths) live in soniquebay.web.metrics.
SHARED = {
    m.name: m
    for m in (
        Metric("scan_duration_seconds", "histogram", "Time to read one scan job's files"),
        Metric("scan_files_processed_total", "counter", "Files read by scan jobs"),
        Metric("scan_chunks_processed_total", "counter", "Batches of files sent to the API"),
        Metric("scan_errors_total", "counter", "Files that could not be read"),
        Metric("audio_analysis_duration_seconds", "histogram", "Time to analyse one file"),
        Metric("audio_analysis_errors_total", "counter", "Files whose analysis failed"),
        Metric("vectorization_duration_seconds", "histogram", "Time to embed one track"),
        Metric("vectorization_errors_total", "counter", "Tracks whose embedding failed"),
        Metric("remote_requests_total", "counter", "Requests sent to remote web services"),
        Metric("musicbrainz_requests_total", "counter", "Requests sent to MusicBrainz"),
        Metric("acoustid_requests_total", "counter", "Requests sent to AcoustID"),
        Metric("coverart_requests_total", "counter", "Requests sent to the Cover Art Archive"),
        Metric("stage_deferred_total", "counter", "Tracks put back for later (service down)"),
    )
}


def _metric(name: str, kind: str) -> Metric:
    metric = SHARED.get(name)
    if metric is None or metric.kind != kind:
        raise KeyError(f"{name} is not a shared {kind}")
    return metric


def _bucket_field(bound: float) -> str:
    return f"le:{bound:g}"


class Recorder:
    """Batches metric updates and sends them in one pipeline; never raises (best effort)."""

    def __init__(self, client: redis.Redis):
        self.pipe = client.pipeline(transaction=False)
        self.empty = True

    def inc(self, name: str, amount: float = 1) -> Recorder:
        if amount:
            self.pipe.hincrbyfloat(_metric(name, "counter").key, "value", amount)
            self.empty = False
        return self

    def observe(self, name: str, value: float, count: int = 1) -> Recorder:
        metric = _metric(name, "histogram")
        for bound in metric.buckets:
            if value <= bound:
                self.pipe.hincrby(metric.key, _bucket_field(bound), count)
        self.pipe.hincrby(metric.key, "count", count)
        self.pipe.hincrbyfloat(metric.key, "sum", value * count)
        self.empty = False
        return self

    def send(self) -> None:
        if self.empty:
            return
        try:
            self.pipe.execute()
        except redis.RedisError as exc:
            log.warning("could not record metrics: %s", exc)


def read_all(client: redis.Redis) -> dict[str, dict[str, float]]:
    """name -> hash fields as floats, for every shared metric (sync; see the web's async twin)."""
    pipe = client.pipeline(transaction=False)
    for metric in SHARED.values():
        pipe.hgetall(metric.key)
    return {
        m.name: {_text(k): float(v) for k, v in fields.items()}
        for m, fields in zip(SHARED.values(), pipe.execute(), strict=True)
    }


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def cumulative_buckets(metric: Metric, fields: dict[str, float]) -> list[tuple[str, float]]:
    """Prometheus buckets (cumulative, ending with +Inf = count) from the stored hash."""
    out = [(f"{b:g}", fields.get(_bucket_field(b), 0.0)) for b in metric.buckets]
    out.append(("+Inf", fields.get("count", 0.0)))
    return out
