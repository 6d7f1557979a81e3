"""The watcher loads every plugin but analyses nothing: numpy and the model stay out of it."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_loading_the_plugins_for_the_watcher_imports_no_numpy(tmp_path):
    out = run(f"""
        import sys
        from soniquebay import config
        from soniquebay.plugins import load_plugins
        settings = config.load(environ={{"SONIQUEBAY_DATA_DIR": "{tmp_path}"}})
        plugins = load_plugins(settings, "watch")
        assert ".flac" in plugins.extensions() and not plugins.pm.load_errors
        heavy = ("numpy", "scipy", "librosa", "tokenizers", "essentia", "soniquebay.embeddings")
        print(sorted(name for name in heavy if name in sys.modules))
    """)
    assert out == "[]"


def test_a_lazy_module_loads_on_use_and_not_on_isinstance():
    out = run("""
        import sys
        from soniquebay import lazy
        fractions = lazy.module("fractions")
        isinstance(fractions, staticmethod)  # what pluggy does with every name of a plugin
        before = "fractions" in sys.modules
        half = fractions.Fraction(1, 2)
        print(before, "fractions" in sys.modules, half, fractions.Fraction is sys.modules["fractions"].Fraction)
    """)
    assert out == "False True 1/2 True"
