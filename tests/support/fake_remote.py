"""AcoustID, MusicBrainz and the Cover Art Archive, played by one aiohttp server on loopback.

The machines that run the tests cannot reach the real services. This server answers with the
bodies their documentation shows (AcoustID's ``{"status": "ok", "results": [...]}`` and its
error object, MusicBrainz's JSON web service and its error/rate-limit bodies, the Cover Art
Archive's redirect to an image), and records every request with its arrival time, so tests
measure what the plugins really sent: rate, retries, cache hits.

AcoustID lookups are answered by comparing the fingerprint sent with the ones registered, as
the real service does (score from the share of matching bits), so a test registers a reference
file's fingerprint and the library holds another encoding of it.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from soniquebay import fingerprints

MB_NOT_FOUND = {
    "error": "Not Found",
    "help": "For usage, please see: https://musicbrainz.org/development/mmd",
}
MB_RATE_LIMITED = {
    "error": "Your requests are exceeding the allowable rate limit. Please see "
    "http://wiki.musicbrainz.org/XMLWebService for more information."
}


@dataclass
class Seen:
    service: str  # acoustid, musicbrainz, coverart
    path: str
    query: dict[str, str]
    at: float  # time.time() when it arrived
    user_agent: str


@dataclass
class FakeRemote:
    acoustid_key: str = "test-key"
    fingerprints_: list[dict[str, Any]] = field(default_factory=list)  # registered AcoustID tracks
    recordings: dict[str, dict[str, Any]] = field(default_factory=dict)  # MB recording lookups
    searches: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # title -> results
    covers: dict[str, bytes] = field(default_factory=dict)  # release id -> image
    failures: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    always_fail: dict[str, int] = field(default_factory=dict)  # service -> status
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------ what tests set up

    def register_fingerprint(
        self, fingerprint: str, duration: float, acoustid: str, *recording_ids: str
    ) -> None:
        self.fingerprints_.append(
            {
                "head": fingerprints.head(fingerprint),
                "duration": duration,
                "id": acoustid,
                "recordings": list(recording_ids),
            }  # fmt: skip
        )

    def fail_next(self, service: str, *answers: tuple[int, dict[str, str]]) -> None:
        """The next requests to ``service`` get these (status, headers) instead."""
        with self._lock:
            self.failures.setdefault(service, []).extend(answers)

    def requests(self, service: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if service is None or s.service == service]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def options(self) -> dict[str, str]:
        """``[plugin.musicbrainz]`` options pointing at this server."""
        return {
            "acoustid_url": f"{self.url}/acoustid/v2",
            "musicbrainz_url": f"{self.url}/ws/2",
            "acoustid_key": self.acoustid_key,
            "contact": "tests@soniquebay.invalid",
        }

    # ------------------------------------------------------------ the services

    def _record(self, service: str, request: web.Request) -> web.Response | None:
        with self._lock:
            self.seen.append(
                Seen(
                    service,
                    request.path,
                    dict(request.query),
                    time.time(),
                    request.headers.get("User-Agent", ""),
                )  # fmt: skip
            )
            queued = self.failures.get(service)
            failure = queued.pop(0) if queued else None
            always = self.always_fail.get(service)
        if failure is None and always:
            failure = (always, {})
        if failure is None:
            return None
        status, headers = failure
        if service == "musicbrainz":
            return web.json_response(MB_RATE_LIMITED, status=status, headers=headers)
        if service == "acoustid":
            body = {"status": "error", "error": {"code": 5, "message": "internal error"}}
            return web.json_response(body, status=status, headers=headers)
        return web.Response(text="Service Unavailable", status=status, headers=headers)

    async def acoustid_lookup(self, request: web.Request) -> web.Response:
        if failed := self._record("acoustid", request):
            return failed
        params = dict(request.query)
        if request.method == "POST":
            params.update(await request.post())
        if params.get("client") != self.acoustid_key:
            return web.json_response(
                {"status": "error", "error": {"code": 4, "message": "invalid API key"}}, status=400
            )
        try:
            head = fingerprints.head(params["fingerprint"])
            duration = float(params["duration"])
        except (KeyError, ValueError):
            return web.json_response(
                {"status": "error", "error": {"code": 3, "message": "invalid fingerprint"}},
                status=400,
            )
        results = []
        for known in self.fingerprints_:
            if abs(known["duration"] - duration) > 7:
                continue
            score = 1.0 - 2 * fingerprints.bit_error(head, known["head"])
            if score > 0.5:
                results.append(
                    {
                        "id": known["id"],
                        "score": round(score, 6),
                        "recordings": [{"id": r} for r in known["recordings"]],
                    }  # fmt: skip
                )
        return web.json_response({"status": "ok", "results": results})

    async def mb_recording(self, request: web.Request) -> web.Response:
        if failed := self._record("musicbrainz", request):
            return failed
        recording = self.recordings.get(request.match_info["id"])
        if recording is None:
            return web.json_response(MB_NOT_FOUND, status=404)
        return web.json_response(recording)

    async def mb_search(self, request: web.Request) -> web.Response:
        if failed := self._record("musicbrainz", request):
            return failed
        query = request.query.get("query", "")
        title = re.search(r'recording:"((?:[^"\\]|\\.)*)"', query)
        results = self.searches.get(title.group(1).lower() if title else "", [])
        return web.json_response(
            {
                "created": "2026-11-25T00:00:00.000Z",
                "count": len(results),
                "offset": 0,
                "recordings": results,
            }  # fmt: skip
        )

    async def caa_front(self, request: web.Request) -> web.Response:
        if failed := self._record("coverart", request):
            return failed
        release = request.match_info["id"]
        if release not in self.covers:
            return web.Response(text=f"No cover art found for release {release}", status=404)
        raise web.HTTPTemporaryRedirect(f"/ia/mbid-{release}/front.jpg")

    async def caa_image(self, request: web.Request) -> web.Response:
        release = request.match_info["id"]
        return web.Response(body=self.covers[release], content_type="image/jpeg")

    # ------------------------------------------------------------ running

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/acoustid/v2/lookup", self.acoustid_lookup)
        app.router.add_post("/acoustid/v2/lookup", self.acoustid_lookup)
        app.router.add_get("/ws/2/recording/{id}", self.mb_recording)
        app.router.add_get("/ws/2/recording", self.mb_search)
        app.router.add_get("/caa/release/{id}/front-{size}", self.caa_front)
        app.router.add_get("/ia/mbid-{id}/front.jpg", self.caa_image)
        return app

    def start(self) -> FakeRemote:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._runner = web.AppRunner(self.app(), access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="fake-remote")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake remote server did not start")
        return self

    def stop(self) -> None:
        if self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)


# ---------------------------------------------------------------- MusicBrainz-shaped bodies


def artist_credit(name: str, artist_id: str, sort_name: str | None = None) -> list[dict]:
    return [{"name": name, "joinphrase": "",
             "artist": {"id": artist_id, "name": name, "sort-name": sort_name or name,
                        "disambiguation": "", "type": "Group"}}]  # fmt: skip


def recording(
    rid: str,
    title: str,
    artist: tuple[str, str, str],
    release: dict[str, Any],
    length_ms: int,
    genres: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A recording lookup (``inc=artist-credits+releases+release-groups+media+genres``)."""
    return {
        "id": rid, "title": title, "length": length_ms, "disambiguation": "", "video": False,
        "first-release-date": release.get("date", ""),
        "artist-credit": artist_credit(*artist),
        "releases": [release],
        "genres": [{"id": f"g-{g}", "name": g, "count": 10 - i, "disambiguation": ""}
                   for i, g in enumerate(genres)],
        "tags": [{"name": g, "count": 1} for g in genres],
    }  # fmt: skip


def release(
    rid: str, title: str, date: str, group_id: str, primary: str, artist: tuple[str, str, str],
    recording_id: str, position: int, track_count: int, disc: int = 1,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": rid, "title": title, "status": "Official", "date": date, "country": "FR",
        "artist-credit": artist_credit(*artist),
        "release-group": {"id": group_id, "title": title, "primary-type": primary,
                          "secondary-types": []},
        "track-count": track_count,
        "media": [{"position": disc, "format": "CD", "track-count": track_count,
                   "track-offset": position - 1,
                   "tracks": [{"id": f"t-{recording_id}", "number": str(position),
                               "position": position, "title": "", "length": None}]}],
    }  # fmt: skip


def search_result(rec: dict[str, Any], score: int) -> dict[str, Any]:
    """A recording as MusicBrainz's search lists it (``score`` 0-100, media with ``track``)."""
    out = {k: v for k, v in rec.items() if k not in ("genres", "tags")}
    out["score"] = score
    out["releases"] = [
        {**r, "media": [{**m, "track": m["tracks"]} for m in r["media"]]} for r in rec["releases"]
    ]
    for r in out["releases"]:
        for m in r["media"]:
            m.pop("tracks")
    return out


def jpeg(path: Path, color: str = "red") -> bytes:
    """A real 64x64 JPEG, made by ffmpeg."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"color=c={color}:s=64x64", "-frames:v", "1", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()
