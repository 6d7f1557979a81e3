-- Apps (the Subsonic API): each user's Subsonic password (sealed, see credentials.seal),
-- OpenSubsonic API keys (hashed), the play queue kept across devices, bookmarks.

ALTER TABLE users ADD COLUMN subsonic_password TEXT;     -- Fernet token; NULL: not set

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL UNIQUE,            -- sha256 of the key: the key is shown once
    created_at REAL NOT NULL,
    last_used_at REAL
);

CREATE TABLE play_queues (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    track_ids TEXT NOT NULL,                  -- JSON list, in order
    current_id INTEGER,
    position_ms INTEGER NOT NULL DEFAULT 0,
    changed_at REAL NOT NULL,
    changed_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE bookmarks (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    position_ms INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    changed_at REAL NOT NULL,
    PRIMARY KEY (user_id, track_id)
) WITHOUT ROWID;
