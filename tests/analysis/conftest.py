"""Fixtures for the analysis tests: ground-truth audio made once per session, one numba cache.

The audio is generated with numpy and encoded with ffmpeg (see ``soniquebay.synth``);
each backend analyses the whole ground-truth set once per session and the tests read those
results. The numba cache lives in pytest's cache folder so librosa compiles once per checkout,
not once per run.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from soniquebay.config import Settings
from soniquebay.plugins.builtin.analysis_options import essentia_importable
from soniquebay.plugins.context import PluginContext
from soniquebay.synth import GROUND_TRUTH, encode, make_track

CLIP_SECONDS = 12.0
FORMATS = ("mp3", "flac")
BACKENDS = ("essentia", "librosa")
_REPORT: list[str] = []


@pytest.fixture(scope="session")
def numba_cache(pytestconfig) -> Path:
    return Path(pytestconfig.cache.mkdir("soniquebay-numba"))


@pytest.fixture(scope="session")
def settings_for(numba_cache):
    def make(backend: str = "auto", **options: str) -> Settings:
        section = {"backend": backend, "numba_cache_dir": str(numba_cache), **options}
        return Settings(plugins={"analysis": section})

    return make


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    if request.param == "essentia" and not essentia_importable():
        # No aarch64 wheel exists for Essentia (by design the Pi uses librosa); amd64 runs it.
        pytest.skip("essentia cannot be imported on this machine")
    return request.param


def _analyze(
    backend: str, path: Path, settings: Settings, max_seconds: float | None = None
) -> dict:
    module = importlib.import_module(f"soniquebay.plugins.builtin.analysis_{backend}")
    ctx = PluginContext(settings, "worker", f"analysis_{backend}")
    return module.analyze_audio(ctx=ctx, path=str(path), max_seconds=max_seconds)


@pytest.fixture(scope="session")
def analyze():
    """``analyze(backend, path, settings, max_seconds=None)``: one backend's hook, called directly."""
    return _analyze


@pytest.fixture(scope="session")
def ground_truth_files(tmp_path_factory) -> list[tuple[Path, float, str, str]]:
    folder = tmp_path_factory.mktemp("ground-truth")
    files = []
    for i, (bpm, key, scale) in enumerate(GROUND_TRUTH):
        samples = make_track(bpm, key, scale, CLIP_SECONDS, seed=i)
        for fmt in FORMATS:
            path = encode(samples, folder / f"{i:02d}-{bpm:g}-{key}-{scale}.{fmt}")
            files.append((path, bpm, key, scale))
    return files


@pytest.fixture(scope="session")
def ground_truth_results(ground_truth_files, settings_for):
    """backend -> [(path, bpm, key, scale, result)], computed lazily once per backend."""
    cache: dict[str, list] = {}

    def results(backend: str):
        if backend not in cache:
            settings = settings_for(backend)
            cache[backend] = [
                (path, bpm, key, scale, _analyze(backend, path, settings))
                for path, bpm, key, scale in ground_truth_files
            ]
        return cache[backend]

    return results


@pytest.fixture(scope="session")
def accuracy_report():
    """``accuracy_report(line)`` adds a line to the end-of-session accuracy summary."""
    return _REPORT.append


def pytest_terminal_summary(terminalreporter):
    if _REPORT:
        terminalreporter.section("analysis accuracy")
        for line in _REPORT:
            terminalreporter.write_line(line)
