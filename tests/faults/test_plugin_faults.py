"""Issue 24, item 3: a drop-in plugin raising in a hook every process relies on used to stop
the watcher (audio_extensions), serve itself (plugin_options) or every file's reading
(read_tags: 0 of 40 files listed), with /api/health saying ok. Now the plugin is disabled with
its reason — log, /api/plugins, the Plugins page, health "degraded" — and the builtins carry on."""

from support.servers import WebSession

BROKEN = {
    "bad_tags": ("@hookimpl\ndef read_tags(path):\n    raise ValueError('cannot parse ' + path)\n"),
    "bad_extensions": "@hookimpl\ndef audio_extensions():\n    raise RuntimeError\n",
    "bad_options": ("@hookimpl\ndef plugin_options():\n    raise KeyError('options not ready')\n"),
}


def test_plugins_raising_in_start_hooks_or_read_tags_are_disabled_and_scanning_goes_on(
    serve, library, audio, tmp_path
):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for name, body in BROKEN.items():
        (plugins / f"{name}.py").write_text("from soniquebay import hookimpl\n\n\n" + body)
    server = serve(env={"SONIQUEBAY_PLUGINS_DIR": str(plugins),
                        "SONIQUEBAY_ADMIN_PASSWORD": "correct horse battery"})  # fmt: skip
    for i in range(40):
        audio.make(library / f"{i:02d}.{('mp3', 'flac', 'ogg')[i % 3]}", title=f"Track {i}")
    assert len(server.wait_for_tracks(40, timeout=90)) == 40
    assert server.get("/api/scan/errors")["total"] == 0

    def degraded():
        health = server.get("/api/health", ok_only=False)
        named = " ".join(health["problems"])
        return health if all(name in named for name in BROKEN) else None

    health = server.wait_until(degraded, timeout=30, what="health naming every broken plugin")
    assert health["status"] == "degraded"
    problems = " ".join(health["problems"])
    assert "read_tags raised ValueError: cannot parse" in problems
    assert "audio_extensions raised RuntimeError (raised with no message) at bad_extensions.py" in (
        problems
    )
    assert "plugin_options raised KeyError" in problems
    failed = {f["name"]: f["error"] for f in server.get("/api/plugins")["failed"]}
    assert set(BROKEN) <= set(failed)
    page = WebSession(server.url, "admin", "correct horse battery").page("/plugins")
    assert page.count("failed: ") >= 3 and "bad_tags" in page
    assert (
        "plugin bad_tags (drop-in" in server.log() and "disabled: read_tags raised" in server.log()
    )
