"""Cover art from the Cover Art Archive, for albums with none of their own.

On whenever the MusicBrainz plugin is (it needs its release ids); ``[plugin.coverart]
enabled = false`` keeps it off. One stage on the ``enrich`` queue, after MusicBrainz: when the
track's folder has no cover image (``cover.jpg``, ``folder.png``…) and the file embeds none,
the release's front cover (500 px) is fetched once and sent with the result; the web keeps
one per album in ``<data_dir>/covers`` and serves it at ``GET /api/albums/{id}/cover``.
"""

from __future__ import annotations

import base64
from typing import Any

from soniquebay import Option, hookimpl, remote, stage
from soniquebay.artwork import embedded_cover, folder_cover
from soniquebay.plugins.context import PluginContext

STAGE_VERSION = "1"
MAX_BYTES = 4 * 1024 * 1024

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
