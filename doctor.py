"""`soniquebay doctor`: checks the things a Pi install gets wrong, and says how to fix each.

Every check returns a :class:`Check` instead of raising, so one broken part (Redis down, a
corrupt database) never hides the others. :func:`main` prints them and returns the exit code:
1 when any check failed, 0 otherwise (warnings included).
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from soniquebay.config import LOW_MEMORY_RAM, Settings, machine_memory

INOTIFY_WATCHES = Path("/proc/sys/fs/inotify/max_user_watches")
SYSCTL_DROP_IN = "/etc/sysctl.d/60-soniquebay-inotify.conf"
# Below this the database, its backup and the outbox cannot be trusted to fit.
MIN_FREE_BYTES = 200 * 1024**2
LOW_FREE_BYTES = 1024**3
TOOL_TIMEOUT = 20  # seconds: a first run under emulation is slow


class Status(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    status: Status
    message: str
    hint: str = ""


def run(settings: Settings) -> list[Check]:
    """Run every check; never raises."""
    checks: list[Check] = []
    for check in CHECKS:
        try:
            checks.append(check(settings))
        except Exception as exc:  # a doctor that crashes tells the user nothing
            name = check.__name__.removeprefix("check_").replace("_", " ")
            checks.append(Check(name, Status.FAIL, f"the check itself failed: {exc!r}"))
    return checks


def main(settings: Settings) -> int:
    checks = run(settings)
    for check in checks:
        print(f"[{check.status.value:^4}] {check.name}: {check.message}")
        if check.hint and check.status is not Status.OK:
            for line in check.hint.splitlines():
                print(f"       {line}")
    failed = sum(c.status is Status.FAIL for c in checks)
    warned = sum(c.status is Status.WARN for c in checks)
    print(f"{len(checks)} checks: {failed} failed, {warned} warnings")
    return 1 if failed else 0


def check_redis(settings: Settings) -> Check:
    import redis

    url = settings.effective_redis_url
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
        version = client.info("server").get("redis_version", "?")
    except redis.RedisError as exc:
        return Check(
            "redis",
            Status.FAIL,
            f"{url} does not answer: {exc}",
            "Start it: sudo systemctl start redis-server\n"
            "or set redis_url in the [soniquebay] section of the configuration.",
        )
    finally:
        client.close()
    return Check("redis", Status.OK, f"{url} answers (Redis {version})")


def count_folders(roots: tuple[Path, ...]) -> int:
    """Folders the watcher puts an inotify watch on: each root and every folder below it."""
    total = 0
    for root in roots:
        if root.is_dir():
            for _dirpath, _dirnames, _files in os.walk(root, onerror=lambda _err: None):
                total += 1
    return total


def suggested_watches(folders: int) -> int:
    """Twice the folders (room to grow, other programs), rounded up to a power of two."""
    want = max(524288, 2 * folders)
    return 1 << (want - 1).bit_length()


def check_inotify(settings: Settings) -> Check:
    missing = [str(root) for root in settings.library if not root.is_dir()]
    try:
        limit = int(INOTIFY_WATCHES.read_text().strip())
    except (OSError, ValueError) as exc:
        return Check("inotify", Status.WARN, f"cannot read {INOTIFY_WATCHES}: {exc}")
    folders = count_folders(settings.library)
    new = suggested_watches(folders)
    hint = (
        f"Raise the limit, now and for the next boots:\n"
        f"  echo 'fs.inotify.max_user_watches = {new}' | sudo tee {SYSCTL_DROP_IN}\n"
        f"  sudo sysctl -w fs.inotify.max_user_watches={new}"
    )
    message = f"{folders} folders to watch, limit fs.inotify.max_user_watches = {limit}"
    if missing:
        message += f"; not found (library offline): {', '.join(missing)}"
    if folders >= limit:
        return Check("inotify", Status.FAIL, message + ": changes will be missed", hint)
    if folders * 10 >= limit * 8:
        return Check("inotify", Status.WARN, message + ": little room left", hint)
    if missing:
        return Check(
            "inotify",
            Status.WARN,
            message,
            "Check the library setting, and that the disk holding the music is mounted.",
        )
    return Check("inotify", Status.OK, message)


def _existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(settings: Settings) -> Check:
    where = _existing(settings.data_dir)
    free = shutil.disk_usage(where).free
    db_size = settings.db_path.stat().st_size if settings.db_path.exists() else 0
    message = f"{free / 1024**2:,.0f} MiB free in {where}"
    hint = (
        "Free some space, or move data_dir to a bigger disk (a USB disk rather than the SD card)."
    )
    # An online backup needs as much room again as the database.
    if free < max(MIN_FREE_BYTES, db_size):
        return Check("disk", Status.FAIL, message + ": too little for the database's backups", hint)
    if free < max(LOW_FREE_BYTES, 2 * db_size):
        return Check("disk", Status.WARN, message + ": running low", hint)
    return Check("disk", Status.OK, message)


def check_database(settings: Settings) -> Check:
    import apsw

    path = settings.db_path
    if not path.exists():
        return Check(
            "database",
            Status.WARN,
            f"{path} does not exist yet",
            "It is created by `soniquebay migrate` or when the web service starts.",
        )
    try:
        # Read-only: the web process is the only writer, and doctor may run beside it.
        conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
        try:
            conn.set_busy_timeout(5000)
            rows = [row[0] for row in conn.execute("PRAGMA quick_check")]
        finally:
            conn.close()
    except apsw.Error as exc:
        return Check(
            "database",
            Status.FAIL,
            f"cannot read {path}: {exc}",
            "Run doctor as the soniquebay user: sudo -u soniquebay soniquebay doctor",
        )
    if rows == ["ok"]:
        return Check("database", Status.OK, f"{path}: quick_check ok")
    return Check(
        "database",
        Status.FAIL,
        f"{path}: quick_check found {len(rows)} problem(s), first: {rows[0]}",
        f"Stop the services and restore the newest backup from {settings.data_dir / 'backups'}.",
    )


def check_vectors(settings: Settings) -> Check:
    """sqlite-vec, which semantic search and "more like this" by meaning need, loads."""
    import apsw

    from soniquebay.library import db

    conn = apsw.Connection(":memory:")
    try:
        db.load_vec(conn)
        if db.has_vec(conn):
            version = conn.execute("SELECT vec_version()").fetchall()[0][0]
            return Check("vectors", Status.OK, f"sqlite-vec {version} loads")
    finally:
        conn.close()
    return Check(
        "vectors",
        Status.FAIL,
        db.vec_failure() or "sqlite-vec did not load",
        "Reinstall the package (its wheelhouse has sqlite-vec >= 0.1.7 for this machine);"
        " without it semantic search answers 503 and more-like-this uses the sound alone.",
    )


def _importable(module: str) -> tuple[bool, str]:
    try:
        imported = importlib.import_module(module)
    except Exception as exc:  # a wheel present but broken counts as not importable
        return False, f"{type(exc).__name__}: {exc}"
    return True, getattr(imported, "__version__", "?")


def check_analysis_backend(settings: Settings) -> Check:
    essentia, essentia_info = _importable("essentia")
    if essentia:
        return Check("analysis", Status.OK, f"essentia {essentia_info} is active")
    librosa, librosa_info = _importable("librosa")
    if librosa:
        return Check(
            "analysis",
            Status.OK,
            f"librosa {librosa_info} is active (essentia not importable: {essentia_info})",
        )
    return Check(
        "analysis",
        Status.WARN,
        f"no analysis backend: essentia ({essentia_info}), librosa ({librosa_info})",
        "Tags are still read, but BPM, key and loudness are not computed.",
    )


def check_memory(settings: Settings) -> Check:
    """Which memory profile the workers follow, and why (``memory = auto`` decides by RAM)."""
    total = machine_memory()
    ram = f"{total / 1024**3:.1f} GiB of RAM" if total else "RAM unknown"
    chosen = "chosen by memory = auto" if settings.memory == "auto" else "set in the configuration"
    if settings.low_memory:
        return Check(
            "memory",
            Status.OK,
            f"low-memory profile ({ram}, {chosen}): one worker for every queue, the analysis"
            " backend loaded per job",
        )
    hint = ""
    if total and total < LOW_MEMORY_RAM:
        hint = "memory = low (or auto) runs one worker and loads the analysis backend per job"
    status = Status.WARN if hint else Status.OK
    return Check("memory", status, f"standard profile ({ram}, {chosen})", hint)


def _runs(tool: str) -> str | None:
    """Why ``tool -version`` does not run, or None when it does (found is not enough: a
    binary for another architecture, or missing a library, is found and fails)."""
    path = shutil.which(tool)
    if path is None:
        return "not on PATH"
    try:
        done = subprocess.run(
            [path, "-version"], capture_output=True, timeout=TOOL_TIMEOUT, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{path} cannot run: {exc}"
    if done.returncode != 0:
        last = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        return f"{path} -version failed (status {done.returncode}): {last[-1] if last else ''}"
    return None


def check_tools(settings: Settings) -> Check:
    problems = {tool: why for tool in ("ffmpeg", "fpcalc") if (why := _runs(tool))}
    if problems:
        return Check(
            "tools",
            Status.WARN,
            "; ".join(f"{tool}: {why}" for tool, why in problems.items()),
            "sudo apt install --reinstall ffmpeg libchromaprint-tools",
        )
    return Check("tools", Status.OK, "ffmpeg and fpcalc run")


CHECKS: tuple[Callable[[Settings], Check], ...] = (
    check_redis,
    check_inotify,
    check_disk,
    check_database,
    check_analysis_backend,
    check_tools,
    check_vectors,
    check_memory,
)
