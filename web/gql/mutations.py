"""GraphQL's mutations: the batch writes the workers (and scripts) send, each in one
transaction on the writer thread, each announcing what changed through the pipeline."""

from __future__ import annotations

import os
from typing import Any

from soniquebay import library
from soniquebay.catalog import stage_results
from soniquebay.errors import BatchFailed, InvalidInput
from soniquebay.library import edits, fields, ingest, sql, stage_data, vectors
from soniquebay.web import covers, keys
from soniquebay.web.changes import CARRIED
from soniquebay.web.gql.queries import db_of, selected_fields

# ------------------------------------------------------------------ mutations


def _rules(info: Any):
    return info.context["app"][keys.GROUPING]


def _batch(info: Any, data: list) -> None:
    cap = info.context["app"][keys.SETTINGS].chunk_size
    if len(data) > cap:
        raise InvalidInput(
            f"at most {cap} items per batch (CHUNK_SIZE), got {len(data)}",
            details={"field": "data"},
        )


async def resolve_create_artists(_root, info, data):
    _batch(info, data)
    return await db_of(info).write(ingest.upsert_artists, data)


async def resolve_create_albums(_root, info, data):
    _batch(info, data)
    return await db_of(info).write(ingest.upsert_albums, data)


async def resolve_create_tracks(_root, info, data):
    _batch(info, data)
    database = db_of(info)
    done = await database.write(
        ingest.upsert_tracks, [sql.from_wire(item) for item in data], _rules(info)
    )
    wanted = selected_fields(info)
    if wanted <= {"id", "path", "change", *fields.TAG_FIELDS}:
        # What was asked for is what was sent: answer from the input, no second read.
        out = [
            {**{f: item.get(f) for f in fields.TAG_FIELDS}, "id": d["id"]}
            for d, item in zip(done, data, strict=True)
        ]
    else:
        rows = {
            r["id"]: r for r in database.read(library.tracks.tracks_by_ids, [d["id"] for d in done])
        }
        out = [sql.public_track(rows[d["id"]]) for d in done]
    for track, d in zip(out, done, strict=True):
        track["change"] = d["action"]
        track["path"] = os.fsdecode(d["path"])  # exactly what was sent
    _pipeline(info).stored(out)
    return out


async def resolve_ingest_tracks(_root, info, tracks, errors=None):
    _batch(info, tracks)
    done = await db_of(info).write(
        ingest.ingest,
        [sql.from_wire(t) for t in tracks],
        [sql.from_wire(e) for e in errors or ()],
        _rules(info),
    )
    changes = [
        {**{k: t.get(k) for k in CARRIED}, "id": d["id"], "change": d["action"]}
        for d, t in zip(done, tracks, strict=True)
    ]
    _pipeline(info).stored(changes)
    # What the worker needs back, not the rows: ids, what happened, and why a track was refused.
    return [{"id": d["id"], "change": d["action"], "reason": d.get("reason")} for d in done]


async def resolve_store_stage_results(_root, info, data):
    _batch(info, data)
    app = info.context["app"]
    images = covers.take_cover_images(data)  # files, not rows: kept beside the database
    done = await stage_results.store(db_of(info), app[keys.PLUGINS].stages, data)
    await covers.save_cover_images(app, images)
    if done.failed:
        app[keys.METRICS].stage_failures(done.failed)
    _pipeline(info).stored(done.changes, events=done.events)
    return done.count


def _pipeline(info: Any):
    return info.context["app"][keys.PIPELINE]


async def resolve_record_scan_errors(_root, info, data):
    _batch(info, data)
    return await db_of(info).write(
        ingest.record_scan_errors, [sql.from_wire(item) for item in data]
    )


async def resolve_mark_missing(_root, info, paths=None, prefixes=None):
    paths, prefixes = paths or [], prefixes or []
    _batch(info, paths)
    changed = await db_of(info).write(
        ingest.mark_missing, [os.fsencode(p) for p in paths], [os.fsencode(p) for p in prefixes]
    )
    _pipeline(info).stored([{"id": r["id"], "change": "removed"} for r in changed])
    return len(changed)


async def resolve_update_features(_root, info, data):
    _batch(info, data)
    items = []
    for item in data:
        item = dict(item)
        if "extra" in item:
            item["features_extra"] = item.pop("extra")
        items.append(item)
    ids = await db_of(info).write(stage_data.update_features, items)
    _pipeline(info).stored([{"id": i, "change": "analysed"} for i in ids])
    return ids


async def resolve_update_tracks(_root, info, data):
    _batch(info, data)
    database = db_of(info)
    ids = await database.write(edits.update_tracks, [dict(item) for item in data], _rules(info))
    rows = {r["id"]: sql.public_track(r) for r in database.read(library.tracks.tracks_by_ids, ids)}
    out = [rows[i] for i in ids]
    _pipeline(info).stored([{**t, "change": "edited"} for t in out])
    return out


async def resolve_delete_tracks(_root, info, ids):
    _batch(info, ids)
    done = await db_of(info).write(edits.delete_tracks, ids)
    _pipeline(info).stored([{"id": i, "change": "removed"} for i in done])
    return done


async def resolve_upsert_track_vectors(_root, info, data):
    _batch(info, data)
    dimension = info.context["app"][keys.SETTINGS].embedding_dimension
    items, problems = [], []
    for index, item in enumerate(data):
        values = item["vector"]
        if len(values) != dimension:
            problems.append(
                {
                    "index": index,
                    "field": "vector",
                    "message": f"vector must have {dimension} numbers, got {len(values)}",
                }
            )
            continue
        try:
            blob = vectors.pack_vector(values)
        except OverflowError:
            blob = b""
        if not blob or any(v is None for v in vectors.unpack_vector(blob)):
            problems.append(
                {"index": index, "field": "vector", "message": "values must be finite float32"}
            )
            continue
        items.append(
            {
                "track_id": item["track_id"],
                "name": item.get("name") or "default",
                "dimension": dimension,
                "vector": blob,
            }
        )
    if problems:
        raise BatchFailed(
            f"{len(problems)} of {len(data)} items refused; nothing of the batch was written",
            details={"items": problems[:100], "refused": len(problems)},
        )
    return await db_of(info).write(vectors.upsert_vectors, items)
