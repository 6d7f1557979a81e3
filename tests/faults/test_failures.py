"""Things break: Redis dies, a worker is killed. Nothing is lost; the service says what happened."""

import json
import os
import signal
import subprocess

from support.servers import start_redis


def test_files_added_while_redis_is_down_arrive_when_it_returns(serve, library, audio, tmp_path):
    redis_dir = tmp_path / "ext-redis"
    process, url = start_redis(redis_dir)
    server = serve(env={"SONIQUEBAY_REDIS_URL": url})
    audio.make(library / "before.mp3", title="Before")
    server.wait_for_tracks(1)

    process.terminate()
    process.wait(10)
    for i in range(3):
        audio.make(library / f"during-{i}.mp3", title=f"During {i}")
    server.wait_until(
        lambda: "Redis unreachable" in server.log(), what="the watcher to hit the dead Redis"
    )
    health = server.get("/api/health", ok_only=False)
    assert health["status"] == "degraded"
    assert health["redis"]["ok"] is False and health["redis"]["error"]
    assert len(server.tracks()) == 1  # nothing can be processed yet...

    process, _ = start_redis(redis_dir)  # ...but nothing is lost
    try:
        tracks = server.wait_for_tracks(4, timeout=90)
        assert {t["title"] for t in tracks} == {"Before", "During 0", "During 1", "During 2"}
        assert "Redis is back" in server.log()
    finally:
        server.stop()
        process.terminate()
        process.wait(10)


def worker_pid(server) -> int | None:
    """The RQ worker that `serve` started (a direct child of the supervisor), if one runs."""
    out = subprocess.run(
        ["pgrep", "-P", str(server.process.pid), "-f", "--", "-m soniquebay worker"],
        capture_output=True,
        text=True,
    )
    pids = [int(p) for p in out.stdout.split()]
    return pids[0] if pids else None


def test_a_killed_worker_is_restarted_and_work_goes_on(serve, library, audio):
    server = serve()
    audio.make(library / "one.flac", title="One")
    server.wait_for_tracks(1)
    pid = worker_pid(server)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    server.wait_until(
        lambda: worker_pid(server) not in (None, pid), what="the worker to be restarted"
    )
    audio.make(library / "two.flac", title="Two")
    server.wait_for_tracks(2)
    assert "worker exited with status -9: restarting" in server.log()


def test_a_corrupt_plugin_folder_does_not_stop_the_server(serve, library, audio, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "broken.py").write_text("import nonexistent_module_for_test\n")
    server = serve(env={"SONIQUEBAY_PLUGINS_DIR": str(plugins)})
    audio.make(library / "ok.mp3", title="Fine")
    server.wait_for_tracks(1)
    failed = server.get("/api/plugins")["failed"]
    assert [f["name"] for f in failed] == [
        "broken"
    ] and "nonexistent_module_for_test" in json.dumps(failed)
