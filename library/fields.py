"""The library's fields, listed once: the storage, the REST validation, the GraphQL inputs,
the tag plugin and the hook contract all read these lists (a test checks that they agree).
"""

from __future__ import annotations

TAG_FIELDS = (
    "title",
    "artist_name",
    "album_title",
    "album_artist_name",
    "track_number",
    "track_total",
    "disc_number",
    "disc_total",
    "year",
    "genre",
    "duration",
    "bitrate",
    "sample_rate",
    "channels",
    "format",
    "musicbrainz_id",
    "musicbrainz_trackid",
    "musicbrainz_albumid",
    "musicbrainz_artistid",
    "musicbrainz_albumartistid",
    # What decides the grouping or a careful library shows (docs/library.md).
    "compilation",
    "composer",
    "performer",
    "artist_sort",
    "album_artist_sort",
    "title_sort",
    "original_year",
    "disc_subtitle",
    "release_type",
    "album_version",
    # ReplayGain as tagged (REPLAYGAIN_*, or Opus's R128_* converted): dB and linear peak
    "tagged_track_gain",
    "tagged_track_peak",
    "tagged_album_gain",
    "tagged_album_peak",
)
GAIN_TAGS = ("tagged_track_gain", "tagged_track_peak", "tagged_album_gain", "tagged_album_peak")


# sidecars: JSON {".lrc": "size:mtime_ns"} of files beside the track that a stage reads.
FILE_FIELDS = ("size", "mtime_ns", "inode", "device", "quick_hash", "sidecars")


FEATURE_FIELDS = (
    "bpm",
    "bpm_confidence",
    "key",
    "scale",
    "key_confidence",
    "loudness_lufs",
    "loudness_range",
    "replaygain_track_gain",
    "replaygain_track_peak",
    "danceability",
    "energy",
    "silence_start",
    "silence_end",
    "timbre",
    "features_extra",
    "analyzed_seconds",
    "analysis_backend",
    "analysis_version",
    "analysis_error",
)


JSON_FIELDS = ("timbre", "features_extra")


INTERNAL_FIELDS = ("inode", "device", "quick_hash", "folder", "sidecars")

# Every column of the tracks table.
TRACK_COLUMNS = (
    "id",
    "path",
    *FILE_FIELDS,
    "track_artist_id",
    "album_id",
    *TAG_FIELDS,
    *FEATURE_FIELDS,
    "analyzed_at",
    "date_added",
    "updated_at",
    "missing_since",
    "folder",
    "display_artist",
    "sort_title",
)


ARTIST_FIELDS = ("name", "musicbrainz_artistid")


ALBUM_FIELDS = ("title", "album_artist_id", "year", "musicbrainz_albumid")


TRACK_EDITABLE = ("track_artist_id", "album_id", *TAG_FIELDS)

# What the tag plugin's keys are called as columns (the others are the same on both sides).
TAG_TO_COLUMN = {
    "artist": "artist_name",
    "album": "album_title",
    "album_artist": "album_artist_name",
    "musicbrainz_recordingid": "musicbrainz_id",
}
INT_TAGS = (
    "compilation",
    "original_year",
    "track_number",
    "track_total",
    "disc_number",
    "disc_total",
    "year",
    "bitrate",
    "sample_rate",
    "channels",
)
TEXT_FEATURES = ("key", "scale", "analysis_backend", "analysis_version", "analysis_error")
# The JSON type each field takes in the API ("json": any JSON value).
TAG_TYPES: dict[str, type] = {
    f: int if f in INT_TAGS else float if f == "duration" or f in GAIN_TAGS else str
    for f in TAG_FIELDS
}
FEATURE_TYPES: dict[str, type | str] = {
    f: "json" if f in JSON_FIELDS else str if f in TEXT_FEATURES else float for f in FEATURE_FIELDS
}


# What a number may be, whoever sends it (REST, GraphQL, a worker): outside, a 422 naming the
# field. Wide enough for any real file, narrow enough to catch nonsense (year 99999, a negative
# track number or duration).
NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "track_number": (0, 9999),
    "track_total": (0, 9999),
    "disc_number": (0, 999),
    "disc_total": (0, 999),
    "year": (0, 9999),
    "original_year": (0, 9999),
    "compilation": (0, 1),
    "tagged_track_gain": (-64, 64),
    "tagged_album_gain": (-64, 64),
    "tagged_track_peak": (0, 100),
    "tagged_album_peak": (0, 100),
    "duration": (0, 7 * 86400),
    "bitrate": (0, 100_000_000),
    "sample_rate": (0, 10_000_000),
    "channels": (0, 255),
    "size": (0, 2**62),
    "mtime_ns": (0, 2**63 - 1),
}
