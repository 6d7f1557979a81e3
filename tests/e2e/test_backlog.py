"""A file that lands while an analysis backlog runs is listed without waiting for it: the scan
queue has a worker of its own. (How fast is bench/latency.py's business, not a test's.)"""

from __future__ import annotations


def test_a_new_file_is_listed_while_an_analysis_backlog_is_still_running(serve, library, audio):
    server = serve()
    for i in range(120):
        audio.make(library / "backlog" / f"{i:03d}.mp3", seconds=30.0, title=f"Backlog {i}")
    server.wait_for_tracks(120, timeout=120)
    server.wait_until(
        lambda: server.get("/api/health")["redis"]["queues"]["analysis"] > 0,
        what="analysis jobs waiting",
    )

    audio.make(library / "fresh.mp3", title="Fresh")
    listed = server.wait_until(
        lambda: next((t for t in server.tracks() if t["title"] == "Fresh"), None),
        timeout=60,
        what="the new file to be listed",
    )
    waiting = server.get("/api/health")["redis"]["queues"]["analysis"]
    unanalysed = server.get("/api/tracks?limit=1&missing_features=true")["total"]
    # Listed while analysis jobs still wait and backlog tracks still lack features: it did not
    # queue behind them.
    assert listed["analyzed_at"] is None
    assert waiting > 0 and unanalysed > 1
