"""`soniquebay doctor` on real parts: a real redis-server, real SQLite files, real folders."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import apsw

from soniquebay import config, doctor
from soniquebay.doctor import Status


def settings_for(tmp_path: Path, **overrides) -> config.Settings:
    music = tmp_path / "music"
    music.mkdir(exist_ok=True)
    values = {
        "library": (music,),
        "data_dir": tmp_path / "data",
        "redis_url": f"unix://{tmp_path / 'nobody-listens.sock'}",
    }
    values.update(overrides)
    return config.load(environ={}, **values)


def by_name(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {check.name: check for check in checks}


def test_every_check_reports_and_none_raises(tmp_path):
    checks = doctor.run(settings_for(tmp_path))
    assert [c.name for c in checks] == [
        "redis",
        "inotify",
        "disk",
        "database",
        "analysis",
        "tools",
        "vectors",
        "memory",
    ]
    assert all(isinstance(c.status, Status) and c.message for c in checks)


def test_unreachable_redis_fails_with_a_hint(tmp_path):
    check = doctor.check_redis(settings_for(tmp_path))
    assert check.status is Status.FAIL
    assert "nobody-listens.sock" in check.message
    assert "redis-server" in check.hint


def test_running_redis_passes(tmp_path, redis_url):
    check = doctor.check_redis(settings_for(tmp_path, redis_url=redis_url))
    assert check.status is Status.OK, check.message


def test_inotify_counts_every_folder_and_names_the_sysctl(tmp_path, monkeypatch):
    settings = settings_for(tmp_path)
    for album in ("a/1", "a/2", "b"):
        (tmp_path / "music" / album).mkdir(parents=True)
    assert doctor.count_folders(settings.library) == 5  # music, a, a/1, a/2, b

    limit = tmp_path / "max_user_watches"
    monkeypatch.setattr(doctor, "INOTIFY_WATCHES", limit)
    limit.write_text("4\n")
    check = doctor.check_inotify(settings)
    assert check.status is Status.FAIL
    assert "5 folders" in check.message
    assert "fs.inotify.max_user_watches = 524288" in check.hint
    assert "sysctl -w fs.inotify.max_user_watches=524288" in check.hint

    limit.write_text("8192\n")
    assert doctor.check_inotify(settings).status is Status.OK


def test_missing_library_root_is_reported_as_offline(tmp_path):
    check = doctor.check_inotify(settings_for(tmp_path, library=(tmp_path / "unmounted",)))
    assert check.status is Status.WARN
    assert "offline" in check.message


def test_suggested_watches_leaves_room_to_grow():
    assert doctor.suggested_watches(10) == 524288
    assert doctor.suggested_watches(400_000) == 1 << 20


def test_disk_check_reads_the_nearest_existing_folder(tmp_path):
    check = doctor.check_disk(settings_for(tmp_path, data_dir=tmp_path / "not" / "yet"))
    assert check.status in (Status.OK, Status.WARN)
    assert str(tmp_path) in check.message


def test_database_absent_healthy_and_corrupt(tmp_path):
    settings = settings_for(tmp_path)
    assert doctor.check_database(settings).status is Status.WARN

    settings.data_dir.mkdir()
    conn = apsw.Connection(str(settings.db_path))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t(x); INSERT INTO t VALUES (1)")
    conn.close()
    check = doctor.check_database(settings)
    assert check.status is Status.OK, check.message

    settings.db_path.write_bytes(b"this is not a database" * 100)
    assert doctor.check_database(settings).status is Status.FAIL


def test_analysis_backend_is_named(tmp_path):
    check = doctor.check_analysis_backend(settings_for(tmp_path))
    assert ("essentia" in check.message) or ("librosa" in check.message)


def test_main_prints_each_check_and_fails_on_a_failure(tmp_path, capsys):
    code = doctor.main(settings_for(tmp_path))
    out = capsys.readouterr().out
    assert code == 1  # redis is unreachable
    assert "[fail] redis:" in out
    assert "8 checks:" in out


def test_main_passes_when_nothing_fails(tmp_path, redis_url, monkeypatch, capsys):
    monkeypatch.setattr(doctor, "CHECKS", (doctor.check_redis, doctor.check_disk))
    assert doctor.main(settings_for(tmp_path, redis_url=redis_url)) == 0
    assert "2 checks: 0 failed" in capsys.readouterr().out


def test_tools_must_run_not_only_be_found(tmp_path, monkeypatch):
    assert doctor.check_tools(None).status == doctor.Status.OK  # the real ones run
    fake = tmp_path / "bin" / "ffmpeg"  # as an arm64 ffmpeg is on an x86 machine: found, not run
    fake.parent.mkdir()
    fake.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(200))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    check = doctor.check_tools(None)
    assert check.status == doctor.Status.WARN
    assert check.message.startswith(f"ffmpeg: {fake} cannot run") and "fpcalc" not in check.message


def test_the_memory_check_names_the_profile_and_why(tmp_path):
    low = doctor.check_memory(dataclasses.replace(settings_for(tmp_path), memory="low"))
    assert low.status is Status.OK and "low-memory profile" in low.message
    assert "set in the configuration" in low.message
    auto = doctor.check_memory(settings_for(tmp_path))
    assert "chosen by memory = auto" in auto.message
