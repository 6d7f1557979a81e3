"""``/rest/{method}`` and ``/rest/{method}.view``, by GET or by POSTed form: authenticate,
run the endpoint, answer in the asked format. Every failure is a Subsonic error (HTTP 200,
status "failed", the spec's code), never a 500 page an app cannot read."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from soniquebay.errors import SoniqueBayError
from soniquebay.web.subsonic import browsing, media, personal, users
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
    "getShares", "createShare", "updateShare", "deleteShare", "jukeboxControl",
    "getInternetRadioStations", "createInternetRadioStation", "updateInternetRadioStation",
    "deleteInternetRadioStation",
})  # fmt: skip
GONE = frozenset({"search", "getChatMessages", "addChatMessage", "getVideos", "getVideoInfo",
                  "getCaptions", "hls"})  # fmt: skip

Endpoint = Callable[[Call], Awaitable[dict | web.StreamResponse]]
ENDPOINTS: dict[str, Endpoint] = {
    "ping": browsing.ping,
    "getLicense": browsing.get_license,
    "getOpenSubsonicExtensions": browsing.get_open_subsonic_extensions,
    "getMusicFolders": browsing.get_music_folders,
    "getIndexes": browsing.get_indexes,
    "getArtists": browsing.get_artists,
    "getArtist": browsing.get_artist,
    "getAlbum": browsing.get_album,
    "getSong": browsing.get_song,
    "getMusicDirectory": browsing.get_music_directory,
    "getAlbumList": browsing.get_album_list,
    "getAlbumList2": browsing.get_album_list2,
    "getRandomSongs": browsing.get_random_songs,
    "getGenres": browsing.get_genres,
    "getSongsByGenre": browsing.get_songs_by_genre,
    "search2": browsing.search2,
    "search3": browsing.search3,
    "getSimilarSongs": browsing.get_similar_songs,
    "getSimilarSongs2": browsing.get_similar_songs2,
    "getTopSongs": browsing.get_top_songs,
    "getSonicSimilarTracks": browsing.get_sonic_similar_tracks,
    "findSonicPath": browsing.find_sonic_path,
    "getArtistInfo": browsing.get_artist_info,
    "getArtistInfo2": browsing.get_artist_info2,
    "getAlbumInfo": browsing.get_album_info2,
    "getAlbumInfo2": browsing.get_album_info2,
    "getUser": users.get_user,
    "getUsers": users.get_users,
    "createUser": users.create_user,
    "updateUser": users.update_user,
    "deleteUser": users.delete_user,
    "changePassword": users.change_password,
    "getAvatar": users.get_avatar,
    "tokenInfo": browsing.token_info,
    "stream": media.stream,
    "download": media.download,
    "getCoverArt": media.get_cover_art,
    "getLyrics": media.get_lyrics,
    "getLyricsBySongId": media.get_lyrics_by_song_id,
    "star": personal.star,
    "unstar": personal.unstar,
    "setRating": personal.set_rating,
    "getStarred": personal.get_starred,
    "getStarred2": personal.get_starred2,
    "scrobble": personal.scrobble,
    "getNowPlaying": personal.get_now_playing,
    "getPlaylists": personal.get_playlists,
    "getPlaylist": personal.get_playlist,
    "createPlaylist": personal.create_playlist,
    "updatePlaylist": personal.update_playlist,
    "deletePlaylist": personal.delete_playlist,
    "getPlayQueue": personal.get_play_queue,
    "savePlayQueue": personal.save_play_queue,
    "getBookmarks": personal.get_bookmarks,
    "createBookmark": personal.create_bookmark,
    "deleteBookmark": personal.delete_bookmark,
    "getScanStatus": personal.get_scan_status,
    "startScan": personal.start_scan,
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
