"""Live events: SSE replay after a dropped connection, the same events over WebSocket."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from support.servers import SSEReader

from soniquebay.events import progress_payload, publish_event


def publish(redis_client, first, count, channel="notifications"):
    # Each catalogue event has its channel: a scan notification, or a progress report; each
    # carries its number n (as a scan's file count, or a task's step).
    for n in range(first, first + count):
        if channel == "notifications":
            publish_event(redis_client, "scan.started", {"task_id": f"t{n}", "files": n})
        else:
            publish_event(redis_client, "progress", progress_payload("t", "scan", n, 999, 0.0))


def wait_for(predicate, api, what):
    return api.wait_until(predicate, timeout=10, what=what)


def test_sse_replays_what_a_dropped_client_missed_exactly_once(api, redis_client):
    reader = SSEReader(api.url, token=api.token).start()
    publish(redis_client, 0, 5)
    wait_for(lambda: len(reader.of_type("scan.")) == 5, api, "5 live events")
    last_id = reader.events[-1][0]
    reader.close()  # the connection drops...
    publish(redis_client, 5, 7)  # ...while these happen
    publish(redis_client, 100, 2, channel="progress")

    again = SSEReader(api.url, last_event_id=last_id, channels="notifications", token=api.token)
    again.start()
    publish(redis_client, 12, 3)  # and new ones keep coming after the replay
    wait_for(lambda: len(again.of_type("scan.")) == 10, api, "replay then live")
    numbers = [e["files"] for e in again.of_type("scan.")]
    assert numbers == list(range(5, 15))  # nothing missed, nothing twice, progress filtered out
    ids = [i for i, _ in again.events]
    assert len(ids) == len(set(ids))
    again.close()
    status, body = api.request("GET", "/api/events?channels=gossip")
    assert status == 400 and body["error"]["details"]["field"] == "channels"
    status, body = api.request("GET", "/api/events", headers={"Last-Event-ID": "nonsense"})
    assert status == 400


def test_websocket_gets_the_same_events_as_sse_and_replays_too(api, redis_client):
    sse = SSEReader(api.url, token=api.token).start()

    async def scenario():
        headers = api.auth_headers()
        async with aiohttp.ClientSession(headers=headers) as session:
            async with session.ws_connect(api.url.replace("http", "ws") + "/api/ws") as ws:
                hello = await ws.receive_json(timeout=5)
                assert hello["type"] == "hello"
                await asyncio.to_thread(publish, redis_client, 0, 4)
                received = [await ws.receive_json(timeout=5) for _ in range(4)]
                await ws.send_json({"type": "ping"})
                assert (await ws.receive_json(timeout=5)) == {"type": "pong"}
            await asyncio.to_thread(publish, redis_client, 4, 3)
            url = api.url.replace("http", "ws") + f"/api/ws?last_event_id={received[-1]['id']}"
            async with session.ws_connect(url) as ws:
                await ws.receive_json(timeout=5)  # hello
                replayed = [await ws.receive_json(timeout=5) for _ in range(3)]
        return received, replayed

    received, replayed = asyncio.run(scenario())
    assert [m["event"]["files"] for m in received] == [0, 1, 2, 3]
    assert [m["event"]["files"] for m in replayed] == [4, 5, 6]
    wait_for(lambda: len(sse.of_type("scan.")) == 7, api, "SSE to see all 7")
    sse_view = [(i, e) for i, e in sse.events if e["type"] == "scan.started"]
    ws_view = [(m["id"], m["event"]) for m in received + replayed]
    assert sse_view == ws_view  # the same ids, the same payloads
    sse.close()


def test_track_changes_are_events(api, redis_client):
    reader = SSEReader(api.url, token=api.token).start()
    status, track = api.request("POST", "/api/tracks", {"path": "/m/e.mp3", "title": "Evented"})
    api.request("PATCH", f"/api/tracks/{track['id']}", {"genre": "Dub"})
    api.request("DELETE", f"/api/tracks/{track['id']}")
    wait_for(lambda: len(reader.of_type("track.")) == 3, api, "3 track events")
    assert [e["type"] for e in reader.of_type("track.")] == [
        "track.added",
        "track.updated",
        "track.removed",
    ]
    assert json.dumps(reader.of_type("track.added")[0]).count("Evented") == 1
    reader.close()
