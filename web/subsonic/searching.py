"""Searching: ``search2`` and ``search3`` (artists, albums, songs, each paged)."""

from __future__ import annotations

from soniquebay import library
from soniquebay.web.subsonic import shapes
from soniquebay.web.subsonic.context import MAX_LIST, Call


async def search3(call: Call, element: str = "searchResult3") -> dict:
    """Words as prefixes over names and titles (accents ignored); an empty query (``""``)
    lists everything, paged, as apps do to sync the library."""
    p = call.params
    text = (p.get("query") or "").strip().strip('"').strip()
    sizes = {
        kind: (p.int(f"{kind}Count", 20, 0, MAX_LIST), p.int(f"{kind}Offset", 0))
        for kind in ("artist", "album", "song")
    }
    found = call.read(library.search.paged_search, text, sizes, call.scope)
    artists, albums = call.artists(found["artists"]), call.albums(found["albums"])
    if element == "searchResult2":  # the folder-based search: plain artists, albums as folders
        artists = [shapes.artist_plain(a) for a in artists]
        albums = [shapes.album_as_child(a) for a in albums]
    return {element: {"artist": artists, "album": albums, "song": call.songs(found["tracks"])}}


async def search2(call: Call) -> dict:
    return await search3(call, "searchResult2")
