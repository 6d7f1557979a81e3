"""GraphQL's schema: ``schema.graphql``, its scalars, and each field bound to its resolver
(:mod:`.queries`, :mod:`.mutations`)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    build_schema,
)
from graphql.language import ast as gql_ast

from soniquebay.web.gql import mutations, queries


def _parse_long(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphQLError(f"Long must be an integer, got {value!r}")
    return value


def _parse_long_literal(node: Any, _variables: Any = None) -> int:
    if isinstance(node, gql_ast.IntValueNode):
        return int(node.value)
    raise GraphQLError("Long must be an integer literal")


def _parse_json_literal(node: Any, _variables: Any = None) -> Any:
    from graphql.utilities import value_from_ast_untyped

    return value_from_ast_untyped(node, _variables)


def load_schema() -> GraphQLSchema:
    sdl = resources.files("soniquebay.web").joinpath("schema.graphql").read_text(encoding="utf-8")
    schema = build_schema(sdl)
    long_type = schema.type_map["Long"]
    long_type.serialize = _parse_long
    long_type.parse_value = _parse_long
    long_type.parse_literal = _parse_long_literal
    json_type = schema.type_map["JSON"]
    json_type.serialize = lambda v: v
    json_type.parse_value = lambda v: v
    json_type.parse_literal = _parse_json_literal
    _bind(schema)
    schema.type_map["Node"].resolve_type = lambda obj, _info, _type: obj["__typename"]
    return schema


def _bind(schema: GraphQLSchema) -> None:
    resolvers = {
        "Query": {
            "tracks": queries.resolve_tracks,
            "track": queries.resolve_track,
            "artists": queries.resolve_artists,
            "artist": queries.resolve_artist,
            "albums": queries.resolve_albums,
            "album": queries.resolve_album,
            "scan_errors": queries.resolve_scan_errors,
            "node": queries.resolve_node,
            "nodes": queries.resolve_nodes,
            "track_vectors": queries.resolve_track_vectors,
            "similar_tracks": queries.resolve_similar_tracks,
            "sonic_path": queries.resolve_sonic_path,
        },
        "Track": {
            "artist": queries.resolve_track_artist,
            "album": queries.resolve_track_album,
            "vectors": queries.resolve_track_vectors_field,
            **{role: queries._credit(role) for role in queries.CREDITS},
            "node_id": queries._node_id("Track"),
        },
        "Album": {
            "tracks": queries.resolve_album_tracks,
            "album_artist": queries.resolve_album_artist,
            "node_id": queries._node_id("Album"),
        },
        "Artist": {
            "albums": queries.resolve_artist_albums,
            "appears_on": queries.resolve_artist_appears_on,
            "tracks": queries.resolve_artist_tracks,
            "node_id": queries._node_id("Artist"),
        },
        "Mutation": {
            "create_artists": mutations.resolve_create_artists,
            "create_albums": mutations.resolve_create_albums,
            "create_tracks": mutations.resolve_create_tracks,
            "ingest_tracks": mutations.resolve_ingest_tracks,
            "store_stage_results": mutations.resolve_store_stage_results,
            "record_scan_errors": mutations.resolve_record_scan_errors,
            "mark_missing": mutations.resolve_mark_missing,
            "update_features": mutations.resolve_update_features,
            "update_tracks": mutations.resolve_update_tracks,
            "delete_tracks": mutations.resolve_delete_tracks,
            "upsert_track_vectors": mutations.resolve_upsert_track_vectors,
        },
    }
    for type_name, type_resolvers in resolvers.items():
        for field_name, fn in type_resolvers.items():
            schema.type_map[type_name].fields[field_name].resolve = fn
