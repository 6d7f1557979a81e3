"""A plugin published as a package: built, pip-installed with its entry point in the group
`soniquebay`, discovered by `plugins list` and run by `serve`; uninstalled afterwards."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "soniquebay-reverse-title-test"
version = "1.0"

[project.entry-points.soniquebay]
reverse_title = "sb_reverse_title"
"""
MODULE = """
from soniquebay import hookimpl, stage


@hookimpl
@stage(needs=("title",), produces=("reversed_title",))
def process_track(ctx, track):
    return {"reversed_title": track["title"][::-1]}
"""


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "-q", *args], check=True)


def test_an_installed_entry_point_plugin_is_discovered_and_run(serve, library, audio, tmp_path):
    package = tmp_path / "package"
    package.mkdir()
    (package / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (package / "sb_reverse_title.py").write_text(textwrap.dedent(MODULE))
    pip("install", "--no-deps", "--no-build-isolation", str(package))
    try:
        listed = subprocess.run(
            [sys.executable, "-m", "soniquebay", "plugins", "list", "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            env={"SONIQUEBAY_CONFIG": "", "PATH": "/usr/bin:/bin"},
        )
        assert "reverse_title  [entry point]  enabled" in listed.stdout, listed.stdout
        assert "stage reverse_title.process_track on queue enrich" in listed.stdout

        server = serve()
        audio.make(library / "song.mp3", title="Palindrome? No")
        [track] = server.wait_for_tracks(1)
        data = server.wait_until(
            lambda: server.get(f"/api/tracks/{track['id']}")["plugin_data"].get("reverse_title"),
            timeout=60,
            what="the entry point plugin's stage",
        )
        assert data == {"reversed_title": "oN ?emordnilaP"}
        plugins = {p["name"]: p for p in server.get("/api/plugins")["plugins"]}
        assert plugins["reverse_title"]["source"] == "entry point sb_reverse_title"
    finally:
        pip("uninstall", "-y", "soniquebay-reverse-title-test")
