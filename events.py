"""Live events: one catalogue, one encoder, one way onto Redis.

Every event is appended to one capped stream (its entry id is the SSE event id, so a client
that reconnects with ``Last-Event-ID`` is replayed what it missed) and published on its pub/sub
channel. Workers publish scan progress; the web process publishes what it stored. Both go
through :func:`pack` and the same Lua script, one round trip for any number of events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import redis
import redis.asyncio as aioredis

from soniquebay.names import CHANNELS, EVENTS_STREAM, NOTIFICATIONS, PROGRESS

STREAM_KEY = EVENTS_STREAM

# type -> (channel, what it says and the fields it carries besides "type" and "ts").
CATALOGUE: dict[str, tuple[str, str]] = {
    "progress": (
        PROGRESS,
        "a long task moved on: task_id, step, current, total, percent, metrics",
    ),
    "scan.started": (NOTIFICATIONS, "a scan job began: task_id, files"),
    "scan.finished": (
        NOTIFICATIONS,
        "a scan job ended: task_id, files, changes (added/updated/moved/unchanged), errors, seconds",
    ),
    "track.added": (
        NOTIFICATIONS,
        "a track entered the library: id, title, artist_name, album_title",
    ),
    "track.updated": (
        NOTIFICATIONS,
        "a track changed: id, change (updated, moved, edited, analysed, or a stage's name)",
    ),
    "track.removed": (NOTIFICATIONS, "a track left the listings (file gone, or deleted): id"),
    "stage.finished": (
        NOTIFICATIONS,
        "a per-track stage stored its results: stage, tracks (ids), failed (ids)",
    ),
}

# One round trip and one reply for a whole batch of events (500 track.added after a scan chunk),
# instead of two commands per event: parsing 1,000 replies cost more than writing the batch.
PUBLISH_MANY = """
local maxlen = ARGV[1]
for i = 2, #ARGV, 2 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'channel', ARGV[i], 'data', ARGV[i + 1])
  redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
end
return (#ARGV - 1) / 2
"""

Event = tuple[str, dict[str, Any]]


def pack(events: Sequence[Event], maxlen: int) -> list[Any]:
    """The script's arguments for ``events``: each becomes ``{"type", "ts", ...data}`` as JSON."""
    args: list[Any] = [maxlen]
    now = round(time.time(), 3)
    for event_type, data in events:
        if event_type not in CATALOGUE:
            raise ValueError(f"{event_type!r} is not in the event catalogue")
        channel = CATALOGUE[event_type][0]
        body = {"type": event_type, "ts": now, **data}
        args += [channel, json.dumps(body, separators=(",", ":"), ensure_ascii=False)]
    return args


def publish_events(client: redis.Redis, events: Sequence[Event], *, maxlen: int = 10000) -> None:
    if events:
        client.eval(PUBLISH_MANY, 1, STREAM_KEY, *pack(events, maxlen))


async def publish_events_async(
    client: aioredis.Redis, events: Sequence[Event], *, maxlen: int = 10000
) -> None:
    if events:
        await client.eval(PUBLISH_MANY, 1, STREAM_KEY, *pack(events, maxlen))


def publish_event(
    client: redis.Redis, event_type: str, data: dict[str, Any], *, maxlen: int = 10000
) -> None:
    """Publish one event (the seed's ``publish_event``); its channel comes from the catalogue."""
    publish_events(client, [(event_type, data)], maxlen=maxlen)


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


__all__ = ["CATALOGUE", "CHANNELS", "STREAM_KEY", "publish_event", "publish_events"]
