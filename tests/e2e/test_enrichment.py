"""Enrichment through a real `serve`: fpcalc on generated audio, AcoustID, MusicBrainz and the
Cover Art Archive played by a loopback server with their documented response shapes."""

from __future__ import annotations

import hashlib
import urllib.request

import pytest
from support import audio_files
from support.fake_remote import FakeRemote, jpeg, recording, release, search_result
from support.servers import free_port

from soniquebay.plugins.builtin.fingerprint import fpcalc
from soniquebay.synth import encode, make_track

DAFT = ("Daft Punk", "056e4f3e-d505-4dad-8ec1-d04f521cbb56", "Daft Punk")
NOBODY = ("Nobody Known", "11111111-2222-4333-8444-555555555555", "Known, Nobody")
REC_A = "8f4e3e2c-95e5-4bd7-a3c9-9b7c0f2d5f1a"
REL_A = "a1b2c3d4-0000-4000-8000-00000000000a"
REC_B = "0f7f3b4c-1d5e-4e6f-8a9b-0c1d2e3f4a5b"
REL_B = "b1b2c3d4-0000-4000-8000-00000000000b"
REC_C1 = "c1c1c1c1-0000-4000-8000-0000000000c1"
REC_C2 = "c2c2c2c2-0000-4000-8000-0000000000c2"
ACOUSTID_A = "f1e2d3c4-b5a6-4978-8877-665544332211"
SECONDS = 20.0
NO_ANALYSIS = (
    "[plugin.analysis_essentia]\nenabled = false\n[plugin.analysis_librosa]\nenabled = false\n"
)


def config(tmp_path, text: str) -> dict[str, str]:
    path = tmp_path / "soniquebay.conf"
    path.write_text(NO_ANALYSIS + text)
    return {"SONIQUEBAY_CONFIG": str(path)}


def song(path, seed: int, bpm: float, key: str, **tags):
    encode(make_track(bpm=bpm, key=key, seconds=SECONDS, seed=seed), path)
    if tags:
        audio_files.tag(path, **tags)
    return path


@pytest.fixture
def fake(tmp_path):
    server = FakeRemote().start()
    ms = int(SECONDS * 1000)
    rel_a = release(REL_A, "Homework", "1997-01-20", "rg-a", "Album", DAFT, REC_A, 7, 16)
    server.recordings[REC_A] = recording(REC_A, "Around the World", DAFT, rel_a, ms, ("house",))
    rel_b = release(REL_B, "Discovery", "2001-03-12", "rg-b", "Album", DAFT, REC_B, 11, 14)
    server.recordings[REC_B] = recording(REC_B, "Veridis Quo", DAFT, rel_b, ms, ("electronic",))
    server.searches["veridis quo"] = [search_result(server.recordings[REC_B], 100)]
    for rid, title in ((REC_C1, "Something Vague (remix)"), (REC_C2, "Vague")):
        rel = release(f"rel-{rid}", "Odds", "2010", f"rg-{rid}", "Single", NOBODY, rid, 1, 2)
        server.recordings[rid] = recording(rid, title, NOBODY, rel, ms)
    server.searches["something vague"] = [
        search_result(server.recordings[REC_C1], 72),
        search_result(server.recordings[REC_C2], 60),
    ]
    server.covers[REL_A] = jpeg(tmp_path / "front.jpg")
    reference = song(tmp_path / "reference.flac", seed=1, bpm=120, key="C")
    print_ = fpcalc(str(reference))
    server.register_fingerprint(
        print_["fingerprint"], print_["fingerprint_duration"], ACOUSTID_A, REC_A
    )
    yield server
    server.stop()


def musicbrainz_conf(fake: FakeRemote, **extra: object) -> str:
    options = {**fake.options(), "musicbrainz_per_second": 5, **extra}
    lines = "".join(f"{k} = {v}\n" for k, v in options.items())
    return f"[plugin.musicbrainz]\nenabled = true\n{lines}[plugin.coverart]\nurl = {fake.url}/caa\n"


def test_tracks_are_identified_enriched_and_linked_without_touching_files(
    serve, library, tmp_path, fake
):
    server = serve(env=config(tmp_path, musicbrainz_conf(fake)))
    tags_a = {"title": "Around the Wold", "artist": "Daft Punk", "album": "Homework"}
    a_mp3 = song(tmp_path / "a.mp3", 1, 120, "C", **tags_a)
    a_ogg = song(tmp_path / "a.ogg", 1, 120, "C", **tags_a)
    b = song(tmp_path / "b.mp3", 2, 100, "A", title="Veridis Quo", artist="Daft Punk",
              album="Discovery")  # fmt: skip
    c = song(tmp_path / "c.mp3", 3, 140, "E", title="Something Vague", artist="Nobody Known")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (a_mp3, b, c)}
    (library / "Homework").mkdir()
    (library / "Copies").mkdir()
    a_mp3.rename(library / "Homework" / "a.mp3")
    a_ogg.rename(library / "Copies" / "a.ogg")
    b.rename(library / "b.mp3")
    c.rename(library / "c.mp3")
    ids = {t["path"].rpartition("/")[2]: t["id"] for t in server.wait_for_tracks(4)}

    def data(name: str) -> dict:
        return server.get(f"/api/tracks/{ids[name]}")["plugin_data"].get("musicbrainz") or {}

    def enriched(name: str):
        return "mb_match" in data(name) and ("mb_suggestions" in data(name))

    server.wait_until(lambda: all(enriched(n) for n in ids), timeout=120, what="enrichment")

    # A: identified by its fingerprint at AcoustID, from another encoding of the same audio.
    track = server.get(f"/api/tracks/{ids['a.mp3']}")
    mb = track["plugin_data"]["musicbrainz"]
    assert mb["mb_match"]["method"] == "acoustid" and mb["mb_match"]["score"] > 0.9
    assert (mb["mb_recording_id"], mb["mb_release_id"], mb["acoustid_id"]) == (
        REC_A, REL_A, ACOUSTID_A
    )  # fmt: skip
    layer = track["layers"]["enriched"]
    assert layer["title"] == "Around the World" and layer["year"] == 1997
    assert (layer["track_number"], layer["track_total"], layer["disc_number"]) == (7, 16, 1)
    assert (layer["album_type"], layer["genre"], layer["artist_sort"]) == (
        "album",
        "house",
        "Daft Punk",
    )
    # The file's tags stay the library's (metadata_prefer = tags); enrichment fills the gaps.
    assert track["title"] == track["layers"]["tags"]["title"] == "Around the Wold"
    assert track["display"]["title"] == "Around the Wold"
    assert track["display"]["genre"] == "house" and track["genre"] is None
    assert "fingerprint" in track["plugin_data"]["fingerprint"]

    # The two encodings are duplicates of each other, and nothing else is.
    dupes = server.get(f"/api/tracks/{ids['a.mp3']}/duplicates")["items"]
    assert [d["id"] for d in dupes] == [ids["a.ogg"]]
    assert server.get(f"/api/tracks/{ids['b.mp3']}/duplicates")["items"] == []
    groups = server.get("/api/duplicates")["items"]
    assert [[t["id"] for t in g] for g in groups] == [sorted([ids["a.mp3"], ids["a.ogg"]])]

    # The album has no cover of its own: the Cover Art Archive's, fetched once for two tracks.
    server.wait_until(
        lambda: all(
            "cover_source" in server.get(f"/api/tracks/{ids[n]}")["plugin_data"].get("coverart", {})
            for n in ("a.mp3", "a.ogg")
        ),
        timeout=60,
        what="the cover art stage",
    )
    request = urllib.request.Request(
        f"{server.url}/api/albums/{track['album_id']}/cover", headers=server.auth_headers()
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.headers["Content-Type"] == "image/jpeg"
        assert resp.headers["X-Cover-Source"] == "coverartarchive"
        assert resp.read() == fake.covers[REL_A]
    assert [s.path for s in fake.requests("coverart")].count(f"/caa/release/{REL_A}/front-500") == 1
    page = server.get(f"/tracks/{ids['a.mp3']}")
    assert "Album cover (coverartarchive)" in page and "Around the World" in page
    assert "Duplicates" in page and f'href="/tracks/{ids["a.ogg"]}"' in page

    # B: no fingerprint match; a confident MusicBrainz search on its tags.
    mb = data("b.mp3")
    assert mb["mb_match"] == {"recording_id": REC_B, "method": "search", "score": 1.0}
    assert mb["enriched"]["album_title"] == "Discovery" and mb["enriched"]["year"] == 2001

    # C: nothing confident; suggestions for the user, then the one accepted is applied.
    mb = data("c.mp3")
    assert mb["mb_recording_id"] is None and mb.get("enriched") is None
    assert [s["recording_id"] for s in mb["mb_suggestions"]] == [REC_C1, REC_C2]
    page = server.get(f"/tracks/{ids['c.mp3']}")
    assert "Possible MusicBrainz matches" in page and "Use this" in page
    status, body = server.request(
        "POST", f"/api/plugins/musicbrainz/tracks/{ids['c.mp3']}/match", {"recording_id": "nope"}
    )
    assert status == 400 and body["error"]["details"]["field"] == "recording_id"
    status, _ = server.request(
        "POST", f"/api/plugins/musicbrainz/tracks/{ids['c.mp3']}/match", {"recording_id": REC_C1}
    )
    assert status == 202
    server.wait_until(
        lambda: data("c.mp3").get("mb_recording_id") == REC_C1,
        timeout=60,
        what="the accepted match",
    )
    mb = data("c.mp3")
    assert mb["mb_match"]["method"] == "user" and mb["mb_suggestions"] == []
    assert mb["enriched"]["title"] == "Something Vague (remix)"

    # Nothing was written to the files.
    after = {
        "a.mp3": library / "Homework" / "a.mp3", "b.mp3": library / "b.mp3", "c.mp3": library / "c.mp3"
    }  # fmt: skip
    assert {n: hashlib.sha256(p.read_bytes()).hexdigest() for n, p in after.items()} == before

    # Polite: a User-Agent with a contact, MusicBrainz's requests spaced by its limit (5/s here).
    seen = fake.requests("musicbrainz")
    assert all("tests@soniquebay.invalid" in s.user_agent for s in seen)
    times = sorted(s.at for s in seen)
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) > 0.2 * 0.7
    assert "musicbrainz_requests_total" in server.get("/metrics")
    health = server.get("/api/health")
    assert health["remote_services"].get("musicbrainz", {"state": "closed"})["state"] == "closed"


def test_with_no_network_fingerprints_go_on_and_enrichment_waits(serve, library, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: a Pi behind a firewall
    conf = (
        f"[plugin.musicbrainz]\nenabled = true\nmusicbrainz_url = {dead}/ws/2\n"
        f"acoustid_url = {dead}/v2\nretries = 0\nfailures_to_open = 2\ncooldown = 600\n"
    )
    server = serve(env=config(tmp_path, conf))
    for i in range(3):
        song(tmp_path / f"s{i}.mp3", 10 + i, 100 + 10 * i, "D", title=f"Song {i}", artist="X")
        (tmp_path / f"s{i}.mp3").rename(library / f"s{i}.mp3")
    tracks = server.wait_for_tracks(3)

    def fingerprinted() -> bool:
        return all(
            "fingerprint"
            in server.get(f"/api/tracks/{t['id']}")["plugin_data"].get("fingerprint", {})
            for t in tracks
        )

    server.wait_until(fingerprinted, timeout=60, what="fingerprints")
    server.wait_until(
        lambda: (
            server.get("/api/health")["remote_services"].get("musicbrainz", {}).get("state")
            == "open"
        ),
        timeout=60,
        what="the breaker to open",
    )
    health = server.get("/api/health")
    assert any("musicbrainz is unavailable" in w for w in health["warnings"])
    for t in tracks:  # put back for later: not failed, nothing recorded against the track
        track = server.get(f"/api/tracks/{t['id']}")
        assert track["stage_failures"] == [] and "musicbrainz" not in track["plugin_data"]
    assert 'remote_circuit_open{service="musicbrainz"} 1.0' in server.get("/metrics")
    server.wait_until(
        lambda: "put back" in server.log(), timeout=30, what="the deferral in the log"
    )
    assert server.log().count("musicbrainz unreachable") == 1  # said once, not per track
