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


def test_a_stage_that_hangs_past_the_job_timeout_is_a_recorded_failure(
    serve, library, audio, tmp_path
):
    """Issue 24, item 4: a decoder hanging past job_timeout left the track with no result and
    no reason, health ok. The timeout is now a failure against the track and the plugin."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "hangs.py").write_text(
        "import time\n\nfrom soniquebay import hookimpl, stage\n\n\n"
        "@hookimpl\n@stage(produces=('never',))\n"
        "def process_track(ctx, track, path):\n    time.sleep(120)\n"
    )
    server = serve(env={"SONIQUEBAY_PLUGINS_DIR": str(plugins), "SONIQUEBAY_JOB_TIMEOUT": "3",
                        "SONIQUEBAY_JOB_RETRIES": "0"})  # fmt: skip
    audio.make(library / "stuck.mp3", title="Stuck")
    [track] = server.wait_for_tracks(1)

    def failed():
        found = server.get(f"/api/tracks/{track['id']}")["stage_failures"]
        return [f for f in found if f["stage"] == "hangs.process_track"]

    [failure] = server.wait_until(failed, timeout=60, what="the timed-out stage's failure")
    assert failure["plugin"] == "hangs"
    assert failure["error"].startswith("timed out: the stage took longer than job_timeout (3 s)")
