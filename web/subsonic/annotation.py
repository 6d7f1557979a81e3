"""Media annotation: stars, ratings, plays and "now playing" (``scrobble``): the very rows
the web UI shows."""

from __future__ import annotations

import time

from soniquebay import library
from soniquebay.library import annotations
from soniquebay.web.listens import heard
from soniquebay.web.subsonic.context import Call, guarded
from soniquebay.web.subsonic.protocol import SubsonicError, not_found, parse_id


def _starrable(call: Call) -> dict[str, list[int]]:
    wanted: dict[str, list[int]] = {"track": [], "album": [], "artist": []}
    for name, kinds in (("id", ()), ("albumId", ("album",)), ("artistId", ("artist",))):
        for raw in call.params.all(name):
            kind, number = (
                parse_id(raw, *kinds) if kinds else parse_id(raw, "track", "album", "artist")
            )
            wanted[kind].append(number)
    if not any(wanted.values()):
        raise SubsonicError(
            SubsonicError.MISSING, "Required parameter is missing: id, albumId or artistId"
        )
    return wanted


async def star(call: Call, on: bool = True) -> dict:
    for kind, ids in _starrable(call).items():
        if ids:
            await guarded(call, annotations.set_star, call.user.id, kind, ids, on)
    return {}


async def unstar(call: Call) -> dict:
    return await star(call, on=False)


async def set_rating(call: Call) -> dict:
    kind, number = parse_id(call.params.required("id"), "track", "album", "artist")
    rating = call.params.int("rating", None, -1, 99)
    if rating is None:
        raise SubsonicError(SubsonicError.MISSING, "Required parameter is missing: rating")
    await guarded(call, annotations.set_rating, call.user.id, kind, number, rating)
    return {}


async def scrobble(call: Call) -> dict:
    """``submission=true`` (the default): a play, counted at ``time`` (ms) for the track, its
    album and artist; ``false``: what the user is playing now."""
    submission = call.params.bool("submission", True)
    times = call.params.all("time")
    for n, raw in enumerate(call.params.all("id") or [call.params.required("id")]):
        _, track_id = parse_id(raw, "track")
        client = call.params.get("c") or ""
        if submission:
            at = int(times[n]) / 1000 if n < len(times) and times[n].isdigit() else None
            await guarded(call, annotations.record_play, call.user.id, track_id, at)
            heard(call.app, "played", call.user.id, call.user.name, track_id, at=at, client=client)
        else:
            if not call.read(library.tracks.tracks_by_ids, [track_id]):
                raise not_found(f"song {track_id}")
            call.now_playing[call.user.name] = (track_id, time.time(), client)
            heard(call.app, "playing", call.user.id, call.user.name, track_id, client=client)
    return {}
