"""What the per-track stages leave behind: features on the track, each plugin's data, vectors,
and the state of every stage for every track (version, inputs, failure).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import apsw

from soniquebay import library
from soniquebay.errors import NotFound
from soniquebay.library import duplicates, sql, vectors
from soniquebay.library.fields import FEATURE_FIELDS, JSON_FIELDS
from soniquebay.records import StageResult


def update_features(conn: apsw.Connection, items: Sequence[dict[str, Any]]) -> list[int]:
    """Store analysis results; each item has ``track_id`` and any of FEATURE_FIELDS."""
    now = time.time()
    done = []
    with conn:
        for item in items:
            fields = [f for f in FEATURE_FIELDS if f in item]
            values = [
                json.dumps(item[f]) if f in JSON_FIELDS and item[f] is not None else item[f]
                for f in fields
            ]
            assignments = "".join(f"{f} = ?, " for f in fields)
            rows = conn.execute(
                # updated_at stays: it dates the file's tags, analyzed_at dates these features.
                f"UPDATE tracks SET {assignments}analyzed_at = ? WHERE id = ? RETURNING id",
                (*values, now, item["track_id"]),
            ).fetchall()
            if not rows:
                raise NotFound(
                    f"track {item['track_id']} does not exist",
                    details={"track_id": item["track_id"]},
                )
            done.append(item["track_id"])
    return done


def states(conn: apsw.Connection, ids: Sequence[int]) -> dict[int, dict[str, tuple[str, str]]]:
    """track id -> stage -> (version, inputs) of the stage's last run."""
    out: dict[int, dict[str, tuple[str, str]]] = {i: {} for i in ids}
    for chunk in _chunks(ids):
        for row in conn.execute(
            f"SELECT track_id, stage, version, inputs FROM track_stages "
            f"WHERE track_id IN ({sql.placeholders(chunk)})",
            tuple(chunk),
        ):
            out[row["track_id"]][row["stage"]] = (row["version"], row["inputs"])
    return out


def plugin_data(conn: apsw.Connection, ids: Sequence[int]) -> dict[int, dict[str, dict]]:
    """track id -> plugin -> the fields that plugin's stages stored."""
    out: dict[int, dict[str, dict]] = {i: {} for i in ids}
    for chunk in _chunks(ids):
        for row in conn.execute(
            f"SELECT track_id, plugin, data FROM plugin_data "
            f"WHERE track_id IN ({sql.placeholders(chunk)}) ORDER BY plugin",
            tuple(chunk),
        ):
            out[row["track_id"]][row["plugin"]] = json.loads(row["data"])
    return out


def stage_inputs(conn: apsw.Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Present tracks as stages see them: their columns, then every plugin's fields (a column
    wins over a plugin field of the same name), plus ``_stages`` (their last runs)."""
    rows = [r for chunk in _chunks(ids) for r in library.tracks.tracks_by_ids(conn, chunk)]
    rows = [r for r in rows if r["missing_since"] is None]
    found = [r["id"] for r in rows]
    data, last = plugin_data(conn, found), states(conn, found)
    out = []
    for row in rows:
        merged: dict[str, Any] = {}
        for fields in data[row["id"]].values():
            merged.update(fields)
        merged.update({k: v for k, v in row.items() if v is not None})
        merged["_stages"] = last[row["id"]]
        out.append(merged)
    return out


def _chunks(ids: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _vectors(fields: dict[str, Any]) -> dict[str, list[float]]:
    if "vectors" in fields:
        return dict(fields["vectors"])
    return {fields.get("name") or "default": fields["vector"]}


def store_results(conn: apsw.Connection, results: Sequence[StageResult]) -> list[dict]:
    """Store what workers computed, in one transaction. Each result: ``track_id``, ``stage``,
    ``plugin``, ``version``, ``inputs``, ``status`` (done, failed or skipped), ``stores``
    (where its fields go, as the stage declared: ``features``, ``vectors`` or ``data``),
    ``fields`` (when done) and ``error`` (when failed).

    Features go on the track (a failed stage storing features sets ``analysis_error``); vectors
    go to ``track_vectors``; data is merged into the plugin's data, and the reserved fields
    ``fingerprint`` with ``fingerprint_duration`` index the track for duplicates, whichever
    plugin sends them. Results for tracks deleted meanwhile are dropped. Returns the results
    stored, without their fields.
    """
    now = time.time()
    stored = []
    with conn:
        for result in results:
            track_id = result["track_id"]
            if not conn.execute("SELECT 1 FROM tracks WHERE id = ?", (track_id,)).fetchall():
                continue
            status, error = result["status"], result.get("error")
            fields = result.get("fields") or {}
            if status == "done" and fields:
                try:
                    _store_fields(conn, result, fields, now)
                except (ValueError, TypeError, KeyError, OverflowError) as exc:
                    status, error = "failed", f"unusable result: {type(exc).__name__}: {exc}"[:500]
            if status == "failed" and result.get("stores") == "features":
                update_features(conn, [{"track_id": track_id, "analysis_error": error}])
            conn.execute(
                """INSERT INTO track_stages
                     (track_id, stage, version, inputs, status, plugin, error, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (track_id, stage) DO UPDATE SET
                     attempts = CASE WHEN excluded.status = 'failed' AND status = 'failed'
                                     THEN attempts + 1 ELSE 1 END,
                     version = excluded.version, inputs = excluded.inputs,
                     status = excluded.status, plugin = excluded.plugin,
                     error = excluded.error, updated_at = excluded.updated_at""",
                (
                    track_id,
                    result["stage"],
                    result["version"],
                    result["inputs"],
                    status,
                    result.get("plugin"),
                    error,
                    now,
                ),
            )
            stored.append(
                {"track_id": track_id, "stage": result["stage"],
                 "stores": result.get("stores", "data"), "plugin": result.get("plugin"),
                 "status": status, "error": error}
            )  # fmt: skip
    return stored


def _store_fields(conn: apsw.Connection, result: dict, fields: dict, now: float) -> None:
    track_id = result["track_id"]
    stores = result.get("stores", "data")
    if stores == "features":
        features = {k: v for k, v in fields.items() if k in FEATURE_FIELDS}
        if "extra" in fields:
            features["features_extra"] = fields["extra"]
        update_features(conn, [{"track_id": track_id, **features, "analysis_error": None}])
        if fields.get("waveform") is not None:
            set_waveform(conn, track_id, fields["waveform"])
    elif stores == "vectors":
        items = []
        for name, values in _vectors(fields).items():
            blob = vectors.pack_vector([float(v) for v in values])
            if not values or any(v is None for v in vectors.unpack_vector(blob)):
                raise ValueError(f"vector {name!r} is empty or not finite")
            items.append({"track_id": track_id, "name": str(name), "vector": blob,
                          "dimension": len(values)})  # fmt: skip
        vectors.upsert_vectors(conn, items)
    else:
        json.dumps(fields)  # refuse what JSON cannot hold before writing anything
        conn.execute(
            """INSERT INTO plugin_data (track_id, plugin, data, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (track_id, plugin) DO UPDATE SET
                 data = json_patch(data, excluded.data), updated_at = excluded.updated_at""",
            (track_id, result["plugin"], json.dumps(fields, ensure_ascii=False), now),
        )
        if fields.get("fingerprint") and fields.get("fingerprint_duration"):
            duplicates.index(
                conn, track_id, str(fields["fingerprint"]), float(fields["fingerprint_duration"])
            )


def set_waveform(conn: apsw.Connection, track_id: int, peaks: Sequence[int]) -> None:
    """Keep a track's waveform (peaks 0..255, one byte each); a ValueError for anything else."""
    blob = bytes(int(v) for v in peaks)  # ValueError outside 0..255, TypeError for non-numbers
    if not 0 < len(blob) <= 4096:
        raise ValueError(f"a waveform has 1 to 4096 peaks, not {len(blob)}")
    conn.execute(
        "INSERT INTO track_waveforms (track_id, peaks) VALUES (?, ?) "
        "ON CONFLICT (track_id) DO UPDATE SET peaks = excluded.peaks",
        (track_id, blob),
    )


def waveform(conn: apsw.Connection, track_id: int) -> list[int] | None:
    """A track's waveform as the analysis stored it, or None (not analysed yet, or too long)."""
    rows = conn.execute(
        "SELECT peaks FROM track_waveforms WHERE track_id = ?", (track_id,)
    ).fetchall()
    return list(rows[0]["peaks"]) if rows else None


def set_plugin_fields(
    conn: apsw.Connection,
    track_id: int,
    plugin: str,
    fields: dict[str, Any],
    *,
    rerun: Sequence[str] = (),
) -> None:
    """Merge ``fields`` into a plugin's data for a track (a user's choice the plugin reads);
    with ``rerun``, forget those stages' last runs so the pipeline queues them again."""
    with conn:
        conn.execute(
            """INSERT INTO plugin_data (track_id, plugin, data, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (track_id, plugin) DO UPDATE SET
                 data = json_patch(data, excluded.data), updated_at = excluded.updated_at""",
            (track_id, plugin, json.dumps(fields, ensure_ascii=False), time.time()),
        )
        for stage in rerun:
            conn.execute(
                "DELETE FROM track_stages WHERE track_id = ? AND stage = ?", (track_id, stage)
            )


def failures(conn: apsw.Connection, track_id: int) -> list[dict[str, Any]]:
    """The stages that failed for a track, with their plugin and reason."""
    return conn.execute(
        """SELECT stage, plugin, error, updated_at FROM track_stages
           WHERE track_id = ? AND status = 'failed' ORDER BY stage""",
        (track_id,),
    ).fetchall()


# How long after its n-th failure in a row a stage is tried again: an hour, four, sixteen,
# then every three days, then weekly (a damaged file costs one try a week; a service or disk
# that came back is found within hours).
RETRY_AFTER = (3600.0, 4 * 3600.0, 16 * 3600.0, 3 * 86400.0, 7 * 86400.0)


def failures_due(
    conn: apsw.Connection, stage: str, now: float, after_id: int = 0, limit: int = 500
) -> list[int]:
    """Present tracks, from ``after_id`` on, whose ``stage`` failed and whose wait before the
    next try (:data:`RETRY_AFTER` by the failures in a row) is over."""
    waits = " ".join(f"WHEN {n} THEN {w}" for n, w in enumerate(RETRY_AFTER[:-1], 1))
    return [
        r["track_id"]
        for r in conn.execute(
            f"""SELECT s.track_id FROM track_stages s JOIN tracks t ON t.id = s.track_id
                WHERE s.stage = ? AND s.status = 'failed' AND t.missing_since IS NULL
                  AND s.track_id > ?
                  AND s.updated_at + CASE s.attempts {waits} ELSE {RETRY_AFTER[-1]} END <= ?
                ORDER BY s.track_id LIMIT ?""",
            (stage, after_id, now, limit),
        )
    ]


PLAYBACK = "playback"  # not a stage: where a player's failure to play a track is kept


def record_playback_failure(conn: apsw.Connection, track_id: int, reason: str) -> None:
    """A player could not play this track (nor a transcode of it): a failure on the track, shown
    on its page and at /errors like a stage's, until it plays (:func:`clear_playback_failure`)."""
    with conn:
        if not conn.execute("SELECT 1 FROM tracks WHERE id = ?", (track_id,)).fetchall():
            raise NotFound(f"track {track_id} does not exist", details={"id": track_id})
        conn.execute(
            """INSERT INTO track_stages
                 (track_id, stage, version, inputs, status, plugin, error, updated_at)
               VALUES (?, ?, 'player', '', 'failed', NULL, ?, ?)
               ON CONFLICT (track_id, stage) DO UPDATE SET attempts = attempts + 1,
                 error = excluded.error, updated_at = excluded.updated_at""",
            (track_id, PLAYBACK, f"could not be played: {reason}", time.time()),
        )


def clear_playback_failure(conn: apsw.Connection, track_id: int) -> None:
    with conn:
        conn.execute(
            "DELETE FROM track_stages WHERE track_id = ? AND stage = ?", (track_id, PLAYBACK)
        )


def tracks_behind(
    conn: apsw.Connection, stage: str, version: str, after_id: int = 0, limit: int = 500
) -> list[int]:
    """Present tracks, from ``after_id`` on, where ``stage`` never ran or ran at another version:
    what a new or upgraded plugin has to catch up on (the web's start-up sweep)."""
    return [
        r["id"]
        for r in conn.execute(
            """SELECT t.id FROM tracks t
               LEFT JOIN track_stages s ON s.track_id = t.id AND s.stage = ?
               WHERE t.missing_since IS NULL AND t.id > ? AND (s.version IS NULL OR s.version != ?)
               ORDER BY t.id LIMIT ?""",
            (stage, after_id, version, limit),
        )
    ]


# ---------------------------------------------------------------- what plugins keep per user


def user_data(conn: apsw.Connection, user_id: int, plugin: str) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT data FROM plugin_user_data WHERE user_id = ? AND plugin = ?", (user_id, plugin)
    ).fetchall()
    return json.loads(rows[0]["data"]) if rows else {}


def keep_user_data(
    conn: apsw.Connection, user_id: int, plugin: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Merge ``fields`` into what ``plugin`` keeps for the user (a None value removes a key)."""
    with conn:
        data = user_data(conn, user_id, plugin)
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        conn.execute(
            """INSERT INTO plugin_user_data (user_id, plugin, data, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (user_id, plugin) DO UPDATE SET data = excluded.data,
                 updated_at = excluded.updated_at""",
            (user_id, plugin, json.dumps(data, ensure_ascii=False), time.time()),
        )
    return data
