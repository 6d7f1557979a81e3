-- The full API: accounts (users, API tokens, sessions) and indexes for the list filters.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,              -- scrypt$n$r$p$salt$digest, never the password
    is_admin INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,          -- sha256 of the token: the token itself is shown once
    prefix TEXT NOT NULL,                     -- first characters, so people can tell tokens apart
    scope TEXT NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write', 'admin')),
    created_at REAL NOT NULL,
    last_used_at REAL,
    revoked_at REAL
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,                 -- sha256 of the cookie value
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX idx_sessions_expires ON sessions(expires_at);

-- List filters: genre and year ranges are the common ones; bpm/key use idx_tracks_missing_audio.
CREATE INDEX idx_tracks_genre ON tracks(genre COLLATE NOCASE);
CREATE INDEX idx_tracks_year ON tracks(year);
CREATE INDEX idx_tracks_analyzed ON tracks(analyzed_at) WHERE analyzed_at IS NULL;
CREATE INDEX idx_albums_year ON albums(year);
CREATE INDEX idx_albums_title ON albums(title COLLATE NOCASE);
-- Present tracks in id order: the default listing pages through this small index.
CREATE INDEX idx_tracks_present ON tracks(id) WHERE missing_since IS NULL;
-- Filtered listings: genre then year, the common browse.
CREATE INDEX idx_tracks_genre_year ON tracks(genre COLLATE NOCASE, year);
