"""GraphQL queries answered by reader processes (web/readers.py), through a real `soniquebay
web`: the same answers as the web process gives, every write seen at once, a killed reader
costing nothing but time, and no reader outliving the web process."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from support.servers import Server, wait_for

INGEST = (
    """mutation ($tracks: [TrackIngestInput!]!) { ingest_tracks(tracks: $tracks) { id change } }"""
)
ALBUMS = """query ($offset: Int) { albums(limit: 5, offset: $offset) { total items { title
  album_artist { name } tracks { title track_number } } } }"""
TOTAL = "{ tracks(limit: 1) { total } }"
QUERIES = [
    (ALBUMS, {"offset": 0}),
    (ALBUMS, {"offset": 3}),
    ("{ tracks(limit: 3, sort: title) { total items { title album { title } artist { name } } } }",
     None),
    ("{ tracks(limit: 5000) { total } }", None),  # refused by the resolver: an error answer
    ('{ tracks(limit: 3, filter: {q: "\\u0000"}) { total } }', None),
    ("{ track(id: 999999) { title } }", None),
    ("{ artists(limit: 2) { items { name albums { title } } } }", None),
]  # fmt: skip


def tracks(n: int, start: int = 0) -> list[dict]:
    return [
        {"path": f"/m/{i:04d}.flac", "size": 1000 + i, "mtime_ns": i, "title": f"Song {i}",
         "artist_name": f"Artist {i % 3}", "album_title": f"Album {i % 4}",
         "album_artist_name": f"Artist {i % 3}", "track_number": i % 12 + 1}
        for i in range(start, start + n)
    ]  # fmt: skip


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def readers_of(server: Server) -> list[int]:
    """The web process's reader processes (spawned: `python -c 'from multiprocessing...'`)."""
    return [
        pid
        for pid in children(server.process.pid)
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def answered(server: Server) -> int:
    return server.get("/api/health")["graphql_readers"]["answered"]


def readers_answering(server: Server) -> None:
    """Ask until the readers answer (they start with the first query one could take)."""
    server.wait_until(
        lambda: server.graphql(TOTAL) and answered(server) > 0,
        what="the GraphQL readers to answer",
    )


@pytest.fixture
def web(tmp_path, library, redis_url):
    servers = []

    def start(readers: str, name: str = "data") -> Server:
        env = {"SONIQUEBAY_REDIS_URL": redis_url, "SONIQUEBAY_GRAPHQL_READERS": readers}
        server = Server(library, tmp_path / name, command="web", env=env).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_readers_answer_as_the_web_process_does_and_see_every_write(web):
    server = web("2")
    assert server.graphql(INGEST, {"tracks": tracks(40)})["data"]
    readers_answering(server)
    assert len(readers_of(server)) == 2

    alone = web("0", name="alone")  # the same library answered by the web process alone
    assert alone.graphql(INGEST, {"tracks": tracks(40)})["data"]
    before = answered(server)
    for query, variables in QUERIES:
        assert server.graphql(query, variables) == alone.graphql(query, variables), query
    assert answered(server) == before + len(QUERIES)
    assert alone.get("/api/health")["graphql_readers"] == {"processes": 0, "answered": 0}

    # Written by the web process, read by a reader at once, totals included.
    assert server.graphql(TOTAL)["data"]["tracks"]["total"] == 40
    assert server.graphql(INGEST, {"tracks": tracks(5, start=40)})["data"]
    assert server.graphql(TOTAL)["data"]["tracks"]["total"] == 45
    listed = server.graphql("{ tracks(limit: 100) { items { title } } }")["data"]["tracks"]
    assert "Song 44" in {t["title"] for t in listed["items"]}

    # A query a reader takes is validated there, off the web's event loop: the same errors.
    wrong = "{ tracks(limit: 5) { items { title no_such_field } } }"
    before = answered(server)
    status, refused = server.request("POST", "/api/graphql", {"query": wrong})
    assert status == 400 and refused == alone.request("POST", "/api/graphql", {"query": wrong})[1]
    assert "no_such_field" in refused["errors"][0]["message"] and answered(server) == before + 1


REST_READS = [
    "/api/tracks?limit=7&sort=-title",
    "/api/tracks?limit=5&artist=Artist%201",
    "/api/albums?limit=3&sort=-title",
    "/api/artists?limit=2",
    "/api/artists/1/albums?limit=2",
    "/api/artists/1/tracks?limit=4",
    "/api/albums/2/tracks",
    "/api/tracks/3",
]


def steady(value):
    """An answer without the times the two libraries were written at."""
    if isinstance(value, dict):
        return {
            k: steady(v) for k, v in value.items() if not k.endswith("_at") and k != "date_added"
        }
    if isinstance(value, list):
        return [steady(v) for v in value]
    return value


def test_readers_answer_rest_lists_as_the_web_process_does(web):
    server = web("2")
    assert server.graphql(INGEST, {"tracks": tracks(30)})["data"]
    readers_answering(server)
    alone = web("0", name="alone")
    assert alone.graphql(INGEST, {"tracks": tracks(30)})["data"]

    before = answered(server)
    for path in REST_READS:
        assert steady(server.get(path)) == steady(alone.get(path)), path
    assert answered(server) == before + len(REST_READS)
    first = server.get("/api/tracks?limit=10")
    assert first["next_cursor"] and first["total"] == 30
    following = f"/api/tracks?limit=10&cursor={first['next_cursor']}"
    assert steady(server.get(following)) == steady(alone.get(following))

    # An error in a reader is answered by the web process, as it would have been.
    before = answered(server)
    for path in ("/api/tracks/999999", "/api/artists/999999/albums"):
        assert server.request("GET", path) == alone.request("GET", path), path
        assert server.request("GET", path)[0] == 404
    assert answered(server) == before

    # Written by the web process, listed by a reader at once, the total with it.
    assert server.graphql(INGEST, {"tracks": tracks(2, start=30)})["data"]
    listed = server.get("/api/tracks?limit=50&sort=-id")
    assert listed["total"] == 32 and listed["items"][0]["title"] == "Song 31"


def test_a_killed_reader_costs_a_query_nothing_and_the_readers_come_back(web):
    server = web("1")
    assert server.graphql(INGEST, {"tracks": tracks(10)})["data"]
    readers_answering(server)
    (reader,) = readers_of(server)
    os.kill(reader, signal.SIGKILL)
    server.wait_until(lambda: reader not in readers_of(server), what="the reader to be reaped")

    for _ in range(3):  # answered by the web process meanwhile, without an error
        assert server.graphql(TOTAL) == {"data": {"tracks": {"total": 10}}}
    assert "a GraphQL reader died" in server.log()
    count = answered(server)
    server.wait_until(
        lambda: server.graphql(TOTAL) and answered(server) > count,
        timeout=90,
        what="new readers to answer",
    )
    assert reader not in readers_of(server) and len(readers_of(server)) == 1


def test_readers_die_with_the_web_process(web):
    server = web("2")
    readers_answering(server)
    assert len(readers_of(server)) == 2
    # The readers, and multiprocessing's resource tracker beside them.
    pids = [
        pid
        for pid in children(server.process.pid)
        if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert len(pids) == 3
    server.process.kill()  # SIGKILL: no clean-up runs
    server.process.wait()

    def gone(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            return True
        return state in ("Z", "X")

    wait_for(lambda: all(map(gone, pids)), 30, "the readers to follow the web process")
