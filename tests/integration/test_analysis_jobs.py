"""The analysis queue on a real Redis and a real web process: timeouts and bad files."""

import subprocess

from rq import SimpleWorker
from rq.serializers import JSONSerializer

from soniquebay.daemon import jobs, queueing


def test_a_timed_out_analysis_is_retried_once_on_a_shorter_span(
    web_server, settings, redis_client, library, tmp_path, monkeypatch
):
    conf = tmp_path / "analysis.conf"
    conf.write_text(
        "[soniquebay]\njob_timeout = 2\nanalysis_retry_seconds = 5\n"
        "[plugin.analysis]\nmax_seconds = 3600\n"
    )
    monkeypatch.setenv("SONIQUEBAY_CONFIG", str(conf))
    jobs.context.cache_clear()
    long_file = library / "hour.flac"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=220:sample_rate=8000:duration=3600",
            "-c:a",
            "flac",
            str(long_file),
        ],
        check=True,
    )
    status, body = web_server.request(
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
    ctx = jobs.context()
    first = queueing.enqueue_analysis(
        redis_client, ctx.settings, [{"track_id": track_id, "path": str(long_file)}]
    )
    worker = SimpleWorker(
        [queueing.get_queue(redis_client, "analysis")],
        connection=redis_client,
        serializer=JSONSerializer,
        exception_handlers=[jobs.on_analysis_timeout],
    )
    worker.work(burst=True)

    assert first.get_status(refresh=True) == "failed"
    assert "JobTimeoutException" in (first.latest_result().exc_string or "")
    track = web_server.get(f"/api/tracks/{track_id}")
    assert track["analysis_backend"] and track["analysis_error"] is None
    assert track["analyzed_seconds"] <= 5.5  # the shorter span
