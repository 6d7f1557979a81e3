"""The person asking, as the pages and per-user routes see them: who they are, what they keep
(stars, ratings, playlists), the music folders they see, and tracks shown with the library's
display layers."""

from __future__ import annotations

import os

from aiohttp import web

from soniquebay.catalog import folders as catalog_folders
from soniquebay.catalog import tracks
from soniquebay.config import MusicFolder
from soniquebay.errors import Forbidden, NotFound
from soniquebay.library import annotations, folders, playlists
from soniquebay.library.folders import Scope
from soniquebay.web import keys


def user_id(request: web.Request) -> int | None:
    principal = request.get("principal")
    return principal.user_id if principal else None


def user_of(request: web.Request) -> int:
    """The asking user's id; a credential with no user (the worker token, a token made from
    the command line) gets a 403."""
    found = request["principal"].user_id
    if found is None:
        raise Forbidden(
            "this needs a user: log in, or use a token made by a signed-in user",
            details={"needs": "user"},
        )
    return found


def stars_of(request: web.Request, kind: str, ids: list[int]) -> set[int]:
    found = request.app[keys.DB].read(annotations.of_items, user_id(request), kind, ids)
    return {i for i, row in found.items() if row["starred_at"]}


def rating_of(request: web.Request, kind: str, item_id: int) -> int:
    """This user's 1–5 rating of the item (0: none), shared with the Subsonic API."""
    found = request.app[keys.DB].read(annotations.of_items, user_id(request), kind, [item_id])
    return (found.get(item_id) or {}).get("rating") or 0


def my_playlists(request: web.Request) -> list[dict]:
    uid = user_id(request)
    return request.app[keys.DB].read(playlists.list_playlists, uid) if uid else []


def shown_tracks(app: web.Application, rows: list[dict]) -> list[dict]:
    """Track rows as the library shows them: public, with ``display`` (edits and layers
    applied, in the ``metadata_prefer`` order)."""
    return tracks.rows_shown(app[keys.DB], rows, app[keys.SETTINGS].metadata_prefer)


# ---------------------------------------------------------------- music folders


def folders_seen(request: web.Request) -> tuple[MusicFolder, ...]:
    """The music folders the asking account sees."""
    principal = request.get("principal")
    allowed = principal.folders if principal else None
    return catalog_folders.visible(request.app[keys.SETTINGS].folders, allowed)


def scope(request: web.Request, chosen: int | None = None) -> Scope | None:
    """What the asking account sees (None: the whole library), narrowed to the folder
    ``chosen`` (the pages' folder picker) when given."""
    principal = request.get("principal")
    return catalog_folders.scope(
        request.app[keys.SETTINGS].folders,
        principal.folders if principal else None,
        None if chosen is None else [chosen],
    )


def held(request: web.Request, rows: list[dict]) -> list[dict]:
    """The track rows in folders the asking account sees."""
    within = scope(request)
    if within is None:
        return rows
    return [r for r in rows if within.holds(os.fsencode(r.get("path") or b""))]


def check_track(request: web.Request, row: dict) -> dict:
    """The track row, or NotFound when it is in a folder the account does not see (as if it
    did not exist: nothing says it does)."""
    if not held(request, [row]):
        raise NotFound(f"track {row['id']} does not exist", details={"id": row["id"]})
    return row


def check_album(request: web.Request, album_id: int) -> None:
    _check(request, "album", folders.albums_within, album_id)


def check_artist(request: web.Request, artist_id: int) -> None:
    _check(request, "artist", folders.artists_within, artist_id)


def _check(request: web.Request, kind: str, within_fn, item_id: int) -> None:
    """NotFound when the item is in no folder the account sees (as if it did not exist)."""
    within = scope(request)
    if within is not None and not request.app[keys.DB].read(within_fn, [item_id], within):
        raise NotFound(f"{kind} {item_id} does not exist", details={"id": item_id})


def refuse_listeners(request: web.Request, what: str) -> None:
    """A listener's session never sees file-system paths or the service's workings."""
    principal = request.get("principal")
    if principal is not None and not principal.sees_files:
        raise Forbidden(f"{what} is for administrators", details={"needs": "admin"})
