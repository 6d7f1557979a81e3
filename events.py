"""Live events: Redis pub/sub for listeners, plus a capped Redis stream for replay.

Every event is published on its channel (``progress`` or ``notifications``) and appended to one
capped stream, whose entry id becomes the SSE event id: a client that reconnects with
``Last-Event-ID`` is replayed exactly what it missed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

STREAM_KEY = "soniquebay:events"
CHANNELS = ("progress", "notifications")


def encode(channel: str, payload: dict[str, Any]) -> dict[str, str]:
    return {"channel": channel, "data": json.dumps(payload, separators=(",", ":"))}


def now_payload(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "ts": round(time.time(), 3), **data}


def publish_event(
    client: redis.Redis,
    event_type: str,
    data: dict[str, Any],
    *,
    channel: str = "notifications",
    maxlen: int = 10000,
) -> None:
    """Publish one event (the seed's ``publish_event``): ``data`` is merged under ``type``."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown event channel {channel!r}")
    fields = encode(channel, now_payload(event_type, data))
    pipe = client.pipeline(transaction=False)
    pipe.xadd(STREAM_KEY, fields, maxlen=maxlen, approximate=True)
    pipe.publish(channel, fields["data"])
    pipe.execute()


def progress_payload(
    task_id: str, step: str, current: int, total: int, started: float, **metrics: float
) -> dict[str, Any]:
    """The seed's progress event body: task_id, step, current, total, percent, metrics."""
    elapsed = max(time.monotonic() - started, 1e-9)
    return {
        "task_id": task_id,
        "step": step,
        "current": current,
        "total": total,
        "percent": int(current * 100 / total) if total else 100,
        "metrics": {
            "elapsed_seconds": round(elapsed, 3),
            "files_per_second": round(current / elapsed, 1),
            **metrics,
        },
    }
