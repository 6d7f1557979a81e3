-- A failed stage (a timeout, a decoder error, a plugin's exception) is tried again later by the
-- web's retry sweep, less often each time (library/stages.py, RETRY_AFTER): attempts counts the
-- failures in a row. Failures stored before this count as one.
ALTER TABLE track_stages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
