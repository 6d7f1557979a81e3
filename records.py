"""The rows the library's façade answers, as ``TypedDict`` shapes: what a reader, a front door
or a plugin can count on finding in a track, an album, an artist, a stage's result.

Shapes, not classes: rows stay the plain dicts SQLite gives (no copy, no conversion on a page
of 500 tracks), and a type checker or a reader follows them from ``library.tracks.get_track``
to the template. Epoch seconds are floats; ids are ints. A test checks each shape against the
columns the database really answers (tests/unit/test_records.py).
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class Track(TypedDict):
    """A row of ``tracks``: every column (``library.fields.TRACK_COLUMNS``), as stored."""

    id: int
    path: bytes  # the file's path as the file system has it (not always UTF-8)
    size: int
    mtime_ns: int
    inode: int | None
    device: int | None
    quick_hash: str | None
    title: str | None
    track_artist_id: int | None
    album_id: int | None
    artist_name: str | None
    album_title: str | None
    album_artist_name: str | None
    track_number: int | None
    track_total: int | None
    disc_number: int | None
    disc_total: int | None
    year: int | None
    genre: str | None
    duration: float | None
    bitrate: int | None
    sample_rate: int | None
    channels: int | None
    format: str | None
    musicbrainz_id: str | None
    musicbrainz_trackid: str | None
    musicbrainz_albumid: str | None
    musicbrainz_artistid: str | None
    musicbrainz_albumartistid: str | None
    bpm: float | None
    bpm_confidence: float | None
    key: str | None
    scale: str | None
    key_confidence: float | None
    loudness_lufs: float | None
    loudness_range: float | None
    replaygain_track_gain: float | None
    replaygain_track_peak: float | None
    danceability: float | None
    energy: float | None
    silence_start: float | None
    silence_end: float | None
    timbre: str | None  # JSON text in storage; the API shows it decoded
    features_extra: str | None  # JSON text, as timbre
    analyzed_seconds: float | None
    analysis_backend: str | None
    analysis_version: str | None
    analyzed_at: float | None
    analysis_error: str | None
    date_added: float
    updated_at: float
    missing_since: float | None  # set while the file is gone; the row and its history stay
    compilation: int | None
    composer: str | None
    performer: str | None
    artist_sort: str | None
    album_artist_sort: str | None
    title_sort: str | None
    original_year: int | None
    disc_subtitle: str | None
    release_type: str | None
    album_version: str | None
    sort_title: str | None
    folder: bytes | None  # the directory, for per-folder album grouping
    sidecars: str | None  # JSON {".lrc": "size:mtime_ns"} of files beside it a stage reads
    display_artist: str | None
    tagged_track_gain: float | None
    tagged_track_peak: float | None
    tagged_album_gain: float | None
    tagged_album_peak: float | None


class PublicTrack(TypedDict, total=False):
    """A track as the API shows it (``library.sql.public_track``): a :class:`Track` without
    ``inode``, ``device``, ``quick_hash``, ``folder`` and ``sidecars``, its path readable text,
    ``timbre``/``features_extra`` decoded, and ``missing`` said plainly. Total=False: a
    projection (an album's tracks for Subsonic) carries fewer columns."""

    id: int
    path: str
    title: str | None
    artist_name: str | None
    album_title: str | None
    album_id: int | None
    track_artist_id: int | None
    duration: float | None
    missing: bool
    timbre: dict[str, Any] | None
    features_extra: dict[str, Any] | None


class Ref(TypedDict):
    id: int
    name: str


class Credits(TypedDict):
    """A track's credits as the grouping stored them (``library.tracks.credits``)."""

    artists: list[Ref]
    album_artists: list[Ref]
    composers: list[Ref]
    performers: list[Ref]
    genres: list[str]


class Album(TypedDict):
    """An album (``library.albums.ALBUM_COLUMNS``): its row, its artist's name, its present
    tracks counted."""

    id: int
    title: str
    album_artist_id: int | None
    album_artist_name: str | None
    year: int | None
    musicbrainz_albumid: str | None
    created_at: float
    updated_at: float
    disc_total: int | None
    release_type: str | None
    compilation: int
    from_folder: int  # 1: grouped by folder (untagged files), not by tags
    disc_subtitles: str | None  # JSON {"2": "Live"}
    track_count: int


class AlbumCard(Album):
    """An album as the grid, lists and Subsonic show it (``library.albums.GRID_COLUMNS``)."""

    duration: float  # seconds, of its present tracks
    genre: str | None  # its first track's


class Artist(TypedDict):
    """An artist (``library.artists.ARTIST_COLUMNS``)."""

    id: int
    name: str
    sort_name: str  # the sort tag, else the name
    musicbrainz_artistid: str | None
    created_at: float
    updated_at: float
    track_count: int


class ArtistCard(TypedDict):
    """An artist as people browse them (``library.artists.ARTIST_CARD``)."""

    id: int
    name: str
    sort_name: str
    album_count: int
    track_count: int
    cover_album_id: int | None  # an album whose cover stands for them


class ArtistAlbums(TypedDict):
    """``library.albums.artist_albums``: what they head, and where else they appear."""

    own: list[AlbumCard]
    appears_on: list[Album]
    composed: list[Album]
    performed: list[Album]


class Genre(TypedDict):
    name: str
    track_count: int
    album_count: int


class Found(TypedDict):
    """Search results by kind (``library.search``), best first."""

    artists: list[ArtistCard]
    albums: list[AlbumCard]
    tracks: list[Track]


class ScanError(TypedDict):
    """A file the scan refused (``id`` set) or a stage that failed on a track (``track_id``)."""

    id: int | None
    track_id: int | None
    path: str
    size: int | None
    stage: str
    plugin: str | None
    reason: str
    first_seen: float
    last_seen: float
    occurrences: int


class Totals(TypedDict):
    tracks: int
    missing_tracks: int
    albums: int
    artists: int
    scan_errors: int


StageStatus = Literal["done", "failed", "skipped"]
Stores = Literal["features", "vectors", "data"]


class _StageResultKeys(TypedDict):
    track_id: int
    stage: str
    plugin: str
    version: str
    inputs: str
    status: StageStatus
    stores: Stores


class StageResult(_StageResultKeys, total=False):
    """What a worker sends back for one stage of one track (``library.stage_data.
    store_results``): ``fields`` when done (where ``stores`` says), ``error`` when failed."""

    fields: dict[str, Any]
    error: str


class ToAnalyze(TypedDict):
    track_id: int
    path: str


class Listen(TypedDict):
    """Someone listening (the ``on_listen`` hook): ``playing`` when a track starts, ``played``
    when a play counts (half the track or 4 minutes in the web player; an app's scrobble)."""

    kind: Literal["playing", "played"]
    at: float  # when it started (played: the play's time, as apps send it)
    user_id: int
    username: str
    client: str  # "web player", or the Subsonic app's name
    track: ListenedTrack


class ListenedTrack(TypedDict):
    id: int
    title: str | None
    artist_name: str | None
    album_title: str | None
    album_artist_name: str | None
    track_number: int | None
    duration: float | None
    musicbrainz_trackid: str | None  # the recording's MusicBrainz id, when tagged
