-- Duplicates: what the web keeps of each track's acoustic fingerprint, and the links found.

CREATE TABLE track_fingerprints (
    track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    duration REAL NOT NULL,                   -- seconds, as fpcalc measured them
    head BLOB NOT NULL                        -- the first fingerprint items, little-endian uint32
);
CREATE INDEX idx_track_fingerprints_duration ON track_fingerprints(duration);

CREATE TABLE track_duplicates (              -- both directions are stored
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    other_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    bit_error REAL NOT NULL,                  -- share of differing fingerprint bits
    PRIMARY KEY (track_id, other_id)
) WITHOUT ROWID;
