"""What a user starred, as every front door lists it: newest first, in the folders they see."""

from __future__ import annotations

import os
from typing import Any

from soniquebay import library
from soniquebay.catalog import Reads
from soniquebay.library import annotations, folders
from soniquebay.library.folders import Scope


def starred(db: Reads, user_id: int, within: Scope | None) -> dict[str, list[dict[str, Any]]]:
    """``{"track": rows, "album": rows, "artist": rows}`` the user starred, newest first; what
    lies in folders the user does not see (``within``) stays hidden, star kept."""
    ids = {kind: db.read(annotations.starred_ids, user_id, kind) for kind in annotations.KINDS}
    found = {
        "track": {r["id"]: r for r in db.read(library.tracks.tracks_by_ids, ids["track"])},
        "album": {r["id"]: r for r in db.read(library.albums.albums_by_ids, ids["album"])},
        "artist": {r["id"]: r for r in db.read(library.artists.artists_by_ids, ids["artist"])},
    }
    if within is not None:
        kept = {
            "track": {i for i, r in found["track"].items() if within.holds(os.fsencode(r["path"]))},
            "album": db.read(folders.albums_within, list(found["album"]), within),
            "artist": db.read(folders.artists_within, list(found["artist"]), within),
        }
        found = {k: {i: r for i, r in rows.items() if i in kept[k]} for k, rows in found.items()}
    return {kind: [found[kind][i] for i in ids[kind] if i in found[kind]] for kind in found}
