"""The sentence a track's text vector is made from: what people search music by."""

import json

from soniquebay.plugins.builtin.vectors import describe, label_words


def test_the_sentence_names_the_tags_the_era_and_the_sound():
    text = describe(
        {"title": "Rue du Temps", "artist_name": "Les Voix", "album_title": "Paris Nord",
         "genre": "French Rap", "year": 2003, "bpm": 92, "energy": 0.8, "key": "A",
         "scale": "minor"}
    )  # fmt: skip
    assert text == (
        "Rue du Temps. by Les Voix. from Paris Nord. French Rap. 2003, the 00s. mid-tempo."
        " energetic, powerful. in A minor, dark"
    )


def test_the_classifiers_labels_that_fired_join_it_strongest_first():
    extra = {
        "labels": {
            "mood_happy": {"happy": 0.61, "non_happy": 0.39},
            "mood_sad": {"non_sad": 0.92, "sad": 0.08},
            "genre_discogs400": {"Electronic---House": 0.83, "Electronic---Techno": 0.2},
        },
        "embeddings": {"discogs-effnet": [0.1, 0.2]},
    }
    track = {"title": "Night Shift", "features_extra": json.dumps(extra)}
    assert label_words(track) == ["Electronic, House", "happy"]
    assert describe(track) == "Night Shift. Electronic, House. happy"
    assert label_words({"features_extra": "not json"}) == []
    assert label_words({"features_extra": None}) == label_words({}) == []
