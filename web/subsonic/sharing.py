"""Sharing: ``createShare``, ``getShares``, ``updateShare``, ``deleteShare`` — the same shares
as the web pages' "Share…" (one track, album or playlist per share; the link works without an
account while it lasts). ``expires`` is epoch milliseconds, as the spec has it."""

from __future__ import annotations

import time

from soniquebay import library
from soniquebay.library import shares
from soniquebay.web import keys
from soniquebay.web.shares import link
from soniquebay.web.subsonic.context import Call, guarded
from soniquebay.web.subsonic.protocol import SubsonicError, iso, parse_id


def _allowed(call: Call) -> None:
    if not call.user.shares:
        raise SubsonicError(SubsonicError.NOT_AUTHORIZED, "sharing is off for this user")


def _share(call: Call, row: dict) -> dict:
    """A share as the spec shows one, with the songs it holds that this user sees."""
    base = f"{call.request.scheme}://{call.request.host}"
    ids = call.read(shares.track_ids, row)
    out = {
        "id": str(row["id"]),
        "url": base + link(call.app[keys.SETTINGS], row["id"]),
        "description": row["description"],
        "username": call.user.name,
        "created": iso(row["created_at"]),
        "visitCount": row["visits"],
        "entry": call.songs_by_ids(ids),
    }
    if row["expires_at"] is not None:
        out["expires"] = iso(row["expires_at"])
    if row["last_visited_at"] is not None:
        out["lastVisited"] = iso(row["last_visited_at"])
    return out


def _expires(call: Call) -> float | None:
    raw = call.params.int("expires", None)
    return raw / 1000.0 if raw else None


def _share_id(call: Call) -> int:
    raw = call.params.required("id")
    if not raw.isdigit() or len(raw) > 18:
        raise SubsonicError(SubsonicError.NOT_FOUND, f"share {raw[:20]!r}")
    return int(raw)


async def create_share(call: Call) -> dict:
    _allowed(call)
    wanted = call.params.all("id")
    if len(wanted) != 1:
        raise SubsonicError(SubsonicError.GENERIC, "a share holds one song, album or playlist")
    kind, number = parse_id(wanted[0], "track", "album", "playlist")
    if kind == "track" and not call.songs_by_ids([number]):
        raise SubsonicError(SubsonicError.NOT_FOUND, f"song {number}")
    if kind == "album" and not call.albums(call.read(library.albums.grid_by_ids, [number])):
        raise SubsonicError(SubsonicError.NOT_FOUND, f"album {number}")
    made = await guarded(
        call, shares.create, call.user.id, kind, number,
        description=call.params.get("description") or "", expires_at=_expires(call),
    )  # fmt: skip
    return {"shares": {"share": [_share(call, made)]}}


async def get_shares(call: Call) -> dict:
    _allowed(call)
    now = time.time()
    rows = [
        r for r in call.read(shares.of_user, call.user.id)
        if r["expires_at"] is None or r["expires_at"] > now
    ]  # fmt: skip
    return {"shares": {"share": [_share(call, r) for r in rows]}}


async def update_share(call: Call) -> dict:
    _allowed(call)
    share_id = _share_id(call)
    description = call.params.get("description")
    expires = _expires(call) if call.params.get("expires") is not None else False
    await guarded(
        call, shares.update, call.user.id, share_id, description=description, expires_at=expires
    )
    return {}


async def delete_share(call: Call) -> dict:
    await guarded(call, shares.revoke, call.user.id, _share_id(call))
    return {}
