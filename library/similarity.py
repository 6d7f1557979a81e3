"""Tracks that sound alike, from SoniqueBay's own audio analysis: a distance in a space of
tempo, key (on the circle of fifths), loudness, energy, danceability and timbre, each feature
standardised over the library so none dominates. No model needed, so it works on a Pi.

Where Essentia's classifier models ran (amd64 with models installed), their mood and genre
labels join the space as further features, together weighing as much as the tempo; where
they did not (arm64, no models), the space is the portable features alone.

Tracks not analysed yet fall back to the same artist, then the same genre, then the same era.
"""

from __future__ import annotations

import json
import math
from typing import Any

import apsw

from soniquebay import lazy
from soniquebay.library import duplicates, sql

np = lazy.module("numpy")  # when a neighbour is first asked for, not when the web starts

PITCHES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}
# Weights after standardising: what makes two tracks feel alike in a mix.
WEIGHTS = (2.0, 1.5, 1.5, 0.8, 1.0, 0.6, 0.6, 0.4, 0.4, 0.4, 0.4, 0.4)
LABELS_WEIGHT = 2.0  # all the classifiers' labels together, as much as the tempo
MAX_LABELS = 64  # the most common labels kept as features (a bound on the space's width)


def key_position(key: str | None, scale: str | None) -> tuple[float, float] | None:
    """The key on the circle of fifths (a relative minor sits on its major): (x, y)."""
    if not key:
        return None
    pitch = PITCHES.index(FLATS.get(key, key)) if FLATS.get(key, key) in PITCHES else None
    if pitch is None:
        return None
    if (scale or "major").lower().startswith("min"):
        pitch = (pitch + 3) % 12  # A minor -> C major
    step = (pitch * 7) % 12  # semitones -> fifths
    angle = 2 * math.pi * step / 12
    return math.cos(angle), math.sin(angle)


def _vector(row: dict[str, Any]) -> list[float] | None:
    if row["bpm"] is None or row["key"] is None:
        return None
    position = key_position(row["key"], row["scale"])
    if position is None:
        return None
    timbre = json.loads(row["timbre"]) if isinstance(row["timbre"], str) else {}
    mfcc = (timbre.get("mfcc_mean") or [])[1:6]
    mfcc = [float(v) for v in mfcc] + [0.0] * (5 - len(mfcc))
    return [
        math.log2(max(row["bpm"], 1.0)),
        *position,
        float(row["loudness_lufs"] if row["loudness_lufs"] is not None else -20.0),
        float(row["energy"] or 0.0),
        float(row["danceability"] or 0.0),
        math.log10(max(float(timbre.get("spectral_centroid") or 1000.0), 1.0)),
        *mfcc,
    ]


def _standardised(matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    if not len(matrix):
        return matrix
    spread = matrix.std(axis=0)
    spread[spread < 1e-9] = 1.0
    return (matrix - matrix.mean(axis=0)) / spread * weights


def labels_of(row: dict[str, Any]) -> dict[str, float]:
    """The classifiers' labels in ``features_extra`` as ``{"model/label": activation}``."""
    extra = row.get("features_extra")
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            return {}
    found = {}
    for model, labels in ((extra or {}).get("labels") or {}).items():
        for label, activation in (labels or {}).items():
            if isinstance(activation, (int, float)) and math.isfinite(activation):
                found[f"{model}/{label}"] = float(activation)
    return found


class Space:
    """Every analysed track as a standardised, weighted feature vector (built once, asked many
    times: the web process keeps one until the next write). ``labels``: per track, its
    classifier labels (:func:`labels_of`), which become further columns (0 where a label is
    absent: only each model's strongest labels are stored)."""

    def __init__(
        self,
        ids: list[int],
        vectors: list[list[float]],
        labels: list[dict[str, float]] | None = None,
    ):
        self.ids = ids
        self.row = {track_id: n for n, track_id in enumerate(ids)}
        matrix = np.asarray(vectors, dtype=np.float64).reshape(len(ids), len(WEIGHTS))
        matrix = _standardised(matrix, np.array(WEIGHTS))
        counts: dict[str, int] = {}
        for each in labels or ():
            for name in each:
                counts[name] = counts.get(name, 0) + 1
        self.labels = sorted(counts, key=lambda n: (-counts[n], n))[:MAX_LABELS]
        if self.labels:
            column = {name: n for n, name in enumerate(self.labels)}
            extra = np.zeros((len(ids), len(self.labels)))
            for n, each in enumerate(labels):
                for name, activation in each.items():
                    if name in column:
                        extra[n, column[name]] = activation
            weights = np.full(len(self.labels), LABELS_WEIGHT / math.sqrt(len(self.labels)))
            matrix = np.hstack([matrix, _standardised(extra, weights)])
        self.matrix = matrix

    def distances(self, track_id: int) -> np.ndarray:
        """Every track's distance to ``track_id`` (which must be in the space), by row."""
        return np.linalg.norm(self.matrix - self.matrix[self.row[track_id]], axis=1)

    def nearest(self, track_id: int, count: int, distances: np.ndarray | None = None) -> list[int]:
        """The ``count`` tracks nearest ``track_id``; ``distances``: its :meth:`distances`, when
        the caller has them already."""
        if track_id not in self.row or len(self.ids) < 2:
            return []
        if distances is None:
            distances = self.distances(track_id)
        if count + 1 < len(self.ids):  # the count nearest, without sorting them all
            part = np.argpartition(distances, count)[: count + 1]
            order = part[np.lexsort((part, distances[part]))]
        else:
            order = np.argsort(distances, kind="stable")
        return [self.ids[i] for i in order if self.ids[i] != track_id][:count]


def mix(
    within: Space,
    seed: int,
    count: int,
    artist_of: dict[int, int | None],
    candidates: list[int] | None = None,
) -> list[int]:
    """A playlist that flows from ``seed``: from ``candidates`` (its 100 nearest by default),
    each next one is the closest in ``within`` to the one before (so tempo and key move in
    small steps), never by the same artist twice in a row when another candidate is left."""
    if seed not in within.row:
        return []
    candidates = [
        c for c in (within.nearest(seed, 100) if candidates is None else candidates)
        if c in within.row and c != seed
    ]  # fmt: skip
    order, current = [seed], seed
    while candidates and len(order) <= count:
        rows = [within.row[c] for c in candidates]
        distances = np.linalg.norm(within.matrix[rows] - within.matrix[within.row[current]], axis=1)
        ranked = [candidates[i] for i in np.argsort(distances, kind="stable")]
        last_artist = artist_of.get(current)
        pick = next(
            (c for c in ranked if artist_of.get(c) != last_artist or last_artist is None), ranked[0]
        )
        order.append(pick)
        candidates.remove(pick)
        current = pick
    return order[: count + 1]


SOUND_WEIGHT = 2.0  # how alike two tracks sound counts twice what their words say
POOL = 50  # nearest taken from each space before they are fused
SPARE = 10  # taken beyond what is asked, for the other copies of one recording dropped
FUSION_K = 60  # reciprocal rank fusion's damping (Cormack et al.): ranks, not raw distances


def fuse(rankings: list[tuple[list[int], float]], count: int) -> list[int]:
    """Several nearest-first lists of ids as one, by weighted reciprocal rank fusion: an id
    scores ``weight / (FUSION_K + rank)`` in each list it is in. Distances in different spaces
    do not compare; ranks do, and an id near in both comes before one near in only one."""
    scores: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, track_id in enumerate(ids, 1):
            scores[track_id] = scores.get(track_id, 0.0) + weight / (FUSION_K + rank)
    first_seen = {i: n for n, i in enumerate(i for ids, _ in rankings for i in ids)}
    return sorted(scores, key=lambda i: (-scores[i], first_seen[i]))[:count]


def space(conn: apsw.Connection) -> Space:
    rows = conn.execute(
        """SELECT id, bpm, key, scale, loudness_lufs, energy, danceability, timbre,
                  features_extra
           FROM tracks WHERE missing_since IS NULL AND analyzed_at IS NOT NULL"""
    )
    ids, vectors, labels = [], [], []
    for row in rows:
        vector = _vector(row)
        if vector is not None:
            ids.append(row["id"])
            vectors.append(vector)
            labels.append(labels_of(row))
    return Space(ids, vectors, labels)


def similar_ids(
    conn: apsw.Connection,
    track_id: int,
    count: int = 50,
    within: Space | None = None,
    by_meaning: list[int] = (),
) -> list[int]:
    """Up to ``count`` present tracks most like ``track_id``, nearest first (it excluded);
    ``within``: a :class:`Space` built earlier (else one is built now); ``by_meaning``: the
    nearest by text vector, fused with the sound's nearest (the sound weighs twice as much)."""
    wanted = count + SPARE
    found = (within or space(conn)).nearest(track_id, max(wanted, POOL) if by_meaning else wanted)
    if by_meaning:
        found = fuse([(found, SOUND_WEIGHT), (list(by_meaning), 1.0)], wanted)
    found = duplicates.one_per_recording(conn, found, seeds=(track_id,))[:count]
    if len(found) < count:
        more = _fallback(conn, track_id, count - len(found) + SPARE, exclude={track_id, *found})
        found = duplicates.one_per_recording(conn, found + more, seeds=(track_id,))[:count]
    return found


def sonic_similar(
    conn: apsw.Connection, within: Space, track_id: int, count: int
) -> list[tuple[int, float]]:
    """(id, similarity) of the ``count`` tracks that sound most like ``track_id``, by the
    audio analysis alone (OpenSubsonic's getSonicSimilarTracks): one copy of each recording,
    the seed's other copies left out. ``similarity`` is 1 at the seed's own sound and 0 at the
    library's most different track from it."""
    if track_id not in within.row:
        return []
    distances = within.distances(track_id)
    farthest = float(distances.max()) or 1.0
    ids = duplicates.one_per_recording(
        conn, within.nearest(track_id, count + SPARE, distances), seeds=(track_id,)
    )[:count]
    return [(i, _closeness(distances[within.row[i]], farthest)) for i in ids]


def _closeness(distance: float, farthest: float) -> float:
    return round(max(0.0, 1.0 - float(distance) / farthest), 4)


TUBE = 2000  # tracks nearest the straight way from start to end that a path is chosen from


def sonic_path(
    conn: apsw.Connection, within: Space, start: int, end: int, count: int
) -> list[tuple[int, float]]:
    """A route of at most ``count`` tracks from ``start`` to ``end`` that eases from one sound
    to the other (OpenSubsonic's findSonicPath): step k aims at the point k/(count-1) of the way
    in the analysis space and takes the unused track nearest it that is closer to ``end`` than
    the step before; no track twice, no second copy of a recording already in the path. The
    candidates are the :data:`TUBE` tracks nearest the straight way (one pass over the space).
    (id, similarity to ``start``) in order, ``start`` first and ``end`` last; [] when either
    has no analysis."""
    if start not in within.row or end not in within.row or count < 2:
        return []
    matrix = within.matrix
    a, b = matrix[within.row[start]], matrix[within.row[end]]
    way = b - a
    length2 = float(way @ way)
    from_start = within.distances(start)
    farthest = float(from_start.max()) or 1.0
    if start == end or length2 == 0.0:
        return [(start, 1.0)] if start == end else [(start, 1.0), (end, 1.0)]
    along = np.clip(((matrix - a) @ way) / length2, 0.0, 1.0)
    off_way = np.linalg.norm(matrix - (a + along[:, None] * way), axis=1)
    tube = np.argpartition(off_way, min(TUBE, len(off_way) - 1))[:TUBE]
    to_end = np.linalg.norm(matrix[tube] - b, axis=1)
    links = duplicates.linked(conn, [within.ids[i] for i in tube])
    used = {start, end, *links.get(start, ()), *links.get(end, ())}
    path, last = [start], float(np.linalg.norm(a - b))
    for step in range(1, count - 1):
        target = a + way * (step / (count - 1))
        near = np.linalg.norm(matrix[tube] - target, axis=1)
        for n in np.argsort(near, kind="stable"):
            track_id = within.ids[tube[n]]
            if track_id in used or to_end[n] >= last:
                continue
            path.append(track_id)
            used |= {track_id, *links.get(track_id, ())}
            last = float(to_end[n])
            break
    path.append(end)
    return [
        (i, 1.0 if i == start else _closeness(from_start[within.row[i]], farthest)) for i in path
    ]


def _fallback(conn: apsw.Connection, track_id: int, count: int, exclude: set[int]) -> list[int]:
    """Same artist, then same genre, then the nearest years."""
    seed = conn.execute(
        "SELECT track_artist_id, genre, year FROM tracks WHERE id = ?", (track_id,)
    ).fetchall()
    if not seed:
        return []
    s = seed[0]
    rows = conn.execute(
        f"""SELECT id FROM tracks WHERE missing_since IS NULL
              AND id NOT IN ({sql.placeholders(list(exclude))})
            ORDER BY (track_artist_id IS ?) DESC, (genre = ? COLLATE NOCASE) DESC,
                     abs(coalesce(year, 0) - ?) ASC, id LIMIT ?""",
        (*exclude, s["track_artist_id"], s["genre"] or "", s["year"] or 0, count),
    ).fetchall()
    return [r["id"] for r in rows]


def similar_artist_ids(conn: apsw.Connection, artist_id: int, count: int = 20) -> list[int]:
    """Artists sharing the most genres and eras with this one (the library's own view)."""
    rows = conn.execute(
        """WITH mine AS (
             SELECT DISTINCT lower(genre) AS genre, year / 10 AS decade FROM tracks
             WHERE track_artist_id = ? AND missing_since IS NULL AND genre IS NOT NULL)
           SELECT t.track_artist_id AS id, count(DISTINCT mine.genre || '/' || coalesce(mine.decade, ''))
                    AS shared, count(*) AS tracks
           FROM tracks t JOIN mine ON lower(t.genre) = mine.genre AND t.year / 10 IS mine.decade
           WHERE t.track_artist_id IS NOT NULL AND t.track_artist_id != ? AND t.missing_since IS NULL
           GROUP BY t.track_artist_id ORDER BY shared DESC, tracks DESC, id LIMIT ?""",
        (artist_id, artist_id, count),
    ).fetchall()
    return [r["id"] for r in rows]
