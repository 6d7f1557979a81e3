import json
import os

from soniquebay.web.jsonbody import dumps


def test_a_non_utf8_path_survives_the_round_trip():
    """orjson refuses a lone surrogate; the answer still carries the path, as a \\udcXX escape."""
    path = os.fsdecode(b"/music/caf\xe9.mp3")
    body = dumps({"files": [{"path": path}]})
    assert b"\\udce9" in body
    assert os.fsencode(json.loads(body)["files"][0]["path"]) == b"/music/caf\xe9.mp3"


def test_what_orjson_writes_reads_back_the_same():
    value = {"title": "Rêverie ♪", "bpm": 120.5, "ids": [1, 2**62], "none": None, "ok": True}
    body = dumps(value)
    assert json.loads(body) == value
    assert "Rêverie ♪".encode() in body  # UTF-8 as it is, not escaped


def test_an_integer_beyond_64_bits_falls_back_to_the_standard_library():
    assert json.loads(dumps({"n": 2**70})) == {"n": 2**70}
