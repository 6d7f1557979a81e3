-- Real libraries (docs/library.md): every track in an album and under an artist. The scan keeps
-- each file's tags as read; library/grouping.py decides a track's album and its artists by role
-- from them and from the track's folder. The tracks are regrouped by the web process at its
-- next start (the rules' fingerprint in library_state differs), keeping every id.

-- Tags that decide the grouping or that a careful library shows.
ALTER TABLE tracks ADD COLUMN compilation INTEGER;       -- 1: "part of a compilation" (TCMP, cpil)
ALTER TABLE tracks ADD COLUMN composer TEXT;
ALTER TABLE tracks ADD COLUMN performer TEXT;            -- players credited (PERFORMER, TMCL)
ALTER TABLE tracks ADD COLUMN artist_sort TEXT;
ALTER TABLE tracks ADD COLUMN album_artist_sort TEXT;
ALTER TABLE tracks ADD COLUMN title_sort TEXT;
ALTER TABLE tracks ADD COLUMN original_year INTEGER;
ALTER TABLE tracks ADD COLUMN disc_subtitle TEXT;
ALTER TABLE tracks ADD COLUMN release_type TEXT;         -- MusicBrainz's: album, single, ep…
ALTER TABLE tracks ADD COLUMN album_version TEXT;        -- an edition: "Deluxe", "2011 remaster"
-- What a track sorts by: its title sort tag (TSOT, TITLESORT, sonm), else its title.
ALTER TABLE tracks ADD COLUMN sort_title TEXT
    GENERATED ALWAYS AS (coalesce(nullif(trim(title_sort), ''), title)) VIRTUAL;
-- The folder the file is in (the path up to its last '/'): the grouping works folder by folder.
ALTER TABLE tracks ADD COLUMN folder BLOB;
-- Files beside the track that a stage reads (a .lrc), as the scan found them: a change runs
-- that stage again (plugins/stages.py, SIDECARS).
ALTER TABLE tracks ADD COLUMN sidecars TEXT;
-- What the grouping decided for display: "A, B" for a list, "A feat. B" as tagged.
ALTER TABLE tracks ADD COLUMN display_artist TEXT;
CREATE INDEX idx_tracks_folder ON tracks(folder);

-- Every artist of a track, by role, in tag order (position 0 is the track's main artist).
CREATE TABLE track_artists (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    artist_id INTEGER NOT NULL REFERENCES artists(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('artist', 'albumartist', 'composer', 'performer')),
    position INTEGER NOT NULL,
    PRIMARY KEY (track_id, role, position)
) WITHOUT ROWID;
CREATE INDEX idx_track_artists_artist ON track_artists(artist_id, role);

-- Every genre of a track, in tag order.
CREATE TABLE track_genres (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    genre TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (track_id, position)
) WITHOUT ROWID;
CREATE INDEX idx_track_genres_genre ON track_genres(genre COLLATE NOCASE);

-- An artist's name for sorting and indexing: its sort tag, else its name without a leading
-- article ("The Beatles" under B). Filled by the regrouping; reads fall back to the name.
ALTER TABLE artists ADD COLUMN sort_name TEXT;

-- What an album gathers from all its tracks.
ALTER TABLE albums ADD COLUMN disc_total INTEGER;
ALTER TABLE albums ADD COLUMN release_type TEXT;
ALTER TABLE albums ADD COLUMN compilation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE albums ADD COLUMN from_folder INTEGER NOT NULL DEFAULT 0;  -- named after its folder
ALTER TABLE albums ADD COLUMN disc_subtitles TEXT;                     -- JSON {"2": "Live"}

-- Small facts about the library as a whole (the grouping rules it was last grouped with).
CREATE TABLE library_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
