-- The library: artists, albums, tracks (paths as bytes), audio features, vectors, scan errors.

CREATE TABLE artists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,            -- casefolded name: "ABBA" and "abba" are one artist
    musicbrainz_artistid TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

CREATE TABLE albums (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    album_key TEXT NOT NULL UNIQUE,           -- casefolded title + album artist id
    album_artist_id INTEGER REFERENCES artists(id) ON DELETE SET NULL,
    year INTEGER,
    musicbrainz_albumid TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX idx_albums_artist ON albums(album_artist_id);

CREATE TABLE tracks (
    id INTEGER PRIMARY KEY,
    path BLOB NOT NULL,                       -- raw file system bytes: non-UTF-8 names survive
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER,
    device INTEGER,
    quick_hash TEXT,                          -- size + head + tail digest: finds a moved file again
    title TEXT,
    track_artist_id INTEGER REFERENCES artists(id) ON DELETE SET NULL,
    album_id INTEGER REFERENCES albums(id) ON DELETE SET NULL,
    artist_name TEXT,
    album_title TEXT,
    album_artist_name TEXT,
    track_number INTEGER,
    track_total INTEGER,
    disc_number INTEGER,
    disc_total INTEGER,
    year INTEGER,
    genre TEXT,
    duration REAL,
    bitrate INTEGER,
    sample_rate INTEGER,
    channels INTEGER,
    format TEXT,
    musicbrainz_id TEXT,                      -- recording id
    musicbrainz_trackid TEXT,                 -- release track id
    musicbrainz_albumid TEXT,
    musicbrainz_artistid TEXT,
    musicbrainz_albumartistid TEXT,
    -- audio features (the analysis plugins)
    bpm REAL,
    bpm_confidence REAL,
    key TEXT,
    scale TEXT,
    key_confidence REAL,
    loudness_lufs REAL,
    loudness_range REAL,
    replaygain_track_gain REAL,
    replaygain_track_peak REAL,
    danceability REAL,
    energy REAL,
    silence_start REAL,
    silence_end REAL,
    timbre TEXT,                              -- JSON
    features_extra TEXT,                      -- JSON: model labels, embeddings, ...
    analyzed_seconds REAL,
    analysis_backend TEXT,
    analysis_version TEXT,
    analyzed_at REAL,
    analysis_error TEXT,
    date_added REAL NOT NULL,
    updated_at REAL NOT NULL,
    missing_since REAL                        -- set when the file vanished; purged after a grace period
);
-- The seed's indexes.
CREATE UNIQUE INDEX idx_tracks_path ON tracks(path);
CREATE INDEX idx_tracks_artist_album ON tracks(track_artist_id, album_id);
CREATE INDEX idx_tracks_mb_id ON tracks(musicbrainz_id);
CREATE INDEX idx_tracks_missing_audio ON tracks(bpm, key);
CREATE INDEX idx_tracks_scan_perf ON tracks(date_added, path);
CREATE INDEX idx_tracks_search ON tracks(title, artist_name, album_title);
-- Ours: re-matching moved files, listing an album in order, purging missing tracks.
CREATE INDEX idx_tracks_identity ON tracks(device, inode);
CREATE INDEX idx_tracks_quick_hash ON tracks(quick_hash);
CREATE INDEX idx_tracks_album_order ON tracks(album_id, disc_number, track_number);
CREATE INDEX idx_tracks_missing_since ON tracks(missing_since) WHERE missing_since IS NOT NULL;

CREATE TABLE track_vectors (
    id INTEGER PRIMARY KEY,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT 'default',     -- which embedding (model) this is
    dimension INTEGER NOT NULL,
    vector BLOB NOT NULL,                     -- float32 little-endian, sqlite-vec's format
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (track_id, name)
);
CREATE INDEX idx_track_vectors_track_id ON track_vectors(track_id);

CREATE TABLE scan_errors (
    id INTEGER PRIMARY KEY,
    path BLOB NOT NULL UNIQUE,
    size INTEGER,
    mtime_ns INTEGER,
    stage TEXT NOT NULL,                      -- tags, analysis, ...
    plugin TEXT,
    reason TEXT NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    occurrences INTEGER NOT NULL DEFAULT 1
);

-- Full-text search over the visible text (replaces the seed's Whoosh index).
CREATE VIRTUAL TABLE tracks_fts USING fts5(
    title, artist_name, album_title, album_artist_name, genre,
    content='tracks', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER tracks_fts_insert AFTER INSERT ON tracks BEGIN
    INSERT INTO tracks_fts(rowid, title, artist_name, album_title, album_artist_name, genre)
    VALUES (new.id, new.title, new.artist_name, new.album_title, new.album_artist_name, new.genre);
END;
CREATE TRIGGER tracks_fts_delete AFTER DELETE ON tracks BEGIN
    INSERT INTO tracks_fts(tracks_fts, rowid, title, artist_name, album_title, album_artist_name, genre)
    VALUES ('delete', old.id, old.title, old.artist_name, old.album_title, old.album_artist_name, old.genre);
END;
CREATE TRIGGER tracks_fts_update AFTER UPDATE OF title, artist_name, album_title, album_artist_name, genre ON tracks BEGIN
    INSERT INTO tracks_fts(tracks_fts, rowid, title, artist_name, album_title, album_artist_name, genre)
    VALUES ('delete', old.id, old.title, old.artist_name, old.album_title, old.album_artist_name, old.genre);
    INSERT INTO tracks_fts(rowid, title, artist_name, album_title, album_artist_name, genre)
    VALUES (new.id, new.title, new.artist_name, new.album_title, new.album_artist_name, new.genre);
END;
