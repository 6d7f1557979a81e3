"""The library view follows metadata_prefer: the user's edits first, then the file's tags or
the enriched values (issue 12), in lists, pages and the track API alike."""

from __future__ import annotations

import dataclasses

import pytest
from support.servers import AppServer

INGEST = """mutation ($t: [TrackIngestInput!]!) { ingest_tracks(tracks: $t) { id } }"""
STORE = "mutation ($d: [StageResultInput!]!) { store_stage_results(data: $d) }"


@pytest.fixture
def start(settings):
    servers = []

    def run(prefer: str) -> AppServer:
        conf = dataclasses.replace(
            settings,
            metadata_prefer=prefer,
            plugins={"musicbrainz": {"enabled": "true"}, "fingerprint": {"enabled": "false"},
                     "analysis_essentia": {"enabled": "false"},
                     "analysis_librosa": {"enabled": "false"}},
        )  # fmt: skip
        server = AppServer(conf).start()
        servers.append(server)
        return server

    yield run
    for server in servers:
        server.stop()


def enrich(api, track_id: int, enriched: dict) -> None:
    result = {"track_id": track_id, "stage": "musicbrainz.enrich_track", "hook": "enrich_track",
              "version": "1", "inputs": "x", "status": "done", "plugin": "musicbrainz",
              "fields": {"enriched": enriched}}  # fmt: skip
    assert "errors" not in api.graphql(STORE, {"d": [result]})


@pytest.mark.parametrize(("prefer", "title"), [("tags", "Arround"), ("enriched", "Around")])
def test_the_library_shows_what_metadata_prefer_says(start, prefer, title):
    api = start(prefer)
    tracks = [{"path": "/m/a.mp3", "size": 1, "mtime_ns": 1, "title": "Arround"},
              {"path": "/m/b.mp3", "size": 1, "mtime_ns": 1, "title": "Mine"}]  # fmt: skip
    a, b = (d["id"] for d in api.graphql(INGEST, {"t": tracks})["data"]["ingest_tracks"])
    enrich(api, a, {"title": "Around", "genre": "house"})
    api.request("PATCH", f"/api/tracks/{b}", {"genre": "My genre"})
    enrich(api, b, {"title": "Theirs", "genre": "their genre"})

    listed = {t["id"]: t["display"] for t in api.get("/api/tracks")["items"]}
    assert (listed[a]["title"], listed[a]["genre"]) == (title, "house")  # a gap is filled
    assert listed[b]["genre"] == "My genre"  # an edit wins over both
    assert listed[b]["title"] == ("Mine" if prefer == "tags" else "Theirs")
    assert api.get(f"/api/tracks/{a}")["display"]["title"] == title
    assert f">{title}</a>" in api.get("/tracks") and f"<h1>{title}</h1>" in api.get(f"/tracks/{a}")
