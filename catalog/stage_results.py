"""Storing what the stages computed: where each result goes is what its stage declared
(``@stage(stores=…)``), never a hook's name; what changed comes back for the front door to
announce."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from soniquebay.catalog import Writes
from soniquebay.library import stage_data as stored_stages
from soniquebay.plugins.stages import PER_TRACK_HOOKS, Stage


@dataclass
class Stored:
    """What storing a batch of results did: how many were stored, which failed, the tracks'
    changes (each ``{"id", "change"}``) and the ``stage.finished`` events to publish."""

    count: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def destination(result: dict[str, Any], declared: dict[str, str]) -> str:
    """Where a result goes: its stage's declaration in this process; a stage only a worker
    knows (a plugin installed on that host alone) gets its hook's default."""
    if result.get("stage") in declared:
        return declared[result["stage"]]
    defaults = PER_TRACK_HOOKS.get(result.get("hook") or "")
    return defaults.stores if defaults else "data"


async def store(db: Writes, stages: Sequence[Stage], results: list[dict[str, Any]]) -> Stored:
    """Store a batch of results in one transaction (:func:`soniquebay.library.stage_data
    .store_results`): features analysed are the change ``analysed``, other stages' results
    the change named after the stage."""
    declared = {s.name: s.stores for s in stages}
    for result in results:
        result["stores"] = destination(result, declared)
    done = await db.write(stored_stages.store_results, results)
    by_stage: dict[str, list[dict]] = {}
    for r in done:
        by_stage.setdefault(r["stage"], []).append(r)
    events = [
        (
            "stage.finished",
            {
                "stage": name,
                "tracks": [r["track_id"] for r in finished],
                "failed": [r["track_id"] for r in finished if r["status"] == "failed"],
            },
        )
        for name, finished in by_stage.items()
    ]
    changes = [
        {"id": r["track_id"], "change": "analysed" if r["stores"] == "features" else r["stage"]}
        for r in done
        if r["status"] != "skipped"
    ]
    return Stored(len(done), [r for r in done if r["status"] == "failed"], changes, events)
