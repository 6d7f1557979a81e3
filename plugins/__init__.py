"""The plugin manager: builtins, entry points, enabled contrib modules, then drop-in files.

Each process (web, watch, worker) builds its own manager with :func:`get_plugin_manager`;
nothing here is a module-level singleton, so a forked RQ work-horse inherits its parent's.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pluggy

from soniquebay import hookspecs
from soniquebay.config import Settings

log = logging.getLogger(__name__)

# Builtins ship enabled; a [plugin.<name>] enabled = false switches one off.
BUILTIN_PLUGINS: tuple[str, ...] = ("tags", "analysis_essentia", "analysis_librosa")
# Contrib modules ship disabled; [plugin.<name>] enabled = true switches one on.
CONTRIB_PLUGINS: tuple[str, ...] = ("example_logger",)
ENTRY_POINT_GROUP = "soniquebay"


@dataclass(frozen=True)
class PluginInfo:
    name: str
    source: str  # builtin, contrib, entry point, drop-in
    hooks: tuple[str, ...]
    location: str


class PluginLoadError:
    """A plugin that failed to load: logged with its status, never a crash."""

    def __init__(self, name: str, source: str, error: str):
        self.name, self.source, self.error = name, source, error


def get_plugin_manager(settings: Settings) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.sources = {}  # name -> source
    pm.load_errors = []

    for name in BUILTIN_PLUGINS:
        if settings.plugin_enabled(name, default=True):
            _register_module(pm, f"soniquebay.plugins.builtin.{name}", name, "builtin")
    _load_entry_points(pm, settings)
    for name in CONTRIB_PLUGINS:
        if settings.plugin_enabled(name, default=False):
            _register_module(pm, f"soniquebay.plugins.contrib.{name}", name, "contrib")
    if settings.plugins_dir:
        _load_drop_ins(pm, Path(settings.plugins_dir), settings)
    return pm


def _register(pm: pluggy.PluginManager, plugin: Any, name: str, source: str) -> None:
    pm.register(plugin, name=name)
    try:
        # A hook name or argument that matches no spec is this plugin's error, found now.
        pm.check_pending()
    except pluggy.PluginValidationError:
        pm.unregister(plugin)
        raise
    pm.sources[name] = source


def _record_failure(pm: pluggy.PluginManager, name: str, source: str, exc: BaseException) -> None:
    log.error("plugin %s (%s) failed to load: %s", name, source, exc)
    pm.load_errors.append(PluginLoadError(name, source, f"{type(exc).__name__}: {exc}"))


def _register_module(pm: pluggy.PluginManager, module: str, name: str, source: str) -> None:
    try:
        _register(pm, importlib.import_module(module), name, source)
    except Exception as exc:  # a plugin that cannot import must not take the process down
        _record_failure(pm, name, source, exc)


def _load_entry_points(pm: pluggy.PluginManager, settings: Settings) -> None:
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if not settings.plugin_enabled(ep.name, default=True):
            continue
        try:
            _register(pm, ep.load(), ep.name, f"entry point {ep.value}")
        except Exception as exc:
            _record_failure(pm, ep.name, "entry point", exc)


def _load_drop_ins(pm: pluggy.PluginManager, folder: Path, settings: Settings) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.py")):
        name = path.stem
        if name.startswith("_") or not settings.plugin_enabled(name, default=True):
            continue
        module_name = f"soniquebay_dropin_{name}"
        try:
            spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
            _register(pm, module, name, f"drop-in {path}")
        except Exception as exc:
            sys.modules.pop(module_name, None)
            _record_failure(pm, name, f"drop-in {path}", exc)


def get_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """What is loaded and where it came from, for `/api/plugins` and `soniquebay doctor`."""
    infos = []
    for name, plugin in pm.list_name_plugin():
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or ()))
        location = getattr(plugin, "__file__", None) or repr(plugin)
        infos.append(PluginInfo(name, pm.sources.get(name, "?"), hooks, str(location)))
    return sorted(infos, key=lambda i: i.name)


def audio_extensions(pm: pluggy.PluginManager) -> frozenset[str]:
    return frozenset(ext.lower() for exts in pm.hook.audio_extensions() for ext in exts)
