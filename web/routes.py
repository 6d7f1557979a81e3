"""Every route of the web process and the access it needs, in one table.

The auth middleware reads a request's scope from here (``none``, ``read``, ``write``,
``catalog``, ``pipeline`` or ``admin``: :mod:`soniquebay.web.access` says who holds which), so a
route cannot exist without saying who may call it. GraphQL asks ``read`` at the door; its
handler asks each mutation's own scope (``access.MUTATIONS``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from soniquebay.config import Settings
from soniquebay.plugins.routes import changes_the_catalog
from soniquebay.web import (
    account_pages,
    browse_pages,
    covers,
    duplicates_api,
    health,
    jobs_api,
    keys,
    listening,
    listening_pages,
    openapi,
    pages,
    rest,
    stream,
    track_pages,
)
from soniquebay.web.access import ADMIN, CATALOG, NONE, PIPELINE, READ, WRITE
from soniquebay.web.events_stream import handle_events, handle_ws
from soniquebay.web.gql.transport import graphiql_page, handle_graphql
from soniquebay.web.metrics import handle_metrics
from soniquebay.web.subsonic import dispatch as subsonic

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    scope: str
    # It answers within the asking account's music folders: an account kept to some folders
    # may use it. Every other route covers the whole library, and such an account gets a 403.
    folders: bool = False


F = True  # a route that honours music folders (for readability in the table below)


def table(settings: Settings) -> list[Route]:
    r = Route
    return [
        # open to anyone: liveness, signing in, static files, the API's own description
        r("GET", "/api/health", health.handle_health, NONE),
        r("GET", "/login", account_pages.login_page, NONE),
        r("POST", "/login", account_pages.login, NONE),
        r("GET", "/static/{name}", pages.static_file, NONE),
        r("GET", "/api/openapi.json", openapi.handle_openapi, NONE),
        r("GET", "/api/docs", openapi.handle_docs, NONE),
        r("GET", "/api/graphql", graphiql_page, NONE),  # the console page; queries are POSTs
        r("GET", "/metrics", handle_metrics, NONE if settings.metrics_public else READ),
        # pages: browsing
        r("GET", "/", browse_pages.albums_page, READ, F),
        r("GET", "/albums", browse_pages.albums_page, READ, F),
        r("GET", "/albums/{id}", browse_pages.album_page, READ, F),
        r("GET", "/artists", browse_pages.artists_page, READ, F),
        r("GET", "/artists/{id}", browse_pages.artist_page, READ, F),
        r("GET", "/tracks", browse_pages.tracks_page, READ, F),
        r("GET", "/genres", browse_pages.genres_page, READ, F),
        r("GET", "/search", browse_pages.search_page, READ, F),
        r("GET", "/tracks/{id}", track_pages.track_page, READ, F),
        r("GET", "/tracks/{id}/path", listening_pages.path_page, READ, F),
        r("POST", "/tracks/{id}/edit", track_pages.track_edit_form, CATALOG),
        r("POST", "/albums/{id}/edit", track_pages.album_edit_form, CATALOG),
        r("POST", "/albums/{id}/revert", track_pages.album_revert_form, CATALOG),
        # pages: each user's own listening
        r("GET", "/playlists", listening_pages.playlists_page, READ, F),
        r("POST", "/playlists", listening_pages.create_form, WRITE, F),
        r("POST", "/playlists/add", listening_pages.add_form, WRITE, F),
        r("POST", "/playlists/import", listening_pages.import_form, WRITE, F),
        r("GET", "/playlists/{id}", listening_pages.playlist_page, READ, F),
        r("POST", "/playlists/{id}/rename", listening_pages.rename_form, WRITE, F),
        r("POST", "/playlists/{id}/delete", listening_pages.delete_form, WRITE, F),
        r("POST", "/playlists/{id}/move", listening_pages.move_form, WRITE, F),
        r("POST", "/playlists/{id}/remove", listening_pages.remove_form, WRITE, F),
        r("GET", "/favourites", listening_pages.favourites_page, READ, F),
        r("POST", "/stars/{kind}/{id}", listening_pages.star_form, WRITE, F),
        r("POST", "/ratings/{kind}/{id}", listening_pages.rating_form, WRITE, F),
        # pages: the library's workings
        r("GET", "/activity", pages.activity_page, READ),
        r("POST", "/activity/rescan", pages.rescan_form, ADMIN),
        r("GET", "/settings", pages.settings_page, READ, F),
        r("POST", "/settings/subsonic-password", pages.subsonic_password_form, WRITE, F),
        r("POST", "/settings/api-key", pages.api_key_form, WRITE, F),
        r("POST", "/settings/theme", pages.theme_form, WRITE, F),
        r("GET", "/users", pages.users_page, ADMIN),
        r("POST", "/users", pages.users_create_form, ADMIN),
        r("POST", "/users/{id}/delete", pages.users_delete_form, ADMIN),
        r("POST", "/users/{id}/folders", pages.users_folders_form, ADMIN),
        r("GET", "/errors", pages.errors_page, READ),
        r("GET", "/plugins", pages.plugins_page, READ),
        r("POST", "/logout", account_pages.logout, WRITE, F),
        r("GET", "/tokens", account_pages.tokens_page_get, ADMIN),
        r("POST", "/tokens", account_pages.tokens_page_create, ADMIN),
        r("POST", "/tokens/{id}/revoke", account_pages.tokens_page_revoke, ADMIN),
        # the API
        r("POST", "/api/graphql", handle_graphql, READ),
        r("GET", "/api/events", handle_events, READ),
        r("GET", "/api/ws", handle_ws, READ),
        r("POST", "/api/tracks/analyze-audio", jobs_api.analyze_audio, CATALOG),
        r("GET", "/api/tracks", rest.list_tracks, READ),
        r("POST", "/api/tracks", rest.create_track, CATALOG),
        r("GET", "/api/tracks/{id}", rest.get_track, READ),
        r("PUT", "/api/tracks/{id}", rest.put_track, CATALOG),
        r("PATCH", "/api/tracks/{id}", rest.patch_track, CATALOG),
        r("DELETE", "/api/tracks/{id}", rest.delete_track, CATALOG),
        r("PUT", "/api/tracks/{id}/features", rest.put_features, PIPELINE),
        r("DELETE", "/api/tracks/{id}/edits", rest.revert_edits, CATALOG),
        r("GET", "/api/artists", rest.list_artists, READ),
        r("POST", "/api/artists", rest.create_artist, CATALOG),
        r("GET", "/api/artists/{id}", rest.get_artist, READ),
        r("PUT", "/api/artists/{id}", rest.put_artist, CATALOG),
        r("PATCH", "/api/artists/{id}", rest.patch_artist, CATALOG),
        r("DELETE", "/api/artists/{id}", rest.delete_artist, CATALOG),
        r("GET", "/api/artists/{id}/albums", rest.artist_albums, READ),
        r("GET", "/api/artists/{id}/tracks", rest.artist_tracks, READ),
        r("GET", "/api/albums", rest.list_albums, READ),
        r("POST", "/api/albums", rest.create_album, CATALOG),
        r("GET", "/api/albums/{id}", rest.get_album, READ),
        r("PUT", "/api/albums/{id}", rest.put_album, CATALOG),
        r("PATCH", "/api/albums/{id}", rest.patch_album, CATALOG),
        r("DELETE", "/api/albums/{id}", rest.delete_album, CATALOG),
        r("DELETE", "/api/albums/{id}/edits", rest.revert_album_edits, CATALOG),
        r("GET", "/api/albums/{id}/tracks", rest.album_tracks, READ),
        r("GET", "/api/albums/{id}/cover", covers.album_cover, READ, F),
        r("GET", "/api/tracks/{id}/cover", covers.track_cover, READ, F),
        r("GET", "/api/tracks/{id}/stream", stream.stream, READ, F),
        r("POST", "/api/tracks/{id}/plays", listening.record_play, WRITE, F),
        r("POST", "/api/tracks/{id}/playback-errors", listening.playback_error, WRITE, F),
        r("GET", "/api/tracks/{id}/similar", listening.similar, READ, F),
        r("GET", "/api/tracks/{id}/mix", listening.mix, READ, F),
        r("GET", "/api/tracks/{id}/path", listening.path, READ, F),
        r("GET", "/api/player/tracks", listening.player_tracks, READ, F),
        r("GET", "/api/search", listening.search, READ, F),
        r("GET", "/api/search/semantic", listening.semantic_search, READ, F),
        r("GET", "/api/playlists", listening.list_playlists, READ, F),
        r("POST", "/api/playlists", listening.create_playlist, WRITE, F),
        r("POST", "/api/playlists/import", listening.import_playlist, WRITE, F),
        r("GET", "/api/playlists/{id}", listening.get_playlist, READ, F),
        r("PATCH", "/api/playlists/{id}", listening.patch_playlist, WRITE, F),
        r("DELETE", "/api/playlists/{id}", listening.delete_playlist, WRITE, F),
        r("POST", "/api/playlists/{id}/tracks", listening.add_playlist_tracks, WRITE, F),
        r("GET", "/api/playlists/{id}/m3u8", listening.export_playlist, READ, F),
        r("GET", "/api/stars", listening.list_stars, READ, F),
        r("PUT", "/api/stars/{kind}/{id}", listening.star, WRITE, F),
        r("DELETE", "/api/stars/{kind}/{id}", listening.star, WRITE, F),
        r("PUT", "/api/ratings/{kind}/{id}", listening.rate, WRITE, F),
        r("GET", "/api/tracks/{id}/duplicates", duplicates_api.track_duplicates, READ),
        r("GET", "/api/duplicates", duplicates_api.list_duplicates, READ),
        r("GET", "/api/track-vectors/", rest.list_vectors, READ),
        r("POST", "/api/track-vectors/", rest.create_vector, PIPELINE),
        r("GET", "/api/track-vectors/{id}", rest.get_vector, READ),
        r("PUT", "/api/track-vectors/{id}", rest.put_vector, PIPELINE),
        r("DELETE", "/api/track-vectors/{id}", rest.delete_vector, PIPELINE),
        r("GET", "/api/jobs", jobs_api.list_jobs, READ),
        r("POST", "/api/jobs/{id}/retry", jobs_api.retry_job, CATALOG),
        r("POST", "/api/jobs/{id}/cancel", jobs_api.cancel_job, CATALOG),
        r("GET", "/api/tokens", account_pages.list_tokens, ADMIN),
        r("POST", "/api/tokens", account_pages.create_token, ADMIN),
        r("DELETE", "/api/tokens/{id}", account_pages.delete_token, ADMIN),
        r("GET", "/api/scan/errors", rest.list_scan_errors, READ),
        r("GET", "/api/plugins", rest.list_plugins, READ),
        r("POST", "/api/library/files", rest.library_files, PIPELINE),  # for the watcher
        # apps: the Subsonic API authenticates its own way (u+t+s, p, apiKey): see subsonic.auth
        r("GET", "/rest/{method}", subsonic.handle, NONE),
        r("POST", "/rest/{method}", subsonic.handle, NONE),
    ]


def plugin_route(route: web.RouteDef) -> Route:
    """A route a plugin added: reading needs read access, anything else write access, or the
    catalogue's when its handler says it changes the library for everyone
    (:func:`soniquebay.plugins.routes.changes_catalog`)."""
    scope = READ if route.method in ("GET", "HEAD") else WRITE
    if scope == WRITE and changes_the_catalog(route.handler):
        scope = CATALOG
    return Route(route.method, route.path, route.handler, scope)


def install(app: web.Application, routes: list[Route]) -> None:
    """Add the routes, remembering each one's scope for the auth middleware."""
    scopes: dict[tuple[str, str], str] = {}
    aware: set[tuple[str, str]] = set()
    for route in routes:
        if route.method == "GET":
            app.router.add_get(route.path, route.handler)  # and HEAD, as web.get() did
        else:
            app.router.add_route(route.method, route.path, route.handler)
        scopes[(route.method, route.path)] = route.scope
        if route.method == "GET":
            scopes[("HEAD", route.path)] = route.scope
        if route.folders:
            aware.update({(route.method, route.path), ("HEAD", route.path)})
    app[keys.SCOPES] = scopes
    app[keys.FOLDER_AWARE] = aware
