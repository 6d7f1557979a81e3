"""Cover art from the Cover Art Archive, for albums with none of their own.

On whenever the MusicBrainz plugin is (it needs its release ids); ``[plugin.coverart]
enabled = false`` keeps it off. One stage on the ``enrich`` queue, after MusicBrainz: when the
track's folder has no cover image (``cover.jpg``, ``folder.png``…) and the file embeds none,
the release's front cover (500 px) is fetched once and sent with the result; the web keeps
one per album in ``<data_dir>/covers`` and serves it at ``GET /api/albums/{id}/cover``.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import mutagen

from soniquebay import Option, hookimpl, remote, stage
from soniquebay.plugins.context import PluginContext

STAGE_VERSION = "1"
MAX_BYTES = 4 * 1024 * 1024
COVER_NAMES = ("cover", "folder", "front", "album", "albumart")
COVER_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")

_sent: set[str] = set()  # releases whose image this process already sent (RQ: per job)


@hookimpl
def plugin_options() -> list[Option]:
    return [
        Option("url", str, "https://coverartarchive.org", "Cover Art Archive"),
        Option("size", str, "500", "front cover size", choices=("250", "500", "1200")),
        Option("per_second", float, 5.0, "requests per second, for all workers"),
        Option("contact", str, "", "an e-mail or URL for the User-Agent"),
        Option("cooldown", float, 300.0, "seconds the breaker stays open before trying again"),
    ]


def folder_cover(path: str) -> str | None:
    """A cover image beside the file, by the names people and taggers use."""
    try:
        entries = os.listdir(os.path.dirname(path) or ".")
    except OSError:
        return None
    for entry in sorted(entries):
        stem, ext = os.path.splitext(entry.lower())
        if stem in COVER_NAMES and ext in COVER_EXTENSIONS:
            return os.path.join(os.path.dirname(path), entry)
    return None


def embedded_cover(path: str) -> bytes | None:
    """The first picture embedded in the file (ID3 APIC, FLAC/Vorbis pictures, MP4 covr)."""
    try:
        audio = mutagen.File(path)
    except Exception:  # unreadable here is the tag reader's business, not the cover's
        return None
    if audio is None:
        return None
    for picture in getattr(audio, "pictures", None) or []:  # FLAC
        return bytes(picture.data)
    tags = audio.tags or {}
    for key in list(getattr(tags, "keys", lambda: [])()):
        value = tags[key]
        if str(key).startswith("APIC"):
            return bytes(value.data)
        if key == "covr" and value:
            return bytes(value[0])
        if str(key).lower() == "metadata_block_picture" and value:
            from mutagen.flac import Picture

            return bytes(Picture(base64.b64decode(value[0])).data)
    return None


@hookimpl
@stage(needs=("mb_release_id",), produces=("cover_source",), version=STAGE_VERSION)
def enrich_track(ctx: PluginContext, track: dict[str, Any]) -> dict[str, Any]:
    path = track.get("path") or ""
    if folder_cover(path) or embedded_cover(path):
        return {"cover_source": "local"}
    release = track["mb_release_id"]
    policy = remote.Policy(
        "coverart", ctx.options["url"], ctx.options["per_second"], cooldown=ctx.options["cooldown"]
    )
    client = remote.for_plugin(ctx, policy, contact=ctx.options["contact"])
    answer = client.get(f"release/{release}/front-{ctx.options['size']}")
    if answer.status == 404 or not answer.body:
        return {"cover_source": None, "cover_release_id": release}
    if len(answer.body) > MAX_BYTES:
        raise ValueError(f"cover of release {release} is {len(answer.body)} bytes, over the limit")
    out: dict[str, Any] = {"cover_source": "coverartarchive", "cover_release_id": release}
    if release not in _sent:
        out["cover_image"] = base64.b64encode(answer.body).decode("ascii")
        _sent.add(release)
    return out
