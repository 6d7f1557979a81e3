"""GraphQL through a real server: filters, relations without N+1, batches, limits."""

from __future__ import annotations

import dataclasses
import json

import pytest
from support.servers import AppServer

from soniquebay.web import keys

CREATE_TRACKS = """
mutation ($data: [TrackCreateInput!]!) { create_tracks(data: $data) { id path change } }"""


def track_items(n, start=0, **extra):
    return [
        {"path": f"/m/{i:05d}.flac", "size": 1000 + i, "mtime_ns": i, "title": f"T{i}", **extra}
        for i in range(start, start + n)
    ]


def count_statements(api):
    """Count SQL statements on the reader connection of the in-process server."""
    seen = []

    def trace(_cursor, sql, _bindings):
        seen.append(sql)
        return True

    api.app[keys.DB].reader.exec_trace = trace
    return seen


def test_a_500_item_batch_is_written_in_one_go(api):
    answer = api.graphql(CREATE_TRACKS, {"data": track_items(500)})
    assert "errors" not in answer, answer
    done = answer["data"]["create_tracks"]
    assert len(done) == 500 and {d["change"] for d in done} == {"added"}
    assert api.get("/api/tracks?limit=1")["total"] == 500
    again = api.graphql(CREATE_TRACKS, {"data": track_items(500)})
    assert {d["change"] for d in again["data"]["create_tracks"]} == {"unchanged"}
    assert [d["id"] for d in again["data"]["create_tracks"]] == [d["id"] for d in done]


def test_one_failing_item_rolls_its_whole_batch_back(api):
    items = track_items(500)
    items[250]["album_id"] = 987654  # no such album
    answer = api.graphql(CREATE_TRACKS, {"data": items})
    assert answer["data"] is None
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "batch_failed"
    assert error["extensions"]["details"]["items"] == [
        {"index": 250, "message": "refers to an artist, album or track that does not exist"}
    ]
    assert api.get("/api/tracks?limit=1")["total"] == 0

    too_many = api.graphql(CREATE_TRACKS, {"data": track_items(501)})
    assert "CHUNK_SIZE" in too_many["errors"][0]["message"]
    bad_type = api.graphql(CREATE_TRACKS, {"data": [{"path": "/x", "size": "big", "mtime_ns": 1}]})
    assert "size" in json.dumps(bad_type["errors"][0])
    assert api.get("/api/tracks?limit=1")["total"] == 0


def test_update_delete_and_vector_batches_are_all_or_nothing(api):
    ids = [
        d["id"]
        for d in api.graphql(CREATE_TRACKS, {"data": track_items(3)})["data"]["create_tracks"]
    ]
    update = (
        "mutation ($d: [TrackUpdateInput!]!) { update_tracks(data: $d) { id title genre year } }"
    )
    answer = api.graphql(update, {"d": [{"id": ids[0], "genre": "Dub"}, {"id": 999, "genre": "x"}]})
    assert answer["errors"][0]["extensions"]["details"]["items"][0]["index"] == 1
    assert api.get(f"/api/tracks/{ids[0]}")["genre"] is None
    answer = api.graphql(
        update, {"d": [{"id": ids[0], "genre": "Dub"}, {"id": ids[1], "year": None}]}
    )
    assert answer["data"]["update_tracks"][0] == {
        "id": ids[0],
        "title": "T0",
        "genre": "Dub",
        "year": None,
    }

    dim = api.settings.embedding_dimension
    upsert = "mutation ($d: [TrackVectorInput!]!) { upsert_track_vectors(data: $d) { id track_id dimension } }"
    answer = api.graphql(
        upsert,
        {"d": [{"track_id": ids[0], "vector": [0.1] * dim}, {"track_id": ids[1], "vector": [0.1]}]},
    )
    assert answer["errors"][0]["extensions"]["details"]["items"] == [
        {"index": 1, "field": "vector", "message": f"vector must have {dim} numbers, got 1"}
    ]
    answer = api.graphql(
        upsert,
        {
            "d": [
                {"track_id": ids[0], "vector": [0.1] * dim},
                {"track_id": 424242, "vector": [0.1] * dim},
            ]
        },
    )
    assert answer["errors"][0]["extensions"]["details"]["items"][0]["index"] == 1
    assert api.get("/api/track-vectors/")["total"] == 0
    answer = api.graphql(upsert, {"d": [{"track_id": i, "vector": [0.5] * dim} for i in ids]})
    assert [v["dimension"] for v in answer["data"]["upsert_track_vectors"]] == [dim] * 3
    vectors = api.graphql(f"{{ track(id: {ids[0]}) {{ vectors {{ name vector }} }} }}")
    assert vectors["data"]["track"]["vectors"][0]["vector"] == [0.5] * dim

    delete = "mutation ($ids: [Int!]!) { delete_tracks(ids: $ids) }"
    answer = api.graphql(delete, {"ids": [ids[0], 31337]})
    assert answer["errors"][0]["extensions"]["details"]["items"][0]["index"] == 1
    assert api.get("/api/tracks")["total"] == 3
    assert api.graphql(delete, {"ids": ids[:2]})["data"]["delete_tracks"] == ids[:2]
    assert api.get("/api/tracks")["total"] == 1
    assert api.get("/api/track-vectors/")["total"] == 1  # the deleted tracks' vectors went too


def library(api, albums=50, per_album=5):
    artists = api.graphql(
        "mutation ($d: [ArtistCreateInput!]!) { create_artists(data: $d) { id } }",
        {"d": [{"name": f"Artist {i}"} for i in range(10)]},
    )["data"]["create_artists"]
    made = api.graphql(
        "mutation ($d: [AlbumCreateInput!]!) { create_albums(data: $d) { id album_artist_id } }",
        {
            "d": [
                {
                    "title": f"Album {a:02d}",
                    "album_artist_id": artists[a % 10]["id"],
                    "year": 1990 + a % 5,
                }
                for a in range(albums)
            ]
        },
    )["data"]["create_albums"]
    items = []
    for a, album in enumerate(made):
        for n in range(per_album):
            items.append(
                {
                    "path": f"/m/{a}/{n}.mp3",
                    "size": 1,
                    "mtime_ns": 1,
                    "title": f"A{a} T{n}",
                    "track_number": n + 1,
                    "album_id": album["id"],
                    "track_artist_id": album["album_artist_id"],
                    "genre": "Rock" if a % 2 else "Jazz",
                    "year": 1990 + a % 5,
                }
            )
    api.graphql(CREATE_TRACKS, {"data": items})
    api.settle()  # what storing them sets off (events, stage scheduling) is done before we count
    return made


def test_fifty_albums_with_tracks_and_artists_take_a_few_queries(api):
    library(api)
    seen = count_statements(api)
    answer = api.graphql(
        "{ albums(limit: 50) { total items { title album_artist { name albums { title } }"
        " tracks { title track_number artist { name } album { title } } } } }"
    )
    assert "errors" not in answer, answer
    items = answer["data"]["albums"]["items"]
    assert len(items) == 50 and all(len(a["tracks"]) == 5 for a in items)
    assert [t["track_number"] for t in items[0]["tracks"]] == [1, 2, 3, 4, 5]
    assert items[0]["tracks"][0]["album"]["title"] == items[0]["title"]
    assert len(seen) <= 8, seen  # one per relation level, not one per album (that would be 150+)


def test_filters_cursor_and_node_ids(api):
    library(api, albums=6, per_album=2)
    query = """query ($f: TrackFilter, $after: String) {
      tracks(limit: 2, filter: $f, sort: title, after: $after) { total next_cursor items { node_id title genre year } } }"""
    seen, after = [], None
    while True:
        page = api.graphql(query, {"f": {"genre": "rock", "year_min": 1991}, "after": after})[
            "data"
        ]["tracks"]
        assert page["total"] == 4  # rock albums 1, 3 (years 1991, 1993); album 5 is 1990
        seen += [t["title"] for t in page["items"]]
        after = page["next_cursor"]
        if not after:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 4
    node_id = page["items"][0]["node_id"] if page["items"] else None
    first = api.graphql(query, {"f": {"genre": "rock"}})["data"]["tracks"]["items"][0]
    node = api.graphql(
        "query ($id: ID!) { node(id: $id) { node_id ... on Track { title } } }",
        {"id": first["node_id"]},
    )
    assert node["data"]["node"] == {"node_id": first["node_id"], "title": first["title"]}
    nodes = api.graphql(
        '{ nodes(ids: ["Album:1", "Artist:1", "Track:999999"]) { __typename node_id } }'
    )
    assert nodes["data"]["nodes"] == [
        {"__typename": "Album", "node_id": "Album:1"},
        {"__typename": "Artist", "node_id": "Artist:1"},
        None,
    ]
    bad = api.graphql('{ node(id: "User:1") { node_id } }')
    assert bad["errors"][0]["extensions"]["details"]["field"] == "id"
    assert node_id is None or node_id.startswith("Track:")


def test_hostile_queries_are_refused_before_running(api):
    library(api, albums=3, per_album=2)
    seen = count_statements(api)
    deep = "{ tracks { items { album { tracks { album { tracks { album { tracks { album { tracks { album { tracks { title } } } } } } } } } } } } }"
    status, answer = api.request("POST", "/api/graphql", {"query": deep})
    assert status == 400 and answer["errors"][0]["extensions"]["code"] == "query_too_deep"
    costly = (
        "{ "
        + " ".join(
            f"a{i}: tracks(limit: 500) {{ items {{ album {{ tracks {{ title artist {{ name }} }} }} }} }}"
            for i in range(3)
        )
        + " }"
    )
    status, answer = api.request("POST", "/api/graphql", {"query": costly})
    assert status == 400 and answer["errors"][0]["extensions"]["code"] == "query_too_costly"
    via_variables = "query ($n: Int) { tracks(limit: $n) { items { album { tracks { title album { title } } } } } }"
    status, answer = api.request(
        "POST", "/api/graphql", {"query": via_variables, "variables": {"n": 500}}
    )
    assert answer["errors"][0]["extensions"]["code"] == "query_too_costly"
    cyclic = "query { ...A } fragment A on Query { tracks { items { title } } ...A }"
    status, answer = api.request("POST", "/api/graphql", {"query": cyclic})
    assert status == 400
    huge = "{ " + "tracks { total } " * 20000 + "}"
    status, answer = api.request("POST", "/api/graphql", {"query": huge})
    assert status == 400
    # 9,000 spreads of a fragment that costs nothing: refused before graphql-core's validation
    # (which compares selections pairwise: 1.2 s of the event loop for this 46 KB document).
    spreads = "query { " + "...F " * 9000 + "} fragment F on Query { __typename }"
    status, answer = api.request("POST", "/api/graphql", {"query": spreads})
    assert status == 400 and answer["errors"][0]["extensions"]["code"] == "query_too_large"
    assert answer["errors"][0]["extensions"]["spreads"] == 9000
    assert seen == []  # nothing of the above reached the database
    for body in ({"query": 12}, {"query": "{ tracks { total } }", "variables": [1]}, {}):
        status, answer = api.request("POST", "/api/graphql", body)
        assert status == 400 and answer["error"]["details"]["field"] in ("query", "variables")


def test_introspection_can_be_switched_off(settings):
    server = AppServer(dataclasses.replace(settings, graphql_introspection=False)).start()
    try:
        answer = server.graphql("{ __schema { types { name } } }")
        assert "introspection" in answer["errors"][0]["message"].lower()
        assert server.graphql("{ tracks { total } }")["data"]["tracks"]["total"] == 0
    finally:
        server.stop()


def test_mutations_need_write_access_queries_only_read(api):
    status, answer = api.request(
        "POST", "/api/graphql", {"query": "{ tracks { total } }"}, auth=False
    )
    assert status == 401
    status, answer = api.request(
        "POST",
        "/api/graphql",
        {"query": CREATE_TRACKS, "variables": {"data": track_items(1)}},
        auth=False,
    )
    assert status == 401
    status, page = api.request("GET", "/api/graphql", auth=False)
    assert status == 200 and "graphiql.js" in page and "cdn" not in page.lower()


INGEST = """
mutation ($tracks: [TrackIngestInput!]!, $errors: [ScanErrorInput!]) {
  ingest_tracks(tracks: $tracks, errors: $errors) { id change reason }
}"""


def test_graphql_batch_operations(api):
    """The seed's batch ingest: one request and one transaction per chunk, artists and albums
    resolved from names in it (one spelling rule), per-item errors that sink nothing else."""
    commits = []
    api.app[keys.DB].writer.exec_trace = lambda _c, sql, _b: (
        (commits.append(sql) if sql in ("BEGIN DEFERRED", "COMMIT", "ROLLBACK") else None) or True
    )
    base = {"size": 1, "mtime_ns": 1}
    tracks = [
        {**base, "path": "/m/a/1.mp3", "title": "One", "artist_name": "ABBA", "album_title": "Gold"},
        {**base, "path": "/m/a/2.mp3", "title": "Two", "artist_name": " abba ", "album_title": "GOLD"},
        {**base, "path": "/m/b/1.mp3", "title": "Jóga", "artist_name": "Björk",
         "album_title": "Homogenic", "year": 1997, "track_number": 2},
        # A lone surrogate cannot be stored as text: this item is refused, the others are not.
        {**base, "path": "/m/bad.mp3", "title": "caf\udce9"},
    ]  # fmt: skip
    errors = [{"path": "/m/broken.ogg", "size": 3, "reason": "not an audio file", "stage": "tags"}]
    status, body = api.request(
        "POST", "/api/graphql", raw=json.dumps(
            {"query": INGEST, "variables": {"tracks": tracks, "errors": errors}}
        ).encode()
    )  # fmt: skip
    assert status == 200, body
    done = body["data"]["ingest_tracks"]
    assert [d["change"] for d in done] == ["added", "added", "added", "refused"]
    assert done[3]["id"] is None and "cannot be stored" in done[3]["reason"]
    assert commits == ["BEGIN DEFERRED", "COMMIT"]  # the whole chunk, one transaction

    artists = {a["name"]: a for a in api.get("/api/artists")["items"]}
    assert set(artists) == {"ABBA", "Björk"}  # " abba " is ABBA: one normalisation rule
    albums = api.get("/api/albums")["items"]
    assert sorted((a["title"], a["album_artist_name"]) for a in albums) == [
        ("Gold", "ABBA"),
        ("Homogenic", "Björk"),
    ]
    one, two, joga = (api.get(f"/api/tracks/{d['id']}") for d in done[:3])
    assert one["album_id"] == two["album_id"] and one["track_artist_id"] == two["track_artist_id"]
    assert (joga["year"], joga["track_number"]) == (1997, 2)
    failed = {e["path"]: e for e in api.get("/api/scan/errors")["items"]}
    assert failed["/m/broken.ogg"]["reason"] == "not an audio file"
    assert failed["/m/bad.mp3"]["stage"] == "store"

    again = api.graphql(INGEST, {"tracks": tracks[:3]})
    assert [d["change"] for d in again["data"]["ingest_tracks"]] == ["unchanged"] * 3


def test_an_ordinary_browse_query_fits_and_nested_lists_take_a_limit(api):
    library(api, albums=3, per_album=4)
    browse = (
        "{ artists(limit: 3) { items { name albums { title tracks { track_number title bpm key"
        " } } } } }"
    )  # refused with "query cost 45463" before nested lists were counted as what they hold
    status, answer = api.request("POST", "/api/graphql", {"query": browse})
    assert status == 200 and "errors" not in answer, answer
    albums = [a for artist in answer["data"]["artists"]["items"] for a in artist["albums"]]
    assert albums and all(len(a["tracks"]) == 4 for a in albums)
    limited = "{ albums(limit: 1) { items { tracks(limit: 2) { title } } } }"
    status, answer = api.request("POST", "/api/graphql", {"query": limited})
    assert [len(a["tracks"]) for a in answer["data"]["albums"]["items"]] == [2]
    status, answer = api.request(
        "POST", "/api/graphql", {"query": "{ albums { items { tracks(limit: 0) { title } } } }"}
    )
    assert answer["errors"][0]["extensions"]["details"]["field"] == "limit"


LEAN_CASES = [
    (
        """query ($offset: Int) { albums(limit: 50, offset: $offset) {
          items { id title year album_artist { name } tracks { id title track_number bpm key } } } }""",
        {"offset": 3},
    ),
    (
        "{ albums(limit: 50) { total items { title album_artist { name albums { title } }"
        " tracks { title track_number missing artist { name } album { title } } } } }",
        {},
    ),
    (
        """query Q($with: Boolean!, $skip: Boolean!) {
          a: albums(limit: 4, sort: year, descending: true) { items { ...A
            tracks(limit: 2) @include(if: $with) { __typename n: track_number
              ... on Track { title duration size } ... on Node { node_id } } } }
          b: artists(limit: 3) { total limit items { name appears_on { id }
            albums(limit: 1) { title year @skip(if: $skip) } tracks(limit: 1) { total items { title } } } }
          again: albums(limit: 1) { items { title } items { id } } }
        fragment A on Album { id title node_id year @skip(if: $skip) ...A }""",
        {"with": True, "skip": False},
    ),
    ("", {"with": False, "skip": True}),  # the query above with other variables
    (  # the same artists counted and not counted in one request: two loaders, one answer each
        """{ albums(limit: 5) { items { album_artist { name } } }
          tracks(limit: 5) { items { artist { name track_count } } } }""",
        {},
    ),
    (
        """{ tracks(limit: 6, sort: bpm, descending: true) { total next_cursor items {
          id path size bpm scale key_confidence danceability timbre features_extra
          analyzed_at vectors { name dimension } album { album_artist { name } } } } }""",
        {},
    ),
]


def test_the_lean_executor_answers_exactly_as_graphql_core(api):
    """Every case through both executors on the same database: the same data, to the key order."""
    import asyncio

    from graphql import execute, parse

    from soniquebay.web.graphql_lean import Fallback, LeanExecutor
    from soniquebay.web.loaders import Loaders

    library(api, albums=12, per_album=3)
    first = api.graphql("{ tracks(limit: 4) { items { id } } }")["data"]["tracks"]["items"]
    features = [
        {"track_id": t["id"], "bpm": 90.5 + i, "key": "A", "scale": "minor", "danceability": 1.25,
         "timbre": {"mfcc_mean": [1.5, -2.0]}, "analysis_backend": "librosa"}
        for i, t in enumerate(first)
    ]  # fmt: skip
    assert "errors" not in api.graphql(
        "mutation ($d: [FeaturesInput!]!) { update_features(data: $d) }", {"d": features}
    )
    api.settle()
    schema, database = api.app[keys.SCHEMA], api.app[keys.DB]

    def context():
        return {"app": api.app, "request": None, "loaders": Loaders(database)}

    async def both(query, variables):
        document = parse(query)
        (operation,) = document.definitions[:1]
        lean = await LeanExecutor(schema, document, operation, variables, context()).run()
        core = await execute(schema, document, variable_values=variables, context_value=context())
        return lean, core

    previous = None
    for query, variables in LEAN_CASES:
        query = query or previous
        previous = query
        lean, core = asyncio.run(both(query, variables))
        assert not core.errors, core.errors
        assert json.dumps(lean) == json.dumps(core.data), query
    assert '"timbre": {"mfcc_mean": [1.5, -2.0]}' in json.dumps(lean)

    # What it does not answer itself, it says so, and the server answers through graphql-core.
    for query in (
        '{ node(id: "Album:1") { node_id } }',  # an interface to resolve
        '{ node(id: "User:1") { node_id } }',  # a resolver raising: the error needs its path
        "{ __schema { queryType { name } } }",
        "mutation { delete_tracks(ids: []) }",
    ):
        document = parse(query)

        async def lean_only(document=document):
            await LeanExecutor(schema, document, document.definitions[0], {}, context()).run()

        with pytest.raises(Fallback):
            asyncio.run(lean_only())
    partly = api.graphql('{ albums(limit: 1) { items { title } } node(id: "User:1") { node_id } }')
    assert partly["data"]["node"] is None and partly["data"]["albums"]["items"]
    assert partly["errors"][0]["path"] == ["node"]
