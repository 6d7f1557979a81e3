"""The event catalogue (events.py): typed payloads, checked as events are packed, and written
out as docs/events.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from soniquebay import events
from soniquebay.web.changes import track_events

ROOT = Path(__file__).resolve().parents[2]


def test_the_documented_catalogue_is_the_one_in_the_code():
    assert (ROOT / "docs" / "events.md").read_text() == events.markdown(), (
        "docs/events.md is stale: regenerate it as its first line says"
    )


def test_events_are_packed_with_their_type_and_time_and_checked_against_the_catalogue():
    packed = events.pack(
        [("stage.finished", {"stage": "analyze_audio", "tracks": [1, 2], "failed": [2]})], 100
    )
    channel, body = packed[1], json.loads(packed[2])
    assert channel == "notifications" and body["type"] == "stage.finished" and body["ts"] > 0
    with pytest.raises(ValueError, match="at least"):
        events.pack([("scan.started", {"task_id": "t"})], 100)  # files is missing
    with pytest.raises(ValueError, match="not"):
        events.pack([("track.removed", {"id": 1, "change": "removed", "path": "/x"})], 100)
    with pytest.raises(ValueError, match="not in the event catalogue"):
        events.pack([("track.exploded", {"id": 1})], 100)


def test_what_the_web_announces_fits_the_catalogue():
    made = track_events(
        [
            {"id": 1, "change": "added", "title": "A", "artist_name": "B", "album_title": "C"},
            {"id": 2, "change": "removed"},
            {"id": 3, "change": "musicbrainz.enrich_track", "title": None},
            {"id": 4, "change": "unchanged"},
        ]
    )
    assert [t for t, _ in made] == ["track.added", "track.removed", "track.updated"]
    events.pack(made, 100)  # no ValueError: every one holds what the catalogue says
    assert events.pack(
        [("progress", events.progress_payload("t", "scan", 1, 2, 0.0, errors=0))], 100
    )
