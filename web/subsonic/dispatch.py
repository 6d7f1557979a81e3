"""``/rest/{method}`` and ``/rest/{method}.view``, by GET or by POSTed form: authenticate,
run the endpoint, answer in the asked format. Every failure is a Subsonic error (HTTP 200,
status "failed", the spec's code), never a 500 page an app cannot read."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from soniquebay.errors import SoniqueBayError
from soniquebay.web.subsonic import (
    annotation,
    bookmarks,
    browsing,
    lists,
    media_retrieval,
    playlists,
    scanning,
    searching,
    sharing,
    system,
    user_management,
)
from soniquebay.web.subsonic.auth import NOBODY, authenticate
from soniquebay.web.subsonic.context import Call
from soniquebay.web.subsonic.protocol import Params, SubsonicError, envelope, error, respond

log = logging.getLogger(__name__)
# What the spec says is answered without authentication (an app asks before it logs in).
PUBLIC = frozenset({"getOpenSubsonicExtensions"})
# Methods of features SoniqueBay does not have, answered as Navidrome answers them so that apps
# hide the feature (Ultrasonic and DSub do on these HTTP statuses; a Subsonic error 70 with
# HTTP 200 made them show menus that then failed): 501 for "not yet", 410 for "never".
NOT_IMPLEMENTED = frozenset({
    "getPodcasts", "getNewestPodcasts", "refreshPodcasts", "createPodcastChannel",
    "deletePodcastChannel", "deletePodcastEpisode", "downloadPodcastEpisode", "getPodcastEpisode",
    "jukeboxControl",
    "getInternetRadioStations", "createInternetRadioStation", "updateInternetRadioStation",
    "deleteInternetRadioStation",
})  # fmt: skip
GONE = frozenset({"search", "getChatMessages", "addChatMessage", "getVideos", "getVideoInfo",
                  "getCaptions", "hls"})  # fmt: skip

Endpoint = Callable[[Call], Awaitable[dict | web.StreamResponse]]
ENDPOINTS: dict[str, Endpoint] = {
    # System
    "ping": system.ping,
    "getLicense": system.get_license,
    "getOpenSubsonicExtensions": system.get_open_subsonic_extensions,
    "tokenInfo": system.token_info,
    # Browsing
    "getMusicFolders": browsing.get_music_folders,
    "getIndexes": browsing.get_indexes,
    "getArtists": browsing.get_artists,
    "getArtist": browsing.get_artist,
    "getAlbum": browsing.get_album,
    "getSong": browsing.get_song,
    "getMusicDirectory": browsing.get_music_directory,
    "getGenres": browsing.get_genres,
    "getSimilarSongs": browsing.get_similar_songs,
    "getSimilarSongs2": browsing.get_similar_songs2,
    "getTopSongs": browsing.get_top_songs,
    "getSonicSimilarTracks": browsing.get_sonic_similar_tracks,
    "findSonicPath": browsing.find_sonic_path,
    "getArtistInfo": browsing.get_artist_info,
    "getArtistInfo2": browsing.get_artist_info2,
    "getAlbumInfo": browsing.get_album_info2,
    "getAlbumInfo2": browsing.get_album_info2,
    # Album/song lists
    "getAlbumList": lists.get_album_list,
    "getAlbumList2": lists.get_album_list2,
    "getRandomSongs": lists.get_random_songs,
    "getSongsByGenre": lists.get_songs_by_genre,
    "getStarred": lists.get_starred,
    "getStarred2": lists.get_starred2,
    "getNowPlaying": lists.get_now_playing,
    # Searching
    "search2": searching.search2,
    "search3": searching.search3,
    # Playlists
    "getPlaylists": playlists.get_playlists,
    "getPlaylist": playlists.get_playlist,
    "createPlaylist": playlists.create_playlist,
    "updatePlaylist": playlists.update_playlist,
    "deletePlaylist": playlists.delete_playlist,
    # Media retrieval
    "getAvatar": media_retrieval.get_avatar,
    "stream": media_retrieval.stream,
    "download": media_retrieval.download,
    "getCoverArt": media_retrieval.get_cover_art,
    "getLyrics": media_retrieval.get_lyrics,
    "getLyricsBySongId": media_retrieval.get_lyrics_by_song_id,
    # Media annotation
    "star": annotation.star,
    "unstar": annotation.unstar,
    "setRating": annotation.set_rating,
    "scrobble": annotation.scrobble,
    # Bookmarks
    "getPlayQueue": bookmarks.get_play_queue,
    "savePlayQueue": bookmarks.save_play_queue,
    "getBookmarks": bookmarks.get_bookmarks,
    "createBookmark": bookmarks.create_bookmark,
    "deleteBookmark": bookmarks.delete_bookmark,
    # Sharing
    "getShares": sharing.get_shares,
    "createShare": sharing.create_share,
    "updateShare": sharing.update_share,
    "deleteShare": sharing.delete_share,
    # User management
    "getUser": user_management.get_user,
    "getUsers": user_management.get_users,
    "createUser": user_management.create_user,
    "updateUser": user_management.update_user,
    "deleteUser": user_management.delete_user,
    "changePassword": user_management.change_password,
    # Media library scanning
    "getScanStatus": scanning.get_scan_status,
    "startScan": scanning.start_scan,
}


async def handle(request: web.Request) -> web.StreamResponse:
    method = request.match_info["method"].removesuffix(".view")
    params = Params(request.query)
    try:
        if request.method == "POST":
            try:
                params = Params(request.query, await request.post())
            except (UnicodeDecodeError, ValueError):
                raise SubsonicError(SubsonicError.GENERIC, "the form is not valid UTF-8") from None
        endpoint = ENDPOINTS.get(method)
        if endpoint is None and (method in NOT_IMPLEMENTED or method in GONE):
            return _absent_feature(method)
        if endpoint is None:
            raise SubsonicError(SubsonicError.NOT_FOUND, f"unknown method {method[:60]!r}")
        user = NOBODY if method in PUBLIC else await authenticate(request, params)
        answer = await endpoint(Call(request, params, user))
    except SubsonicError as exc:
        return error(params, exc)
    except SoniqueBayError as exc:  # our own refusal, said in Subsonic's words
        code = SubsonicError.NOT_FOUND if exc.status == 404 else SubsonicError.GENERIC
        return error(params, SubsonicError(code, exc.message))
    except (web.HTTPException, ConnectionResetError):
        raise
    except Exception:  # an app cannot read a 500 page: say it in the protocol, log the rest
        log.exception("Subsonic %s failed", method)
        return error(
            params, SubsonicError(SubsonicError.GENERIC, "internal error; see the server log")
        )
    if isinstance(answer, web.StreamResponse):
        return answer
    return respond(params, envelope(answer))


def _absent_feature(method: str) -> web.Response:
    if method in GONE:
        return web.Response(status=410, text=f"{method}: SoniqueBay will not have this feature")
    return web.Response(
        status=501,
        text=f"{method}: SoniqueBay does not have this feature (yet)",
        headers={"Cache-Control": "no-cache"},
    )
