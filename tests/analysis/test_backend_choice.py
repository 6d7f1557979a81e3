"""Which backend answers the hook, and the librosa backend on a machine without Essentia."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from soniquebay.errors import ConfigError
from soniquebay.plugins import Plugins
from soniquebay.plugins.builtin import analysis_essentia, analysis_librosa
from soniquebay.plugins.builtin.analysis_options import (
    analysis_options,
    chosen_backend,
    essentia_importable,
)
from soniquebay.plugins.context import PluginContext
from soniquebay.synth import encode, make_track


@pytest.fixture(scope="module")
def track(tmp_path_factory):
    path = tmp_path_factory.mktemp("choice") / "track.mp3"
    return encode(make_track(100.0, "E", "minor", seconds=8.0), path)


def context(settings):
    return PluginContext(settings, "worker", "analysis")


def test_forced_librosa_leaves_the_essentia_hook_silent(settings_for, track):
    settings = settings_for("librosa")
    assert (
        analysis_essentia.analyze_audio(ctx=context(settings), path=str(track), max_seconds=None)
        is None
    )
    result = analysis_librosa.analyze_audio(
        ctx=context(settings), path=str(track), max_seconds=None
    )
    assert result["analysis_backend"] == "librosa"


def test_forced_essentia_leaves_the_librosa_hook_silent(settings_for, track):
    if not essentia_importable():
        # No aarch64 wheel exists for Essentia (by design the Pi uses librosa); amd64 runs it.
        pytest.skip("essentia cannot be imported on this machine")
    settings = settings_for("essentia")
    assert (
        analysis_librosa.analyze_audio(ctx=context(settings), path=str(track), max_seconds=None)
        is None
    )
    assert (
        analysis_essentia.analyze_audio(ctx=context(settings), path=str(track), max_seconds=None)[
            "analysis_backend"
        ]
        == "essentia"
    )


def test_auto_prefers_essentia_where_it_imports(settings_for):
    expected = "essentia" if essentia_importable() else "librosa"
    assert chosen_backend(analysis_options(settings_for("auto"))) == expected


def test_the_plugin_manager_runs_exactly_one_backend(settings_for, track):
    settings = settings_for("librosa")
    plugins = Plugins(settings, "worker")
    assert not plugins.load_errors
    result = plugins.first("analyze_audio", track={}, path=str(track), max_seconds=6.0)
    assert not plugins.failure_counts
    assert result["analysis_backend"] == "librosa"
    assert result["analyzed_seconds"] == pytest.approx(6.0, abs=0.1)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("backend", "aubio"),
        ("max_seconds", "-1"),
        ("max_seconds", "ten"),
        ("silence_threshold_db", "x"),
    ],
)
def test_bad_options_are_config_errors_naming_the_key(settings_for, key, value):
    with pytest.raises(ConfigError) as info:
        analysis_options(settings_for(**{key: value}) if key != "backend" else settings_for(value))
    assert info.value.key == key and info.value.section == "plugin.analysis"


def test_librosa_backend_runs_where_essentia_cannot_be_imported(tmp_path, track, numba_cache):
    """As on a Raspberry Pi: a meta-path hook makes ``import essentia`` fail in a fresh interpreter."""
    (tmp_path / "sitecustomize.py").write_text(
        textwrap.dedent(
            """
            import sys

            class NoEssentia:
                def find_spec(self, name, path=None, target=None):
                    if name == "essentia" or name.startswith("essentia."):
                        raise ImportError("essentia is blocked for this test")
                    return None

            sys.meta_path.insert(0, NoEssentia())
            """
        )
    )
    script = textwrap.dedent(
        f"""
        import json
        from soniquebay.config import Settings
        from soniquebay.plugins import Plugins
        settings = Settings(plugins={{"analysis": {{"numba_cache_dir": {str(numba_cache)!r}}}}})
        plugins = Plugins(settings, "worker")
        pm = plugins.pm
        result = plugins.first("analyze_audio", track={{}}, path={str(track)!r}, max_seconds=None)
        try:
            import essentia  # noqa: F401
            blocked = False
        except ImportError:
            blocked = True
        print(json.dumps({{"blocked": blocked, "errors": len(pm.load_errors), "result": result}}))
        """
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["blocked"] and out["errors"] == 0
    assert out["result"]["analysis_backend"] == "librosa"
    assert out["result"]["bpm"] == pytest.approx(100.0, rel=0.02)
    assert (out["result"]["key"], out["result"]["scale"]) == ("E", "minor")


def test_warm_up_fills_the_numba_cache(numba_cache):
    analysis_librosa.warm_up(numba_cache)
    assert any(numba_cache.rglob("*.nbi")), "no numba index files were written"


def test_a_worker_with_a_cold_numba_cache_compiles_in_a_child_and_only_loads(tmp_path):
    """A worker keeps what it compiled (some 200 MB, enough to cross the units' MemoryMax once
    a work-horse forks): with a cold cache, load_backend fills it from a child process, and
    the worker's own process compiles only what a load from a warm cache compiles (a few of
    numba's own helpers, never cached; a cold compile in-process is ten times as many)."""
    cache = tmp_path / "numba-cold"

    def compiled_in_process(call: str) -> int:
        script = textwrap.dedent(
            f"""
            import json
            from numba.core import event
            from soniquebay.plugins.builtin import analysis_librosa

            with event.install_recorder("numba:compile") as compiled:
                analysis_librosa.{call}({str(cache)!r})
            print(json.dumps(len(compiled.buffer)))
            """
        )
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    cold = compiled_in_process("load_backend")
    assert any(cache.rglob("*.nbi")), "the child wrote no numba index files"
    assert cold == compiled_in_process("warm_up")  # the same as loading from a warm cache
