"""The `soniquebay` command: serve, web, watch, worker, scan, migrate."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from soniquebay import __version__, config, credentials
from soniquebay.errors import SoniqueBayError
from soniquebay.names import QUEUES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soniquebay", description="A self-hosted music library for small hardware."
    )
    parser.add_argument("--version", action="version", version=f"soniquebay {__version__}")
    parser.add_argument(
        "--config",
        help="configuration file (default: $SONIQUEBAY_CONFIG or /etc/soniquebay/soniquebay.conf)",
    )
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser, *, server: bool = False, again: bool = False) -> None:
        # ``again``: the same options on an action (token create, user add...), so they work
        # after it too, as people type them; SUPPRESS keeps a value given before the action.
        extra = {"default": argparse.SUPPRESS} if again else {}
        p.add_argument(
            "--library",
            action="append",
            help="music folder (repeat for several; default ./music)",
            **extra,
        )
        p.add_argument(
            "--data-dir", help="where the database and state live (default ./data)", **extra
        )
        if server:
            p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
            p.add_argument("--port", type=int, help="port to listen on (default 8001)")

    common(
        sub.add_parser(
            "serve", help="run everything: web server, watcher, worker (and a private Redis)"
        ),
        server=True,
    )
    common(
        sub.add_parser("web", help="run the web server (REST, GraphQL, events, pages)"), server=True
    )
    common(sub.add_parser("watch", help="run the folder watcher (reconcile, then watch)"))
    worker = sub.add_parser("worker", help="run an RQ worker")
    common(worker)
    worker.add_argument(
        "--queue",
        action="append",
        help="queue(s) to work on: scan, analysis, enrich, vectors, or stages for the last"
        " three (default: all of them)",
    )
    worker.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    worker.add_argument(
        "--check",
        action="store_true",
        help="only say whether this worker runs in the memory profile (exit 0) or not (exit 1):"
        " the systemd units' ExecCondition",
    )
    scan = sub.add_parser("scan", help="scan files or folders once, with a progress bar")
    common(scan)
    scan.add_argument("paths", nargs="+", help="files or folders to read")
    scan.add_argument("--jobs", type=int, help="reader processes (default: one per core)")
    scan.add_argument(
        "--direct",
        action="store_true",
        help="write the database directly even if a web server runs",
    )
    scan.add_argument("--quiet", action="store_true", help="no progress bar")
    analyze = sub.add_parser("analyze", help="queue audio analysis (BPM, key, loudness, ...)")
    common(analyze)
    which = analyze.add_mutually_exclusive_group()
    which.add_argument("--missing", action="store_true", help="tracks without features (default)")
    which.add_argument("--all", action="store_true", help="every track, again")
    analyze.add_argument("ids", nargs="*", type=int, help="these track ids")
    common(
        sub.add_parser("migrate", help="back up the database, then apply pending schema migrations")
    )
    common(sub.add_parser("doctor", help="check Redis, inotify watches, disk, database, analysis"))
    token = sub.add_parser("token", help="API tokens: create, list, revoke")
    common(token)
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_sub.add_parser("create", help="create a token; it is printed once")
    common(create, again=True)
    create.add_argument("name", help="what the token is for, e.g. 'desktop worker'")
    create.add_argument(
        "--scope",
        choices=("read", "write", "worker", "admin"),
        default="write",
        help="default: write (worker: for a worker on another host)",
    )
    common(token_sub.add_parser("list", help="list tokens (never their values)"), again=True)
    revoke = token_sub.add_parser("revoke", help="revoke a token by id")
    common(revoke, again=True)
    revoke.add_argument("id", type=int)
    plugins = sub.add_parser("plugins", help="plugins: list what is installed, check a file")
    plugins_sub = plugins.add_subparsers(dest="plugins_command", required=True, metavar="ACTION")
    listing = plugins_sub.add_parser(
        "list", help="every plugin: source, enabled or not, hooks, stages, options"
    )
    common(listing)
    check = plugins_sub.add_parser(
        "check", help="load one plugin file without starting anything; report its problems"
    )
    check.add_argument("file", help="the plugin's .py file")
    user = sub.add_parser("user", help="users: add one, set a password")
    common(user)
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser("add", help="create a user (password from stdin, or asked for)")
    common(add, again=True)
    add.add_argument("username")
    password = user_sub.add_parser(
        "password", help="set an existing user's password (read from stdin, or asked for)"
    )
    password.add_argument("username")
    common(password, again=True)
    subsonic = user_sub.add_parser(
        "subsonic-password",
        help="set the password apps use (Subsonic API; not the login password): --password, "
        "or read from stdin, or asked for",
    )
    subsonic.add_argument("username")
    subsonic.add_argument("--password", help="the Subsonic password (else stdin, or asked)")
    common(subsonic, again=True)
    kept = user_sub.add_parser(
        "folders",
        help="keep a user to some music folders (by name, as [music_folders] names them);"
        " --all: every folder again",
    )
    kept.add_argument("username")
    kept.add_argument("folder", nargs="*", help="folder names; none: show the user's")
    kept.add_argument("--all", action="store_true", help="the user sees every folder")
    common(kept, again=True)
    downloading = user_sub.add_parser(
        "downloads", help="let a user download files (originals, zips) or not; streaming stays"
    )
    downloading.add_argument("username")
    downloading.add_argument("allowed", choices=("on", "off"))
    common(downloading, again=True)
    sharing = user_sub.add_parser(
        "shares", help="let a user share links or not (their links stop answering while off)"
    )
    sharing.add_argument("username")
    sharing.add_argument("allowed", choices=("on", "off"))
    common(sharing, again=True)
    api_key = user_sub.add_parser(
        "api-key", help="make a new OpenSubsonic API key for the user; printed once"
    )
    api_key.add_argument("username")
    common(api_key, again=True)
    return parser


def _settings(args: argparse.Namespace) -> config.Settings:
    overrides = {
        "library": tuple(Path(p).absolute() for p in args.library)
        if getattr(args, "library", None)
        else None,
        "data_dir": Path(args.data_dir).absolute() if getattr(args, "data_dir", None) else None,
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "log_level": args.log_level,
    }
    return config.load(args.config, **overrides)


CONDITION_FAILED = 255


def main(argv: list[str] | None = None) -> int:
    # What SoniqueBay creates is its own: the database holds password hashes and the data folder
    # the worker token, so files are 0600 and folders 0700 (issue: library.db was 0644).
    os.umask(0o077)
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
    except SoniqueBayError as exc:
        print(f"soniquebay: configuration error: {exc}", file=sys.stderr)
        # systemd's ExecCondition= skips a unit quietly on 1-254; 255 makes it fail, as it must.
        return CONDITION_FAILED if getattr(args, "check", False) else 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s",
    )
    try:
        return _run(args, settings) or 0
    except SoniqueBayError as exc:
        logging.getLogger("soniquebay").error("%s", exc)
        return 1
    except KeyboardInterrupt:
        return 130


def _config_file(args: argparse.Namespace) -> str | None:
    """The configuration file in force, which `serve` hands on to its children (they read the
    plugin sections from it; the main settings reach them as SONIQUEBAY_* variables)."""
    if args.config:
        return str(Path(args.config).absolute())
    if "SONIQUEBAY_CONFIG" in os.environ:
        return os.environ["SONIQUEBAY_CONFIG"] or None
    return str(config.SYSTEM_CONFIG) if config.SYSTEM_CONFIG.exists() else None


def _run(args: argparse.Namespace, settings: config.Settings) -> int | None:
    if args.command == "serve":
        from soniquebay.daemon.supervisor import serve

        return serve(settings, _config_file(args))
    if args.command == "web":
        from soniquebay.web.app import run_web

        return run_web(settings)
    if args.command == "watch":
        from soniquebay.daemon.watcher import run_watch

        return run_watch(settings)
    if args.command == "worker":
        from soniquebay.daemon.layout import runs_in_profile
        from soniquebay.daemon.worker import run_worker

        queues = args.queue or list(QUEUES)
        if args.check:
            runs, why = runs_in_profile(settings, queues)
            print(f"worker {' '.join(queues)}: {why}")
            return 0 if runs else 1
        return run_worker(settings, queues, burst=args.burst)
    if args.command == "scan":
        return _scan(args, settings)
    if args.command == "analyze":
        from soniquebay.daemon.api_client import ApiClient

        # The web process owns what runs next: ask it, as the /api/tracks/analyze-audio route.
        api = ApiClient(settings.running_api_url(), credentials.worker_token(settings))
        body: dict = {"all": bool(args.all)}
        if args.ids:
            body = {"track_ids": args.ids, "force": True}
        answer = api.post("/api/tracks/analyze-audio", body)
        print(f"queued {answer['tracks']} tracks for analysis")
        return 0
    if args.command == "migrate":
        from soniquebay.library import db

        conn = db.connect(settings.db_path)
        try:
            applied = db.migrate(conn, backup_dir=settings.data_dir / "backups")
            print(
                f"applied {', '.join(applied)}"
                if applied
                else f"schema up to date (version {db.schema_version(conn)})"
            )
        finally:
            conn.close()
        # The workers' API token exists before any service starts (postinst runs migrate), so
        # no worker can start without it, whichever unit systemd starts first.
        credentials.worker_token(settings, create=True)
        return 0
    if args.command == "doctor":
        from soniquebay import doctor

        return doctor.main(settings)
    if args.command in ("token", "user"):
        return _accounts(args, settings)
    if args.command == "plugins":
        return _plugins(args, settings)
    raise AssertionError(args.command)


def _plugins(args: argparse.Namespace, settings: config.Settings) -> int:
    from soniquebay.plugins import Plugins, available
    from soniquebay.plugins.check import check_file

    if args.plugins_command == "check":
        problems = check_file(Path(args.file).absolute())
        for problem in problems:
            print(problem)
        print(f"{args.file}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        return 1 if problems else 0
    try:
        plugins = Plugins(settings, "cli")
    except SoniqueBayError as exc:  # a bad option value: say it, and list nothing loaded
        print(f"soniquebay: {exc}", file=sys.stderr)
        return 2
    loaded = {p.name: p for p in plugins.infos()}
    failed = {e.name: e.error for e in plugins.load_errors}
    for plugin in available(settings):
        info = loaded.get(plugin.name)
        state = (
            "enabled" if info else f"FAILED: {failed[plugin.name]}" if plugin.name in failed
            else "disabled"
        )  # fmt: skip
        print(f"{plugin.name}  [{plugin.source}]  {state}")
        print(f"    from {info.location if info else plugin.location}")
        if info:
            print(f"    hooks: {', '.join(info.hooks) or 'none'}")
        for stage in plugins.stages:
            if plugin.name in stage.plugins:
                print(
                    f"    stage {stage.name} on queue {stage.queue}: needs"
                    f" {', '.join(stage.needs)}, version {stage.version}"
                )
        for name, value in plugins.options.get(plugin.name, {}).items():
            print(f"    option {name} = {value!r}")
    return 0


def _scan(args: argparse.Namespace, settings: config.Settings) -> int:
    from soniquebay.daemon.api_client import ApiClient, ApiSink
    from soniquebay.daemon.scan import scan
    from soniquebay.library import db, grouping, ingest
    from soniquebay.library_roots import root_of

    outside = [p for p in args.paths if root_of(os.path.abspath(p), settings.library) is None]
    if outside:
        roots = ", ".join(map(str, settings.library))
        print(
            f"soniquebay: {outside[0]} is not in the library ({roots}): add its folder with"
            " --library, or move it there",
            file=sys.stderr,
        )
        return 2
    api = ApiClient(settings.running_api_url(), credentials.worker_token(settings))
    conn = None
    if not args.direct and api.alive():
        sink, where = ApiSink(api), f"through the API at {api.base_url}"
    elif not args.direct and settings.web_url_path.exists():
        # An instance says it runs on this data folder but does not answer: writing beside it
        # would make two writers. Wait for it, or say --direct once it is stopped.
        print(
            f"soniquebay: the SoniqueBay on {settings.data_dir} ({api.base_url}) does not answer;"
            " start it again, or use --direct if it is stopped for good",
            file=sys.stderr,
        )
        return 2
    else:  # no web process: this command is the only writer
        conn = db.connect(settings.db_path)
        db.migrate(conn, backup_dir=settings.data_dir / "backups")
        grouping.regroup_library(conn, grouping.Rules.from_settings(settings))
        sink = ingest.DirectSink(conn, grouping.Rules.from_settings(settings))
        where = f"to {settings.db_path}"
    try:
        summary = scan(settings, args.paths, sink, jobs=args.jobs, progress=not args.quiet)
    finally:
        if conn is not None:
            conn.close()
    changes = (
        ", ".join(f"{n} {what}" for what, n in sorted(summary.report.changes.items()))
        or "nothing new"
    )
    print(
        f"{summary.files} files in {summary.seconds:.1f}s ({summary.files_per_minute:,.0f} "
        f"files/min): {changes}; {len(summary.report.errors)} unreadable — written {where}"
    )
    for error in summary.report.errors[:20]:
        print(f"  {os.fsdecode(error.get('path', b'?'))!r}: {error['reason']}", file=sys.stderr)
    return 0


def _user(args: argparse.Namespace, settings: config.Settings, conn) -> int:
    import getpass

    from soniquebay.library import accounts

    exists = accounts.user_by_name(conn, args.username) is not None
    if args.user_command != "add" and not exists:
        print(
            f"soniquebay: there is no user {args.username!r}; create one with"
            f" `soniquebay user add {args.username}`",
            file=sys.stderr,
        )
        return 2
    if args.user_command == "add" and exists:
        print(f"soniquebay: user {args.username!r} exists already", file=sys.stderr)
        return 2
    if args.user_command == "folders":
        return _user_folders(args, settings, conn)
    if args.user_command == "downloads":
        accounts.set_downloads(conn, args.username, args.allowed == "on")
        print(f"downloads {args.allowed} for {args.username}")
        return 0
    if args.user_command == "shares":
        from soniquebay.library import shares

        shares.set_allowed(conn, args.username, args.allowed == "on")
        print(f"shares {args.allowed} for {args.username}")
        return 0
    if args.user_command == "api-key":
        key = credentials.new_api_key()
        accounts.create_api_key(conn, args.username, credentials.hash_token(key))
        print(key)
        print(
            f"API key for {args.username} created: copy it now, it is not shown again",
            file=sys.stderr,
        )
        return 0
    secret = getattr(args, "password", None)
    if secret is None:
        if sys.stdin.isatty():
            secret = getpass.getpass(f"new password for {args.username}: ")
        else:
            secret = sys.stdin.readline().rstrip("\n")
    if len(secret) < 8:
        print("soniquebay: a password needs at least 8 characters", file=sys.stderr)
        return 2
    if args.user_command == "subsonic-password":
        accounts.set_subsonic_password(conn, args.username, credentials.seal(settings, secret))
        print(f"Subsonic password of {args.username} set: apps log in with it")
    elif not exists:
        accounts.create_user(conn, args.username, credentials.hash_password(secret))
        print(f"created user {args.username}")
    else:
        accounts.set_password(conn, args.username, credentials.hash_password(secret))
        print(f"password of {args.username} changed; its sessions are closed")
    return 0


def _user_folders(args: argparse.Namespace, settings: config.Settings, conn) -> int:
    from soniquebay.library import accounts

    names = {f.name.casefold(): f.name for f in settings.folders}
    if args.all or args.folder:
        unknown = [n for n in args.folder if n.casefold() not in names]
        if unknown:
            print(
                f"soniquebay: no music folder is named {unknown[0]!r}; the folders are:"
                f" {', '.join(names.values())}",
                file=sys.stderr,
            )
            return 2
        chosen = None if args.all else [names[n.casefold()] for n in args.folder]
        try:
            accounts.set_folders(conn, args.username, chosen)
        except SoniqueBayError as exc:
            print(f"soniquebay: {exc.message}", file=sys.stderr)
            return 2
    row = accounts.subsonic_user(conn, args.username)
    kept = accounts.folders_of(row)
    seen = "every music folder" if kept is None else ", ".join(kept) or "no music folder"
    print(f"{args.username} sees {seen}")
    return 0


def _accounts(args: argparse.Namespace, settings: config.Settings) -> int:
    """Tokens and passwords, written straight to the database (a tiny write; WAL lets the
    running web process carry on)."""

    from soniquebay.library import accounts, db

    if not settings.db_path.exists():  # the wrong folder: never make an empty library here
        print(
            f"soniquebay: there is no library in {settings.data_dir} ({settings.db_path.name} is"
            " missing). Give the data folder SoniqueBay runs with (--data-dir, SONIQUEBAY_DATA_DIR"
            " or data_dir in the configuration file); `soniquebay serve` or `soniquebay migrate`"
            " makes a new one.",
            file=sys.stderr,
        )
        return 2
    conn = db.connect(settings.db_path)
    try:
        db.migrate(conn, backup_dir=settings.data_dir / "backups")
        if args.command == "user":
            return _user(args, settings, conn)
        elif args.token_command == "create":
            token = credentials.new_token()
            row = accounts.create_token(
                conn, args.name, credentials.hash_token(token), token[:10], scope=args.scope
            )
            print(token)
            print(
                f"token {row['id']} ({args.scope}) created: copy it now, it is not shown again",
                file=sys.stderr,
            )
        elif args.token_command == "list":
            for row in accounts.list_tokens(conn):
                state = "revoked" if row["revoked_at"] else "active"
                print(f"{row['id']}\t{row['prefix']}…\t{row['scope']}\t{state}\t{row['name']}")
        elif args.token_command == "revoke":
            accounts.revoke_token(conn, args.id)
            print(f"token {args.id} revoked")
    finally:
        conn.close()
    return 0
