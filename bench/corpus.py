"""A made-up library for the vector benchmarks: artists with their genres and eras, albums of
about ten tracks, titles from a few hundred words in English and French — so its embeddings
cluster the way a real library's do (random vectors have no neighbours worth the name, and
no index can find them faster than a full scan).

``embedded(n)`` embeds the first ``n`` track texts with the real model once (about 12
minutes for 100,000 on two cores here) and keeps them in ``~/.cache/soniquebay-bench``.
"""

from __future__ import annotations

import os
import random
from multiprocessing import Pool
from pathlib import Path

from soniquebay.daemon.worker import one_native_thread

one_native_thread()  # before numpy: each embedding process keeps to one core

import numpy as np  # noqa: E402

from soniquebay.plugins.builtin.vectors import describe  # noqa: E402

WORDS = """love night rain river fire city dream heart summer winter light shadow road home
ocean star moon sun gold silver blue red black white wild sweet broken lonely golden electric
dance midnight morning evening storm thunder wind snow desert island garden forest mountain
highway train station letter song story memory ghost angel devil paradise heaven hell
freedom time yesterday tomorrow forever never always little big young old last first secret
lost found running falling flying burning waiting calling crying dancing dreaming walking
window mirror door street bridge tower castle kingdom empire machine radio television neon
velvet crystal diamond stone glass paper silk leather honey sugar whiskey wine coffee
cigarette smoke dust ashes bones blood tears kiss touch eyes hands voice breath soul spirit
mind body skin lips echo silence noise rhythm melody harmony chorus blues soul funk groove
amour nuit pluie soleil coeur ville reve etoile mer route maison chanson temps vie mort
ciel terre feu eau lumiere ombre jour matin soir hiver ete printemps automne fleur rose
liberte espoir souvenir jamais toujours encore demain hier""".split()
FIRST = """John Mary Paul Anna Lucas Emma Louis Chloe Hugo Lea Marcus Nina Oscar Julia Victor
Alice Samuel Clara Leon Eva Miles Nora Felix Iris Theo Maya Elliot Rosa Jules Camille""".split()
LAST = """Smith Martin Bernard Dubois Cole Davis Moreau Laurent Simon Michel Lefebvre Garcia
Hughes Parker Reed Wright Turner Fontaine Rousseau Blanc Girard Mercier Dupont Young King""".split()
GENRES = """Rock|Classic Rock|Hard Rock|Punk|Post-Punk|Indie Rock|Alternative|Grunge|Heavy Metal
|Death Metal|Black Metal|Pop|Synth Pop|Dream Pop|K-Pop|Chanson|Variete Francaise|French Rap
|Hip-Hop|Trap|R&B|Soul|Funk|Disco|House|Deep House|Techno|Trance|Drum and Bass|Dubstep
|Ambient|Downtempo|Trip-Hop|Jazz|Bebop|Cool Jazz|Free Jazz|Swing|Blues|Delta Blues|Country
|Bluegrass|Folk|Acoustic Folk|Celtic|Reggae|Dub|Ska|Afrobeat|Salsa|Bossa Nova|Tango|Flamenco
|Classical|Classical Piano|Baroque|Opera|Choral|Film Score|Video Game Music|Lo-Fi|Gospel"""
GENRES = [g.strip() for g in GENRES.split("|")]
KEYS = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "soniquebay-bench"


def title(rng: random.Random) -> str:
    words = rng.sample(WORDS, rng.choice((1, 2, 2, 3, 3, 4)))
    return " ".join(words).title()


def tracks(n: int, seed: int = 7) -> list[dict]:
    """``n`` tracks: artists of 1–4 albums of 6–14 tracks each."""
    rng = random.Random(seed)
    out: list[dict] = []
    while len(out) < n:
        if rng.random() < 0.6:
            artist = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        else:
            artist = f"The {title(rng)}s" if rng.random() < 0.5 else title(rng)
        genre, era = rng.choice(GENRES), rng.randint(1950, 2024)
        for _ in range(rng.randint(1, 4)):
            album, year = title(rng), min(2025, era + rng.randint(0, 12))
            for _ in range(rng.randint(6, 14)):
                out.append({
                    "title": title(rng), "artist_name": artist, "album_title": album,
                    "genre": genre if rng.random() < 0.9 else rng.choice(GENRES), "year": year,
                    "bpm": rng.uniform(60, 180), "energy": rng.random(),
                    "loudness_lufs": rng.uniform(-30, -5), "key": rng.choice(KEYS),
                    "scale": rng.choice(("major", "minor")),
                })  # fmt: skip
    return out[:n]


def _encode(texts: list[str]) -> np.ndarray:
    from soniquebay import embeddings

    model = embeddings.model(embeddings.DEFAULT_MODEL)
    return np.vstack([model.encode([t])[0] for t in texts]).astype(np.float32)


def embedded(n: int, processes: int | None = None) -> np.ndarray:
    """The real model's embeddings of the first ``n`` tracks' texts, as the stage makes them."""
    path = CACHE / f"minilm-{n}.npy"
    if path.exists():
        return np.load(path)
    texts = [describe(t) for t in tracks(n)]
    chunks = [texts[i : i + 500] for i in range(0, n, 500)]
    with Pool(processes or os.cpu_count()) as pool:
        matrix = np.vstack(pool.map(_encode, chunks))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path.with_suffix(".tmp.npy"), matrix)
    os.replace(path.with_suffix(".tmp.npy"), path)
    return matrix


if __name__ == "__main__":
    import sys

    print(embedded(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000).shape)
