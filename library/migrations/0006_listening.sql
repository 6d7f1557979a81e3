-- Listening: what each user keeps of the library — stars, ratings, plays, playlists.
-- One model for the web player and (later) the Subsonic API.

CREATE TABLE annotations (                    -- one row per user and thing they touched
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('track', 'album', 'artist')),
    item_id INTEGER NOT NULL,                 -- a track, album or artist id (by kind)
    starred_at REAL,                          -- NULL: not starred
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    play_count INTEGER NOT NULL DEFAULT 0,
    last_played REAL,
    PRIMARY KEY (user_id, kind, item_id)
) WITHOUT ROWID;
CREATE INDEX idx_annotations_starred ON annotations(user_id, kind, starred_at)
    WHERE starred_at IS NOT NULL;
CREATE INDEX idx_annotations_item ON annotations(kind, item_id);

CREATE TABLE playlists (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX idx_playlists_user ON playlists(user_id, name COLLATE NOCASE);

CREATE TABLE playlist_tracks (
    playlist_id INTEGER NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,                -- the order; rewritten 0, 1, 2… on every change
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    PRIMARY KEY (playlist_id, position)
) WITHOUT ROWID;
CREATE INDEX idx_playlist_tracks_track ON playlist_tracks(track_id);

-- Browsing: "recently added" albums (an album row is made when its first track arrives).
CREATE INDEX idx_albums_created ON albums(created_at);
