"""The plugin manager: builtins, entry points, enabled contrib modules, then drop-in files.

Each process (web, watch, worker, cli) loads its own with :func:`load_plugins`; nothing here is a
module-level singleton, so a forked RQ work-horse inherits its parent's. Every hook goes through
:class:`Plugins`, which calls each implementation itself so that one that raises is recorded
against its plugin and the others still run (pluggy alone would stop at the first exception).
"""

from __future__ import annotations

import collections
import importlib
import importlib.util
import logging
import os
import stat
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pluggy

from soniquebay import hookspecs
from soniquebay.config import Settings
from soniquebay.errors import BadAudioFile, ConfigError
from soniquebay.plugins.context import PluginContext
from soniquebay.plugins.options import Option, parse_options
from soniquebay.plugins.stages import Stage, discover, implementations

log = logging.getLogger(__name__)

# Builtins ship enabled; a [plugin.<name>] enabled = false switches one off. Those that call
# remote services ship off: nothing leaves the Pi unless its owner says so.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "tags", "analysis_essentia", "analysis_librosa", "fingerprint", "musicbrainz", "coverart",
    "vectors", "scrobble",
)  # fmt: skip
REMOTE_PLUGINS: tuple[str, ...] = ("musicbrainz", "coverart", "scrobble")
# Contrib modules ship disabled; [plugin.<name>] enabled = true switches one on.
CONTRIB_PLUGINS: tuple[str, ...] = ("example_logger", "lyrics", "smart_playlists", "webhook")
ENTRY_POINT_GROUP = "soniquebay"
RECENT_FAILURES = 20  # per plugin, for /api/plugins


@dataclass(frozen=True)
class PluginInfo:
    name: str
    source: str  # builtin, contrib, entry point, drop-in
    hooks: tuple[str, ...]
    location: str


class PluginLoadError:
    """A plugin that failed to load, or was disabled for raising in a hook every process relies
    on (``disabled``): logged with its status, never a crash."""

    def __init__(self, name: str, source: str, error: str, disabled: bool = False):
        self.name, self.source, self.error, self.disabled = name, source, error, disabled


def get_plugin_manager(settings: Settings) -> pluggy.PluginManager:
    """The pluggy manager with every enabled plugin registered and checked against the specs."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.sources = {}  # name -> source
    pm.load_errors = []

    for name in BUILTIN_PLUGINS:
        if builtin_enabled(settings, name):
            _register_module(pm, f"soniquebay.plugins.builtin.{name}", name, "builtin")
    _load_entry_points(pm, settings)
    for name in CONTRIB_PLUGINS:
        if settings.plugin_enabled(name, default=False):
            _register_module(pm, f"soniquebay.plugins.contrib.{name}", name, "contrib")
    if settings.plugins_dir:
        _load_drop_ins(pm, Path(settings.plugins_dir), settings)
    _probe_contract(pm)
    return pm


# Hooks every process calls at start: a plugin raising in one would stop the watcher (the
# extensions it watches) or the whole of serve (the options it checks).
START_HOOKS = ("audio_extensions", "plugin_options")
# SONIQUEBAY_TRACE_PLUGINS=1: every hook call logged (process, plugin, hook, result, time).
TRACE = os.environ.get("SONIQUEBAY_TRACE_PLUGINS", "").lower() in ("1", "true", "yes", "on")
trace_log = logging.getLogger("soniquebay.plugins.trace")


def _probe_contract(pm: pluggy.PluginManager) -> None:
    """Call each plugin's start hooks once; one that raises is disabled with its reason, and
    the others (the builtins among them) carry on. Every process loads the same plugins, so
    every process disables the same ones."""
    for hook in START_HOOKS:
        for impl in implementations(pm, hook):
            try:
                result = impl.function()
                list(result or ())  # a generator raises as it is read
            except Exception as exc:  # the contract: one plugin's bug never stops the others
                disable(pm, impl.plugin_name, f"{hook} raised {one_line(exc)}")


def disable(pm: pluggy.PluginManager, name: str, reason: str) -> PluginLoadError:
    """Take a plugin out of this process's manager, recording why (/api/plugins, the Plugins
    page, /api/health)."""
    source = pm.sources.pop(name, "?")
    plugin = pm.get_plugin(name)
    if plugin is not None:
        pm.unregister(plugin)
    log.error("plugin %s (%s) disabled: %s", name, source, reason)
    error = PluginLoadError(name, source, f"disabled: {reason}", disabled=True)
    pm.load_errors.append(error)
    return error


def read_tags(pm: pluggy.PluginManager, path: str) -> dict[str, Any] | None:
    """``read_tags`` as a guarded first answer: a plugin that raises something other than
    :class:`BadAudioFile` is disabled and the next one answers (a drop-in's bug used to make
    every file unreadable). A builtin's unexpected error stays that file's error."""
    context = getattr(pm, "context", None)  # set by Plugins: each plugin's ctx
    for impl in implementations(pm, "read_tags"):
        given = {"path": path, "ctx": context(impl.plugin_name) if context else None}
        try:
            result = impl.function(**{name: given[name] for name in impl.argnames})
        except BadAudioFile:
            raise
        except Exception as exc:
            if pm.sources.get(impl.plugin_name) == "builtin":
                raise
            disable(pm, impl.plugin_name, f"read_tags raised {one_line(exc)}")
            continue
        if result is not None:
            return result
    return None


def builtin_enabled(settings: Settings, name: str) -> bool:
    """Builtins are on unless switched off; remote enrichment is off unless switched on, and
    cover art follows MusicBrainz (it needs its release ids)."""
    if name == "coverart":
        return settings.plugin_enabled(name, default=builtin_enabled(settings, "musicbrainz"))
    return settings.plugin_enabled(name, default=name not in REMOTE_PLUGINS)


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
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if not settings.plugin_enabled(ep.name, default=True):
            continue
        try:
            _register(pm, ep.load(), ep.name, f"entry point {ep.value}")
        except Exception as exc:  # same as a builtin: recorded, never fatal
            _record_failure(pm, ep.name, "entry point", exc)


def drop_in_refusal(path: Path) -> str | None:
    """Why a drop-in file must not be loaded, or None. Loading it runs its code as the service:
    only root or the service's own user may own it (and its folder), and nobody else may write
    to either."""
    for target in (path.parent, path):
        st = target.stat()
        if st.st_uid not in (0, os.geteuid()):
            return (
                f"{target} is owned by uid {st.st_uid}, neither root nor the service's user"
                f" (uid {os.geteuid()})"
            )
        if st.st_mode & 0o022:
            return (
                f"{target} can be written by its group or by anyone ({stat.filemode(st.st_mode)});"
                f" run: chmod go-w {target}"
            )
    return None


def _load_drop_ins(pm: pluggy.PluginManager, folder: Path, settings: Settings) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.py")):
        name = path.stem
        if name.startswith("_") or not settings.plugin_enabled(name, default=True):
            continue
        refusal = drop_in_refusal(path)
        if refusal:
            log.warning("refused drop-in plugin %s: %s", path, refusal)
            pm.load_errors.append(PluginLoadError(name, f"drop-in {path}", f"refused: {refusal}"))
            continue
        module_name = f"soniquebay_dropin_{name}"
        try:
            spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
            _register(pm, module, name, f"drop-in {path}")
        except Exception as exc:  # a drop-in is anyone's code: recorded, never fatal
            sys.modules.pop(module_name, None)
            _record_failure(pm, name, f"drop-in {path}", exc)


@dataclass(frozen=True)
class Available:
    name: str
    source: str  # builtin, contrib, entry point, drop-in
    location: str
    enabled: bool


def available(settings: Settings) -> list[Available]:
    """Every plugin this configuration could load, enabled or not, without importing any."""
    found = [
        Available(name, "builtin", f"soniquebay.plugins.builtin.{name}",
                  builtin_enabled(settings, name))
        for name in BUILTIN_PLUGINS
    ]  # fmt: skip
    found += [
        Available(ep.name, "entry point", ep.value, settings.plugin_enabled(ep.name, default=True))
        for ep in entry_points(group=ENTRY_POINT_GROUP)
    ]
    found += [
        Available(name, "contrib", f"soniquebay.plugins.contrib.{name}",
                  settings.plugin_enabled(name, default=False))
        for name in CONTRIB_PLUGINS
    ]  # fmt: skip
    folder = settings.plugins_dir
    if folder and Path(folder).is_dir():
        found += [
            Available(p.stem, "drop-in", str(p), settings.plugin_enabled(p.stem, default=True))
            for p in sorted(Path(folder).glob("*.py"))
            if not p.stem.startswith("_")
        ]
    return found


def get_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """What is loaded and where it came from, for `/api/plugins` and `soniquebay doctor`."""
    infos = []
    for name, plugin in pm.list_name_plugin():
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or ()))
        location = getattr(plugin, "__file__", None) or repr(plugin)
        infos.append(PluginInfo(name, pm.sources.get(name, "?"), hooks, str(location)))
    return sorted(infos, key=lambda i: i.name)


def audio_extensions(pm: pluggy.PluginManager) -> frozenset[str]:
    return frozenset(
        ext.lower() for exts in pm.hook.audio_extensions() for ext in exts if isinstance(ext, str)
    )


@dataclass(frozen=True)
class HookFailure:
    plugin: str
    hook: str
    reason: str  # one line
    at: float


def one_line(exc: BaseException) -> str:
    """A failure as one line people can act on: the exception and its message; one raised with
    no message says where (file, line, function), never a bare exception name."""
    text = str(exc).strip().splitlines()
    if text and text[0]:
        return f"{type(exc).__name__}: {text[0]}"[:500]
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    if not frames:
        return f"{type(exc).__name__} (raised with no message)"
    last = frames[-1]
    where = f"{os.path.basename(last.filename)}:{last.lineno} in {last.name}"
    return f"{type(exc).__name__} (raised with no message) at {where}"[:500]


class Plugins:
    """One process's plugins: the pluggy manager, each plugin's options and context, the
    stages, and guarded calls."""

    def __init__(
        self,
        settings: Settings,
        process: str,
        pm: pluggy.PluginManager | None = None,
        queues: tuple[str, ...] = (),
    ):
        self.settings, self.process, self.queues = settings, process, queues
        self.pm = pm or get_plugin_manager(settings)
        self.options: dict[str, dict[str, Any]] = {}
        for name, declared in self._declared_options().items():
            # A bad value stops the process at start-up, naming the plugin and the option.
            self.options[name] = parse_options(name, declared, settings.plugin_options(name))
        self.failures: dict[str, collections.deque[HookFailure]] = collections.defaultdict(
            lambda: collections.deque(maxlen=RECENT_FAILURES)
        )
        self.failure_counts: collections.Counter[str] = collections.Counter()
        self.stages: list[Stage] = discover(self.pm, settings, self.options)
        self._contexts: dict[str, PluginContext] = {}
        self.library: Any = None  # the web process sets its read-only view (ctx.library)
        self.pm.context = self.context  # what read_tags gives a plugin as ``ctx``

    def _declared_options(self) -> dict[str, list[Option]]:
        declared: dict[str, list[Option]] = {}
        for impl in implementations(self.pm, "plugin_options"):
            try:
                options = list(impl.function() or ())
            except Exception as exc:  # a broken declaration is that plugin's start-up error
                raise ConfigError(
                    f"plugin.{impl.plugin_name}", "-", f"cannot declare options: {one_line(exc)}"
                ) from None
            declared[impl.plugin_name] = options
        return declared

    # ------------------------------------------------------------ contexts and calls

    def context(self, plugin: str) -> PluginContext:
        ctx = self._contexts.get(plugin)
        if ctx is None:
            ctx = self._contexts[plugin] = PluginContext(
                self.settings,
                self.process,
                plugin,
                self.options.get(plugin, {}),
                self.queues,
                library_of=lambda: self.library and self.library.for_plugin(plugin),
            )
        return ctx

    def invoke(self, impl: Any, kwargs: dict[str, Any]) -> Any:
        """Call one implementation with the arguments it asks for (``ctx`` made for it);
        with ``SONIQUEBAY_TRACE_PLUGINS=1`` every call is logged with its time and outcome."""
        args = [
            self.context(impl.plugin_name) if name == "ctx" else kwargs[name]
            for name in impl.argnames
        ]
        if not TRACE:
            return impl.function(*args)
        started, outcome = time.perf_counter(), "raised"
        try:
            result = impl.function(*args)
            outcome = "None" if result is None else type(result).__name__
            return result
        finally:
            trace_log.info(
                "%s %s.%s(%s) -> %s in %.1f ms",
                self.process,
                impl.plugin_name,
                impl.function.__name__,
                ", ".join(impl.argnames),
                outcome,
                (time.perf_counter() - started) * 1000,
            )

    def record(self, plugin: str, hook: str, exc: BaseException | str) -> HookFailure:
        reason = exc if isinstance(exc, str) else one_line(exc)
        failure = HookFailure(plugin, hook, reason, time.time())
        self.failures[plugin].append(failure)
        self.failure_counts[plugin] += 1
        return failure

    def each(self, hook: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """(plugin, result) for every implementation; one that raises is logged and recorded
        (the caller sees a :class:`HookFailure` as its result) and the next one runs."""
        for impl in implementations(self.pm, hook):
            try:
                yield impl.plugin_name, self.invoke(impl, kwargs)
            except Exception as exc:  # the contract: a plugin's bug never stops the others
                log.exception("plugin %s failed in %s", impl.plugin_name, hook)
                yield impl.plugin_name, self.record(impl.plugin_name, hook, exc)

    def call(self, hook: str, **kwargs: Any) -> list[Any]:
        """A collected hook: every non-None result, failures left out (they are recorded)."""
        return [r for _, r in self.each(hook, **kwargs) if r is not None and not _failed(r)]

    def first(self, hook: str, **kwargs: Any) -> Any:
        for _, result in self.each(hook, **kwargs):
            if result is not None and not _failed(result):
                return result
        return None

    def startup(self) -> None:
        for plugin, result in self.each("startup", process=self.process):
            if _failed(result):
                log.error("plugin %s failed at start-up: %s", plugin, result.reason)

    def warm_up(self, queue: str) -> list[str]:
        """Run ``warm_up`` for ``queue``: the plugins that loaded something to give back later."""
        return [plugin for plugin, result in self.each("warm_up", queue=queue) if result is True]

    # ------------------------------------------------------------ what is loaded

    def implementations(self, hook: str) -> list[Any]:
        return implementations(self.pm, hook)

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    @property
    def load_errors(self) -> list[PluginLoadError]:
        return self.pm.load_errors

    def infos(self) -> list[PluginInfo]:
        return get_plugins(self.pm)

    def extensions(self) -> frozenset[str]:
        return audio_extensions(self.pm)


def _failed(result: Any) -> bool:
    return isinstance(result, HookFailure)


def load_plugins(settings: Settings, process: str, queues: tuple[str, ...] = ()) -> Plugins:
    """Load, validate options (a :class:`ConfigError` on a bad value), then run ``startup``."""
    plugins = Plugins(settings, process, queues=queues)
    plugins.startup()
    return plugins
