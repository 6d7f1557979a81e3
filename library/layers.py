"""A track's metadata layers: the file's tags, the user's edits (``track_edits``, kept over
the tags through rescans) and what enrichment plugins found (``enriched`` in a plugin's data),
and which one the library shows.

Edits always win. Between the other two, ``metadata_prefer = tags`` (the default): enrichment
only fills what the tags lack; ``enriched``: enrichment wins wherever it has a value. Nothing
here writes: the layers sit side by side in the database and are combined when a track is shown.
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


def with_layers(
    track: dict[str, Any],
    plugin_data: dict[str, dict],
    prefer: str,
    edits: dict[str, dict[str, Any]] | None = None,
) -> dict:
    """The track with ``layers`` (tags, edits, enriched) and ``display`` (what the library
    shows): the user's edits first, then the tags and the enriched values in ``prefer``'s
    order. The track's own columns already hold the edits over the tags."""
    edits = edits or {}
    tags = {f: (edits[f]["file_value"] if f in edits else track.get(f)) for f in LAYER_FIELDS}
    edited = {f: e["value"] for f, e in edits.items()}
    enriched = enriched_layer(plugin_data)
    first, second = (enriched, tags) if prefer == "enriched" else (tags, enriched)
    display = {**second}
    display.update({k: v for k, v in first.items() if v is not None})
    display.update({k: v for k, v in edited.items() if k in LAYER_FIELDS})
    track["layers"] = {"tags": tags, "edits": edited, "enriched": enriched}
    track["edits"] = edits
    track["metadata_prefer"] = prefer
    track["display"] = display
    return track


def display_many(
    tracks: list[dict[str, Any]],
    plugin_data: dict[int, dict[str, dict]],
    edits: dict[int, dict[str, dict]],
    prefer: str,
) -> list[dict[str, Any]]:
    """Each track of a page with ``display`` (what the library shows), for lists."""
    for track in tracks:
        shown = with_layers(dict(track), plugin_data.get(track["id"], {}), prefer,
                            edits.get(track["id"]))  # fmt: skip
        track["display"] = shown["display"]
    return tracks
