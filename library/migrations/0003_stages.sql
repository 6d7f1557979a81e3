-- The per-track stage runner: what each stage last did for each track, and what plugins stored.

CREATE TABLE track_stages (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    stage TEXT NOT NULL,                      -- "analyze_audio", or "<plugin>.<hook>"
    version TEXT NOT NULL,                    -- the stage's declared version when it ran
    inputs TEXT NOT NULL,                     -- digest of the values it needed
    status TEXT NOT NULL CHECK (status IN ('done', 'failed', 'skipped')),
    plugin TEXT,                              -- the implementation that answered (or failed)
    error TEXT,                               -- one line, when failed
    updated_at REAL NOT NULL,
    PRIMARY KEY (track_id, stage)
) WITHOUT ROWID;
CREATE INDEX idx_track_stages_failed ON track_stages(updated_at) WHERE status = 'failed';

CREATE TABLE plugin_data (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    plugin TEXT NOT NULL,
    data TEXT NOT NULL,                       -- JSON object: the fields the plugin's stages produced
    updated_at REAL NOT NULL,
    PRIMARY KEY (track_id, plugin)
) WITHOUT ROWID;
