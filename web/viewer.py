"""The person asking, as the pages and per-user routes see them: who they are, what they keep
(stars, ratings, playlists), and tracks shown with the library's display layers."""

from __future__ import annotations

from aiohttp import web

from soniquebay.catalog import tracks
from soniquebay.errors import Forbidden
from soniquebay.library import annotations, playlists
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
