"""`soniquebay plugins check FILE`: load one plugin file, start nothing, and say what is wrong
with it against the contract, line by line, as a plugin author wants to hear it."""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path

import pluggy

from soniquebay import hookspecs
from soniquebay.plugins.options import Option
from soniquebay.plugins.stages import PER_TRACK_HOOKS, StageSpec

IMPL_ATTR = f"{hookspecs.PROJECT}_impl"
SPEC_ATTR = f"{hookspecs.PROJECT}_spec"


def _specs() -> dict[str, list[str]]:
    return {
        name: list(inspect.signature(fn).parameters)
        for name, fn in vars(hookspecs).items()
        if inspect.isfunction(fn) and hasattr(fn, SPEC_ATTR)
    }


def _line(fn) -> int:
    return getattr(getattr(fn, "__code__", None), "co_firstlineno", 0)


def check_file(path: Path) -> list[str]:
    """Problems found in the plugin at ``path``, each ``"FILE:LINE: what is wrong"``; none
    means it loads and every hook it implements matches the contract."""
    name = f"soniquebay_check_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return [f"{path}:0: not a Python file"]
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the author's code: report where it broke, never crash
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        line = frames[-1].lineno if frames else getattr(exc, "lineno", 0) or 0
        return [f"{path}:{line}: cannot be imported: {type(exc).__name__}: {exc}"]
    finally:
        sys.modules.pop(name, None)

    specs, problems, hooks = _specs(), [], 0
    for attr, fn in vars(module).items():
        marker = getattr(fn, IMPL_ATTR, None)
        if marker is None or not callable(fn):
            continue
        hooks += 1
        hook, where = marker.get("specname") or attr, f"{path}:{_line(fn)}"
        if hook not in specs:
            close = difflib.get_close_matches(hook, specs, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"{where}: {attr}: there is no hook called {hook!r}{hint}")
            continue
        given = specs[hook]
        wanted = list(inspect.signature(fn).parameters)
        unknown = [a for a in wanted if a not in given]
        if unknown:
            problems.append(
                f"{where}: {attr}: {hook} is called with {', '.join(given) or 'no arguments'};"
                f" it has no {', '.join(repr(a) for a in unknown)}"
            )
        declared = getattr(fn, "soniquebay_stage", None)
        if isinstance(declared, StageSpec) and hook not in PER_TRACK_HOOKS:
            problems.append(
                f"{where}: {attr}: @stage only applies to per-track hooks"
                f" ({', '.join(PER_TRACK_HOOKS)}), not {hook}"
            )
        if hook == "plugin_options" and not unknown:
            try:
                options = list(fn() or ())
            except Exception as exc:  # the author's code again
                problems.append(f"{where}: plugin_options raised {type(exc).__name__}: {exc}")
            else:
                bad = [o for o in options if not isinstance(o, Option)]
                if bad:
                    problems.append(f"{where}: plugin_options must return Option objects: {bad!r}")
    if not hooks:
        problems.append(f"{path}:1: no function carries @hookimpl: the plugin would do nothing")
    if not problems:  # what SoniqueBay itself will do when it loads the file
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        try:
            pm.register(module, name=path.stem)
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            problems.append(f"{path}:1: {exc}")
    return problems
