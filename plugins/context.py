"""What a hook receives as ``ctx``: everything a plugin may use, and nothing it must guess."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soniquebay.config import Settings


@dataclass(frozen=True)
class PluginContext:
    settings: Settings
    process: str  # web, watch, worker or cli
    plugin: str  # the plugin's name, as /api/plugins lists it
    options: Mapping[str, Any] = field(default_factory=dict)
    queues: tuple[str, ...] = ()  # in a worker: the queues it serves (a stage may preload for them)
    library_of: Callable[[], Any] | None = field(default=None, repr=False, compare=False)

    @property
    def library(self) -> Any:
        """In the web process: the library (:class:`soniquebay.catalog.view.LibraryView`:
        ``track(id)``, ``tracks(filters=…, sort=…, limit=…)``, ``plugin_data(id, plugin)``,
        and ``await keep(id, fields, rerun=…)``, which writes this plugin's own data on a track
        and nothing else). Elsewhere a RuntimeError: workers never open the database; a stage
        gets what it needs as its ``track``."""
        found = self.library_of() if self.library_of else None
        if found is None:
            raise RuntimeError(
                f"ctx.library is the web process's (this is {self.process}): a stage gets the"
                " track's fields, and its needs, as its track argument"
            )
        return found

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"soniquebay.plugin.{self.plugin}")

    @property
    def data_dir(self) -> Path:
        """A folder of the plugin's own under the data folder (caches, downloaded files)."""
        folder = self.settings.data_dir / "plugins" / self.plugin
        folder.mkdir(parents=True, exist_ok=True)
        return folder
