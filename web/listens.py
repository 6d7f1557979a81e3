"""Listens: the web player and Subsonic apps say what a user is playing and what they heard;
each becomes a :class:`soniquebay.records.Listen` handed to the plugins' ``on_listen`` hooks
(a scrobbler), in order, on a thread of their own, so a slow service never holds a request."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from soniquebay import library
from soniquebay.plugins import Plugins
from soniquebay.records import Listen, ListenedTrack
from soniquebay.web import keys

TRACK_FIELDS = tuple(ListenedTrack.__annotations__)


class ListenHooks:
    def __init__(self, plugins: Plugins):
        self.plugins = plugins
        self.wanted = bool(plugins.implementations("on_listen"))
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="on-listen")

    def submit(self, listen: Listen) -> None:
        if self.wanted:
            self._executor.submit(self._deliver, listen)

    def _deliver(self, listen: Listen) -> None:
        # Failures are logged and recorded against their plugin by each(); nothing to collect.
        list(self.plugins.each("on_listen", listen=listen))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)


def heard(
    app: web.Application,
    kind: str,
    user_id: int,
    username: str,
    track_id: int,
    *,
    at: float | None = None,
    client: str = "web player",
) -> None:
    """Tell the plugins: ``kind`` is ``playing`` (a track started) or ``played`` (it counted)."""
    hooks: ListenHooks = app[keys.LISTENS]
    if not hooks.wanted:
        return
    rows = app[keys.DB].read(library.tracks.tracks_by_ids, [track_id])
    if not rows:
        return
    track = ListenedTrack(**{f: rows[0].get(f) for f in TRACK_FIELDS})  # type: ignore[typeddict-item]
    hooks.submit(
        Listen(kind=kind, at=at or time.time(), user_id=user_id, username=username,
               client=client[:100], track=track)  # type: ignore[typeddict-item]
    )  # fmt: skip


async def listens_ctx(app: web.Application):
    app[keys.LISTENS] = hooks = ListenHooks(app[keys.PLUGINS])
    yield
    hooks.close()
