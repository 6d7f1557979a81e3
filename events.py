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
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, get_args, get_origin, get_type_hints

import redis
import redis.asyncio as aioredis

from soniquebay.names import CHANNELS, EVENTS_STREAM, NOTIFICATIONS, PROGRESS

STREAM_KEY = EVENTS_STREAM


class Progress(TypedDict):
    """A long task moved on (a scan job's files, say)."""

    task_id: str
    step: str
    current: int
    total: int
    percent: int
    metrics: dict[str, float]


class ScanStarted(TypedDict):
    """A scan job began."""

    task_id: str
    files: int


class ScanFinished(TypedDict):
    """A scan job ended: its changes counted by kind (added, updated, moved, unchanged)."""

    task_id: str
    files: int
    changes: dict[str, int]
    errors: int
    seconds: float


class _Track(TypedDict):
    id: int
    change: str


class TrackChanged(_Track, total=False):
    """A track entered the library, changed, or left the listings: ``change`` says how
    (added; updated, moved, edited, analysed, or a stage's name; removed). The title and
    names come when the change knows them (not for a removal)."""

    title: str
    artist_name: str
    album_title: str


class StageFinished(TypedDict):
    """A per-track stage stored its results: the tracks it ran for, those that failed."""

    stage: str
    tracks: list[int]
    failed: list[int]


EventType = Literal[
    "progress", "scan.started", "scan.finished", "track.added", "track.updated",
    "track.removed", "stage.finished",
]  # fmt: skip


@dataclass(frozen=True)
class Kind:
    """An event type's channel and payload (besides ``type`` and ``ts``, which every event
    carries)."""

    channel: str
    payload: type
    says: str

    @property
    def required(self) -> frozenset[str]:
        return self.payload.__required_keys__  # type: ignore[attr-defined]

    @property
    def fields(self) -> frozenset[str]:
        return self.required | self.payload.__optional_keys__  # type: ignore[attr-defined]


CATALOGUE: dict[str, Kind] = {
    "progress": Kind(PROGRESS, Progress, "a long task moved on"),
    "scan.started": Kind(NOTIFICATIONS, ScanStarted, "a scan job began"),
    "scan.finished": Kind(NOTIFICATIONS, ScanFinished, "a scan job ended"),
    "track.added": Kind(NOTIFICATIONS, TrackChanged, "a track entered the library"),
    "track.updated": Kind(NOTIFICATIONS, TrackChanged, "a track changed"),
    "track.removed": Kind(NOTIFICATIONS, TrackChanged, "a track left the listings"),
    "stage.finished": Kind(NOTIFICATIONS, StageFinished, "a per-track stage stored results"),
}
assert set(CATALOGUE) == set(get_args(EventType))


def markdown() -> str:
    """The catalogue as ``docs/events.md`` holds it (a test keeps the two equal)."""
    lines = [
        "# Live events",
        "",
        "Generated from `events.py` (`python -c 'from soniquebay import events;"
        ' print(events.markdown(), end="")\' > docs/events.md`); a test fails when the two'
        " differ. Every event is a JSON object with `type` and `ts` (epoch seconds) besides"
        " its fields; `GET /api/events` (SSE) and `/api/ws` (WebSocket) carry them, and a"
        " plugin's `on_event` gets them.",
        "",
        "| type | channel | what it says | fields |",
        "| --- | --- | --- | --- |",
    ]
    hints = {k.payload: get_type_hints(k.payload) for k in CATALOGUE.values()}
    for name, kind in CATALOGUE.items():
        shown = []
        for field, hint in hints[kind.payload].items():
            written = _type_name(hint)
            optional = "" if field in kind.required else " (optional)"
            shown.append(f"`{field}`: {written}{optional}")
        lines.append(f"| `{name}` | `{kind.channel}` | {kind.says} | {', '.join(shown)} |")
    lines += ["", "Payloads:", ""]
    for payload in dict.fromkeys(k.payload for k in CATALOGUE.values()):
        doc = " ".join((payload.__doc__ or "").split())
        lines.append(f"- `{payload.__name__}`: {doc}")
    return "\n".join(lines) + "\n"


def _type_name(hint: Any) -> str:
    return hint.__name__ if get_origin(hint) is None else str(hint).replace("typing.", "")


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
        kind = CATALOGUE.get(event_type)
        if kind is None:
            raise ValueError(f"{event_type!r} is not in the event catalogue")
        if not kind.required <= data.keys() <= kind.fields:  # the catalogue says what it holds
            raise ValueError(
                f"a {event_type} event holds {sorted(kind.fields)} (at least"
                f" {sorted(kind.required)}), not {sorted(data)}"
            )
        channel = kind.channel
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


__all__ = [
    "CATALOGUE",
    "CHANNELS",
    "STREAM_KEY",
    "EventType",
    "markdown",
    "publish_event",
    "publish_events",
]
