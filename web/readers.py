"""Reads answered by reader processes, so that reading uses every core: GraphQL queries, and
the REST lists' catalogue reads (:meth:`Readers.respond`).

The web process is one event loop, and one GraphQL query of 50 albums with their tracks holds
it for about 5 ms (SQL, rows, the executor): at concurrency 32 the last query in line waited
150 ms however many cores were idle. A reader is a process of its own (spawned, not forked:
the web process has threads) with a read-only connection to the library and the same schema
and resolvers (:func:`soniquebay.web.gql.transport.run_operation`). The web process still does
everything about the request itself (authentication, the size and cost limits, the response
and its compression) and hands the readers only the query's text, variables and operation
name; they validate it (graphql-core's validation of a large document takes milliseconds the
event loop should not spend) and send back the answer as JSON bytes.

What stays in the web process: mutations (it is the only writer), queries whose root fields
need what only it holds (``similar_tracks``: the in-memory neighbour index), introspection,
and everything while the readers start. A reader sees each commit as soon as it is made (every
statement is its own read transaction) and drops its cached list totals when ``PRAGMA
data_version`` says another connection wrote.

A reader that dies (killed, out of memory) costs nothing but time: the query it held is
answered in the web process, which answers every query itself for ``RETRY_SECONDS`` and then
starts the readers again. A reader follows the web process when it dies.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from aiohttp import web
from graphql.language import FieldNode, OperationDefinitionNode, OperationType

from soniquebay.config import Settings
from soniquebay.library import db
from soniquebay.web.database import ReadCache
from soniquebay.web.jsonbody import encoded_response, json_response

log = logging.getLogger(__name__)

# Root fields a reader can answer from the database alone.
READER_FIELDS = frozenset(
    {"tracks", "track", "artists", "artist", "albums", "album", "node", "nodes", "scan_errors",
     "track_vectors"}
)  # fmt: skip
RETRY_SECONDS = 10.0


class Readers:
    """The pool of reader processes, started on the first read that one could answer."""

    def __init__(self, settings: Settings, processes: int):
        self.settings, self.processes = settings, processes
        self._pool: ProcessPoolExecutor | None = None
        self._warming: list[Future] = []
        self._ready = False
        self._broken_at = -math.inf
        self.answered = 0  # queries the readers answered (the health report shows it)

    def takes(self, operation: OperationDefinitionNode | None) -> bool:
        """Whether a reader answers this operation (else the web process does, as before)."""
        if self.processes == 0 or operation is None or operation.operation != OperationType.QUERY:
            return False
        if not all(
            isinstance(s, FieldNode) and s.name.value in READER_FIELDS
            for s in operation.selection_set.selections
        ):
            return False
        return self.ready()

    def ready(self) -> bool:
        """Whether the readers answer now; the first call starts them (until they are up, and
        for ``RETRY_SECONDS`` after one died, the web process answers)."""
        if self.processes == 0:
            return False
        if self._ready:
            return True
        if time.monotonic() - self._broken_at < RETRY_SECONDS:
            return False
        if self._pool is None:  # start them; this query and those until they are up: in-process
            try:
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=start_reader,
                    initargs=(self.settings, os.getpid()),
                )
                self._warming = [self._pool.submit(os.getpid) for _ in range(self.processes)]
            except (OSError, ImportError, RuntimeError) as exc:  # no sem_open, no processes left
                self._broken(exc)
            return False
        if not all(f.done() for f in self._warming):
            return False
        failed = next((f.exception() for f in self._warming if f.exception()), None)
        if failed is not None:
            self._broken(failed)
            return False
        log.info("GraphQL readers: %d processes answer the queries", self.processes)
        self._ready = True
        return True

    async def execute(
        self,
        query: str,
        variables: dict[str, Any],
        operation_name: str | None,
        introspection: bool = True,
    ) -> tuple[int, bytes] | None:
        """(status, JSON body) from a reader, which validates the query first (a 400 with the
        errors); None: answer it in the web process."""
        pool = self._pool
        if pool is None:
            return None
        try:
            answered = await asyncio.get_running_loop().run_in_executor(
                pool, answer, query, variables, operation_name, introspection
            )
        except BrokenProcessPool as exc:
            if pool is self._pool:  # the first of the queries it failed says so
                self._broken(exc)
            return None
        if answered is not None:
            self.answered += 1
        return answered

    async def respond(self, db: Any, fn: Callable[..., Any], *args: Any) -> web.Response:
        """The JSON answer of ``fn(db, *args)``, a catalogue read: computed and encoded by a
        reader when they are up (with the reader's read-only handle in place of ``db``), else
        by the web process with ``db``. ``fn`` and ``args`` go to the reader by pickle: a
        module-level function and plain values. An error (a 404, a refused value) is raised
        again here, by the web process's own call, with its own error handling."""
        pool = self._pool if self.ready() else None
        if pool is not None:
            try:
                body = await asyncio.get_running_loop().run_in_executor(pool, read, fn, *args)
            except BrokenProcessPool as exc:
                if pool is self._pool:
                    self._broken(exc)
                body = None
            if body is not None:
                self.answered += 1
                return encoded_response(body)
        return json_response(fn(db, *args))

    def _broken(self, exc: BaseException) -> None:
        log.error("a GraphQL reader died or could not start (%s): the web process answers"
                  " every query for %gs, then starts them again", exc, RETRY_SECONDS)  # fmt: skip
        self.close()
        self._broken_at = time.monotonic()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool, self._warming, self._ready = None, [], False


# ---------------------------------------------------------------- in a reader process


class ReadOnlyDatabase:
    """What the resolvers ask of :class:`soniquebay.web.database.Database`, read-only."""

    def __init__(self, path: Path):
        self.reader = db.connect(path, readonly=True)
        self._cache = ReadCache()

    def read(self, fn, *args: Any, **kwargs: Any) -> Any:
        return fn(self.reader, *args, **kwargs)

    def cached_read(self, key: Any, fn, *args: Any, **kwargs: Any) -> Any:
        """``read``, remembered until another connection commits (the web process writes)."""
        version = self.reader.execute("PRAGMA data_version").fetchone()
        version = next(iter(version.values())) if isinstance(version, dict) else version[0]
        return self._cache.get(version, key, lambda: fn(self.reader, *args, **kwargs))


_state: tuple[Any, dict, asyncio.AbstractEventLoop] | None = None


def start_reader(settings: Settings, web_pid: int) -> None:
    """A reader's start: follow the web process (already gone: go too), open the library,
    build the schema."""
    global _state
    from soniquebay.daemon.supervisor import die_with_parent
    from soniquebay.web import keys
    from soniquebay.web.gql.schema import load_schema

    die_with_parent(web_pid)
    app = {keys.SETTINGS: settings, keys.DB: ReadOnlyDatabase(settings.db_path)}
    _state = (load_schema(), app, asyncio.new_event_loop())
    gc.freeze()  # what start-up built lives as long as the process (see web.app)


def read(fn: Callable[..., Any], *args: Any) -> bytes | None:
    """A catalogue read in a reader: its JSON, or None when the web process should answer
    (an error it reports itself)."""
    from soniquebay.errors import SoniqueBayError
    from soniquebay.web import jsonbody, keys

    assert _state is not None, "start_reader did not run"
    try:
        return jsonbody.dumps(fn(_state[1][keys.DB], *args))
    except SoniqueBayError:
        return None
    except Exception:
        log.exception("a reader could not answer; the web process will")
        return None


def answer(
    query: str, variables: dict[str, Any], operation_name: str | None, introspection: bool = True
):
    """One query in a reader, validated then run: (status, JSON bytes), or None when the web
    process should answer it (an unexpected error: there it gets the web's own error handling
    and its log)."""
    from soniquebay.web import jsonbody, keys
    from soniquebay.web.gql import transport
    from soniquebay.web.loaders import Loaders

    assert _state is not None, "start_reader did not run"
    schema, app, loop = _state
    try:
        errors = transport._validate(schema, query, introspection)
        if errors:
            refused = {"data": None, "errors": [transport._error_json(e) for e in errors]}
            return 400, jsonbody.dumps(refused)
        document = transport._parse(query)
        operation = transport._operation(document, operation_name)
        context = {"request": None, "app": app, "loaders": Loaders(app[keys.DB])}
        payload, status = loop.run_until_complete(
            transport.run_operation(schema, document, operation, operation_name, variables, context)
        )
        return status, jsonbody.dumps(payload)
    except Exception:
        log.exception("a GraphQL reader could not answer; the web process will")
        return None
