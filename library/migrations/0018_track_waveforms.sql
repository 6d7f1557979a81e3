-- A waveform per track for the player's seek bar: WAVEFORM_BINS (200) peaks, one byte each
-- (0..255 of the track's loudest), as the analysis measured them on the whole file. Apart from
-- the tracks table: lists read whole track rows, and nobody but the player needs these.
CREATE TABLE track_waveforms (
    track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    peaks BLOB NOT NULL
);
