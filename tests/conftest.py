"""The real parts as fixtures: redis-server, SQLite files, generated audio, running servers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import redis
from support.audio_files import AudioFactory
from support.servers import AppServer, Server, start_redis

from soniquebay import config
from soniquebay.library import db


def pytest_configure(config):  # noqa: ARG001
    missing = [tool for tool in ("redis-server", "ffmpeg") if shutil.which(tool) is None]
    if missing:
        raise pytest.UsageError(
            f"missing {', '.join(missing)}: run the README's test command, which installs them"
        )


@pytest.fixture(autouse=True)
def no_system_config(monkeypatch):
    """A SoniqueBay installed on this machine (/etc/soniquebay) must not leak into the tests."""
    monkeypatch.setattr(config, "SYSTEM_CONFIG", config.Path("/nonexistent/soniquebay.conf"))
    monkeypatch.setenv("SONIQUEBAY_CONFIG", "")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server on a temporary Unix socket, for the whole session."""
    process, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def redis_url(redis_server):
    """The session's Redis, flushed for this test."""
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    return redis_server


@pytest.fixture
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def audio(tmp_path_factory) -> AudioFactory:
    """``audio.make(path, **tags)`` writes a small tagged file (ffmpeg + mutagen)."""
    return AudioFactory(tmp_path_factory.mktemp("audio-cache"))


@pytest.fixture
def library(tmp_path) -> Path:
    path = tmp_path / "music"
    path.mkdir()
    return path


@pytest.fixture
def settings(tmp_path, library, redis_url, monkeypatch) -> config.Settings:
    """Settings on temporary folders, also exported to the environment for job functions."""
    env = {
        "SONIQUEBAY_LIBRARY": str(library),
        "SONIQUEBAY_DATA_DIR": str(tmp_path / "data"),
        "SONIQUEBAY_REDIS_URL": redis_url,
        "SONIQUEBAY_EMBEDDING_MODEL": "mock-v1",  # the seed's test double (real: test_vectors)
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return config.load(environ=env)


@pytest.fixture
def db_conn(tmp_path):
    """A temporary SQLite library file with the schema."""
    conn = db.connect(tmp_path / "library.db")
    db.migrate(conn)
    yield conn
    conn.close()


@pytest.fixture
def serve(tmp_path, library):
    """Start `soniquebay serve` on temporary folders (its own private redis-server)."""
    servers = []

    def start(**kwargs) -> Server:
        server = Server(library, tmp_path / "data", **kwargs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def web_server(tmp_path, library, redis_url, settings):
    """`soniquebay web` alone on the session Redis, for tests that run jobs themselves: this
    process is bound as a worker of it (``jobs.current()``), as `soniquebay worker` binds."""
    import dataclasses

    from soniquebay.daemon import jobs

    server = Server(
        library, tmp_path / "data", command="web", env={"SONIQUEBAY_REDIS_URL": redis_url}
    )
    server.start()
    worker_settings = dataclasses.replace(settings, api_url=server.url, api_token=server.token)
    jobs.bind(jobs.WorkerContext.build(worker_settings))
    yield server
    jobs.bind(None)
    server.stop()


ADMIN_PASSWORD = "correct horse battery"


@pytest.fixture
def api(settings):
    """The web application on a real socket in this process, with the session Redis and a
    fresh database; ``api.request`` sends a worker (write) token."""
    import dataclasses

    server = AppServer(dataclasses.replace(settings, admin_password=ADMIN_PASSWORD))
    server.start()
    yield server
    server.stop()
