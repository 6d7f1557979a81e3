-- Who may do what (web/access.py): a token may now carry the scope "worker" — the pipeline's
-- writes a remote worker sends (scanned files, stage results) — which a "write" token no longer
-- holds. SQLite cannot change a CHECK constraint in place: the table is rebuilt, ids kept.
CREATE TABLE api_tokens_new (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,          -- sha256 of the token: the token itself is shown once
    prefix TEXT NOT NULL,                     -- first characters, so people can tell tokens apart
    scope TEXT NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write', 'worker', 'admin')),
    created_at REAL NOT NULL,
    last_used_at REAL,
    revoked_at REAL
);
INSERT INTO api_tokens_new SELECT id, user_id, name, token_hash, prefix, scope, created_at,
    last_used_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
