"""A track's metadata layers: the file's tags (with the user's edits) and what enrichment
plugins found (``enriched`` in a plugin's data), and which one the library shows.

``metadata_prefer = tags`` (the default): enrichment only fills what the tags lack;
``enriched``: enrichment wins wherever it has a value. Nothing here writes: the layers sit side
by side in the database and are combined when a track is shown.
"""

from __future__ import annotations

from typing import Any

LAYER_FIELDS = (
    "title", "artist_name", "album_title", "album_artist_name", "track_number", "track_total",
    "disc_number", "disc_total", "year", "genre", "musicbrainz_id", "musicbrainz_albumid",
    "musicbrainz_artistid", "musicbrainz_albumartistid",
)  # fmt: skip


def enriched_layer(plugin_data: dict[str, dict]) -> dict[str, Any]:
    """Every enrichment plugin's ``enriched`` values, merged (plugins in name order)."""
    merged: dict[str, Any] = {}
    for data in plugin_data.values():
        if isinstance(data.get("enriched"), dict):
            merged.update(data["enriched"])
    return merged


def with_layers(track: dict[str, Any], plugin_data: dict[str, dict], prefer: str) -> dict:
    """The track with ``layers`` (tags, enriched) and ``display`` (what the library shows)."""
    tags = {f: track.get(f) for f in LAYER_FIELDS}
    enriched = enriched_layer(plugin_data)
    if prefer == "enriched":
        display = {**tags, **{k: v for k, v in enriched.items() if v is not None}}
    else:
        display = {**enriched, **{k: v for k, v in tags.items() if v is not None}}
    track["layers"] = {"tags": tags, "enriched": enriched}
    track["metadata_prefer"] = prefer
    track["display"] = display
    return track
