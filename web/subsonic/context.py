"""What every Subsonic endpoint is given, and the helpers they share to shape rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from soniquebay.catalog import tracks
from soniquebay.library import annotations, queries, replaygain
from soniquebay.web import keys
from soniquebay.web.subsonic import shapes
from soniquebay.web.subsonic.auth import User
from soniquebay.web.subsonic.protocol import Params


@dataclass
class Call:
    request: web.Request
    params: Params
    user: User

    @property
    def app(self) -> web.Application:
        return self.request.app

    def read(self, fn, *args, **kwargs):
        return self.app[keys.DB].read(fn, *args, **kwargs)

    async def write(self, fn, *args, **kwargs):
        return await self.app[keys.DB].write(fn, *args, **kwargs)

    def annotations(self, kind: str, ids: list[int]) -> dict[int, dict[str, Any]]:
        return self.read(annotations.of_items, self.user.id, kind, ids)

    def songs(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Track rows as songs: the library's display layers, the user's stars and plays."""
        settings = self.app[keys.SETTINGS]
        present = tracks.shown(
            self.app[keys.DB],
            [dict(r) for r in rows if r.get("missing_since") is None],
            settings.metadata_prefer,
        )
        mine = self.annotations("track", [r["id"] for r in present])
        albums = self.read(replaygain.album_measures, [t.get("album_id") for t in present])
        return [
            shapes.child(
                t,
                mine.get(t["id"]),
                settings.library,
                replaygain.of_track(t, albums.get(t.get("album_id")), settings.replaygain_source),
            )
            for t in present
        ]

    def songs_by_ids(self, ids: list[int]) -> list[dict[str, Any]]:
        rows = {r["id"]: r for r in self.read(queries.tracks_by_ids, ids)}
        return self.songs([rows[i] for i in ids if i in rows])

    def albums(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        mine = self.annotations("album", [r["id"] for r in rows])
        return [shapes.album_id3(r, mine.get(r["id"])) for r in rows]

    def artists(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        mine = self.annotations("artist", [r["id"] for r in rows])
        return [shapes.artist_id3(r, mine.get(r["id"])) for r in rows]
