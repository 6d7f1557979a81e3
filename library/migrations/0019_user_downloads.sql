-- Whether a user may download files (a track's original, an album or a playlist as a zip; in
-- apps, Subsonic's downloadRole). On by default; an admin turns it off per user.
ALTER TABLE users ADD COLUMN downloads INTEGER NOT NULL DEFAULT 1;
