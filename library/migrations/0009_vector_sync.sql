-- The sqlite-vec index (library/vector_index.py) follows track_vectors by (updated_at, id):
-- without this index every sync would read every vector.
CREATE INDEX idx_track_vectors_sync ON track_vectors(name, updated_at, id);
