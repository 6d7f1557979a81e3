"""Every route of the web process and the access it needs, in one table.

The auth middleware reads a request's scope from here (``none``, ``read``, ``write``,
``catalog``, ``pipeline`` or ``admin``: :mod:`soniquebay.web.access` says who holds which), so a
route cannot exist without saying who may call it. GraphQL asks ``read`` at the door; its
handler asks each mutation's own scope (``access.MUTATIONS``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from soniquebay import library
from soniquebay.config import Settings
from soniquebay.plugins.routes import changes_the_catalog
from soniquebay.web import (
    account_pages,
    browse_pages,
    covers,
    downloads,
    duplicates_api,
    health,
    jobs_api,
    keys,
    listening,
    listening_pages,
    openapi,
    pages,
    rest,
    shares,
    stream,
    track_pages,
)
from soniquebay.web.access import ADMIN, CATALOG, NONE, PIPELINE, READ, WRITE
from soniquebay.web.api_doc import (
    CRUD,
    KIND_ID,
    PAGE,
    PID,
    SIZE,
    TRACK_LIST,
    missing,
    op,
    path_param,
    q,
    sort,
)
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
    doc: dict[str, Any] | None = None  # its OpenAPI operation (api_doc.op): API routes have one


F = True  # a route that honours music folders (for readability in the table below)


def table(settings: Settings) -> list[Route]:
    r = Route
    return [
        # open to anyone: liveness, signing in, static files, the API's own description
        r(
            "GET",
            "/api/health",
            health.handle_health,
            NONE,
            doc=op(
                "Redis, database, workers, queues, watcher, library folders", "system", public=True
            ),
        ),
        # a shared link: anyone who has it, while it lasts (checked by its signature)
        r("GET", "/s/{link}", shares.visit_page, NONE, F),
        r("GET", "/s/{link}/cover", shares.visit_cover, NONE, F),
        r("GET", "/s/{link}/download", shares.visit_download, NONE, F),
        r("GET", "/s/{link}/tracks/{track_id}/stream", shares.visit_stream, NONE, F),
        r("GET", "/login", account_pages.login_page, NONE),
        r("POST", "/login", account_pages.login, NONE),
        r("GET", "/static/{name}", pages.static_file, NONE),
        r(
            "GET",
            "/api/openapi.json",
            openapi.handle_openapi,
            NONE,
            doc=op("This document", "system", public=True),
        ),
        r(
            "GET",
            "/api/docs",
            openapi.handle_docs,
            NONE,
            doc=op(
                "This document, for people (HTML)", "system", public=True, content_type="text/html"
            ),
        ),
        r(
            "GET",
            "/api/graphql",
            graphiql_page,
            NONE,
            doc=op(
                "A query console for people (HTML)",
                "graphql",
                public=True,
                content_type="text/html",
            ),
        ),  # the console page; queries are POSTs
        r(
            "GET",
            "/metrics",
            handle_metrics,
            NONE if settings.metrics_public else READ,
            doc=op("Prometheus metrics", "system", content_type="text/plain"),
        ),
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
        r("GET", "/shares", shares.shares_page, READ, F),
        r("POST", "/shares", shares.share_form, WRITE, F),
        r("POST", "/shares/{id}/revoke", shares.revoke_form, WRITE, F),
        r("POST", "/stars/{kind}/{id}", listening_pages.star_form, WRITE, F),
        r("POST", "/ratings/{kind}/{id}", listening_pages.rating_form, WRITE, F),
        # pages: the library's workings
        r("GET", "/activity", pages.activity_page, READ),
        r("POST", "/activity/rescan", pages.rescan_form, ADMIN),
        r("GET", "/settings", pages.settings_page, READ, F),
        r("POST", "/settings/password", pages.password_form, WRITE, F),
        r("POST", "/settings/subsonic-password", pages.subsonic_password_form, WRITE, F),
        r("POST", "/settings/api-key", pages.api_key_form, WRITE, F),
        r("POST", "/settings/theme", pages.theme_form, WRITE, F),
        r("GET", "/users", pages.users_page, ADMIN),
        r("POST", "/users", pages.users_create_form, ADMIN),
        r("POST", "/users/{id}/delete", pages.users_delete_form, ADMIN),
        r("POST", "/users/{id}/folders", pages.users_folders_form, ADMIN),
        r("POST", "/users/{id}/downloads", pages.users_downloads_form, ADMIN),
        r("POST", "/users/{id}/shares", pages.users_shares_form, ADMIN),
        r("POST", "/users/{id}/password", pages.users_password_form, ADMIN),
        r("POST", "/users/{id}/role", pages.users_role_form, ADMIN),
        r("GET", "/errors", pages.errors_page, READ),
        r("GET", "/plugins", pages.plugins_page, READ),
        r("POST", "/logout", account_pages.logout, WRITE, F),
        r("GET", "/tokens", account_pages.tokens_page_get, ADMIN),
        r("POST", "/tokens", account_pages.tokens_page_create, ADMIN),
        r("POST", "/tokens/{id}/revoke", account_pages.tokens_page_revoke, ADMIN),
        # the API
        r(
            "POST",
            "/api/graphql",
            handle_graphql,
            READ,
            doc=op(
                "GraphQL queries and batch mutations (mutations need write scope)",
                "graphql",
                body="GraphQLRequest",
            ),
        ),
        r(
            "GET",
            "/api/events",
            handle_events,
            READ,
            doc=op(
                "Server-Sent Events; reconnect with Last-Event-ID to replay what was missed",
                "events",
                params=[
                    q("channels", str, "comma-separated: progress, notifications"),
                    q("last_event_id", str),
                ],
                content_type="text/event-stream",
            ),
        ),
        r(
            "GET",
            "/api/ws",
            handle_ws,
            READ,
            doc=op(
                "The same events over WebSocket: {id, channel, event} messages",
                "events",
                params=[q("channels", str), q("last_event_id", str)],
                ok=101,
                content_type="application/json",
            ),
        ),
        r(
            "POST",
            "/api/tracks/analyze-audio",
            jobs_api.analyze_audio,
            CATALOG,
            doc=op(
                "Queue audio analysis (given ids, or every track without features); returns RQ job ids",
                "tracks",
                body="AnalyzeAudio",
                ok=202,
            ),
        ),
        r(
            "GET",
            "/api/tracks",
            rest.list_tracks,
            READ,
            doc=op(
                "List tracks: filters, sort, limit/offset or cursor",
                "tracks",
                params=TRACK_LIST,
                result="Page",
            ),
        ),
        r(
            "POST",
            "/api/tracks",
            rest.create_track,
            CATALOG,
            doc=op("Create a track", "tracks", body="TrackCreate", ok=201, result="Track"),
        ),
        r(
            "GET",
            "/api/tracks/{id}",
            rest.get_track,
            READ,
            doc=missing(op("Get a track", "tracks", params=PID, result="Track")),
        ),
        r(
            "PUT",
            "/api/tracks/{id}",
            rest.put_track,
            CATALOG,
            doc=missing(
                op(
                    "Replace a track's editable fields",
                    "tracks",
                    params=PID,
                    body="TrackUpdate",
                    result="Track",
                )
            ),
        ),
        r(
            "PATCH",
            "/api/tracks/{id}",
            rest.patch_track,
            CATALOG,
            doc=missing(
                op(
                    "Change some of a track's fields",
                    "tracks",
                    params=PID,
                    body="TrackUpdate",
                    result="Track",
                )
            ),
        ),
        r(
            "DELETE",
            "/api/tracks/{id}",
            rest.delete_track,
            CATALOG,
            doc=missing(op("Remove a track from the library", "tracks", params=PID, ok=204)),
        ),
        r(
            "PUT",
            "/api/tracks/{id}/features",
            rest.put_features,
            PIPELINE,
            doc=missing(
                op(
                    "Store audio features of a track",
                    "tracks",
                    params=PID,
                    body="Features",
                    result="Track",
                )
            ),
        ),
        r(
            "DELETE",
            "/api/tracks/{id}/edits",
            rest.revert_edits,
            CATALOG,
            doc=missing(
                op(
                    "Drop the track's edits (every field, or each ?field=): the file's values"
                    " come back",
                    "tracks",
                    params=[*PID, q("field", str, "an edited field; repeat for several")],
                )
            ),
        ),
        r("GET", "/api/artists", rest.list_artists, READ, doc=CRUD["/api/artists"]["get"]),
        r("POST", "/api/artists", rest.create_artist, CATALOG, doc=CRUD["/api/artists"]["post"]),
        r("GET", "/api/artists/{id}", rest.get_artist, READ, doc=CRUD["/api/artists/{id}"]["get"]),
        r(
            "PUT",
            "/api/artists/{id}",
            rest.put_artist,
            CATALOG,
            doc=CRUD["/api/artists/{id}"]["put"],
        ),
        r(
            "PATCH",
            "/api/artists/{id}",
            rest.patch_artist,
            CATALOG,
            doc=CRUD["/api/artists/{id}"]["patch"],
        ),
        r(
            "DELETE",
            "/api/artists/{id}",
            rest.delete_artist,
            CATALOG,
            doc=CRUD["/api/artists/{id}"]["delete"],
        ),
        r(
            "GET",
            "/api/artists/{id}/albums",
            rest.artist_albums,
            READ,
            doc=missing(
                op(
                    "An artist's albums",
                    "artists",
                    params=[*PID, *PAGE, sort(sorted(library.albums.ALBUM_SORTS), "title")],
                    result="Page",
                )
            ),
        ),
        r(
            "GET",
            "/api/artists/{id}/tracks",
            rest.artist_tracks,
            READ,
            doc=missing(
                op(
                    "An artist's tracks",
                    "artists",
                    params=[*PID, *PAGE, sort(sorted(library.tracks.TRACK_SORTS), "album")],
                    result="Page",
                )
            ),
        ),
        r("GET", "/api/albums", rest.list_albums, READ, doc=CRUD["/api/albums"]["get"]),
        r("POST", "/api/albums", rest.create_album, CATALOG, doc=CRUD["/api/albums"]["post"]),
        r("GET", "/api/albums/{id}", rest.get_album, READ, doc=CRUD["/api/albums/{id}"]["get"]),
        r("PUT", "/api/albums/{id}", rest.put_album, CATALOG, doc=CRUD["/api/albums/{id}"]["put"]),
        r(
            "PATCH",
            "/api/albums/{id}",
            rest.patch_album,
            CATALOG,
            doc=CRUD["/api/albums/{id}"]["patch"],
        ),
        r(
            "DELETE",
            "/api/albums/{id}",
            rest.delete_album,
            CATALOG,
            doc=CRUD["/api/albums/{id}"]["delete"],
        ),
        r(
            "DELETE",
            "/api/albums/{id}/edits",
            rest.revert_album_edits,
            CATALOG,
            doc=missing(
                op(
                    "Undo album edits: every track of the album gets its files' album-wide tags"
                    " back and regroups; answers the album they are in now",
                    "albums",
                    params=PID,
                )
            ),
        ),
        r(
            "GET",
            "/api/albums/{id}/tracks",
            rest.album_tracks,
            READ,
            doc=missing(
                op("An album's tracks in order", "albums", params=[*PID, *PAGE], result="Page")
            ),
        ),
        r(
            "GET",
            "/api/albums/{id}/download",
            downloads.album_download,
            READ,
            F,
            doc=missing(
                op(
                    "Download an album: its files in one zip, streamed as it is built",
                    "listening",
                    params=PID,
                    content_type="application/octet-stream",
                )
            ),
        ),
        r(
            "GET",
            "/api/albums/{id}/cover",
            covers.album_cover,
            READ,
            F,
            doc=missing(
                op(
                    "The album's cover: the files' embedded picture, an image beside them, or"
                    " the Cover Art Archive's; with size, a JPEG thumbnail (64, 300 or 600 px)"
                    " or a drawn placeholder (without size, 404 when there is none)",
                    "albums",
                    params=[*PID, SIZE],
                    content_type="image/*",
                )
            ),
        ),
        r(
            "GET",
            "/api/tracks/{id}/cover",
            covers.track_cover,
            READ,
            F,
            doc=missing(
                op(
                    "The track's album cover, else its own embedded picture (as the album's)",
                    "tracks",
                    params=[*PID, SIZE],
                    content_type="image/*",
                )
            ),
        ),
        r(
            "GET",
            "/api/tracks/{id}/stream",
            stream.stream,
            READ,
            F,
            doc=missing(
                op(
                    "Play the track: the original file (HTTP Range, ETag), or transcoded by"
                    " ffmpeg with format and bitrate (kbps), from offset seconds",
                    "listening",
                    params=[
                        *PID,
                        q(
                            "format",
                            str,
                            "original when absent",
                            enum=["raw", "original", "opus", "mp3", "ogg", "aac"],
                        ),
                        q("bitrate", int, "kbps, 32 to 320", minimum=32, maximum=320),
                        q("offset", float, "start this many seconds in (transcodes)", minimum=0),
                    ],
                    content_type="audio/*",
                )
            ),
        ),
        r(
            "POST",
            "/api/tracks/{id}/plays",
            listening.record_play,
            WRITE,
            F,
            doc=missing(
                op("Count a play of the track for the asking user", "listening", params=PID, ok=204)
            ),
        ),
        r(
            "POST",
            "/api/tracks/{id}/now-playing",
            listening.now_playing,
            WRITE,
            F,
            doc=missing(
                op(
                    "The player started this track (scrobblers send it as now playing)",
                    "listening",
                    params=PID,
                    ok=204,
                )
            ),
        ),
        r(
            "POST",
            "/api/tracks/{id}/playback-errors",
            listening.playback_error,
            WRITE,
            F,
            doc=missing(
                op(
                    "The player could not play the track (nor a transcode of it): recorded on"
                    " the track until it plays again",
                    "listening",
                    params=PID,
                    body="PlaybackError",
                    ok=204,
                )
            ),
        ),
        r(
            "GET",
            "/api/tracks/{id}/download",
            downloads.track_download,
            READ,
            F,
            doc=missing(
                op(
                    "Download a track's original file (403 when an admin turned your downloads off)",
                    "listening",
                    params=PID,
                    content_type="application/octet-stream",
                )
            ),
        ),
        r(
            "GET",
            "/api/tracks/{id}/waveform",
            listening.track_waveform,
            READ,
            F,
            doc=missing(
                op(
                    "A track's waveform for the seek bar: 200 peaks, 0..255 of its loudest",
                    "listening",
                    params=PID,
                )
            ),
        ),
        r(
            "GET",
            "/api/tracks/{id}/lyrics",
            listening.track_lyrics,
            READ,
            F,
            doc=missing(
                op(
                    "A track's lyrics: text, and [seconds, line] pairs when they are time-synced",
                    "listening",
                    params=PID,
                )
            ),
        ),
        r(
            "GET",
            "/api/tracks/{id}/similar",
            listening.similar,
            READ,
            F,
            doc=missing(
                op(
                    "More like this: the nearest tracks by the audio analysis (tempo, key,"
                    " loudness, energy, timbre); by artist, genre and era before analysis",
                    "listening",
                    params=[*PID, q("limit", int, "1 to 200", default=20)],
                )
            ),
        ),
        r(
            "GET",
            "/api/tracks/{id}/mix",
            listening.mix,
            READ,
            F,
            doc=missing(
                op(
                    "An instant mix from the track: each next the nearest to the last, no"
                    " artist twice in a row",
                    "listening",
                    params=[*PID, q("limit", int, "1 to 200", default=25)],
                )
            ),
        ),
        r(
            "GET",
            "/api/tracks/{id}/path",
            listening.path,
            READ,
            F,
            doc=missing(
                op(
                    "A route from this track's sound to another's, each step nearer the end;"
                    " each track with its similarity to the first (409: no analysis yet)",
                    "listening",
                    params=[
                        *PID,
                        q("to", int, "the track the path ends on", minimum=1),
                        q("count", int, "2 to 100", default=20),
                    ],
                )
            ),
        ),
        r(
            "GET",
            "/api/player/tracks",
            listening.player_tracks,
            READ,
            F,
            doc=op(
                "Short records of tracks for the player, in the order asked",
                "listening",
                params=[q("ids", str, "up to 1000 track ids, separated by commas")],
            ),
        ),
        r(
            "GET",
            "/api/playqueue",
            listening.get_play_queue,
            READ,
            F,
            doc=op("The queue you left playing (the web player's, or an app's)", "listening"),
        ),
        r(
            "PUT",
            "/api/playqueue",
            listening.put_play_queue,
            WRITE,
            F,
            doc=op(
                "Keep your play queue on the server (Subsonic's getPlayQueue reads it)",
                "listening",
                body="PlayQueue",
                ok=204,
            ),
        ),
        r(
            "GET",
            "/api/search",
            listening.search,
            READ,
            F,
            doc=op(
                "Full-text search grouped by kind: artists, albums, tracks (accents ignored,"
                " each word a prefix, ranked by bm25); each track with snippet_html, the best"
                " matching field escaped with the matched words in <mark>",
                "listening",
                params=[q("q", str, "words"), q("limit", int, "per group, 1 to 50", default=8)],
            ),
        ),
        r(
            "GET",
            "/api/search/semantic",
            listening.semantic_search,
            READ,
            F,
            doc=op(
                "Search by meaning: the words embedded by the tracks' text model, against every"
                " tracks' vectors in the sqlite-vec index (cosine), best first with its score;"
                " indexed: how many tracks the index holds (it follows new vectors within a"
                " second or so)",
                "listening",
                params=[q("q", str, "words"), q("limit", int, "1 to 100", default=20)],
            ),
        ),
        r(
            "GET",
            "/api/playlists",
            listening.list_playlists,
            READ,
            F,
            doc=op("The asking user's playlists", "playlists"),
        ),
        r(
            "POST",
            "/api/playlists",
            listening.create_playlist,
            WRITE,
            F,
            doc=op("Create a playlist", "playlists", body="Playlist", ok=201),
        ),
        r(
            "POST",
            "/api/playlists/import",
            listening.import_playlist,
            WRITE,
            F,
            doc={
                **op(
                    "Create a playlist from an .m3u/.m3u8 file (the body); `unknown` lists the"
                    " paths the library does not hold",
                    "playlists",
                    params=[q("name", str, "else the file's #PLAYLIST, else 'Imported playlist'")],
                    ok=201,
                ),
                "requestBody": {
                    "required": True,
                    "content": {"text/plain": {"schema": {"type": "string"}}},  # the .m3u8
                },
            },
        ),
        r(
            "GET",
            "/api/playlists/{id}",
            listening.get_playlist,
            READ,
            F,
            doc=missing(op("A playlist with its tracks in order", "playlists", params=PID)),
        ),
        r(
            "PATCH",
            "/api/playlists/{id}",
            listening.patch_playlist,
            WRITE,
            F,
            doc=missing(
                op(
                    "Rename, change the comment, or send every track id in its new order",
                    "playlists",
                    params=PID,
                    body="Playlist",
                )
            ),
        ),
        r(
            "DELETE",
            "/api/playlists/{id}",
            listening.delete_playlist,
            WRITE,
            F,
            doc=missing(op("Delete a playlist", "playlists", params=PID, ok=204)),
        ),
        r(
            "POST",
            "/api/playlists/{id}/tracks",
            listening.add_playlist_tracks,
            WRITE,
            F,
            doc=missing(
                op("Append tracks to a playlist", "playlists", params=PID, body="TrackIds")
            ),
        ),
        r(
            "GET",
            "/api/playlists/{id}/download",
            downloads.playlist_download,
            READ,
            F,
            doc=missing(
                op(
                    "Download one of your playlists: its files in one zip, in its order",
                    "listening",
                    params=PID,
                    content_type="application/octet-stream",
                )
            ),
        ),
        r(
            "GET",
            "/api/playlists/{id}/m3u8",
            listening.export_playlist,
            READ,
            F,
            doc=missing(
                op(
                    "The playlist as extended M3U (UTF-8, the files' paths)",
                    "playlists",
                    params=PID,
                    content_type="audio/x-mpegurl",
                )
            ),
        ),
        r(
            "GET",
            "/api/stars",
            listening.list_stars,
            READ,
            F,
            doc=op("What the asking user starred: tracks, albums, artists", "listening"),
        ),
        r(
            "PUT",
            "/api/stars/{kind}/{id}",
            listening.star,
            WRITE,
            F,
            doc=missing(op("Star a track, album or artist", "listening", params=KIND_ID, ok=204)),
        ),
        r(
            "DELETE",
            "/api/stars/{kind}/{id}",
            listening.star,
            WRITE,
            F,
            doc=missing(op("Remove a star", "listening", params=KIND_ID, ok=204)),
        ),
        r(
            "PUT",
            "/api/ratings/{kind}/{id}",
            listening.rate,
            WRITE,
            F,
            doc=missing(
                op("Rate 1 to 5 (0 removes it)", "listening", params=KIND_ID, body="Rating", ok=204)
            ),
        ),
        r(
            "GET",
            "/api/tracks/{id}/duplicates",
            duplicates_api.track_duplicates,
            READ,
            doc=missing(
                op("Tracks whose acoustic fingerprint matches this one's", "tracks", params=PID)
            ),
        ),
        r(
            "GET",
            "/api/duplicates",
            duplicates_api.list_duplicates,
            READ,
            doc=op(
                "Groups of tracks with matching fingerprints",
                "tracks",
                params=[
                    q("limit", int, "groups per page, 1 to 500", default=50),
                    q("after_id", int, "next_after_id of the previous page", default=0),
                ],
            ),
        ),
        r(
            "GET",
            "/api/track-vectors/",
            rest.list_vectors,
            READ,
            doc=op(
                "List track vectors",
                "track-vectors",
                params=[*PAGE, q("track_id", int), q("name", str), q("with_vectors", bool)],
                result="Page",
            ),
        ),
        r(
            "POST",
            "/api/track-vectors/",
            rest.create_vector,
            PIPELINE,
            doc=op(
                "Create a vector (dimension must be EMBEDDING_DIMENSION)",
                "track-vectors",
                body="TrackVectorCreate",
                ok=201,
            ),
        ),
        r(
            "GET",
            "/api/track-vectors/{id}",
            rest.get_vector,
            READ,
            doc=missing(op("Get a vector", "track-vectors", params=PID)),
        ),
        r(
            "PUT",
            "/api/track-vectors/{id}",
            rest.put_vector,
            PIPELINE,
            doc=missing(
                op(
                    "Replace a vector's values",
                    "track-vectors",
                    params=PID,
                    body="TrackVectorUpdate",
                )
            ),
        ),
        r(
            "DELETE",
            "/api/track-vectors/{id}",
            rest.delete_vector,
            PIPELINE,
            doc=missing(op("Delete a vector", "track-vectors", params=PID, ok=204)),
        ),
        r(
            "GET",
            "/api/jobs",
            jobs_api.list_jobs,
            READ,
            doc=op(
                "RQ queues, and failed jobs with their reasons",
                "jobs",
                params=[q("limit", int, "failed jobs listed per queue", default=20)],
            ),
        ),
        r(
            "POST",
            "/api/jobs/{id}/retry",
            jobs_api.retry_job,
            CATALOG,
            doc=missing(op("Requeue a failed job", "jobs", params=[path_param("id", str)])),
        ),
        r(
            "POST",
            "/api/jobs/{id}/cancel",
            jobs_api.cancel_job,
            CATALOG,
            doc=missing(
                op(
                    "Cancel a queued job, or forget a failed one",
                    "jobs",
                    params=[path_param("id", str)],
                )
            ),
        ),
        r(
            "GET",
            "/api/tokens",
            account_pages.list_tokens,
            ADMIN,
            doc=op("API tokens (admin)", "auth"),
        ),
        r(
            "POST",
            "/api/tokens",
            account_pages.create_token,
            ADMIN,
            doc=op(
                "Create an API token (admin); the token is shown once",
                "auth",
                body="TokenCreate",
                ok=201,
            ),
        ),
        r(
            "DELETE",
            "/api/tokens/{id}",
            account_pages.delete_token,
            ADMIN,
            doc=missing(op("Revoke an API token (admin)", "auth", params=PID, ok=204)),
        ),
        r(
            "GET",
            "/api/scan/errors",
            rest.list_scan_errors,
            READ,
            doc=op(
                "Files that could not be read or stored, and plugin stages that failed, with reasons",
                "system",
                params=PAGE,
                result="Page",
            ),
        ),
        r(
            "GET",
            "/api/plugins",
            rest.list_plugins,
            READ,
            doc=op("Loaded plugins, their options, stages and failures", "system"),
        ),
        r(
            "POST",
            "/api/library/files",
            rest.library_files,
            PIPELINE,
            doc=op(
                "What the library holds under a folder: [path, size, mtime_ns, known_bad] rows"
                " (for the watcher's reconcile)",
                "system",
                body="LibraryRoot",
            ),
        ),  # for the watcher
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
    app[keys.ROUTES] = routes
    app[keys.FOLDER_AWARE] = aware
