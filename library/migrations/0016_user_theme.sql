-- Each user's choice of colours for the pages: auto (follow the system's light or dark
-- setting), light or dark.
ALTER TABLE users ADD COLUMN theme TEXT NOT NULL DEFAULT 'auto'
    CHECK (theme IN ('auto', 'light', 'dark'));
