"""The contrib plugins through a real `serve` on generated audio: lyrics (a stage, a route, a
panel), smart playlists (routes over the library), webhook (events out, off the pipeline)."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from mutagen.id3 import ID3, USLT
from support.servers import free_port


def config(tmp_path, text: str) -> dict[str, str]:
    path = tmp_path / "soniquebay.conf"
    path.write_text(text)
    return {"SONIQUEBAY_CONFIG": str(path)}


def test_lyrics_from_an_lrc_a_txt_and_embedded_tags(serve, library, audio, tmp_path):
    server = serve(env=config(tmp_path, "[plugin.lyrics]\nenabled = true\n"))
    (library / "synced.lrc").write_text(
        "[ar:Someone]\n[00:01.00]First line\n[00:02.50]Second line\n[00:04.00][00:06.00]Chorus\n"
    )
    (library / "plain.txt").write_text("Words without time\non two lines\n")
    audio.make(library / "synced.flac", title="Synced")
    audio.make(library / "plain.ogg", title="Plain")
    embedded = tmp_path / "embedded.mp3"
    audio.make(embedded, title="Embedded")
    tags = ID3(embedded)
    tags.add(USLT(encoding=3, lang="eng", desc="", text="Sung <b>inside</b> the file"))
    tags.save()
    embedded.rename(library / "embedded.mp3")
    audio.make(library / "silent.mp3", title="Silent")
    tracks = {t["title"]: t["id"] for t in server.wait_for_tracks(4)}

    def lyrics(title):
        return server.get(f"/api/tracks/{tracks[title]}")["plugin_data"].get("lyrics")

    server.wait_until(
        lambda: all(lyrics(t) for t in ("Synced", "Plain", "Embedded")),
        timeout=60,
        what="the lyrics stage",
    )
    synced = server.get(f"/api/plugins/lyrics/{tracks['Synced']}")
    assert synced["source"] == "lrc file"
    assert synced["synced"] == [
        [1.0, "First line"],
        [2.5, "Second line"],
        [4.0, "Chorus"],
        [6.0, "Chorus"],
    ]
    assert lyrics("Plain") == {
        "lyrics": "Words without time\non two lines",
        "lyrics_synced": None,
        "lyrics_source": "text file",
    }
    assert lyrics("Embedded")["lyrics_source"] == "embedded (USLT)"
    status, _ = server.request("GET", f"/api/plugins/lyrics/{tracks['Silent']}")
    assert status == 404
    assert server.get(f"/api/tracks/{tracks['Silent']}")["stage_failures"] == []
    page = server.get(f"/tracks/{tracks['Synced']}")
    assert "Lyrics (lrc file)" in page and "0:02.50" in page and "Second line" in page
    page = server.get(f"/tracks/{tracks['Embedded']}")
    assert "Sung &lt;b&gt;inside&lt;/b&gt; the file" in page  # text, never HTML


def test_smart_playlists_follow_the_library_and_export_m3u8(serve, library, audio, tmp_path):
    server = serve(env=config(tmp_path, "[plugin.smart_playlists]\nenabled = true\n"))
    for title, genre, year in [
        ("Blue 95", "Jazz", 1995),
        ("Old 80", "Jazz", 1980),
        ("Loud 95", "Rock", 1995),
        ("New 01", "Jazz", 2001),
    ]:
        audio.make(library / f"{title}.mp3", title=title, genre=genre, date=str(year))
    server.wait_for_tracks(4)
    base = "/api/plugins/smart_playlists"
    rules = {"genre": "Jazz", "year_min": 1990, "sort": "year"}
    jazz = f"{base}/modern%20jazz"  # a name may hold spaces
    status, saved = server.request("PUT", jazz, rules)
    assert status == 200 and saved["rules"] == rules

    def titles():
        return [t["title"] for t in server.get(jazz)["tracks"]]

    assert titles() == ["Blue 95", "New 01"]
    audio.make(library / "Late 99.mp3", title="Late 99", genre="jazz", date="1999")
    server.wait_until(lambda: titles() == ["Blue 95", "Late 99", "New 01"], what="the new track")
    m3u = server.get(f"{jazz}.m3u8")
    lines = m3u.splitlines()
    assert lines[0] == "#EXTM3U" and lines[1].startswith("#EXTINF:") and "Blue 95" in lines[1]
    assert lines[2] == str(library / "Blue 95.mp3")
    assert server.get(f"{base}/")["playlists"] == {"modern jazz": rules}

    assert server.request("PUT", f"{base}/bad", {"colour": "blue"})[0] == 422
    assert server.request("PUT", f"{base}/bad", {"year_min": "ninety"})[0] == 422
    assert server.request("GET", f"{base}/nothing")[0] == 404
    assert server.request("GET", f"{base}/", auth=False)[0] == 401
    assert server.request("DELETE", jazz)[0] == 204
    assert server.request("GET", jazz)[0] == 404


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on loopback: the first POST waits until released, then fails with a
    503; later ones succeed. What arrives is kept."""

    bodies: list = []
    attempts = 0
    release = threading.Event()

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).attempts += 1
        if type(self).attempts == 1:
            self.release.wait(60)
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.end_headers()
            return
        self.bodies.append(body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_webhook_posts_events_retries_and_never_holds_up_the_library(
    serve, library, audio, tmp_path
):
    port = free_port()
    receiver = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        server = serve(
            env=config(
                tmp_path,
                "[plugin.webhook]\nenabled = true\n"
                f"urls = http://127.0.0.1:{port}/hook\n"
                "events = track.added, scan.finished\nbatch_seconds = 0.2\ntimeout = 120\n",
            )
        )
        audio.make(library / "first.mp3", title="First")
        server.wait_for_tracks(1)
        server.wait_until(lambda: Receiver.attempts == 1, what="the first POST to be waiting")
        # The receiver holds the first POST: the library goes on regardless.
        audio.make(library / "second.mp3", title="Second")
        server.wait_for_tracks(2)
        assert Receiver.bodies == []
        Receiver.release.set()

        def received():
            events = [e for body in Receiver.bodies for e in body["events"]]
            added = {e.get("title") for e in events if e["type"] == "track.added"}
            return added == {"First", "Second"} and "scan.finished" in {e["type"] for e in events}

        server.wait_until(received, timeout=30, what="every event, after a retry")
        assert Receiver.attempts >= 3  # the failed one, its retry, the later batch
        request = urllib.request.Request(f"{server.url}/api/plugins", headers=server.auth_headers())
        plugins = json.loads(urllib.request.urlopen(request).read())["plugins"]
        assert {p["name"] for p in plugins} >= {"webhook"}
    finally:
        receiver.shutdown()
