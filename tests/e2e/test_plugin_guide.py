"""docs/plugins.md's worked example, copied exactly as printed, works in a running serve."""

from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def example(name: str) -> str:
    text = GUIDE.read_text()
    found = re.search(rf"<!-- example: {re.escape(name)} -->\n```python\n(.*?)\n```", text, re.S)
    assert found, f"the guide has no example {name}"
    return found.group(1) + "\n"


def test_the_guides_example_plugin_works_as_printed(serve, library, audio, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "decades.py").write_text(example("decades.py"))
    server = serve(env={"SONIQUEBAY_PLUGINS_DIR": str(plugins)})
    audio.make(library / "song.mp3", title="Song", artist="Band", date="1994")
    audio.make(library / "undated.mp3", title="Undated", artist="Band")
    tracks = {t["title"]: t for t in server.wait_for_tracks(2)}
    song = tracks["Song"]["id"]
    data = server.wait_until(
        lambda: server.get(f"/api/tracks/{song}")["plugin_data"].get("decades"),
        timeout=60,
        what="the decades stage",
    )
    assert data == {"decade": "1990s"}
    page = server.get(f"/tracks/{song}")
    assert "Decade" in page and "1990s" in page
    assert server.get("/api/plugins/decades/about") == {"plugin": "decades", "suffix": "s"}
    # No year, no decade: the stage never ran for it, and nothing failed.
    undated = server.get(f"/api/tracks/{tracks['Undated']['id']}")
    assert "decades" not in undated["plugin_data"] and undated["stage_failures"] == []
    listed = {p["name"]: p for p in server.get("/api/plugins")["plugins"]}
    assert listed["decades"]["source"].startswith("drop-in")
    assert listed["decades"]["options"] == {"suffix": "s"}
    page = server.get("/plugins")  # the Plugins page
    assert "decades" in page and "decades.process_track" in page and "suffix = s" in page
