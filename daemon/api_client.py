"""How workers and the watcher talk to the web process (the only database writer).

Results go out in batches through GraphQL: one ``ingest_tracks`` per scan chunk, one
``store_stage_results`` per stage job. A worker on another host needs only the API URL, the Redis
URL and the music folder mounted at the same path.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from soniquebay.errors import ServiceUnavailable, SoniqueBayError, Unauthorized

INGEST_TRACKS = """
mutation Ingest($tracks: [TrackIngestInput!]!, $errors: [ScanErrorInput!]) {
  ingest_tracks(tracks: $tracks, errors: $errors) { id change reason }
}"""
MARK_MISSING = """
mutation MarkMissing($paths: [String!], $prefixes: [String!]) {
  mark_missing(paths: $paths, prefixes: $prefixes)
}"""
STORE_STAGE_RESULTS = """
mutation StoreStageResults($data: [StageResultInput!]!) { store_stage_results(data: $data) }"""


class ApiClient:
    """JSON over HTTP with the worker token. ``token`` may be a callable: it is read when first
    needed and read again after a 401, so a worker that started before the web process wrote
    the token picks it up instead of failing every job."""

    def __init__(self, base_url: str, token: str | Callable[[], str] = "", timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self._token_source = token
        self._token: str | None = token if isinstance(token, str) else None
        self.timeout = timeout

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self._token_source()
        return self._token

    def _request(self, method: str, path: str, body: Any = None, *, again: bool = True) -> Any:
        # ensure_ascii keeps surrogate-escaped (non-UTF-8) path bytes intact through JSON.
        data = None if body is None else json.dumps(body, ensure_ascii=True).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:2000].decode("utf-8", "replace")
            if exc.code == 401 and again and callable(self._token_source):
                self._token = None  # the token file may have been written since: read it again
                return self._request(method, path, body, again=False)
            message = f"API {method} {path} answered {exc.code}: {detail}"
            if exc.code >= 500:
                raise ServiceUnavailable(message) from None
            raise (Unauthorized if exc.code == 401 else SoniqueBayError)(message) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise ServiceUnavailable(f"cannot reach the API at {self.base_url}: {exc}") from None

    def get(self, path: str) -> Any:
        return self._request("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, body)

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self._request(
            "POST", "/api/graphql", {"query": query, "variables": variables or {}}
        )
        if answer.get("errors"):
            messages = "; ".join(e.get("message", "?") for e in answer["errors"])
            raise SoniqueBayError(
                f"GraphQL error: {messages}", details={"errors": answer["errors"]}
            )
        return answer["data"]

    def alive(self) -> bool:
        """The web process answers. A degraded health (503: a disabled plugin, a full disk) is
        an answer all the same: the watcher's work is wanted, and waits in the outbox."""
        try:
            self.get("/api/health")
        except ServiceUnavailable as exc:
            return '"degraded"' in str(exc)
        except SoniqueBayError:
            return False
        return True


class ApiSink:
    """Sends a scan's batches to the API; :class:`soniquebay.library.ingest.DirectSink` is its
    twin for ``soniquebay scan --direct``."""

    def __init__(self, client: ApiClient):
        self.client = client

    def ingest(self, tracks: list[dict], errors: list[dict]) -> list[dict]:
        """One round trip per chunk: ``[{"id", "change", "reason"}]`` per track, in order."""
        answer = self.client.graphql(INGEST_TRACKS, {"tracks": tracks, "errors": errors or None})
        return answer["ingest_tracks"]

    def mark_missing(self, paths: list[str], prefixes: list[str]) -> int:
        return self.client.graphql(MARK_MISSING, {"paths": paths, "prefixes": prefixes})[
            "mark_missing"
        ]

    def store_stage_results(self, results: list[dict]) -> int:
        return self.client.graphql(STORE_STAGE_RESULTS, {"data": results})["store_stage_results"]

    def file_states(self, root: str) -> dict[bytes, tuple[int, int, bool]]:
        """path -> (size, mtime_ns, known_bad) of what the library holds under ``root``."""
        answer = self.client.post("/api/library/files", {"root": root})
        return {os.fsencode(p): (size, mtime, bad) for p, size, mtime, bad in answer["files"]}
