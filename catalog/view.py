"""``ctx.library``: what a plugin running in the web process may read of the library, and
nothing it could write. Plugins import none of SoniqueBay's internals (``tests/unit/
test_layering.py`` checks the contrib plugins); this is their door, documented in
``hookspecs.py`` and ``docs/plugins.md``."""

from __future__ import annotations

from typing import Any

from soniquebay import library
from soniquebay.catalog import Reads
from soniquebay.catalog import tracks as track_uses
from soniquebay.errors import NotFound
from soniquebay.library import sql, stage_data

MAX_TRACKS = 5000


class LibraryView:
    """Read-only: tracks as the API shows them (``path`` as text), each plugin's data."""

    TRACK_FILTERS = dict(library.tracks.TRACK_FILTERS)  # name -> type, as ``GET /api/tracks`` takes
    TRACK_SORTS = tuple(library.tracks.TRACK_SORTS)

    def __init__(self, db: Reads):
        self._db = db

    def track(self, track_id: int) -> dict[str, Any] | None:
        """One track as ``GET /api/tracks/{id}`` shows it, without the per-user part; None
        when there is no such track."""
        try:
            return track_uses.detail(self._db, track_id, None, "tags")
        except NotFound:
            return None

    def tracks(
        self,
        *,
        filters: dict[str, Any] | None = None,
        sort: str = "id",
        descending: bool = False,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Present tracks matching ``filters`` (:attr:`TRACK_FILTERS`), at most ``limit``
        (up to 5,000); an unknown filter or sort is a ValueError."""
        filters = dict(filters or {})
        unknown = set(filters) - set(self.TRACK_FILTERS)
        if unknown:
            raise ValueError(f"unknown track filter {sorted(unknown)[0]!r}")
        if sort not in self.TRACK_SORTS:
            raise ValueError(f"cannot sort tracks by {sort!r}")
        rows, _ = self._db.read(
            library.tracks.list_tracks,
            limit=max(1, min(limit, MAX_TRACKS)),
            sort=sort,
            descending=descending,
            filters=filters,
            with_total=False,
        )
        return [sql.public_track(r) for r in rows]

    def plugin_data(self, track_id: int, plugin: str) -> dict[str, Any]:
        """What ``plugin``'s stages stored for the track (empty: nothing, or no such track)."""
        return self._db.read(stage_data.plugin_data, [track_id])[track_id].get(plugin) or {}
