"""How workers and the watcher talk to the web process (the only database writer).

Results go out in batches through the GraphQL batch mutations; a worker on another host needs
only the API URL, the Redis URL and the music folder mounted at the same path.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from soniquebay.errors import ServiceUnavailable, SoniqueBayError

CREATE_ARTISTS = """
mutation CreateArtists($data: [ArtistCreateInput!]!) {
  create_artists(data: $data) { id name }
}"""
CREATE_ALBUMS = """
mutation CreateAlbums($data: [AlbumCreateInput!]!) {
  create_albums(data: $data) { id title album_artist_id }
}"""
CREATE_TRACKS = """
mutation CreateTracks($data: [TrackCreateInput!]!) {
  create_tracks(data: $data) { id path change title artist_name album_title }
}"""
RECORD_SCAN_ERRORS = """
mutation RecordScanErrors($data: [ScanErrorInput!]!) { record_scan_errors(data: $data) }"""
MARK_MISSING = """
mutation MarkMissing($paths: [String!], $prefixes: [String!]) {
  mark_missing(paths: $paths, prefixes: $prefixes)
}"""
UPDATE_FEATURES = """
mutation UpdateFeatures($data: [FeaturesInput!]!) { update_features(data: $data) }"""


class ApiClient:
    def __init__(self, base_url: str, token: str = "", timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _request(self, method: str, path: str, body: Any = None) -> Any:
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
            if exc.code >= 500:
                raise ServiceUnavailable(
                    f"API {method} {path} answered {exc.code}: {detail}"
                ) from None
            raise SoniqueBayError(f"API {method} {path} answered {exc.code}: {detail}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise ServiceUnavailable(f"cannot reach the API at {self.base_url}: {exc}") from None

    def get(self, path: str) -> Any:
        return self._request("GET", path)

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
        try:
            self.get("/api/health")
        except SoniqueBayError:
            return False
        return True


class ApiSink:
    """Sends ingest batches to the API; :class:`soniquebay.daemon.ingest.DirectSink` is its twin."""

    def __init__(self, client: ApiClient):
        self.client = client

    def create_artists(self, items: list[dict]) -> list[dict]:
        return self.client.graphql(CREATE_ARTISTS, {"data": items})["create_artists"]

    def create_albums(self, items: list[dict]) -> list[dict]:
        return self.client.graphql(CREATE_ALBUMS, {"data": items})["create_albums"]

    def create_tracks(self, items: list[dict]) -> list[dict]:
        return self.client.graphql(CREATE_TRACKS, {"data": items})["create_tracks"]

    def record_scan_errors(self, items: list[dict]) -> None:
        self.client.graphql(RECORD_SCAN_ERRORS, {"data": items})

    def mark_missing(self, paths: list[str], prefixes: list[str]) -> int:
        return self.client.graphql(MARK_MISSING, {"paths": paths, "prefixes": prefixes})[
            "mark_missing"
        ]

    def update_features(self, items: list[dict]) -> list[int]:
        return self.client.graphql(UPDATE_FEATURES, {"data": items})["update_features"]
