"""Things break: Redis dies, a worker is killed. Nothing is lost; the service says what happened."""

import json
import os
import shlex
import signal
import subprocess
import sys

import pytest
from support.servers import start_redis, wait_for


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


def test_an_untagged_file_with_a_non_utf8_name_loses_nothing(serve, library, audio, tmp_path):
    """Its title comes from its name, which is not UTF-8: it is listed (the name shown with
    U+FFFD, the path kept byte for byte), and the files around it are not lost with it."""
    server = serve()
    source = audio.template("mp3", seconds=1.0)  # a tone with no tags at all
    folder = tmp_path / "nu"
    folder.mkdir()
    for i in range(40):
        (folder / f"good{i:02d}.mp3").write_bytes(source.read_bytes())
    odd = os.path.join(os.fsencode(folder), b"caf\xe9.mp3")
    with open(odd, "wb") as fh:
        fh.write(source.read_bytes())
    os.rename(folder, library / "nu")  # the folder lands at once
    tracks = server.wait_for_tracks(41, timeout=60)
    odd_track = next(t for t in tracks if t["title"].startswith("caf"))
    assert odd_track["title"] == "caf\ufffd" and odd_track["path"].endswith("caf\ufffd.mp3")
    assert server.get("/api/scan/errors")["total"] == 0


def children_of(pid: int, pattern: str = "") -> list[int]:
    out = subprocess.run(
        ["pgrep", "-P", str(pid), *(["-f", "--", pattern] if pattern else [])],
        capture_output=True,
        text=True,
    )
    return [int(p) for p in out.stdout.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] != "Z"


def test_a_killed_private_redis_is_restarted_and_every_file_arrives(serve, library, audio):
    server = serve()
    [redis_pid] = children_of(server.process.pid, "redis-server")
    for i in range(30):
        audio.make(library / "first" / f"{i:02d}.mp3", title=f"First {i}")
    os.kill(redis_pid, signal.SIGKILL)  # in the middle of it
    for i in range(30):
        audio.make(library / "then" / f"{i:02d}.mp3", title=f"Then {i}")
    server.wait_for_tracks(60, timeout=120)
    assert "redis-server exited with status -9: restarting" in server.log()
    server.wait_until(
        lambda: server.get("/api/health", ok_only=False)["status"] == "ok", what="health ok"
    )
    assert children_of(server.process.pid, "redis-server") not in ([], [redis_pid])


def test_serve_killed_outright_takes_its_children_along_and_starts_again(serve, library, audio):
    server = serve()
    audio.make(library / "one.mp3", title="One")
    server.wait_for_tracks(1)
    children = children_of(server.process.pid)
    assert len(children) >= 5  # redis, web, watch, two workers
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    wait_for(lambda: not any(alive(pid) for pid in children), 30, "every child to follow serve")

    server.start()  # same data folder, same port: no "address already in use", no lost socket
    audio.make(library / "two.mp3", title="Two")
    assert {t["title"] for t in server.wait_for_tracks(2)} == {"One", "Two"}

    second = subprocess.run(
        [*server_command(server)], capture_output=True, text=True, timeout=60, env=server.env
    )
    assert second.returncode != 0
    assert "already running" in second.stderr + second.stdout


def server_command(server) -> list[str]:
    return [
        sys.executable, "-m", "soniquebay", "serve", "--library", str(server.library),
        "--data-dir", str(server.data_dir), "--port", str(server.port),
    ]  # fmt: skip


def without_dac_override(argv: list[str]) -> list[str]:
    """Run as root but without the capabilities that bypass file permissions: a folder at
    mode 000 is then as unreadable to serve as it is to the service's own user."""
    return ["capsh", "--drop=cap_dac_override,cap_dac_read_search", "--", "-c", shlex.join(argv)]


def test_an_unreadable_folder_is_offline_not_deleted_and_comes_back(
    library, audio, tmp_path, serve
):
    if os.geteuid() != 0:  # dropping capabilities needs root (CI); a plain user meets 000 as is
        pytest.skip("capsh --drop needs root")
    for i in range(6):
        audio.make(library / "a" / f"{i}.mp3", title=f"A {i}")
    for i in range(4):
        audio.make(library / "b" / f"{i}.mp3", title=f"B {i}")
    first = serve()
    first.wait_for_tracks(10)
    first.stop()

    (library / "b").chmod(0)
    audio.make(library / "b" / "new.mp3", title="B new")  # arrives while nobody can see it
    server = serve(wrap=without_dac_override)
    health = server.wait_until(
        lambda: (h := server.get("/api/health", ok_only=False))["warnings"] and h,
        what="a warning about the folder",
    )
    assert str(library / "b") in health["watcher"]["unreadable"]
    assert "tracks are kept" in health["warnings"][0]
    assert len(server.tracks()) == 10  # nothing under b was marked missing
    assert str(library / "b") in server.get("/errors")

    (library / "b").chmod(0o755)  # readable again: read without a restart
    tracks = server.wait_for_tracks(11, timeout=30)
    assert "B new" in {t["title"] for t in tracks}
    server.wait_until(lambda: not server.get("/api/health")["warnings"], what="the warning to go")
