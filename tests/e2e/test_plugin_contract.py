"""The plugin contract through a real `serve`: every hook in hookspecs.py has a caller.

A drop-in plugin implements every hook and writes a line each time one is called; a file lands,
its page is opened, the plugin's route is fetched; then every hook of the contract must have
been called, in the process the contract says.
"""

from __future__ import annotations

import inspect
import json
import textwrap

from support.browsing import PASSWORD
from support.servers import WebSession

from soniquebay import hookspecs

PROBE = textwrap.dedent(
    """
    import json
    import os

    from aiohttp import web

    from soniquebay import Option, hookimpl, stage
    from soniquebay.plugins.routes import changes_catalog

    LOG = {log!r}


    def called(hook, ctx=None, **extra):
        line = {{"hook": hook, "process": ctx.process if ctx else None, **extra}}
        with open(LOG, "a") as fh:
            fh.write(json.dumps(line) + "\\n")


    @hookimpl
    def plugin_options():
        called("plugin_options")
        return [Option("greeting", str, "hello")]


    @hookimpl
    def startup(ctx, process):
        called("startup", ctx, option=ctx.options["greeting"])


    @hookimpl
    def warm_up(ctx, queue):
        called("warm_up", ctx, queue=queue)
        return None  # nothing loaded: the worker has nothing to give back


    @hookimpl
    def audio_extensions():
        called("audio_extensions")
        return [".mp3"]


    @hookimpl
    def read_tags(ctx, path):
        called("read_tags", ctx, option=ctx.options["greeting"])
        return None  # not mine: the builtin tag reader answers


    @hookimpl
    def analyze_audio(ctx, track, path, max_seconds):
        called("analyze_audio", ctx)
        return None  # not a backend: the builtin one answers


    @hookimpl
    def fingerprint_track(ctx, track, path):
        called("fingerprint_track", ctx, exists=os.path.exists(path))
        return {{"probe_fingerprint": "f" * 8}}


    @hookimpl
    @stage(needs=("probe_fingerprint",), produces=("probe_label",))
    def enrich_track(ctx, track):
        called("enrich_track", ctx, fingerprint=track.get("probe_fingerprint"))
        return {{"probe_label": "<b>enriched</b>"}}


    @hookimpl
    def vectorize_track(ctx, track):
        called("vectorize_track", ctx)
        return {{"name": "probe", "vector": [0.25, 0.5, 0.75]}}


    @hookimpl
    def process_track(ctx, track, path):
        called("process_track", ctx)
        return {{"probe_processed": True}}


    @hookimpl
    def register_routes(ctx):
        called("register_routes", ctx)

        async def hello(request):
            titles = [t["title"] for t in ctx.library.tracks(limit=5)]  # read-only, public
            return web.json_response({{"greeting": ctx.options["greeting"], "titles": titles}})

        @changes_catalog
        async def note(request):  # the one write a plugin has: its own data, stages re-run
            body = await request.json()
            await ctx.library.keep(int(request.match_info["id"]), {{"probe_note": body["note"]}},
                                   rerun=True)
            return web.json_response({{"kept": body["note"]}})

        return [web.get("/api/plugins/probe/hello", hello),
                web.post("/api/plugins/probe/tracks/{{id}}/note", note)]


    @hookimpl
    def track_panels(ctx, track):
        called("track_panels", ctx)
        mine = f"/plugins/probe/tracks/{{track['id']}}/note"
        return {{
            "title": "Probe panel",
            "rows": [("label", "<i>" + track["title"] + "</i>")],
            "actions": [
                {{"text": "Leave a note", "label": "Note it", "url": mine, "fields": {{"note": "x"}}}},
                {{"text": "Not mine", "label": "Delete", "url": "/api/tracks/1", "fields": {{}}}},
            ],
            "hides": ["probe_processed"],
        }}


    @hookimpl
    def on_event(ctx, event):
        called("on_event", ctx, type=event["type"])


    @hookimpl
    def on_listen(ctx, listen):
        called("on_listen", ctx, kind=listen["kind"], title=listen["track"]["title"],
               user=listen["username"])
    """
)

# Where the contract says each hook runs (None: a declaration, called with no context).
PROCESS = {
    "plugin_options": None,
    "audio_extensions": None,
    "read_tags": {"worker"},
    "startup": {"web", "watch", "worker"},
    "warm_up": {"worker"},
    "analyze_audio": {"worker"},
    "fingerprint_track": {"worker"},
    "enrich_track": {"worker"},
    "vectorize_track": {"worker"},
    "process_track": {"worker"},
    "register_routes": {"web"},
    "track_panels": {"web"},
    "on_event": {"web"},
    "on_listen": {"web"},
}


def spec_names() -> set[str]:
    return {
        name
        for name, value in vars(hookspecs).items()
        if inspect.isfunction(value) and hasattr(value, "soniquebay_spec")
    }


def test_every_hookspec_has_a_caller_in_the_process_it_names(serve, library, audio, tmp_path):
    assert spec_names() == set(PROCESS), "a new hook needs a line in PROCESS and a caller"
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    log = tmp_path / "calls.jsonl"
    (plugins / "probe.py").write_text(PROBE.format(log=str(log)))
    server = serve(
        env={"SONIQUEBAY_PLUGINS_DIR": str(plugins), "SONIQUEBAY_ADMIN_PASSWORD": PASSWORD}
    )
    audio.make(library / "probe.mp3", title="Probed", artist="Contract")
    track = server.wait_for_tracks(1)[0]

    def calls() -> list[dict]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    # Stages run in order of their needs: enrich needs the fingerprint's field.
    server.wait_until(
        lambda: (
            {"enrich_track", "vectorize_track", "process_track", "analyze_audio"}
            <= {c["hook"] for c in calls()}
        ),
        timeout=90,
        what="every stage to run",
    )
    listener = WebSession(server.url, "admin", PASSWORD)  # the player starts, then counts a play
    assert listener.request("POST", f"/api/tracks/{track['id']}/now-playing")[0] == 204
    assert listener.request("POST", f"/api/tracks/{track['id']}/plays")[0] == 204
    server.wait_until(
        lambda: [c["kind"] for c in calls() if c["hook"] == "on_listen"] == ["playing", "played"],
        timeout=10,
        what="on_listen for the start and the play",
    )
    assert {(c["title"], c["user"]) for c in calls() if c["hook"] == "on_listen"} == {
        ("Probed", "admin")
    }
    page = server.get(f"/tracks/{track['id']}")
    assert "Probe panel" in page and "&lt;i&gt;Probed&lt;/i&gt;" in page  # escaped, as text
    # An action posts to the plugin's own routes only; a field its panel shows is not repeated.
    assert f'action="/plugins/probe/tracks/{track["id"]}/note"' in page and "Note it" in page
    assert 'action="/api/tracks/1"' not in page and "Not mine" not in page
    assert "probe_processed" not in page and "probe_fingerprint" in page
    assert server.get("/api/plugins/probe/hello") == {"greeting": "hello", "titles": ["Probed"]}

    called = calls()
    assert {c["hook"] for c in called} == spec_names()
    for hook, processes in PROCESS.items():
        if processes:
            seen = {c["process"] for c in called if c["hook"] == hook}
            assert seen <= processes and seen, (hook, seen)
    assert {c["process"] for c in called if c["hook"] == "startup"} == {"web", "watch", "worker"}
    assert all(c["option"] == "hello" for c in called if c["hook"] in ("startup", "read_tags"))
    warmed = [c["queue"] for c in called if c["hook"] == "warm_up"]
    assert {"scan", "analysis"} <= set(warmed) and len(warmed) == len(set(warmed))  # once each
    enrich = next(c for c in called if c["hook"] == "enrich_track")
    assert enrich["fingerprint"] == "ffffffff"  # it ran after what it needs
    assert "track.added" in {c.get("type") for c in called if c["hook"] == "on_event"}

    stored = server.get(f"/api/tracks/{track['id']}")
    assert stored["plugin_data"]["probe"] == {
        "probe_fingerprint": "ffffffff",
        "probe_label": "<b>enriched</b>",
        "probe_processed": True,
    }
    # ctx.library.keep: the plugin's own data, and its stages run again on what it kept.
    runs = sum(c["hook"] == "process_track" for c in calls())
    status, body = server.request(
        "POST", f"/api/plugins/probe/tracks/{track['id']}/note", {"note": "kept"}
    )
    assert (status, body) == (200, {"kept": "kept"})
    assert server.get(f"/api/tracks/{track['id']}")["plugin_data"]["probe"]["probe_note"] == "kept"
    server.wait_until(
        lambda: sum(c["hook"] == "process_track" for c in calls()) > runs,
        timeout=60,
        what="the plugin's stages to run again",
    )
    vectors = server.get(f"/api/track-vectors/?track_id={track['id']}&with_vectors=true")
    mine = [
        (v["name"], v["vector"]) for v in vectors["items"] if v["name"] != "text"
    ]  # not the builtin's
    assert mine == [("probe", [0.25, 0.5, 0.75])]
    assert stored["analysis_backend"]  # the builtin backend answered after the probe's None
