"""The ``[plugin.analysis]`` section both analysis backends share, and which backend runs.

::

    [plugin.analysis]
    backend = auto            # auto | essentia | librosa (auto: essentia when it imports, else librosa)
    max_seconds = 600         # longest span analysed per track; longer files: the middle span
    models_dir =              # folder of Essentia TensorFlow models (.pb + .json); empty: none
    numba_cache_dir =         # librosa's compiled-code cache; empty: <data_dir>/numba-cache
    silence_threshold_db = -60
    preload = true            # a worker serving the analysis queue loads its backend at start:
                              # jobs start warm; it holds ~150-250 MB while idle (false, for
                              # small Pis: the worker loads it when the first analysis job
                              # comes and gives it back after release_idle_seconds idle)

In the low-memory profile (``memory = low``, or ``auto`` on a 1-2 GB machine) ``preload``
defaults to false and ``max_seconds`` to 300; values set here still win.

Each backend's ``analyze_audio`` returns ``None`` unless :func:`chosen_backend` names it, so a
third backend is one more plugin module that checks the same way.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soniquebay.config import LOW_MEMORY_SPAN, Settings
from soniquebay.errors import ConfigError

SECTION = "analysis"
BACKENDS = ("auto", "essentia", "librosa")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisOptions:
    backend: str = "auto"
    max_seconds: float = 600.0
    models_dir: Path | None = None
    numba_cache_dir: Path = Path("data") / "numba-cache"
    silence_threshold_db: float = -60.0
    preload: bool = True


def analysis_options(settings: Any) -> AnalysisOptions:
    """Read and validate ``[plugin.analysis]``; a bad value is a :class:`ConfigError`."""
    if settings is None:
        settings = Settings()
    raw = dict(settings.plugin_options(SECTION))
    section = f"plugin.{SECTION}"

    backend = raw.get("backend", "auto").strip().lower() or "auto"
    if backend not in BACKENDS:
        raise ConfigError(
            section, "backend", f"expected one of {', '.join(BACKENDS)}, got {backend!r}"
        )
    low = settings.low_memory
    span = raw.get("max_seconds", str(LOW_MEMORY_SPAN if low else 600.0))
    max_seconds = _positive_float(section, "max_seconds", span)
    threshold = _float(section, "silence_threshold_db", raw.get("silence_threshold_db", "-60"))
    models = raw.get("models_dir", "").strip()
    cache = raw.get("numba_cache_dir", "").strip()
    preload = raw.get("preload", "false" if low else "true").strip().lower()
    if preload not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
        raise ConfigError(section, "preload", f"expected true or false, got {preload!r}")
    return AnalysisOptions(
        backend=backend,
        max_seconds=max_seconds,
        models_dir=Path(models).expanduser() if models else None,
        numba_cache_dir=Path(cache).expanduser()
        if cache
        else Path(settings.data_dir) / "numba-cache",
        silence_threshold_db=threshold,
        preload=preload in ("true", "yes", "1", "on"),
    )


def _float(section: str, key: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(section, key, f"expected a number, got {raw!r}") from None


def _positive_float(section: str, key: str, raw: str) -> float:
    value = _float(section, key, raw)
    if value <= 0:
        raise ConfigError(section, key, f"must be positive, got {raw!r}")
    return value


def import_essentia():
    """Import Essentia quietened: it logs at import and thousands of warnings per track otherwise."""
    os.environ.setdefault(
        "TF_CPP_MIN_LOG_LEVEL", "3"
    )  # essentia-tensorflow's libtensorflow chatter
    essentia = importlib.import_module("essentia")
    essentia.log.infoActive = False
    essentia.log.warningActive = False
    return essentia, importlib.import_module("essentia.standard")


@functools.cache
def essentia_importable() -> bool:
    """Whether Essentia imports here (never on a Pi: it ships no aarch64 wheel). Cached per process."""
    try:
        import_essentia()
    except Exception as exc:  # ImportError, or OSError from a broken shared library
        log.info("essentia unavailable, analysis falls back to librosa: %s", exc)
        return False
    return True


def chosen_backend(options: AnalysisOptions) -> str:
    """The backend that analyses in this process: the configured one, or for ``auto`` the best importable."""
    if options.backend != "auto":
        return options.backend
    return "essentia" if essentia_importable() else "librosa"
