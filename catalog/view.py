"""``ctx.library``: what a plugin running in the web process may read of the library, and the one
thing it may write: its own data on a track. Plugins import none of SoniqueBay's internals
(``tests/unit/test_layering.py`` checks the contrib plugins); this is their door, documented in
``hookspecs.py`` and ``docs/plugins.md``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from soniquebay import library
from soniquebay.catalog import Writes
from soniquebay.catalog import tracks as track_uses
from soniquebay.errors import NotFound
from soniquebay.library import sql, stage_data

MAX_TRACKS = 5000


class LibraryView:
    """Tracks as the API shows them (``path`` as text), each plugin's data; and, for the plugin
    it is bound to (:meth:`for_plugin`: each plugin's ``ctx.library``), :meth:`keep`."""

    TRACK_FILTERS = dict(library.tracks.TRACK_FILTERS)  # name -> type, as ``GET /api/tracks`` takes
    TRACK_SORTS = tuple(library.tracks.TRACK_SORTS)

    def __init__(
        self,
        db: Writes,
        announce: Callable[[list[dict[str, Any]]], None] | None = None,
        stages_of: Callable[[str], list[str]] | None = None,
        plugin: str | None = None,
    ):
        self._db = db
        self._announce = announce  # a track's change, to the pipeline and the event stream
        self._stages_of = stages_of  # plugin name -> its stages' names
        self._plugin = plugin

    def for_plugin(self, plugin: str) -> LibraryView:
        return LibraryView(self._db, self._announce, self._stages_of, plugin)

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

    async def keep(self, track_id: int, fields: dict[str, Any], *, rerun: bool = False) -> None:
        """Merge ``fields`` into this plugin's own data for the track (a user's choice the
        plugin's stages read, such as an accepted match): the one write a plugin has. With
        ``rerun``, the plugin's stages run on the track again. A LookupError when there is no
        such track; a ValueError for fields JSON cannot hold."""
        if self._plugin is None:
            raise RuntimeError("keep() writes a plugin's own data: use the plugin's ctx.library")
        try:
            track = self._db.read(library.tracks.get_track, track_id)
        except NotFound:
            raise LookupError(f"track {track_id} does not exist") from None
        json.dumps(fields)  # a ValueError/TypeError here, before anything is written
        stages = (self._stages_of(self._plugin) if self._stages_of else []) if rerun else []
        await self._db.write(
            stage_data.set_plugin_fields, track_id, self._plugin, dict(fields), rerun=stages
        )
        if self._announce:
            self._announce([{**track, "change": f"{self._plugin} data"}])

    def user_data(self, user_id: int) -> dict[str, Any]:
        """What this plugin keeps for the user (empty: nothing yet)."""
        if self._plugin is None:
            raise RuntimeError("user_data is a plugin's own: use the plugin's ctx.library")
        return self._db.read(stage_data.user_data, user_id, self._plugin)

    async def keep_user_data(self, user_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Merge ``fields`` into what this plugin keeps for the user (``None`` removes a key):
        a service's session, a preference. Returns the whole of it."""
        if self._plugin is None:
            raise RuntimeError("keep_user_data is a plugin's own: use the plugin's ctx.library")
        json.dumps(fields)
        return await self._db.write(stage_data.keep_user_data, user_id, self._plugin, dict(fields))
