"""Modules imported on first use, for processes that load a plugin but never run it.

Every process loads every plugin (a drop-in may add file extensions or event hooks), so a
module-level ``import numpy`` in the analysis plugins made the watcher, which analyses
nothing, hold numpy (and the rest that comes with it). ``np = lazy.module("numpy")`` costs
nothing until an attribute is read; then numpy is imported and its names copied in, so later
reads are plain attribute reads.

Not ``importlib.util.LazyLoader``: its module loads on *any* attribute read, ``__class__``
included, which ``isinstance`` does — and pluggy runs ``isinstance`` on every name of a plugin
module when it registers it.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any


class LazyModule:
    def __init__(self, name: str):
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attribute: str) -> Any:  # only for names not copied in yet
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        module = importlib.import_module(self.__dict__["_lazy_name"])
        self.__dict__.update(vars(module))
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_lazy_name']!r}>"


def module(name: str) -> Any:
    """``name`` itself if it is imported already, else a stand-in that imports it when used."""
    return sys.modules.get(name) or LazyModule(name)
