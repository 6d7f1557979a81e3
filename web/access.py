"""Who may do what, in one place: the scopes routes and GraphQL mutations ask for, and what
each kind of caller is granted.

- ``read``: browse and listen.
- ``write``: a listener's own things — stars, ratings, plays, playlists, queue, settings.
- ``catalog``: change the library for everyone — edit, create and delete tracks, artists and
  albums, accept a match, queue analysis, retry jobs. Admins; an API token an admin made with
  scope ``write`` (scripts that tag); the workers' token.
- ``pipeline``: what only the workers send — scanned files, stage results, missing files, scan
  errors, features and vectors. The workers' token and admins.
- ``admin``: users, tokens, rescans.

A listener (a signed-in user who is not an admin) holds ``read`` and ``write`` only: marking
tracks missing or planting a cover through GraphQL, or deleting an artist, is refused (403).
"""

from __future__ import annotations

NONE, READ, WRITE, CATALOG, PIPELINE, ADMIN = (
    "none", "read", "write", "catalog", "pipeline", "admin"
)  # fmt: skip

# A principal's scope -> what it may do. Tokens carry read, write or admin (accounts.SCOPES);
# a session is admin or listener; the workers' token is worker.
GRANTS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "read": frozenset({READ}),
    "listener": frozenset({READ, WRITE}),
    "write": frozenset({READ, WRITE, CATALOG}),
    "worker": frozenset({READ, WRITE, CATALOG, PIPELINE}),
    "admin": frozenset({READ, WRITE, CATALOG, PIPELINE, ADMIN}),
}

# Each GraphQL mutation's scope (a query needs read). A mutation missing here is refused.
MUTATIONS: dict[str, str] = {
    "ingest_tracks": PIPELINE,
    "store_stage_results": PIPELINE,
    "create_artists": PIPELINE,
    "create_albums": PIPELINE,
    "create_tracks": PIPELINE,
    "record_scan_errors": PIPELINE,
    "mark_missing": PIPELINE,
    "update_features": PIPELINE,
    "upsert_track_vectors": PIPELINE,
    "update_tracks": CATALOG,
    "delete_tracks": CATALOG,
}


def granted(scope: str, wanted: str) -> bool:
    return wanted == NONE or wanted in GRANTS.get(scope, frozenset())
