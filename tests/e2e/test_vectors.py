"""Issue 13 (the part built so far): text embeddings by the real model, made by the stage
runner once a track is analysed, and semantic search over them, against a real `serve`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from redis import Redis
from support.audio_files import tag

from soniquebay import embeddings
from soniquebay.names import NEIGHBOURS_PREFIX as NEIGHBOURS
from soniquebay.synth import encode, make_track

MODEL = {"SONIQUEBAY_EMBEDDING_MODEL": embeddings.DEFAULT_MODEL}
# (title, artist, album, genre, year): a library whose right answers are known
LIBRARY = [
    ("Moonlight Sonata", "Ludwig van Beethoven", "Piano Sonatas", "Classical Piano", 1801),
    ("Rue du Temps", "Les Voix du Bitume", "Paris Nord", "French Rap", 2003),
    ("Thunder Forge", "Iron Wrath", "Steel Hammer", "Heavy Metal", 1986),
    ("Island Breeze", "Kingston Sun", "Roots Rising", "Reggae", 1978),
    ("Night Shift Groove", "Club Sector", "Warehouse", "Deep House", 2015),
    ("Campfire Stories", "The Hollow Pines", "Cabin Songs", "Acoustic Folk", 1969),
    ("Blue in the Smoke", "Miles Cole Quartet", "Late Set", "Jazz", 1959),
    ("Neon Highway", "Synth Racer", "Outrun", "Synthwave", 2018),
    ("Lullaby for Mia", "Sara Lind", "Soft Hours", "Ambient", 2020),
    ("Stadium Anthem", "The Big Noise", "Arena", "Pop Rock", 1995),
    ("Requiem Aeternam", "Choir of Saint Anne", "Sacred Voices", "Choral", 1750),
    # the same recording as the first, live: it must land among the first's neighbours
    ("Moonlight Sonata (live)", "Ludwig van Beethoven", "Piano Sonatas", "Classical Piano", 1801),
]
QUERIES = {
    "quiet piano for the evening": "Moonlight Sonata",
    "french rap 2000s": "Rue du Temps",
    "loud aggressive guitars": "Thunder Forge",
    "relaxing reggae": "Island Breeze",
    "dance club music": "Night Shift Groove",
    "jazz from the fifties": "Blue in the Smoke",
    "songs around the fire": "Campfire Stories",
    "church choir": "Requiem Aeternam",
}


def test_the_numpy_model_gives_the_sentence_transformers_answers():
    """Meaning, measured: related sentences are nearer than unrelated ones, vectors are unit
    length, and the same text gives the same vector in a batch or alone."""
    model = embeddings.model(embeddings.DEFAULT_MODEL)
    texts = ["a calm piano piece", "soft piano music", "a loud metal riff", "the tax return is due"]
    v = model.encode(texts)
    assert v.shape == (4, 384) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.6 > v[0] @ v[2] > v[0] @ v[3]
    assert np.allclose(model.encode(["soft piano music"])[0], v[1], atol=1e-5)
    with pytest.raises(embeddings.ModelMissing):
        embeddings.model("no-such-model")


def test_vectorization_workflow(serve, library, tmp_path):
    server = serve(env=MODEL)
    for n, (title, artist, album, genre, year) in enumerate(LIBRARY):
        path = tmp_path / f"{n:02d}.flac"
        same = 0 if title.endswith("(live)") else n
        encode(make_track(bpm=80 + 8 * same, key="A", seconds=6.0, seed=same), path)
        tag(path, title=title, artist=artist, album=album, genre=genre, date=str(year))
        path.rename(library / path.name)
    server.wait_for_tracks(len(LIBRARY), timeout=60)

    def vectors():
        page = server.get("/api/track-vectors/?limit=100")
        return (
            page["items"]
            if len([v for v in page["items"] if v["name"] == "text"]) == len(LIBRARY)
            else None
        )

    made = server.wait_until(vectors, timeout=240, what="every track analysed and embedded")
    assert {v["dimension"] for v in made} == {384}
    server.wait_until(
        lambda: server.get("/api/search/semantic?q=music")["indexed"] == len(LIBRARY),
        timeout=30,
        what="every vector in the sqlite-vec index",
    )
    for query, expected in QUERIES.items():
        found = server.get(f"/api/search/semantic?q={query.replace(' ', '+')}&limit=5")["items"]
        titles = [t["title"] for t in found]
        assert expected in titles[:3], (query, titles)
        assert found[0]["score"] >= found[-1]["score"]
    # more like this: the nearest by sound and by words, the track itself left out
    ids = {t["title"]: t["id"] for t in server.tracks()}
    near = server.get(f"/api/tracks/{ids['Moonlight Sonata']}/similar?limit=3")["items"]
    assert len(near) == 3 and all(t["id"] != ids["Moonlight Sonata"] for t in near)

    # the list is kept in Redis, under a key naming the version of both spaces
    redis = Redis(unix_socket_path=str(tmp_path / "data" / "redis.sock"), decode_responses=True)
    cached = {k: json.loads(redis.get(k)) for k in redis.scan_iter(NEIGHBOURS + "*")}
    moonlight = [k for k in cached if k.endswith(f":{ids['Moonlight Sonata']}:3")]
    assert len(moonlight) == 1 and cached[moonlight[0]] == [t["id"] for t in near]

    # the "live take" is the very same audio: its fingerprint links it as another copy of the
    # recording, and more like this never offers another copy (issue 23)
    def linked():
        dupes = server.get(f"/api/tracks/{ids['Moonlight Sonata']}/duplicates")["items"]
        return [d["id"] for d in dupes] or None

    # (6-second synthetic tracks in one key: fpcalc may link a few others as well)
    copies = server.wait_until(linked, timeout=60, what="the fingerprints linked")
    assert ids["Moonlight Sonata (live)"] in copies
    near = server.get(f"/api/tracks/{ids['Moonlight Sonata']}/similar?limit=3")["items"]
    assert not {t["id"] for t in near} & set(copies)
    live = server.get(f"/api/tracks/{ids['Moonlight Sonata (live)']}/similar?limit=3")["items"]
    assert ids["Moonlight Sonata"] not in [t["id"] for t in live]
    # words the model does not know find nothing, not ten tracks at random (issue 27)
    assert server.get("/api/search/semantic?q=xqzv+blorp+fnord")["items"] == []
    status, page = server.request(
        "GET", "/search?q=quiet+piano+for+the+evening", headers={"Accept": "text/html"}
    )
    assert status == 200 and "By meaning" in page
    assert page.index("Moonlight Sonata", page.index("By meaning")) > 0
    status, body = server.request("GET", "/api/search/semantic?q=")
    assert status == 400 and body["error"]["details"]["field"] == "q"

    # A changed model: every vector is stale, the stage runs again, search keeps answering.
    before = {v["track_id"]: v["updated_at"] for v in made if v["name"] == "text"}
    server.stop()
    server = serve(env={"SONIQUEBAY_EMBEDDING_MODEL": embeddings.MOCK_MODEL})

    def embedded_again():
        page = server.get("/api/track-vectors/?limit=100")["items"]
        again = {v["track_id"]: v["updated_at"] for v in page if v["name"] == "text"}
        return all(again.get(t, 0) > when for t, when in before.items())

    assert server.get("/api/search/semantic?q=piano")["items"]  # the old vectors answer meanwhile
    server.wait_until(embedded_again, timeout=120, what="every track embedded again")
    # a vector changes: a new version, so the list is worked out again, not read from the old key
    redis = Redis(unix_socket_path=str(tmp_path / "data" / "redis.sock"), decode_responses=True)

    def moonlight_keys() -> set[str]:
        suffix = f":{ids['Moonlight Sonata']}:3"
        return {k for k in redis.scan_iter(NEIGHBOURS + "*") if k.endswith(suffix)}

    server.get(f"/api/tracks/{ids['Moonlight Sonata']}/similar?limit=3")
    seen = moonlight_keys()
    vector = next(v for v in made if v["track_id"] == ids["Requiem Aeternam"])
    status, _ = server.request(
        "PUT", f"/api/track-vectors/{vector['id']}", {"vector": [0.05] * 384}
    )
    assert status == 200
    server.wait_until(
        lambda: (
            server.get(f"/api/tracks/{ids['Moonlight Sonata']}/similar?limit=3")
            and moonlight_keys() - seen
        ),
        timeout=30,
        what="a new cached list once the index holds the changed vector",
    )
