-- What people changed through the API: a layer kept over the file's tags, surviving rescans.

CREATE TABLE track_edits (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    field TEXT NOT NULL,                      -- a column of TRACK_EDITABLE
    value,                                    -- the user's value (what the track shows)
    file_value,                               -- the file's value, as last read
    edited_at REAL NOT NULL,
    PRIMARY KEY (track_id, field)
) WITHOUT ROWID;
