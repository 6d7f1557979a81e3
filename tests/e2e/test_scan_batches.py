"""A scan through `serve` costs one request per chunk; CHUNK_SIZE changes that and nothing else;
the seed's scan metrics move as it runs. (The seed names two of these tests.)"""

from __future__ import annotations

import math
import os
import re
import shutil
import time

import pytest
from support.audio_files import AudioFactory

ANALYSIS_OFF = {  # these tests count the tag pipeline's requests: no stage results in between
    "SONIQUEBAY_PLUGIN_ANALYSIS_ESSENTIA_ENABLED": "false",
    "SONIQUEBAY_PLUGIN_ANALYSIS_LIBROSA_ENABLED": "false",
    "SONIQUEBAY_PLUGIN_FINGERPRINT_ENABLED": "false",
}


@pytest.fixture(scope="module")
def two_thousand(tmp_path_factory):
    """2,000 small tagged files in 40 albums, made once for the module."""
    folder = tmp_path_factory.mktemp("corpus") / "music"
    factory = AudioFactory(tmp_path_factory.mktemp("templates"))
    an_hour_ago = time.time() - 3600  # a library that was there before SoniqueBay started
    for i in range(2000):
        fmt = ("mp3", "flac", "ogg")[i % 3]
        path = factory.make(
            folder / f"Artist {i % 20}" / f"Album {i % 40}" / f"{i:04d}.{fmt}",
            title=f"Track {i}",
            artist=f"Artist {i % 20}",
            album=f"Album {i % 40}",
        )
        os.utime(path, (an_hour_ago, an_hour_ago))
    return folder


def graphql_posts(server) -> int:
    """POSTs to /api/graphql that the web process answered, from its own /metrics."""
    text = server.get("/metrics")
    return sum(
        int(float(n))
        for n in re.findall(
            r'^api_request_duration_seconds_count\{[^}]*method="POST"[^}]*route="/api/graphql"'
            r"[^}]*\} (\S+)$",
            text,
            re.M,
        )
    )


def metric(server, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", server.get("/metrics"), re.M)
    return float(found.group(1)) if found else 0.0


def scan(serve, library, corpus, files: int, **env):
    for path in sorted(p for p in corpus.rglob("*") if p.is_file())[:files]:
        dest = library / path.relative_to(corpus)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    server = serve(env={**ANALYSIS_OFF, **env})  # the start-up reconcile finds them all
    server.wait_until(
        lambda: server.get("/api/tracks?limit=1")["total"] == files,
        timeout=120,
        what=f"{files} tracks",
    )
    server.wait_until(
        lambda: server.get("/api/health")["redis"]["queues"]["scan"] == 0, what="an idle queue"
    )
    return server


def test_a_2000_file_scan_makes_one_request_per_chunk(serve, library, two_thousand):
    server = scan(serve, library, two_thousand, 2000)
    assert graphql_posts(server) == math.ceil(2000 / 500)
    assert server.get("/api/artists?limit=1")["total"] == 20
    assert server.get("/api/albums?limit=1")["total"] == 40


def test_chunk_size_optimization(serve, library, tmp_path, two_thousand):
    """CHUNK_SIZE changes how many batch requests a scan makes, and nothing else."""
    big = scan(serve, library, two_thousand, 1000)
    big_requests = graphql_posts(big)
    listed = sorted(
        (t["path"], t["title"], t["artist_name"], t["album_title"])
        for t in big.get("/api/tracks?limit=500")["items"]
        + big.get("/api/tracks?limit=500&offset=500")["items"]
    )
    big.stop()

    shutil.rmtree(library)
    shutil.rmtree(tmp_path / "data")
    library.mkdir()
    small = scan(serve, library, two_thousand, 1000, CHUNK_SIZE="250")
    assert (big_requests, graphql_posts(small)) == (2, 4)
    assert listed == sorted(
        (t["path"], t["title"], t["artist_name"], t["album_title"])
        for t in small.get("/api/tracks?limit=500")["items"]
        + small.get("/api/tracks?limit=500&offset=500")["items"]
    )


def test_scan_performance_metrics(serve, library, audio, two_thousand):
    """The seed's scan_* metrics move as a scan runs."""
    server = scan(serve, library, two_thousand, 600)
    assert metric(server, "scan_files_processed_total") == 600
    assert metric(server, "scan_chunks_processed_total") == 2  # 500 + 100
    jobs = metric(server, "scan_duration_seconds_count")
    assert jobs >= 1 and metric(server, "scan_duration_seconds_sum") > 0  # a job holds 4 chunks
    audio.make(library / "late" / "one.mp3", title="Late")
    server.wait_until(lambda: metric(server, "scan_files_processed_total") == 601, what="+1")
    assert metric(server, "scan_chunks_processed_total") == 3
    assert metric(server, "scan_duration_seconds_count") == jobs + 1
