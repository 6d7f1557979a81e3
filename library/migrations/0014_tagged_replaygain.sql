-- ReplayGain as the files are tagged (REPLAYGAIN_TRACK_GAIN…, or Opus's R128_TRACK_GAIN
-- converted to ReplayGain 2.0's -18 LUFS reference): gains in dB, peaks linear. Subsonic's
-- replayGain uses them before the analysis's own figures (the replaygain_source setting).
ALTER TABLE tracks ADD COLUMN tagged_track_gain REAL;
ALTER TABLE tracks ADD COLUMN tagged_track_peak REAL;
ALTER TABLE tracks ADD COLUMN tagged_album_gain REAL;
ALTER TABLE tracks ADD COLUMN tagged_album_peak REAL;
-- Read every present file's tags again at the next start, to fill these (and 0011's columns
-- in a library scanned before it): the start-up reconcile reads a file whose modification
-- time differs. Only the tags are read: the content hash is unchanged, so no stage runs again.
UPDATE tracks SET mtime_ns = 0 WHERE missing_since IS NULL;
