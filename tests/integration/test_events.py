"""Server-Sent Events on a real server: live delivery, channel selection, replay on reconnect."""

import time

import pytest
from support.servers import SSEReader

from soniquebay.events import progress_payload, publish_event


def step(current: int) -> dict:
    """A progress event's payload as the scan sends it, at step ``current``."""
    return progress_payload("t", "scan", current, 100, time.monotonic())


def wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_reconnecting_with_last_event_id_misses_nothing_and_repeats_nothing(
    web_server, redis_client
):
    first = SSEReader(web_server.url, token=web_server.token).start()
    for i in range(5):
        publish_event(redis_client, "progress", step(i))
    wait_for(lambda: len(first.events) == 5)
    last_id = first.events[2][0]  # the client saw 3 events, then the connection dropped
    first.close()

    for i in range(5, 8):  # published while nobody listens
        publish_event(redis_client, "progress", step(i))
    second = SSEReader(web_server.url, last_event_id=last_id, token=web_server.token).start()
    publish_event(redis_client, "progress", step(8))
    wait_for(lambda: len(second.events) == 6)
    time.sleep(0.3)
    assert [e["current"] for _, e in second.events] == [3, 4, 5, 6, 7, 8]
    ids = [i for i, _ in second.events]
    assert len(set(ids)) == len(ids)
    second.close()


def test_channels_can_be_selected(web_server, redis_client):
    reader = SSEReader(web_server.url, channels="notifications", token=web_server.token).start()
    publish_event(redis_client, "progress", step(1))
    publish_event(redis_client, "track.added", {"id": 1, "change": "added"})
    wait_for(lambda: reader.events)
    time.sleep(0.3)
    assert [e["type"] for _, e in reader.events] == ["track.added"]
    reader.close()


@pytest.mark.parametrize("query", ["?channels=secrets", "?last_event_id=../../etc"])
def test_bad_event_requests_get_a_clear_error(web_server, query):
    status, body = web_server.request("GET", "/api/events" + query)
    assert status == 400 and body["error"]["code"] == "invalid_input"


def test_hundreds_of_clients_reconnecting_at_once_all_get_their_replay(web_server, redis_client):
    """300 listeners dropped together reconnect at once, each replaying from its last id: every
    one is answered (redis-py 6+ caps a plain pool at 100 connections and failed the rest with
    a 500; the web's pool now waits for a free connection)."""
    import asyncio

    import aiohttp

    first = SSEReader(web_server.url, token=web_server.token).start()
    for i in range(20):
        publish_event(redis_client, "progress", step(i))
    wait_for(lambda: len(first.events) == 20)
    last_id = first.events[4][0]
    first.close()
    headers = {"Authorization": f"Bearer {web_server.token}", "Last-Event-ID": last_id}

    async def client(session) -> tuple[int, int]:
        async with session.get(f"{web_server.url}/api/events?channels=progress",
                               headers=headers) as resp:  # fmt: skip
            if resp.status != 200:
                return resp.status, 0
            seen = 0
            async for line in resp.content:
                seen += line.startswith(b"data:")
                if seen == 15:  # the 15 events after the last one it saw
                    break
            return resp.status, seen

    async def crowd():
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(
            timeout=timeout, connector=aiohttp.TCPConnector(limit=0)
        ) as session:
            return await asyncio.gather(*(client(session) for _ in range(300)))

    answers = asyncio.run(crowd())
    assert sorted({status for status, _ in answers}) == [200]
    assert all(seen == 15 for _, seen in answers)
