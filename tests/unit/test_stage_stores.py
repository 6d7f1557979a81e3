"""Where stage results go is the stage's declaration (``@stage(stores=…)``), not its hook's
name: a plugin's own stage can store audio features, and the library keeps the reserved
fields' meaning whichever plugin sends them. On a real library database, through the
catalogue's use case and the web process's own database handle."""

from __future__ import annotations

import asyncio
import textwrap

import chromaprint
import pytest

from soniquebay import config, library, stage
from soniquebay.catalog import stage_results
from soniquebay.library import duplicates, grouping, ingest, stage_data, vectors
from soniquebay.plugins import load_plugins
from soniquebay.web.database import Database

PLUGIN = textwrap.dedent("""
    from soniquebay import hookimpl, stage

    @hookimpl
    @stage(needs=("title",), produces=("bpm", "key"), stores="features", version="1")
    def process_track(ctx, track, path):
        return {"bpm": 120.0, "key": "A"}
""")


@pytest.fixture
def plugins(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "tempo_guess.py").write_text(PLUGIN)
    settings = config.load(
        environ={"SONIQUEBAY_PLUGINS_DIR": str(tmp_path / "plugins")}, data_dir=tmp_path
    )
    return load_plugins(settings, "web")


def test_stages_say_where_their_results_go(plugins):
    declared = {s.name: s.stores for s in plugins.stages}
    assert declared["tempo_guess.process_track"] == "features"
    assert declared["analyze_audio"] == "features"
    assert declared["vectors.vectorize_track"] == "vectors"
    assert declared["fingerprint.fingerprint_track"] == "data"
    with pytest.raises(ValueError, match="stores must be one of"):
        stage(stores="somewhere")


def test_results_are_stored_where_their_stage_says(plugins, tmp_path):
    async def run():
        database = Database(tmp_path / "library.db", tmp_path / "backups")
        try:
            rows = await database.write(
                ingest.ingest,
                [
                    {"path": f"/m/{n}.flac".encode(), "size": n, "mtime_ns": n, "title": f"T{n}"}
                    for n in (1, 2, 3)
                ],
                [],
                grouping.default_rules(),
            )
            one, two, three = (r["id"] for r in rows)
            results = [
                {"track_id": one, "stage": "tempo_guess.process_track", "hook": "process_track",
                 "plugin": "tempo_guess", "version": "1", "inputs": "x", "status": "done",
                 "fields": {"bpm": 120.0, "key": "A"}},
                {"track_id": two, "stage": "tempo_guess.process_track", "hook": "process_track",
                 "plugin": "tempo_guess", "version": "1", "inputs": "x", "status": "failed",
                 "error": "ValueError: no beat"},
                # a stage only a worker knows: its hook's default (vectors)
                {"track_id": three, "stage": "remote.vectorize_track", "hook": "vectorize_track",
                 "plugin": "remote", "version": "1", "inputs": "x", "status": "done",
                 "fields": {"name": "elsewhere", "vector": [0.5] * 4}},
                # a reserved field from a plugin that is not the builtin fingerprint stage
                {"track_id": three, "stage": "tempo_guess.process_track",
                 "hook": "process_track", "plugin": "other_fp", "version": "1", "inputs": "x",
                 "status": "done", "fields": {}},
            ]  # fmt: skip
            done = await stage_results.store(database, plugins.stages, results)
            assert done.count == 4 and [f["track_id"] for f in done.failed] == [two]
            assert {"id": one, "change": "analysed"} in done.changes
            first = database.read(library.tracks.get_track, one)
            assert (first["bpm"], first["key"]) == (120.0, "A")
            assert database.read(stage_data.plugin_data, [one])[one] == {}  # not kept as data
            assert (
                database.read(library.tracks.get_track, two)["analysis_error"]
                == "ValueError: no beat"
            )
            kept, _ = database.read(vectors.list_vectors, track_id=three, with_vectors=True)
            assert [(v["name"], v["vector"]) for v in kept] == [("elsewhere", [0.5] * 4)]

            items = [i * 2654435761 & 0xFFFFFFFF for i in range(200)]
            print_ = chromaprint.encode_fingerprint(items, 1, base64=True).decode()
            fingerprint = {"fingerprint": print_, "fingerprint_duration": 30.0}
            await stage_results.store(
                database,
                plugins.stages,
                [{"track_id": one, "stage": "someone.process_track", "hook": "process_track",
                  "plugin": "someone", "version": "1", "inputs": "y", "status": "done",
                  "fields": fingerprint}],
            )  # fmt: skip
            assert database.read(stage_data.plugin_data, [one])[one]["someone"] == fingerprint
            assert database.read(duplicates.of_track, one) == []  # indexed, alone so far
            assert database.read(
                lambda conn: conn.execute("SELECT track_id FROM track_fingerprints").fetchall()
            ) == [{"track_id": one}]
        finally:
            database.close()

    asyncio.run(run())
