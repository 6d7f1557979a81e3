"""Full-text search's order and paging over its two steps (title matches, then the rest)."""

from soniquebay import library
from soniquebay.library import ingest


def test_pages_walk_title_matches_then_the_rest_once_each(db_conn):
    items = [
        {"path": f"/m/{i}.flac".encode(), "size": 1, "mtime_ns": i, **tags}
        for i, tags in enumerate(
            [{"title": f"Blue {i}", "artist_name": "Ann", "genre": "Pop"} for i in range(5)]
            + [
                {"title": f"Song {i}", "artist_name": "Blue Band", "genre": "Rock"}
                for i in range(4)
            ]
            + [{"title": f"Tune {i}", "artist_name": "Cy", "genre": "Blues"} for i in range(3)]
            + [{"title": "Other", "artist_name": "Dee", "genre": "Jazz"}]
        )
    ]
    ingest.ingest(db_conn, items)

    def page(count, offset):
        sizes = {"artist": (5, 0), "album": (0, 0), "song": (count, offset)}
        return library.search.paged_search(db_conn, "blu", sizes)

    whole = [t["title"] for t in page(50, 0)["tracks"]]
    assert len(whole) == 12 and "Other" not in whole
    assert all(t.startswith("Blue") for t in whole[:5])  # the titles first
    assert set(whole[5:9]) == {f"Song {i}" for i in range(4)}  # then the artist (bm25's weights)
    assert set(whole[9:]) == {f"Tune {i}" for i in range(3)}  # then the genre
    for size in (1, 2, 3, 5, 7):
        walked = [t["title"] for offset in range(0, 14, size) for t in page(size, offset)["tracks"]]
        assert walked == whole, size
    assert [a["name"] for a in page(1, 0)["artists"]] == ["Blue Band"]
    assert page(5, 12)["tracks"] == [] and page(5, 40)["tracks"] == []
    # a missing file is not found, and pages close up over it
    ingest.mark_missing(db_conn, [b"/m/1.flac", b"/m/6.flac"])
    present = [t for t in whole if t not in ("Blue 1", "Song 1")]
    assert [t["title"] for t in page(50, 0)["tracks"]] == present
    walked = [t["title"] for offset in range(0, 12, 3) for t in page(3, offset)["tracks"]]
    assert walked == present


def test_a_snippet_marks_the_words_as_the_search_matched_them():
    track = {"title": "Clair de lune", "artist_name": "Debussy", "album_title": "Rêveries"}
    assert library.search.snippet_html(track, "reve") == "<mark>Rêveries</mark>"  # accents, prefix
    assert (
        library.search.snippet_html(track, "CLAIR lu") == "<mark>Clair</mark> de <mark>lune</mark>"
    )
    hostile = {"title": "<b>Noctis</b> & co", "genre": "Pop"}
    assert (
        library.search.snippet_html(hostile, "noct")
        == "&lt;b&gt;<mark>Noctis</mark>&lt;/b&gt; &amp; co"
    )
    assert library.search.snippet_html(hostile, "pop") == "<mark>Pop</mark>"
    assert library.search.snippet_html(hostile, "jazz") is None
