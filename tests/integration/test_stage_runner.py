"""The stage runner: the web queues per-track stages, a real RQ worker runs them, the web stores
the results and queues what they make possible. Real Redis, real SQLite, a real web app."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from support.servers import AppServer

from soniquebay import queueing
from soniquebay.daemon import jobs
from soniquebay.names import STAGE_QUEUES

STAGES = """
from soniquebay import hookimpl, stage

@hookimpl
@stage(needs=("title",), produces=("alpha",), version="{version}")
def process_track(ctx, track):
    return {{"alpha": track["title"].upper() + "-v{version}"}}
"""
NEEDS_ALPHA = """
from soniquebay import hookimpl, stage

@hookimpl
@stage(needs=("alpha",), produces=("beta",))
def enrich_track(ctx, track):
    return {"beta": track["alpha"] + "!"}
"""
RAISES = """
from soniquebay import hookimpl

@hookimpl
def startup(ctx, process):
    raise RuntimeError("cannot start today")

@hookimpl
def vectorize_track(ctx, track):
    raise ValueError("no vector for " + track["title"] + "\\nsecond line never shown")
"""
INGEST = """
mutation ($tracks: [TrackIngestInput!]!) { ingest_tracks(tracks: $tracks) { id change } }"""


@pytest.fixture
def plugin_dir(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    return folder


@pytest.fixture
def start(settings, plugin_dir):
    """Start the web app on these plugins, and bind this process as its worker."""
    servers = []

    def run(**plugin_files: str) -> AppServer:
        for name, code in plugin_files.items():
            (plugin_dir / f"{name}.py").write_text(textwrap.dedent(code))
        for server in servers:
            server.stop()
        conf = dataclasses.replace(
            settings,
            plugins_dir=plugin_dir,
            plugins={
                "analysis_essentia": {"enabled": "false"},
                "analysis_librosa": {"enabled": "false"},
                "fingerprint": {"enabled": "false"},  # these tracks have no files
            },
        )
        server = AppServer(conf).start()
        servers.append(server)
        jobs.bind(
            jobs.WorkerContext.build(dataclasses.replace(server.settings, api_url=server.url))
        )
        return server

    yield run
    jobs.bind(None)
    for server in servers:
        server.stop()


def ingest(api, *titles: str) -> list[int]:
    tracks = [{"path": f"/m/{t}.mp3", "size": 10, "mtime_ns": 1, "quick_hash": t} for t in titles]
    for track, title in zip(tracks, titles, strict=True):
        track["title"] = title
    answer = api.graphql(INGEST, {"tracks": tracks})
    api.settle()
    return [d["id"] for d in answer["data"]["ingest_tracks"]]


def work(api, redis_client) -> None:
    """Run queued stage jobs, as `soniquebay worker` would, until what their results make due
    has run too."""
    queues = [queueing.get_queue(redis_client, q) for q in STAGE_QUEUES]
    while queued(redis_client):
        SimpleWorker(queues, connection=redis_client, serializer=JSONSerializer).work(burst=True)
        api.settle()


def queued(redis_client) -> list[str]:
    jobs_ = [j for q in STAGE_QUEUES for j in queueing.get_queue(redis_client, q).jobs]
    return [j.kwargs["stage"] for j in jobs_]


def test_a_stage_runs_once_what_it_needs_exists(start, redis_client):
    api = start(alpha=STAGES.format(version="1"), beta=NEEDS_ALPHA)
    [track_id] = ingest(api, "song")
    assert queued(redis_client) == ["alpha.process_track"]  # beta needs alpha, not there yet
    work(api, redis_client)
    data = api.get(f"/api/tracks/{track_id}")["plugin_data"]
    assert data == {"alpha": {"alpha": "SONG-v1"}, "beta": {"beta": "SONG-v1!"}}
    assert queued(redis_client) == []
    pipeline = api.get("/api/health")["pipeline"]
    assert pipeline == {"backlog": 0, "stage_items_queued": 2}  # alpha, then beta


def test_an_unchanged_track_runs_nothing_again_a_changed_one_does(start, redis_client):
    api = start(alpha=STAGES.format(version="1"))
    ingest(api, "same")
    work(api, redis_client)
    ingest(api, "same")  # the same file, scanned again
    assert queued(redis_client) == []
    [track_id] = ingest(api, "same")
    api.graphql(
        "mutation ($d: [TrackUpdateInput!]!) { update_tracks(data: $d) { id } }",
        {"d": [{"id": track_id, "title": "renamed"}]},
    )
    api.settle()
    assert queued(redis_client) == ["alpha.process_track"]  # its input (the title) changed
    work(api, redis_client)
    assert api.get(f"/api/tracks/{track_id}")["plugin_data"]["alpha"]["alpha"] == "RENAMED-v1"


def test_a_new_stage_version_runs_again_on_every_track(start, redis_client):
    api = start(alpha=STAGES.format(version="1"))
    ids = ingest(api, "one", "two")
    work(api, redis_client)
    api = start(alpha=STAGES.format(version="2"))  # the plugin was upgraded; the web restarts
    api.wait_until(
        lambda: queued(redis_client), timeout=20, what="the start-up sweep to queue the stage"
    )
    work(api, redis_client)
    assert [api.get(f"/api/tracks/{i}")["plugin_data"]["alpha"]["alpha"] for i in ids] == [
        "ONE-v2",
        "TWO-v2",
    ]


def test_a_raising_plugin_is_recorded_against_the_track_and_the_others_go_on(start, redis_client):
    api = start(alpha=STAGES.format(version="1"), broken=RAISES)  # its startup raised: still up
    plugins = api.get("/api/plugins")
    broken = next(p for p in plugins["plugins"] if p["name"] == "broken")
    assert broken["failures"] == 1
    assert broken["recent_failures"][0]["hook"] == "startup"
    assert "cannot start today" in broken["recent_failures"][0]["reason"]

    [track_id] = ingest(api, "fragile")
    work(api, redis_client)
    track = api.get(f"/api/tracks/{track_id}")
    assert track["plugin_data"] == {"alpha": {"alpha": "FRAGILE-v1"}}  # the other stage ran
    [failure] = track["stage_failures"]
    assert failure["plugin"] == "broken" and failure["stage"] == "broken.vectorize_track"
    assert failure["error"] == "ValueError: no vector for fragile"  # one line
    errors = api.get("/api/scan/errors")["items"]
    assert [(e["track_id"], e["plugin"]) for e in errors] == [(track_id, "broken")]
    assert 'plugin_failures_total{plugin="broken",stage="broken.vectorize_track"} 1.0' in api.get(
        "/metrics"
    )
    page = api.get(f"/tracks/{track_id}")
    assert "no vector for fragile" in page
    # A failure is not retried in a loop: the same inputs, the same version, nothing queued.
    ingest(api, "fragile")
    assert queued(redis_client) == []


FLAKY = """
from pathlib import Path

from soniquebay import hookimpl, stage

@hookimpl
@stage(needs=("title",), produces=("gamma",))
def process_track(ctx, track):
    left = Path({tries!r})
    n = int(left.read_text())
    if n > 0:
        left.write_text(str(n - 1))
        raise TimeoutError("the decoder hung")
    return {{"gamma": track["title"]}}
"""


def test_a_failed_stage_is_tried_again_later_less_often_each_time(start, redis_client, tmp_path):
    """Issue 24, item 4: a failure (a timeout, a decoder error) is retried by the web's retry
    sweep after a wait that grows with each failure in a row: an hour, then four."""
    import time

    from soniquebay.web import keys

    tries = tmp_path / "failures-left"
    tries.write_text("2")  # fails twice, then works
    api = start(flaky=FLAKY.format(tries=str(tries)))
    pipeline = api.app[keys.PIPELINE]
    [track_id] = ingest(api, "wobbly")
    work(api, redis_client)
    assert [f["stage"] for f in api.get(f"/api/tracks/{track_id}")["stage_failures"]] == [
        "flaky.process_track"
    ]
    failed_at = time.time()
    retry = lambda at: api.call(lambda: pipeline.retry_failures(at))  # noqa: E731
    assert retry(failed_at + 3000) == 0 and queued(redis_client) == []
    assert retry(failed_at + 3700) == 1 and queued(redis_client) == ["flaky.process_track"]
    work(api, redis_client)  # the second failure: now four hours
    failed_at = time.time()
    assert retry(failed_at + 3700) == 0
    assert retry(failed_at + 4 * 3600 + 100) == 1
    work(api, redis_client)
    track = api.get(f"/api/tracks/{track_id}")
    assert track["stage_failures"] == [] and track["plugin_data"]["flaky"] == {"gamma": "wobbly"}
    assert retry(failed_at + 30 * 86400) == 0  # done: nothing to retry
