"""The similarity space: keys on the circle of fifths, nearest tracks, a mix that flows."""

from __future__ import annotations

import json
import math

import pytest

from soniquebay.library import similarity


def test_relative_keys_sit_together_and_fifths_are_neighbours():
    c_major = similarity.key_position("C", "major")
    assert c_major == pytest.approx(similarity.key_position("A", "minor"))
    g_major = similarity.key_position("G", "major")
    f_sharp = similarity.key_position("F#", "major")
    assert math.dist(c_major, g_major) < math.dist(c_major, f_sharp)
    assert similarity.key_position("Bb", "major") == pytest.approx(
        similarity.key_position("A#", "major")
    )
    assert (
        similarity.key_position("H", "major") is None
        and similarity.key_position(None, None) is None
    )


def row(track_id, bpm, key, scale="major", loudness=-14.0):
    timbre = json.dumps({"mfcc_mean": [0, 1, 2, 3, 4, 5], "spectral_centroid": 1500})
    return {"id": track_id, "bpm": bpm, "key": key, "scale": scale, "loudness_lufs": loudness,
            "energy": 0.5, "danceability": 1.0, "timbre": timbre}  # fmt: skip


def space_of(rows):
    return similarity.Space([r["id"] for r in rows], [similarity._vector(r) for r in rows])


def test_an_empty_library_has_an_empty_space():
    empty = similarity.Space([], [])
    assert empty.nearest(1, 5) == [] and similarity.mix(empty, 1, 5, {}) == []


def test_nearest_are_the_same_tempo_and_key_first():
    within = space_of([row(1, 124, "A", "minor"), row(2, 75, "E"), row(3, 124, "A", "minor"),
                       row(4, 125, "C"), row(5, 170, "F#")])  # fmt: skip
    assert within.nearest(1, 4)[:2] == [3, 4]  # A minor's relative major is C
    assert within.nearest(99, 3) == []


def test_a_mix_never_plays_one_artist_twice_in_a_row_while_another_is_left():
    rows = [row(n, 120 + n, "C") for n in range(1, 9)]
    artists = {n: "a" if n <= 5 else "b" for n in range(1, 9)}
    order = similarity.mix(space_of(rows), 1, 6, artists)
    assert order[0] == 1 and len(order) == 7 and len(set(order)) == 7
    shown = [artists[n] for n in order]
    assert shown[:6] == ["a", "b", "a", "b", "a", "b"]


def test_the_classifiers_labels_join_the_space_where_they_exist():
    """Same tempo and key throughout: only the mood labels tell the tracks apart."""
    moods = {1: 0.9, 2: 0.1, 3: 0.85, 4: 0.15}
    rows = [
        {**row(n, 120, "C"), "features_extra": json.dumps(
            {"labels": {"mood_happy": {"happy": happy, "non_happy": 1 - happy}}})}
        for n, happy in moods.items()
    ]  # fmt: skip
    within = similarity.Space(
        [r["id"] for r in rows],
        [similarity._vector(r) for r in rows],
        [similarity.labels_of(r) for r in rows],
    )
    assert within.labels == ["mood_happy/happy", "mood_happy/non_happy"]
    assert within.nearest(1, 1) == [3] and within.nearest(2, 1) == [4]
    # no labels anywhere (librosa, arm64): the portable features alone, as before
    plain = space_of([row(n, 120 + n, "C") for n in range(1, 5)])
    assert plain.labels == [] and plain.matrix.shape == (4, len(similarity.WEIGHTS))
    assert similarity.labels_of({"features_extra": "{not json"}) == {}


@pytest.fixture
def library_db(tmp_path):
    """A real library database holding tracks 1..40 (ids as given), no links yet."""
    from soniquebay.library import db, ingest

    conn = db.connect(tmp_path / "library.db")
    db.migrate(conn)
    done = ingest.upsert_tracks(
        conn,
        [{"path": f"/m/{i}.flac".encode(), "size": 100 + i, "mtime_ns": i, "title": f"T{i}"}
         for i in range(1, 41)],
    )  # fmt: skip
    assert [d["id"] for d in done] == list(range(1, 41))
    return conn


def link(conn, a, b):
    with conn:
        conn.execute("INSERT INTO track_duplicates VALUES (?, ?, 0.01), (?, ?, 0.01)", (a, b, b, a))


def test_sonic_similar_scores_one_copy_of_each_recording(library_db):
    rows = [row(1, 124, "A", "minor"), row(2, 124, "A", "minor"), row(3, 125, "C"),
            row(4, 124, "A", "minor"), row(5, 170, "F#"), row(6, 75, "E")]  # fmt: skip
    within = space_of(rows)
    link(library_db, 1, 2)  # 2 is another file of the seed's recording
    link(library_db, 3, 4)  # 3 and 4: one recording, two files
    found = similarity.sonic_similar(library_db, within, 1, 5)
    ids = [i for i, _ in found]
    assert 2 not in ids and 1 not in ids and len({3, 4} & set(ids)) == 1
    scores = [s for _, s in found]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    assert found[-1][1] == 0.0  # the library's most different track from the seed
    # "more like this" and instant mixes drop other copies the same way
    assert 2 not in similarity.similar_ids(library_db, 1, 5, within)
    assert len({3, 4} & set(similarity.similar_ids(library_db, 1, 5, within))) == 1
    assert similarity.sonic_similar(library_db, within, 99, 5) == []


def test_a_sonic_path_eases_from_one_sound_to_the_other(library_db):
    """Tempos 80 to 160 in steps of 2 BPM, one key: a path from the slowest to the fastest
    walks up the tempos, each step nearer the end, no track or recording twice."""
    rows = [row(n, 80 + 2 * n, "C") for n in range(1, 41)]
    within = space_of(rows)
    link(library_db, 20, 21)
    path = similarity.sonic_path(library_db, within, 1, 40, 10)
    ids = [i for i, _ in path]
    assert ids[0] == 1 and ids[-1] == 40 and len(ids) == 10 and len(set(ids)) == 10
    assert ids == sorted(ids)  # each step closer to the end
    assert not {20, 21} <= set(ids)
    assert path[0][1] == 1.0 and [s for _, s in path] == sorted((s for _, s in path), reverse=True)
    assert similarity.sonic_path(library_db, within, 1, 99, 10) == []
    assert [i for i, _ in similarity.sonic_path(library_db, within, 1, 40, 2)] == [1, 40]
