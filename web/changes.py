"""Library changes as live events (track.added, track.updated, track.removed, ...)."""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from soniquebay.events import STREAM_KEY, encode, now_payload
from soniquebay.web import keys

log = logging.getLogger(__name__)

EVENT_FOR_CHANGE = {
    "added": "track.added",
    "updated": "track.updated",
    "moved": "track.updated",
    "analysed": "track.updated",
    "removed": "track.removed",
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


async def publish(
    app: web.Application, events: list[tuple[str, dict[str, Any]]], channel: str = "notifications"
) -> None:
    """Append events to the replay stream and publish them, in one round trip; best effort."""
    if not events:
        return
    client: aioredis.Redis = app[keys.REDIS]
    maxlen = app[keys.SETTINGS].events_stream_maxlen
    args: list[Any] = [maxlen]
    for event_type, data in events:
        fields = encode(channel, now_payload(event_type, data))
        args += [channel, fields["data"]]
    try:
        await client.eval(PUBLISH_MANY, 1, STREAM_KEY, *args)
    except aioredis.RedisError as exc:
        log.warning("could not publish %d events: %s", len(events), exc)


async def announce_tracks(app: web.Application, tracks: list[dict[str, Any]]) -> None:
    events = []
    for t in tracks:
        event_type = EVENT_FOR_CHANGE.get(t.get("change"))
        if event_type:
            data = {"id": t["id"], "change": t["change"]}
            for key in ("title", "artist_name", "album_title"):
                if t.get(key) is not None:
                    data[key] = t[key]
            events.append((event_type, data))
    await publish(app, events)
