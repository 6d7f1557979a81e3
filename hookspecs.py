"""The plugin contract: every hook SoniqueBay calls, and what it expects back.

Plugins are modules (or objects) with functions decorated by ``hookimpl``::

    from soniquebay import hookimpl

    @hookimpl
    def track_added(track):
        print("new track:", track["title"])

Hooks are always called with keyword arguments; an implementation may accept any subset of the
arguments its spec names. Hooks marked *first result* stop at the first implementation that
returns something other than ``None``; the others collect every non-``None`` result in a list.
A plugin that raises is recorded against the track (``GET /api/scan/errors``) and the other
plugins still run.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "soniquebay"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def audio_extensions() -> list[str]:
    """File name extensions (lower case, with the dot) this plugin can read.

    Collected from every plugin; the watcher and the reconcile ignore any other file.
    Returns a list such as ``[".mp3", ".flac"]``.
    """


@hookspec(firstresult=True)
def read_tags(path: str) -> dict[str, Any] | None:
    """Read one file's tags and stream information. First result wins.

    ``path`` is the file's path as ``os.fsdecode`` gives it (undecodable bytes survive as
    surrogate escapes). Return a dict with any of: ``title``, ``artist``, ``album``,
    ``album_artist``, ``track_number``, ``track_total``, ``disc_number``, ``disc_total``,
    ``year``, ``genre``, ``duration``, ``bitrate``, ``sample_rate``, ``channels``, ``format``,
    ``musicbrainz_trackid``, ``musicbrainz_recordingid``, ``musicbrainz_albumid``,
    ``musicbrainz_artistid``, ``musicbrainz_albumartistid``. Return ``None`` when the file is not
    this plugin's kind; raise :class:`soniquebay.errors.BadAudioFile` when it is but cannot be read.
    """


@hookspec(firstresult=True)
def analyze_audio(path: str, settings: Any, max_seconds: float | None) -> dict[str, Any] | None:
    """Compute a track's audio features (tempo, key, loudness, ...). First result wins.

    Called by the ``analysis`` queue's workers after the tags are in. ``max_seconds`` caps the
    analysed span (``None``: the backend's own default). A backend that is disabled or cannot be
    imported returns ``None`` so the next one runs. The returned dict holds the feature columns
    plus ``analysis_backend`` and ``analysis_version``.
    """


@hookspec
def fingerprint_track(path: str, track: dict[str, Any], settings: Any) -> dict[str, Any] | None:
    """Compute an acoustic fingerprint; every result is collected and merged into the track."""


@hookspec
def enrich_track(track: dict[str, Any], settings: Any) -> dict[str, Any] | None:
    """Return extra metadata for a track (MusicBrainz ids, cover art, ...).

    Every result is collected; later plugins' keys win over earlier ones.
    """


@hookspec
def vectorize_track(track: dict[str, Any], settings: Any) -> dict[str, Any] | None:
    """Return ``{"name": str, "vector": list[float]}`` embeddings for a track; all are collected."""


@hookspec
def track_added(track: dict[str, Any]) -> None:
    """Announce that a track entered the library (called in the worker, after the API stored it)."""


@hookspec
def startup(settings: Any, process: str) -> None:
    """Called once when a SoniqueBay process starts: ``process`` is web, watch or worker."""
