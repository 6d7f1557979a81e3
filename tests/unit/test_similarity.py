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
