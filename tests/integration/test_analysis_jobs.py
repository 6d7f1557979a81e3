"""The analysis stage on a real Redis and a real web process: a timed-out job."""

import dataclasses
import subprocess

from rq import SimpleWorker
from rq.serializers import JSONSerializer
from support.servers import Server

from soniquebay import config, queueing
from soniquebay.daemon import jobs


def test_a_timed_out_analysis_is_retried_once_on_a_shorter_span(
    settings, redis_client, redis_url, library, tmp_path
):
    conf = tmp_path / "analysis.conf"
    conf.write_text(
        "[soniquebay]\njob_timeout = 2\nanalysis_retry_seconds = 5\n"
        "[plugin.analysis]\nmax_seconds = 3600\n"
    )
    long_file = library / "hour.flac"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi",
         "-i", "sine=frequency=220:sample_rate=8000:duration=3600", "-c:a", "flac", str(long_file)],
        check=True,
    )  # fmt: skip
    web = Server(
        library,
        tmp_path / "data",
        command="web",
        env={"SONIQUEBAY_REDIS_URL": redis_url, "SONIQUEBAY_CONFIG": str(conf)},
    ).start()
    try:
        worker_settings = config.load(
            conf,
            environ={},
            library=settings.library,
            data_dir=settings.data_dir,
            redis_url=redis_url,
            api_url=web.url,
            api_token=web.token,
        )
        jobs.bind(jobs.WorkerContext.build(dataclasses.replace(worker_settings)))
        status, body = web.request(
            "POST",
            "/api/graphql",
            {
                "query": "mutation($d: [TrackCreateInput!]!) { create_tracks(data: $d) { id } }",
                "variables": {
                    "d": [{"path": str(long_file), "size": 1, "mtime_ns": 1, "title": "Hour"}]
                },
            },
        )
        track_id = body["data"]["create_tracks"][0]["id"]
        # The web process queues the analysis stage itself once the track is stored.
        queue = queueing.get_queue(redis_client, "analysis")
        web.wait_until(lambda: queue.count == 1, what="the analysis stage to be queued")
        first = queue.jobs[0]
        SimpleWorker(
            [queue],
            connection=redis_client,
            serializer=JSONSerializer,
            exception_handlers=[jobs.on_stage_timeout],
        ).work(burst=True)

        assert first.get_status(refresh=True) == "failed"
        assert "JobTimeoutException" in (first.latest_result().exc_string or "")
        track = web.get(f"/api/tracks/{track_id}")
        assert track["analysis_backend"] and track["analysis_error"] is None
        assert track["analyzed_seconds"] <= 5.5  # the shorter span
    finally:
        jobs.bind(None)
        web.stop()
