"""The Subsonic / OpenSubsonic API at ``/rest/``, for phone and desktop apps (Symfonium, DSub,
Ultrasonic, Tempo, Feishin, Supersonic…). One model with the web UI: the same users,
playlists, stars, ratings and plays, the same streaming and covers.

- :mod:`.protocol`: the response envelope (XML, JSON, JSONP), error codes, parameters, ids.
- :mod:`.auth`: who is asking (salted token, ``p``/``enc:``, OpenSubsonic API keys).
- :mod:`.shapes`: tracks, albums and artists as the API's Child, AlbumID3, ArtistID3.
- :mod:`.browsing`, :mod:`.media`, :mod:`.personal`: the endpoints, by what they touch.
- :mod:`.dispatch`: ``/rest/{method}[.view]`` (GET or POST form) to the endpoint.
"""
