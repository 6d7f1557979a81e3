"""Per-track stages: what each per-track hook implementation needs, produces, and when it is due.

The web process and the workers both build the same list from their plugin manager: the web
to decide what to queue after a track changes, a worker to find the implementation a job names.

A stage is *due* for a track when every field it ``needs`` has a value and it has not run on
those values with this ``version``; so a stage that needs another's output runs after it, and a
new plugin version or a changed file runs it again, and nothing else does.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

from soniquebay import hookspecs, names

FILE = "file"  # the pseudo-field "the file's content" (see _content)
SIDECARS = "sidecars"  # files beside the track a stage reads (a .lrc): their sizes and mtimes


# Where a stage's results go: "features" are the track's audio features (FEATURE_FIELDS; a
# failure is the track's analysis_error), "vectors" its embeddings (``{"vector": [...]}`` or
# ``{"vectors": {name: [...]}}``), "data" the plugin's own data (plugin_data, which later stages
# can need).
STORES = ("features", "vectors", "data")


@dataclass(frozen=True)
class HookDefaults:
    queue: str
    needs: tuple[str, ...]
    batch: int  # tracks per job: small where a track takes seconds, so a restart loses little
    stores: str = "data"


PER_TRACK_HOOKS: dict[str, HookDefaults] = {
    "analyze_audio": HookDefaults(names.ANALYSIS, (FILE,), batch=4, stores="features"),
    "fingerprint_track": HookDefaults(names.ENRICH, (FILE,), batch=8),
    "enrich_track": HookDefaults(names.ENRICH, ("title",), batch=16),
    "vectorize_track": HookDefaults(names.VECTORS, ("title",), batch=32, stores="vectors"),
    "process_track": HookDefaults(names.ENRICH, (FILE,), batch=8),
}
# Alternatives (backends): one stage, the first answer wins — as the hook's spec says.
FIRST_RESULT_HOOKS = tuple(
    hook for hook in PER_TRACK_HOOKS if getattr(hookspecs, hook).soniquebay_spec["firstresult"]
)


@dataclass(frozen=True)
class StageSpec:
    """What :func:`stage` attaches to an implementation."""

    produces: tuple[str, ...] = ()
    needs: tuple[str, ...] | None = None
    version: str | Callable[[Any, Mapping[str, Any]], str] = "1"
    queue: str | None = None
    sidecars: tuple[str, ...] = ()
    stores: str | None = None

    def resolved(self, settings: Any, options: Mapping[str, Any]) -> str:
        return str(self.version(settings, options)) if callable(self.version) else self.version


def stage(
    *,
    produces: Iterable[str] = (),
    needs: Iterable[str] | None = None,
    version: str | int | Callable[[Any, Mapping[str, Any]], str] = "1",
    queue: str | None = None,
    sidecars: Iterable[str] = (),
    stores: str | None = None,
) -> Callable[[Callable], Callable]:
    """Declare a per-track hook implementation's inputs, outputs and version.

    ``needs``: fields that must have a value before it runs (track columns, ``"file"`` for the
    file's content, or fields another stage produces); ``produces``: the fields it returns;
    ``version``: change it when the results would change, and every track runs it again (a
    function of ``(settings, options)`` when a setting changes the results, e.g. a model);
    ``queue``: one of ``analysis``, ``enrich``, ``vectors``; ``sidecars``: extensions of files
    beside the track it reads (``(".lrc", ".txt")``: ``song.lrc`` for ``song.flac``): the scan
    notes them, and one added, changed or removed later runs the stage again for that track;
    ``stores``: where the results go (:data:`STORES`; by default the hook's: ``features`` for
    ``analyze_audio``, ``vectors`` for ``vectorize_track``, else ``data``).
    """
    if queue is not None and queue not in names.STAGE_QUEUES:
        raise ValueError(f"queue must be one of {', '.join(names.STAGE_QUEUES)}, got {queue!r}")
    if stores is not None and stores not in STORES:
        raise ValueError(f"stores must be one of {', '.join(STORES)}, got {stores!r}")
    sidecars = tuple(e.lower() if e.startswith(".") else f".{e.lower()}" for e in sidecars)
    spec = StageSpec(
        tuple(produces),
        tuple(needs) if needs is not None else None,
        version if callable(version) else str(version),
        queue,
        sidecars,
        stores,
    )

    def mark(function: Callable) -> Callable:
        function.soniquebay_stage = spec
        return function

    return mark


@dataclass(frozen=True)
class Stage:
    name: str  # the hook's name for first-result hooks, else "<plugin>.<hook>"
    hook: str
    plugins: tuple[str, ...]  # implementations, in call order
    queue: str
    needs: tuple[str, ...]
    produces: tuple[str, ...]
    version: str
    batch: int
    sidecars: tuple[str, ...] = ()
    stores: str = "data"  # where its results go (STORES)

    def inputs(self, track: Mapping[str, Any]) -> str | None:
        """A digest of the values this stage reads, or None while one of them is missing."""
        values = []
        for need in self.needs:
            if need == SIDECARS:  # its own sidecars' stamps; none beside the file is a value
                values.append(_sidecars(track, self.sidecars))
                continue
            value = _content(track) if need == FILE else track.get(need)
            if value is None:
                return None
            values.append(value)
        raw = json.dumps(values, sort_keys=True, default=str, ensure_ascii=True).encode()
        return hashlib.blake2b(raw, digest_size=10).hexdigest()

    def due(self, track: Mapping[str, Any], state: tuple[str, str] | None) -> str | None:
        """The inputs digest if this stage should run for ``track`` (given its last
        ``(version, inputs)``), else None."""
        digest = self.inputs(track)
        if digest is None or state == (self.version, digest):
            return None
        return digest


def _content(track: Mapping[str, Any]) -> Any:
    """The file's content version: its content hash, or size and mtime where none was taken
    (a track created through the API)."""
    if track.get("quick_hash"):
        return [track.get("size"), track["quick_hash"]]
    if track.get("size") is None or track.get("mtime_ns") is None:
        return None
    return [track["size"], track["mtime_ns"]]


def _sidecars(track: Mapping[str, Any], extensions: tuple[str, ...]) -> dict[str, str]:
    try:
        stamps = json.loads(track.get(SIDECARS) or "{}")
    except ValueError:
        stamps = {}
    return {ext: stamps[ext] for ext in extensions if isinstance(stamps, dict) and ext in stamps}


def sidecar_extensions(pm: pluggy.PluginManager) -> tuple[str, ...]:
    """Every extension a stage reads beside tracks (what the scan stamps and the watcher
    watches), sorted."""
    return tuple(
        sorted({e for hook in PER_TRACK_HOOKS for i in implementations(pm, hook)
                for e in _spec(i).sidecars})
    )  # fmt: skip


def sidecar_stamps(path: str, extensions: tuple[str, ...]) -> str:
    """JSON ``{".lrc": "size:mtime_ns"}`` of the sidecars beside ``path`` (``{}``: none)."""
    stem = os.path.splitext(path)[0]
    found = {}
    for ext in extensions:
        for candidate in (stem + ext, stem + ext.upper()):
            try:
                st = os.stat(candidate)
            except OSError:
                continue
            found[ext] = f"{st.st_size}:{st.st_mtime_ns}"
            break
    return json.dumps(found, sort_keys=True)


def implementations(pm: pluggy.PluginManager, hook: str) -> list[Any]:
    """A hook's implementations in the order pluggy would call them (last registered first)."""
    caller = getattr(pm.hook, hook)
    return [i for i in reversed(caller.get_hookimpls()) if not (i.hookwrapper or i.wrapper)]


def _spec(impl: Any) -> StageSpec:
    return getattr(impl.function, "soniquebay_stage", StageSpec())


def discover(
    pm: pluggy.PluginManager,
    settings: Any = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Stage]:
    """Every stage the loaded plugins declare, in a stable order (``settings`` and each
    plugin's ``options`` resolve versions that depend on them)."""
    options = options or {}
    found = []
    for hook, defaults in PER_TRACK_HOOKS.items():
        impls = implementations(pm, hook)
        if not impls:
            continue
        groups = [impls] if hook in FIRST_RESULT_HOOKS else [[i] for i in impls]
        for group in groups:
            specs = [_spec(i) for i in group]
            plugins = tuple(i.plugin_name for i in group)
            needs = next((s.needs for s in specs if s.needs is not None), defaults.needs)
            sidecars = tuple(dict.fromkeys(e for s in specs for e in s.sidecars))
            if sidecars and SIDECARS not in needs:
                needs = (*needs, SIDECARS)
            queue = next((s.queue for s in specs if s.queue), defaults.queue)
            produces = tuple(dict.fromkeys(f for s in specs for f in s.produces))
            stores = next((s.stores for s in specs if s.stores), defaults.stores)
            if hook in FIRST_RESULT_HOOKS:  # alternatives: a new version of any runs it again
                name = hook
                version = "+".join(
                    f"{p}:{s.resolved(settings, options.get(p, {}))}"
                    for p, s in zip(plugins, specs, strict=True)
                )
            else:
                name = f"{plugins[0]}.{hook}"
                version = specs[0].resolved(settings, options.get(plugins[0], {}))
            found.append(
                Stage(
                    name,
                    hook,
                    plugins,
                    queue,
                    needs,
                    produces,
                    version,
                    defaults.batch,
                    sidecars,
                    stores,
                )  # fmt: skip
            )
    return found
