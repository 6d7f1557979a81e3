"""The `soniquebay` command: serve, web, watch, worker, scan, migrate."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from soniquebay import __version__, config
from soniquebay.errors import SoniqueBayError


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

    def common(p: argparse.ArgumentParser, *, server: bool = False) -> None:
        p.add_argument(
            "--library", action="append", help="music folder (repeat for several; default ./music)"
        )
        p.add_argument("--data-dir", help="where the database and state live (default ./data)")
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
        "--queue", action="append", help="queue(s) to work on (default: scan and analysis)"
    )
    worker.add_argument("--burst", action="store_true", help="stop when the queues are empty")
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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
    except SoniqueBayError as exc:
        print(f"soniquebay: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s",
    )
    # Job functions build their own context from the environment: give them what we were given.
    os.environ.update(settings.env())
    if args.config:
        os.environ["SONIQUEBAY_CONFIG"] = str(Path(args.config).absolute())
    elif "SONIQUEBAY_CONFIG" not in os.environ and config.SYSTEM_CONFIG.exists():
        os.environ["SONIQUEBAY_CONFIG"] = str(config.SYSTEM_CONFIG)
    try:
        return _run(args, settings) or 0
    except SoniqueBayError as exc:
        logging.getLogger("soniquebay").error("%s", exc)
        return 1
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, settings: config.Settings) -> int | None:
    if args.command == "serve":
        from soniquebay.daemon.supervisor import serve

        return serve(settings, os.environ.get("SONIQUEBAY_CONFIG"))
    if args.command == "web":
        from soniquebay.web.app import run_web

        return run_web(settings)
    if args.command == "watch":
        from soniquebay.daemon.watcher import run_watch

        return run_watch(settings)
    if args.command == "worker":
        from soniquebay.daemon.worker import run_worker

        return run_worker(settings, args.queue or ["scan", "analysis"], burst=args.burst)
    if args.command == "scan":
        from soniquebay.daemon.scan import scan

        summary = scan(
            settings, args.paths, jobs=args.jobs, progress=not args.quiet, direct=args.direct
        )
        changes = (
            ", ".join(f"{n} {what}" for what, n in sorted(summary.report.changes.items()))
            or "nothing new"
        )
        print(
            f"{summary.files} files in {summary.seconds:.1f}s ({summary.files_per_minute:,.0f} files/min): "
            f"{changes}; {len(summary.report.errors)} unreadable"
            f" — written {'through the API' if summary.via_api else 'to ' + str(settings.db_path)}"
        )
        for error in summary.report.errors[:20]:
            print(f"  {os.fsdecode(error['path'])!r}: {error['reason']}", file=sys.stderr)
        return 0
    if args.command == "analyze":
        from soniquebay.daemon import ingest, queueing
        from soniquebay.library import db, store

        conn = db.connect(settings.db_path, readonly=True)
        try:
            items = store.tracks_to_analyse(conn, ids=args.ids or None, only_missing=not args.all)
        finally:
            conn.close()
        client = queueing.connect(settings)
        jobs = [
            queueing.enqueue_analysis(client, settings, batch).id
            for batch in ingest.chunks(items, queueing.ANALYSIS_BATCH)
        ]
        print(f"queued {len(items)} tracks for analysis in {len(jobs)} jobs")
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
        return 0
    if args.command == "doctor":
        from soniquebay import doctor

        return doctor.main(settings)
    raise AssertionError(args.command)
