"""Issue 9, case 8: what people change through the API is a layer over the file's tags; a
rescan of the file (new tags, new content) keeps it, and reverting brings the file's back."""

from __future__ import annotations

import os


def test_an_edit_survives_rescans_and_can_be_reverted(serve, library, audio):
    server = serve()
    path = audio.make(library / "song.mp3", title="Song", genre="Rock", date="1999")
    [track] = server.wait_for_tracks(1)
    status, body = server.request("PATCH", f"/api/tracks/{track['id']}", {"genre": "Fantasy OST"})
    assert status == 200 and body["genre"] == "Fantasy OST"
    answer = server.graphql(
        "mutation ($d: [TrackUpdateInput!]!) { update_tracks(data: $d) { id } }",
        {"d": [{"id": track["id"], "year": 2001}]},
    )
    assert "errors" not in answer

    # The file is retagged (other genre, other title, new content): it is read again.
    audio.make(library / "song.mp3", title="Song, retagged", genre="Jazz", date="1999")
    os.utime(path, (1, 1))  # a different mtime for certain, whatever the clock's resolution
    server.wait_until(
        lambda: server.get(f"/api/tracks/{track['id']}")["title"] == "Song, retagged",
        timeout=30,
        what="the rescan",
    )
    got = server.get(f"/api/tracks/{track['id']}")
    assert (got["genre"], got["year"]) == ("Fantasy OST", 2001)  # the edits won
    assert got["layers"]["tags"]["genre"] == "Jazz" and got["layers"]["tags"]["year"] == 1999
    assert got["layers"]["edits"] == {"genre": "Fantasy OST", "year": 2001}
    assert got["display"]["genre"] == "Fantasy OST"
    listed = server.get("/api/tracks?genre=Fantasy%20OST")["items"]
    assert [t["id"] for t in listed] == [track["id"]]  # lists and filters see the edit too
    page = server.get(f"/tracks/{track['id']}")
    assert "Your edits" in page and "Fantasy OST" in page and "Jazz" in page

    status, body = server.request("DELETE", f"/api/tracks/{track['id']}/edits?field=genre")
    assert status == 200 and body["reverted"] == ["genre"]
    got = server.get(f"/api/tracks/{track['id']}")
    assert (got["genre"], got["year"]) == ("Jazz", 2001)
    assert got["layers"]["edits"] == {"year": 2001}
    status, body = server.request("DELETE", f"/api/tracks/{track['id']}/edits?field=nope")
    assert status == 400 and body["error"]["details"]["field"] == "field"
