"""What the web process announces after it stores something: ``track.*`` events, in one place."""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from soniquebay.events import Event, publish_events_async
from soniquebay.web import keys

log = logging.getLogger(__name__)

EVENT_FOR_CHANGE = {
    "added": "track.added",
    "updated": "track.updated",
    "moved": "track.updated",
    "edited": "track.updated",
    "analysed": "track.updated",
    "removed": "track.removed",
}
SILENT = (None, "unchanged", "refused")
CARRIED = ("title", "artist_name", "album_title")


def track_events(tracks: list[dict[str, Any]]) -> list[Event]:
    """``track.*`` events for rows that carry a ``change`` (unchanged ones say nothing)."""
    events = []
    for t in tracks:
        change = t.get("change")
        if change in SILENT:
            continue
        # Any other change is named after what changed it (a stage, say): an update.
        data = {"id": t["id"], "change": change}
        data.update({k: t[k] for k in CARRIED if t.get(k) is not None})
        events.append((EVENT_FOR_CHANGE.get(change, "track.updated"), data))
    return events


async def publish(app: web.Application, events: list[Event]) -> None:
    """Append events to the replay stream and publish them, in one round trip; best effort."""
    client: aioredis.Redis = app[keys.REDIS]
    try:
        await publish_events_async(client, events, maxlen=app[keys.SETTINGS].events_stream_maxlen)
    except aioredis.RedisError as exc:
        log.warning("could not publish %d events: %s", len(events), exc)
    except ValueError as exc:  # a payload the catalogue does not describe: a bug; go on
        log.error("events not published: %s", exc)
