"""One field list (library/fields.py): the GraphQL inputs, the REST validation and the tag
plugin must agree with it, so adding a field is one edit plus what this test then asks for."""

from __future__ import annotations

from graphql import GraphQLNonNull, get_named_type

from soniquebay.library.fields import (
    FEATURE_FIELDS,
    FEATURE_TYPES,
    FILE_FIELDS,
    TAG_FIELDS,
    TAG_TO_COLUMN,
    TAG_TYPES,
    TRACK_EDITABLE,
)
from soniquebay.plugins.builtin import tags
from soniquebay.web import params
from soniquebay.web.gql.schema import load_schema

GRAPHQL_TYPE = {int: "Int", float: "Float", str: "String", "json": "JSON"}
SCHEMA = load_schema()


def inputs(name: str) -> dict[str, str]:
    fields = SCHEMA.type_map[name].fields
    return {
        field: get_named_type(value.type).name
        + ("!" if isinstance(value.type, GraphQLNonNull) else "")
        for field, value in fields.items()
    }


def test_graphql_track_inputs_are_the_field_lists():
    ingest = inputs("TrackIngestInput")
    assert set(ingest) == {"path", "previous_path", "warning", *FILE_FIELDS, *TAG_FIELDS}
    created = set(ingest) - {"warning"} | {"track_artist_id", "album_id"}  # a reader's warning
    assert set(inputs("TrackCreateInput")) == created
    assert set(inputs("TrackUpdateInput")) == {"id", *TRACK_EDITABLE}
    for name in ("TrackIngestInput", "TrackCreateInput", "TrackUpdateInput"):
        for field, kind in TAG_TYPES.items():
            assert inputs(name)[field] == GRAPHQL_TYPE[kind], (name, field)
    assert (inputs("TrackIngestInput")["size"], inputs("TrackIngestInput")["mtime_ns"]) == (
        "Long!",
        "Long!",
    )


def test_graphql_features_and_track_type_carry_every_field():
    features = inputs("FeaturesInput")
    expected = {"extra" if f == "features_extra" else f for f in FEATURE_FIELDS}
    assert set(features) == {"track_id", *expected}
    for field, kind in FEATURE_TYPES.items():
        assert features["extra" if field == "features_extra" else field] == GRAPHQL_TYPE[kind]
    track = set(SCHEMA.type_map["Track"].fields)
    assert {*TAG_FIELDS, *FEATURE_FIELDS} <= track


def test_rest_validation_is_built_from_the_field_lists():
    assert {f: params.TRACK_SPEC[f] for f in TAG_FIELDS} == TAG_TYPES
    assert set(params.FEATURE_SPEC) == set(FEATURE_FIELDS)


def test_the_tag_plugin_speaks_the_field_list(audio, tmp_path):
    path = audio.make(
        tmp_path / "all.mp3",
        title="T",
        artist="A",
        album="B",
        album_artist="C",
        genre="G",
        date="2001",
        track="3/12",
        disc="1/2",
        musicbrainz_recordingid="r",
        musicbrainz_albumid="b",
        musicbrainz_artistid="a",
        musicbrainz_albumartistid="c",
    )
    read = tags.read_tags(path=str(path))
    columns = {TAG_TO_COLUMN.get(k, k) for k, v in read.items() if v is not None}
    assert columns <= set(TAG_FIELDS)
    assert len(columns) >= 18  # nearly every field is read from this file


def test_track_columns_are_the_tables_columns(tmp_path):
    from soniquebay.library import db
    from soniquebay.library.fields import TRACK_COLUMNS

    conn = db.connect(tmp_path / "library.db")
    db.migrate(conn)
    table = [r["name"] for r in conn.execute("SELECT name FROM pragma_table_xinfo('tracks')")]
    assert sorted(table) == sorted(TRACK_COLUMNS)
