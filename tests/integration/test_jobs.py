"""RQ jobs on a real Redis, sending their results to a real `soniquebay web`."""

import json
import os

from rq import SimpleWorker
from rq.serializers import JSONSerializer

from soniquebay import queueing


def drain(redis_client, *queues):
    worker = SimpleWorker(
        [queueing.get_queue(redis_client, q) for q in queues or ("scan",)],
        connection=redis_client,
        serializer=JSONSerializer,
    )
    worker.work(burst=True)


def items(*paths):
    out = []
    for path in paths:
        st = os.stat(path)
        out.append({"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "src": None})
    return out


def test_a_scan_job_sends_its_batch_to_the_api_and_publishes_progress(
    web_server, settings, redis_client, library, audio
):
    paths = [
        audio.make(library / f"{i:03d}.mp3", title=f"Song {i}", artist="Batch") for i in range(120)
    ]
    pubsub = redis_client.pubsub()
    pubsub.subscribe("progress")
    pubsub.get_message(timeout=1)
    job = queueing.enqueue_scan(redis_client, settings, items(*paths), task_id="task-1")
    drain(redis_client)
    assert job.get_status(refresh=True) == "finished", job.latest_result()
    assert web_server.get("/api/tracks")["total"] == 120

    events = []
    while (message := pubsub.get_message(timeout=1)) is not None:
        if message["type"] == "message":
            events.append(json.loads(message["data"]))
    assert [e["current"] for e in events] == [100, 120]  # every 100 files and at the end
    last = events[-1]
    assert last["type"] == "progress" and last["task_id"] == "task-1" and last["percent"] == 100
    assert last["total"] == 120 and "files_per_second" in last["metrics"]


def test_running_the_same_job_twice_changes_nothing(
    web_server, settings, redis_client, library, audio
):
    path = audio.make(library / "once.flac", title="Once")
    queueing.enqueue_scan(redis_client, settings, items(path))
    drain(redis_client)
    first = web_server.get("/api/tracks")["items"][0]
    # A duplicate event while the first job is still queued is not enqueued again...
    a = queueing.enqueue_scan(redis_client, settings, items(path))
    b = queueing.enqueue_scan(redis_client, settings, items(path))
    assert a.id == b.id and queueing.get_queue(redis_client, "scan").count == 1
    drain(redis_client)  # ...and running it again is harmless.
    again = web_server.get("/api/tracks")["items"]
    assert [t["id"] for t in again] == [first["id"]]


def test_removal_of_a_file_under_an_offline_root_changes_nothing(
    web_server, settings, redis_client, library, audio
):
    path = audio.make(library / "a.mp3", title="A")
    queueing.enqueue_scan(redis_client, settings, items(path))
    drain(redis_client)
    path.unlink()  # the root is now empty: an unplugged drive looks like this
    queueing.enqueue_removal(redis_client, settings, [str(path)], [])
    drain(redis_client)
    assert web_server.get("/api/tracks")["total"] == 1


def test_the_batch_size_is_capped_at_chunk_size(web_server):
    data = [{"name": f"artist {i}"} for i in range(501)]
    answer = web_server.graphql(
        "mutation($d: [ArtistCreateInput!]!) { create_artists(data: $d) { id } }", {"d": data}
    )
    assert answer["data"] is None or answer["data"]["create_artists"] is None
    assert "at most 500" in answer["errors"][0]["message"]
    assert web_server.get("/api/artists")["total"] == 0
