"""The Subsonic / OpenSubsonic API at ``/rest/``, for phone and desktop apps (Symfonium, DSub,
Ultrasonic, Tempo, Feishin, Supersonic…). One model with the web UI: the same users,
playlists, stars, ratings and plays, the same streaming and covers.

- :mod:`.protocol`: the response envelope (XML, JSON, JSONP), error codes, parameters, ids.
- :mod:`.auth`: who is asking (salted token, ``p``/``enc:``, OpenSubsonic API keys).
- :mod:`.shapes`: tracks, albums and artists as the API's Child, AlbumID3, ArtistID3.
- the endpoints, one module per section of the Subsonic API documentation: :mod:`.system`,
  :mod:`.browsing`, :mod:`.lists` (album/song lists), :mod:`.searching`, :mod:`.playlists`,
  :mod:`.media_retrieval`, :mod:`.annotation`, :mod:`.bookmarks`, :mod:`.user_management`,
  :mod:`.scanning` (sharing, podcasts, jukebox, radio, chat: absent, see ``dispatch``).
- :mod:`.context`: ``Call``, what every endpoint is given, which keeps answers to the user's
  music folders.
- :mod:`.dispatch`: ``/rest/{method}[.view]`` (GET or POST form) to the endpoint.
"""
