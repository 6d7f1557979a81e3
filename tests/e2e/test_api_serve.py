"""The all-in-one `soniquebay serve` with no configuration: auth, events and metrics end to end."""

from __future__ import annotations

import re
import stat

from support.servers import Server, SSEReader


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_zero_config_serve_scans_announces_and_counts(tmp_path, library, audio):
    server = Server(library, tmp_path / "data", env={"SONIQUEBAY_API_TOKEN": ""})
    server.token = ""  # no configuration at all: the token is the one serve makes
    server.start()
    try:
        token_file = tmp_path / "data" / "worker-token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        server.token = token_file.read_text().strip()  # what the children agreed on
        assert server.request("GET", "/api/tracks", auth=False)[0] == 401
        before = server.get("/metrics")
        events = SSEReader(server.url, channels="notifications", token=server.token).start()

        for i in range(3):
            audio.make(library / f"{i}.mp3", title=f"Counted {i}")
        server.wait_for_tracks(3)
        # The three files may land in one scan job or several: wait for all of them.
        server.wait_until(
            lambda: sum(e["files"] for e in events.of_type("scan.finished")) >= 3,
            what="scan.finished for all three files",
        )
        started, finished = events.of_type("scan.started"), events.of_type("scan.finished")
        assert started and started[0]["files"] >= 1
        assert sum(e["files"] for e in finished) >= 3
        assert finished[0]["task_id"] == started[0]["task_id"]
        events.close()

        after = server.get("/metrics")
        assert (
            metric(after, "scan_files_processed_total")
            - metric(before, "scan_files_processed_total")
            >= 3
        )
        assert metric(after, "scan_chunks_processed_total") >= 1
        assert metric(after, "scan_duration_seconds_count") >= 1
        assert 'queue_depth{queue="scan"}' in after
        assert "api_request_duration_seconds_bucket" in after
        assert metric(after, "workers_alive") >= 1

        log = server.log()
        assert log.count("created the admin user 'admin' with password") == 1
        password = re.search(r"with password (\S+) \(shown once", log).group(1)
        assert log.count(password) == 1 and server.token not in log
    finally:
        server.stop()
