"""GET /api/events: Server-Sent Events from the Redis stream, with replay on reconnect.

One task per web process reads the stream and fans entries out to the connected clients. A
client that reconnects with ``Last-Event-ID`` is first replayed the entries after that id, then
follows live; ids already replayed are skipped, so nothing is missed and nothing comes twice.
A client too slow to keep up is disconnected and, reconnecting, catches up by replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable

import redis.asyncio as aioredis
from aiohttp import WSMsgType, web
from aiohttp_sse import sse_response

from soniquebay.errors import InvalidInput
from soniquebay.events import CHANNELS, STREAM_KEY
from soniquebay.web import keys

log = logging.getLogger(__name__)

EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
QUEUE_SIZE = 2000
PING_SECONDS = 15.0
REPLAY_PAGE = 500

Entry = tuple[str, str, str]  # (stream id, channel, JSON data)


def _id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class EventHub:
    def __init__(self, client: aioredis.Redis):
        self.client = client
        self._subscribers: set[asyncio.Queue] = set()
        self._listeners: list[Callable[[Entry], None]] = []
        self._task: asyncio.Task | None = None

    def listen(self, callback: Callable[[Entry], None]) -> None:
        """Call ``callback(entry)`` for every live entry (it must return at once)."""
        self._listeners.append(callback)

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._subscribers.discard(queue)

    def close_all(self) -> None:
        """End every open stream (at shutdown): clients reconnect, with Last-Event-ID, elsewhere."""
        for queue in list(self._subscribers):
            self._subscribers.discard(queue)
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    @property
    def listeners(self) -> int:
        return len(self._subscribers)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            # redis-py can hold a cancelled blocking XREAD until its block times out: do not
            # wait for it longer than a moment, shutting down matters more.
            await asyncio.wait({self._task}, timeout=0.1)

    def _dispatch(self, entry: Entry) -> None:
        for callback in self._listeners:
            try:
                callback(entry)
            except Exception:  # a listener's bug must not stop the stream for the clients
                log.exception("event listener failed")
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(entry)
            except asyncio.QueueFull:
                # Too slow: end its stream; it reconnects with Last-Event-ID and replays.
                self._subscribers.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)

    async def _run(self) -> None:
        last_id = None
        pause = 0.5
        while True:
            try:
                if last_id is None:
                    newest = await self.client.xrevrange(STREAM_KEY, count=1)
                    last_id = newest[0][0] if newest else "0-0"
                answer = await self.client.xread({STREAM_KEY: last_id}, block=10_000, count=500)
                pause = 0.5
                for _stream, entries in answer or []:
                    for entry_id, fields in entries:
                        last_id = entry_id
                        self._dispatch(
                            (entry_id, fields.get("channel", ""), fields.get("data", "{}"))
                        )
            except asyncio.CancelledError:
                raise
            except (aioredis.RedisError, OSError) as exc:
                log.warning("event stream unavailable (%s); retrying in %.1fs", exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)


def _channels(request: web.Request) -> set[str]:
    raw = request.query.get("channels")
    if not raw:
        return set(CHANNELS)
    wanted = {c.strip() for c in raw.split(",") if c.strip()}
    unknown = wanted - set(CHANNELS)
    if unknown:
        raise InvalidInput(
            f"unknown channel(s): {', '.join(sorted(unknown))}",
            details={"field": "channels", "allowed": list(CHANNELS)},
        )
    return wanted


async def _replay(client: aioredis.Redis, after: str):
    cursor = after
    while True:
        entries = await client.xrange(STREAM_KEY, min=f"({cursor}", max="+", count=REPLAY_PAGE)
        for entry_id, fields in entries:
            yield entry_id, fields.get("channel", ""), fields.get("data", "{}")
        if len(entries) < REPLAY_PAGE:
            return
        cursor = entries[-1][0]


def last_event_id(request: web.Request) -> str | None:
    last = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
    if last and not EVENT_ID.match(last):
        raise InvalidInput(
            "Last-Event-ID must be an id this server sent", details={"field": "Last-Event-ID"}
        )
    return last or None


async def follow(request: web.Request, channels: set[str], last: str | None):
    """(id, channel, data) of every event after ``last`` (replayed), then live ones, forever.

    The hub queue is subscribed before the replay starts, and live entries at or before the
    last one sent are dropped: nothing falls between replay and live, nothing comes twice.
    Ends when the hub drops a client too slow to keep up (it reconnects and replays).
    """
    hub: EventHub = request.app[keys.HUB]
    queue = hub.subscribe()
    try:
        sent = _id(last) if last else None
        if last:
            async for entry_id, channel, data in _replay(request.app[keys.REDIS], last):
                sent = _id(entry_id)
                if channel in channels:
                    yield entry_id, channel, data
        while True:
            try:
                entry = await asyncio.wait_for(queue.get(), timeout=PING_SECONDS)
            except TimeoutError:
                yield None  # a chance for the caller to ping and notice a dead client
                continue
            if entry is None:
                return
            entry_id, channel, data = entry
            if sent is not None and _id(entry_id) <= sent:
                continue
            sent = _id(entry_id)
            if channel in channels:
                yield entry_id, channel, data
    finally:
        hub.unsubscribe(queue)


async def handle_events(request: web.Request) -> web.StreamResponse:
    channels = _channels(request)
    last = last_event_id(request)
    resp = None
    try:
        async with sse_response(
            request, ping_interval=PING_SECONDS, headers={"X-Accel-Buffering": "no"}
        ) as resp:
            await resp.send(
                json.dumps({"type": "hello", "channels": sorted(channels)}), event="hello"
            )
            events = follow(request, channels, last)
            try:
                async for entry in events:
                    if not resp.is_connected():
                        break
                    if entry is not None:
                        entry_id, _channel, data = entry
                        await resp.send(data, id=entry_id)
            finally:
                await events.aclose()
    except ConnectionResetError:
        pass  # the client went away; it reconnects with Last-Event-ID
    except (aioredis.RedisError, OSError) as exc:
        if resp is None:
            raise
        # Redis away, or every connection busy for long (hundreds replaying at once): the stream
        # ends, the browser reconnects with Last-Event-ID and is replayed what it missed.
        log.info("an event stream ended early (%s): its client reconnects", exc)
    return resp if resp is not None else web.Response(status=499)


async def handle_ws(request: web.Request) -> web.StreamResponse:
    """GET /api/ws: the same events as /api/events, as JSON text messages.

    Each message is ``{"id", "channel", "event"}``; reconnect with ``?last_event_id=`` (the last
    ``id`` received) to be replayed what was missed. A client may send ``{"type": "ping"}``.
    """
    channels = _channels(request)
    last = last_event_id(request)
    ws = web.WebSocketResponse(heartbeat=PING_SECONDS, max_msg_size=64 * 1024)
    await ws.prepare(request)
    await ws.send_json({"type": "hello", "channels": sorted(channels)})

    async def read_client() -> None:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                try:
                    wanted = json.loads(message.data)
                except ValueError:
                    wanted = None
                if isinstance(wanted, dict) and wanted.get("type") == "ping":
                    await ws.send_json({"type": "pong"})

    reader = asyncio.create_task(read_client())
    events = follow(request, channels, last)
    try:
        async for entry in events:
            if ws.closed or reader.done():
                break
            if entry is not None:
                entry_id, channel, data = entry
                await ws.send_str(
                    f'{{"id":{json.dumps(entry_id)},"channel":{json.dumps(channel)},"event":{data}}}'
                )
    except (ConnectionResetError, RuntimeError):
        pass  # the client went away while we were sending
    finally:
        await events.aclose()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await ws.close()
    return ws
