-- Shares: a public link to a track, an album or a playlist, for someone without an account.
-- The link is the share's id signed with the server's key (HMAC, data_dir/secret.key): it can
-- be shown again at any time, and cannot be guessed. A revoked or expired share answers 410 at
-- once. users.shares: an admin can turn sharing off per user (their links stop answering).
CREATE TABLE shares (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('track', 'album', 'playlist')),
    item_id INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    transcode TEXT,                       -- 'opus:128', 'mp3:192'...; NULL: the original
    downloads INTEGER NOT NULL DEFAULT 0, -- the visitor may download the files
    created_at REAL NOT NULL,
    expires_at REAL,                      -- NULL: until revoked
    revoked_at REAL,
    visits INTEGER NOT NULL DEFAULT 0,
    last_visited_at REAL
);
CREATE INDEX idx_shares_user ON shares(user_id, created_at);
ALTER TABLE users ADD COLUMN shares INTEGER NOT NULL DEFAULT 1;
