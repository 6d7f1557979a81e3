"""The storage layer: the only code that speaks SQL.

Its façade is cut by entity, as Navidrome's repositories are: ``library.tracks``,
``library.albums``, ``library.artists``, ``library.search``, ``library.genres``,
``library.totals``, ``library.scan_errors``, ``library.playlists``, ``library.annotations``…
Each function takes the connection first and answers the row shapes of :mod:`.types`; the web
process runs them off its event loop (``Database.read``/``write``, the reader processes),
other processes call them directly. SQL and its dialect stay behind this line.
"""

from soniquebay.library import (  # noqa: F401  (the façade: library.tracks.get_track, ...)
    albums,
    annotations,
    artists,
    genres,
    playlists,
    scan_errors,
    search,
    totals,
    tracks,
)
