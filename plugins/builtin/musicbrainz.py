"""MusicBrainz enrichment: which recording a track is, and what MusicBrainz knows about it.

Off until switched on (it sends your tags and fingerprints to MusicBrainz and AcoustID)::

    [plugin.musicbrainz]
    enabled = true
    acoustid_key = ...       ; optional: https://acoustid.org/new-application
    contact = you@example.org ; MusicBrainz asks for a way to reach the client's owner

One stage on the ``enrich`` queue, after the fingerprint. The recording is, in this order:
the one a user accepted; the MusicBrainz id already in the file's tags (Picard-tagged files);
AcoustID's best match for the fingerprint above ``min_acoustid_score`` (with a key); a
MusicBrainz search on title, artist and album whose score reaches ``min_search_score`` and
whose title, artist and length agree with the file. Anything less is offered as
``mb_suggestions`` for the user to accept: on the track page (this plugin's panel, through
``track_panels``) or with ``POST /api/plugins/musicbrainz/tracks/{id}/match``
``{"recording_id": …}`` (this plugin's route, catalogue access).

The result is a layer of its own, ``enriched`` (under the plugin's data, with the API's field
names): it never replaces the file's tags or the user's edits; ``metadata_prefer`` in the
configuration chooses which layer the library shows. The files are never written.

Calls go through :mod:`soniquebay.remote`: the rate limits (MusicBrainz 1/s, AcoustID 3/s) and
circuit breakers are shared by all workers through Redis, and answers are cached by recording
id and fingerprint, so a rescan sends nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from aiohttp import web

from soniquebay import Option, hookimpl, remote, stage
from soniquebay.errors import InvalidInput, NotFound
from soniquebay.library import sql
from soniquebay.plugins.context import PluginContext
from soniquebay.plugins.routes import changes_catalog

STAGE_VERSION = "1"
LOOKUP_INCLUDES = "artist-credits+releases+release-groups+media+genres+tags"
SUGGESTIONS = 5
MIN_SUGGESTION_SCORE = 50  # MusicBrainz search score below which a candidate is not worth showing
LENGTH_TOLERANCE = 10.0  # seconds between the file and the recording for an automatic match
PRODUCES = (
    "mb_match",
    "mb_suggestions",
    "mb_recording_id",
    "mb_release_id",
    "mb_release_group_id",
    "mb_artist_id",
    "acoustid_id",
    "enriched",
)


@hookimpl
def plugin_options() -> list[Option]:
    return [
        Option("acoustid_key", str, "", "AcoustID application key; empty: match by tags only"),
        Option("contact", str, "", "an e-mail or URL for MusicBrainz's User-Agent"),
        Option("min_acoustid_score", float, 0.8, "AcoustID score (0-1) applied automatically"),
        Option(
            "min_search_score", int, 95, "MusicBrainz search score (0-100) applied automatically"
        ),
        Option("musicbrainz_url", str, "https://musicbrainz.org/ws/2", "MusicBrainz web service"),
        Option("acoustid_url", str, "https://api.acoustid.org/v2", "AcoustID web service"),
        Option("musicbrainz_per_second", float, 1.0, "MusicBrainz's rate limit, for all workers"),
        Option("acoustid_per_second", float, 3.0, "AcoustID's rate limit, for all workers"),
        Option("retries", int, 3, "retries of a failed request (timeouts, 5xx, 429)"),
        Option("failures_to_open", int, 5, "failed calls in a row that open the circuit breaker"),
        Option("cooldown", float, 300.0, "seconds the breaker stays open before trying again"),
        Option("timeout", float, 15.0, "seconds to wait for an answer"),
    ]


def _policy(ctx: PluginContext, service: str) -> remote.Policy:
    o = ctx.options
    return remote.Policy(
        service=service,
        base_url=o[f"{service}_url"],
        per_second=o[f"{service}_per_second"],
        retries=o["retries"],
        failures_to_open=o["failures_to_open"],
        cooldown=o["cooldown"],
        timeout=o["timeout"],
    )


def _client(ctx: PluginContext, service: str) -> remote.Remote:
    return remote.for_plugin(ctx, _policy(ctx, service), contact=ctx.options["contact"])


@hookimpl
@stage(needs=("fingerprint", "title"), produces=PRODUCES, version=STAGE_VERSION)
def enrich_track(ctx: PluginContext, track: dict[str, Any]) -> dict[str, Any]:
    match, suggestions, acoustid_id = _identify(ctx, track)
    out: dict[str, Any] = dict.fromkeys(PRODUCES)
    out["mb_suggestions"] = suggestions
    out["acoustid_id"] = acoustid_id
    if match is None:
        return out
    answer = _client(ctx, "musicbrainz").get(
        f"recording/{match['recording_id']}", {"inc": LOOKUP_INCLUDES, "fmt": "json"}
    )
    if answer.status == 404:  # merged away or deleted at MusicBrainz: say so, keep the rest
        out["mb_match"] = {**match, "error": "recording not found at MusicBrainz"}
        return out
    recording = answer.json()
    enriched, ids = layer(recording, track)
    out.update(ids)
    out["mb_match"] = match
    out["mb_suggestions"] = []
    out["enriched"] = enriched
    return out


# ---------------------------------------------------------------- which recording


def _identify(
    ctx: PluginContext, track: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], str | None]:
    """(match, suggestions, AcoustID id): the recording to apply, or candidates to offer."""
    accepted = track.get("mb_accepted_recording_id")
    if accepted:
        return {"recording_id": accepted, "method": "user", "score": 1.0}, [], None
    if track.get("musicbrainz_id"):
        return {"recording_id": track["musicbrainz_id"], "method": "tags", "score": 1.0}, [], None
    acoustid_id = None
    if ctx.options["acoustid_key"] and track.get("fingerprint"):
        found = _acoustid(ctx, track)
        if found:
            acoustid_id = found["acoustid_id"]
            if found["score"] >= ctx.options["min_acoustid_score"]:
                return found, [], acoustid_id
    candidates = _search(ctx, track)
    best = candidates[0] if candidates else None
    if best and _confident(ctx, best, track, candidates):
        match = {"recording_id": best["recording_id"], "method": "search",
                 "score": best["score"] / 100}  # fmt: skip
        return match, [], acoustid_id
    return None, [c for c in candidates if c["score"] >= MIN_SUGGESTION_SCORE], acoustid_id


def _acoustid(ctx: PluginContext, track: dict[str, Any]) -> dict[str, Any] | None:
    fingerprint = track["fingerprint"]
    duration = int(round(float(track.get("fingerprint_duration") or track.get("duration") or 0)))
    digest = hashlib.sha1(f"{duration}:{fingerprint}".encode()).hexdigest()
    answer = _client(ctx, "acoustid").get(
        "lookup",
        {"client": ctx.options["acoustid_key"], "meta": "recordings", "format": "json",
         "duration": duration, "fingerprint": fingerprint},
        cache_key=f"lookup:{digest}",
    )  # fmt: skip
    body = answer.json() if answer.status == 200 else {}
    if body.get("status") != "ok":
        return None
    title = _norm(track.get("title"))
    for result in sorted(body.get("results") or [], key=lambda r: -float(r.get("score", 0))):
        recordings = result.get("recordings") or []
        if not recordings:
            continue  # a fingerprint AcoustID knows but nobody linked to MusicBrainz
        chosen = next((r for r in recordings if _norm(r.get("title")) == title), recordings[0])
        return {"recording_id": chosen["id"], "method": "acoustid",
                "score": round(float(result["score"]), 3), "acoustid_id": result["id"]}  # fmt: skip
    return None


def _lucene(value: str) -> str:
    return '"' + re.sub(r'([\\"])', r"\\\1", value) + '"'


def _search(ctx: PluginContext, track: dict[str, Any]) -> list[dict[str, Any]]:
    terms = [f"recording:{_lucene(track['title'])}"]
    if track.get("artist_name"):
        terms.append(f"artist:{_lucene(track['artist_name'])}")
    if track.get("album_title"):
        terms.append(f"release:{_lucene(track['album_title'])}")
    answer = _client(ctx, "musicbrainz").get(
        "recording", {"query": " AND ".join(terms), "limit": SUGGESTIONS, "fmt": "json"}
    )
    if answer.status != 200:
        return []
    out = []
    for rec in answer.json().get("recordings") or []:
        release = _pick_release(rec.get("releases") or [], track)
        out.append(
            {
                "recording_id": rec["id"],
                "score": int(rec.get("score") or 0),
                "title": rec.get("title"),
                "artist": _credit(rec.get("artist-credit")),
                "length": (rec.get("length") or 0) / 1000 or None,
                "album": release.get("title") if release else None,
                "release_id": release.get("id") if release else None,
                "date": (release or {}).get("date") or rec.get("first-release-date"),
            }
        )
    return sorted(out, key=lambda c: -c["score"])


def _confident(
    ctx: PluginContext, best: dict[str, Any], track: dict[str, Any], candidates: list[dict]
) -> bool:
    """A search result good enough to apply without asking: a high score, the same title and
    artist, a length that agrees, and no other recording as good with another title."""
    if best["score"] < ctx.options["min_search_score"]:
        return False
    if _norm(best["title"]) != _norm(track.get("title")):
        return False
    if track.get("artist_name") and _norm(best["artist"]) != _norm(track["artist_name"]):
        return False
    length, duration = (
        best.get("length"),
        track.get("fingerprint_duration") or track.get("duration"),
    )
    return not (length and duration and abs(length - float(duration)) > LENGTH_TOLERANCE)


# ---------------------------------------------------------------- the enriched layer


def layer(recording: dict[str, Any], track: dict[str, Any]) -> tuple[dict[str, Any], dict]:
    """MusicBrainz's values under the API's field names, and the MusicBrainz ids."""
    release = _pick_release(recording.get("releases") or [], track) or {}
    group = release.get("release-group") or {}
    medium, number = _medium(release, recording["id"])
    date = release.get("date") or recording.get("first-release-date") or None
    credits = recording.get("artist-credit") or []
    album_credits = release.get("artist-credit") or credits
    genres = [
        g["name"] for g in sorted(recording.get("genres") or [], key=lambda g: -g.get("count", 0))
    ]
    primary = (group.get("primary-type") or "").lower() or None
    enriched = {
        "title": recording.get("title"),
        "artist_name": _credit(credits),
        "artist_sort": _credit(credits, "sort-name"),
        "album_title": release.get("title"),
        "album_artist_name": _credit(album_credits),
        "album_artist_sort": _credit(album_credits, "sort-name"),
        "date": date,
        "year": int(date[:4]) if date and date[:4].isdigit() else None,
        "album_type": primary,
        "album_secondary_types": [t.lower() for t in group.get("secondary-types") or []],
        "track_number": number,
        "track_total": (medium or {}).get("track-count"),
        "disc_number": (medium or {}).get("position"),
        "disc_total": release.get("medium-count") or len(release.get("media") or []) or None,
        "genre": genres[0] if genres else None,
        "genres": genres[:5],
        "musicbrainz_id": recording["id"],
        "musicbrainz_albumid": release.get("id"),
        "musicbrainz_artistid": _first_artist(credits),
        "musicbrainz_albumartistid": _first_artist(album_credits),
    }
    ids = {
        "mb_recording_id": recording["id"],
        "mb_release_id": release.get("id"),
        "mb_release_group_id": group.get("id"),
        "mb_artist_id": _first_artist(credits),
    }
    return {k: v for k, v in enriched.items() if v not in (None, "", [])}, ids


def _pick_release(releases: list[dict[str, Any]], track: dict[str, Any]) -> dict[str, Any] | None:
    """The release the file most likely comes from: its album's title, else the earliest
    official album."""
    if not releases:
        return None
    album = _norm(track.get("album_title"))

    def rank(r: dict[str, Any]) -> tuple:
        group = r.get("release-group") or {}
        return (
            _norm(r.get("title")) != album if album else True,
            r.get("status", "Official") != "Official",
            group.get("primary-type") != "Album",
            bool(group.get("secondary-types")),
            r.get("date") or "9999",
        )

    return min(releases, key=rank)


def _medium(release: dict[str, Any], recording_id: str) -> tuple[dict | None, int | None]:
    for medium in release.get("media") or []:
        for track in medium.get("tracks") or medium.get("track") or []:
            if (track.get("recording") or {}).get("id", recording_id) == recording_id:
                number = track.get("position")
                if number is None and str(track.get("number", "")).isdigit():
                    number = int(track["number"])
                return medium, number
    return None, None


def _credit(credits: list[dict[str, Any]] | None, key: str = "name") -> str | None:
    if not credits:
        return None
    parts = []
    for c in credits:
        name = (c.get("artist") or {}).get(key) if key != "name" else c.get("name")
        parts.append(
            (name or (c.get("artist") or {}).get("name") or "") + (c.get("joinphrase") or "")
        )
    return "".join(parts).strip() or None


def _first_artist(credits: list[dict[str, Any]] | None) -> str | None:
    return ((credits or [{}])[0].get("artist") or {}).get("id")


def _norm(text: Any) -> str:
    """Case, accents, punctuation and spacing folded: "Café (Live)!" == "cafe live"."""
    if not text:
        return ""
    return " ".join(re.sub(r"[^\w]+", " ", sql.fold(str(text))).split())


# ---------------------------------------------------------------- the web process: page, route

MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@hookimpl
def track_panels(ctx: PluginContext, track: dict[str, Any]) -> dict[str, Any] | None:
    """How the track was matched, or the candidates to choose from ("Use this")."""
    data = (track.get("plugin_data") or {}).get(ctx.plugin) or {}
    panel: dict[str, Any] = {"title": "MusicBrainz", "hides": ["mb_match", "mb_suggestions"]}
    match = data.get("mb_match")
    if match:
        panel["rows"] = [("Matched by", f"{match.get('method')} (score {match.get('score')})")]
        if match.get("error"):
            panel["rows"].append(("Problem", match["error"]))
    suggestions = data.get("mb_suggestions") or []
    if suggestions:
        panel["title"] = "Possible MusicBrainz matches"
        panel["actions"] = [
            {
                "text": _suggestion_text(s),
                "label": "Use this",
                "url": f"/plugins/{ctx.plugin}/tracks/{track['id']}/match",
                "fields": {"recording_id": s["recording_id"]},
            }
            for s in suggestions
        ]
    return panel


def _suggestion_text(s: dict[str, Any]) -> str:
    text = f"{s.get('title')} — {s.get('artist') or '?'}"
    if s.get("album"):
        text += f" — {s['album']}"
    if s.get("date"):
        text += f" ({s['date']})"
    return f"{text} · score {s.get('score')}"


@hookimpl
def register_routes(ctx: PluginContext) -> list[web.RouteDef]:
    """Accepting a suggestion: the page's form, and the API's JSON twin."""

    @changes_catalog
    async def accept_form(request: web.Request) -> web.Response:
        track_id = _track_id(request)
        await _accept(ctx, track_id, (await request.post()).get("recording_id"))
        raise web.HTTPSeeOther(f"/tracks/{track_id}")

    @changes_catalog
    async def accept(request: web.Request) -> web.Response:
        track_id = _track_id(request)
        try:
            body = json.loads(await request.text() or "{}")
        except ValueError:
            raise InvalidInput("the body is not JSON", details={"field": "body"}) from None
        if not isinstance(body, dict):
            raise InvalidInput("the body must be a JSON object", details={"field": "body"})
        recording = await _accept(ctx, track_id, body.get("recording_id"))
        return web.json_response({"track_id": track_id, "recording_id": recording}, status=202)

    return [
        web.post(f"/plugins/{ctx.plugin}/tracks/{{id}}/match", accept_form),
        web.post(f"/api/plugins/{ctx.plugin}/tracks/{{id}}/match", accept),
    ]


def _track_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("the track id must be a whole number", details={"field": "id"})
    return int(raw)


async def _accept(ctx: PluginContext, track_id: int, recording: Any) -> str:
    """Keep the user's choice in this plugin's data; the stage then runs again on it."""
    if not isinstance(recording, str) or not MBID.match(recording.strip().lower()):
        raise InvalidInput(
            "recording_id must be a MusicBrainz id (a UUID)", details={"field": "recording_id"}
        )
    recording = recording.strip().lower()
    try:
        await ctx.library.keep(track_id, {"mb_accepted_recording_id": recording}, rerun=True)
    except LookupError:
        raise NotFound(f"track {track_id} does not exist", details={"id": track_id}) from None
    return recording
