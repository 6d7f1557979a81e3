"""What every Subsonic endpoint is given, and the helpers they share to shape rows."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from soniquebay import library
from soniquebay.catalog import folders, tracks
from soniquebay.config import MusicFolder
from soniquebay.errors import InvalidInput, NotFound
from soniquebay.library import annotations, replaygain
from soniquebay.library import folders as folder_reads
from soniquebay.library.folders import Scope
from soniquebay.web import keys
from soniquebay.web.subsonic import shapes
from soniquebay.web.subsonic.auth import User
from soniquebay.web.subsonic.protocol import Params, SubsonicError, not_found

MAX_LIST = 500  # the most items one list answer holds, whatever the app asks


def found(fn, *args):
    """A storage read whose NotFound becomes Subsonic's error 70."""
    try:
        return fn(*args)
    except NotFound as exc:
        raise not_found(exc.message) from None


async def guarded(call: Call, fn, *args, **kwargs):
    """A write whose refusals are said in Subsonic's words (70 not found, 0 otherwise)."""
    try:
        return await call.write(fn, *args, **kwargs)
    except NotFound as exc:
        raise not_found(exc.message) from None
    except InvalidInput as exc:
        raise SubsonicError(SubsonicError.GENERIC, exc.message) from None


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

    @property
    def now_playing(self) -> dict:
        """What each user is playing now (``scrobble`` with ``submission=false``)."""
        return self.app[keys.NOW_PLAYING]

    @property
    def folders(self) -> tuple[MusicFolder, ...]:
        """The music folders this user sees."""
        return folders.visible(self.app[keys.SETTINGS].folders, self.user.folders)

    @functools.cached_property
    def scope(self) -> Scope | None:
        """What this call covers: the user's folders, narrowed to ``musicFolderId`` when the
        app gives one (None: the whole library). Every song, album and artist an answer holds
        is in it (:meth:`songs`, :meth:`albums`, :meth:`artists`)."""
        chosen = self.params.int("musicFolderId", None, 0, 10**6)
        try:
            return folders.scope(
                self.app[keys.SETTINGS].folders,
                self.user.folders,
                None if chosen is None else [chosen],
            )
        except NotFound as exc:
            raise not_found(exc.message) from None

    def holds(self, path: bytes | str) -> bool:
        """Whether a track at ``path`` is in the scope."""
        return self.scope is None or self.scope.holds(os.fsencode(path))

    def annotations(self, kind: str, ids: list[int]) -> dict[int, dict[str, Any]]:
        return self.read(annotations.of_items, self.user.id, kind, ids)

    def songs(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Track rows as songs: the library's display layers, the user's stars and plays."""
        settings = self.app[keys.SETTINGS]
        present = tracks.shown(
            self.app[keys.DB],
            [
                dict(r)
                for r in rows
                if r.get("missing_since") is None and self.holds(r.get("path") or b"")
            ],
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
        rows = {r["id"]: r for r in self.read(library.tracks.tracks_by_ids, ids)}
        return self.songs([rows[i] for i in ids if i in rows])

    def albums(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.scope is not None:
            seen = self.read(folder_reads.albums_within, [r["id"] for r in rows], self.scope)
            rows = [r for r in rows if r["id"] in seen]
        mine = self.annotations("album", [r["id"] for r in rows])
        return [shapes.album_id3(r, mine.get(r["id"])) for r in rows]

    def artists(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.scope is not None:
            seen = self.read(folder_reads.artists_within, [r["id"] for r in rows], self.scope)
            rows = [r for r in rows if r["id"] in seen]
        mine = self.annotations("artist", [r["id"] for r in rows])
        return [shapes.artist_id3(r, mine.get(r["id"])) for r in rows]
