"""Which album and which artists each track belongs to: the rules of ``docs/library.md``.

The scan stores every file's tags as read (and people's edits over them); this module decides,
in the writer's transaction, the album of each track of the folders a change touched and its
artists by role, so that every track is in an album and under an artist:

- an album is its MusicBrainz release id when tagged; else its album artist and title (and
  edition, ``album_version``), the album artist taken, in order, from the tags, from the other
  tracks of its folder with that title, from ``compilation``, from its only track artist;
- tracks of one folder sharing a title but not an artist, and naming no album artist, are one
  compilation under "Various Artists";
- a track with no album title is in an album named after its folder, "[folder]";
- a track with no artist is under "Unknown artist".

Artists, album artists, composers and genres are lists: tags hold several values (repeated
Vorbis comments, ID3v2.4 lists, ``;``, ``/``, ``feat.``) and names in ``never_split`` stay whole.
Albums and artists that a regrouping leaves empty are deleted; what users kept of an album
(stars, ratings) follows its tracks when they all went to one album.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import apsw

from soniquebay.config import Settings
from soniquebay.library import sql

VARIOUS_ARTISTS = "Various Artists"
UNKNOWN_ARTIST = "Unknown artist"
MAX_NAMES = 50  # names kept from one field: a tag listing 10,000 artists keeps the first 50
MAX_NAME = 256  # characters of one name
RULES_KEY = "grouping_rules"
FEATURING = (" feat. ", " feat ", " ft. ", " featuring ")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]+")
# The tag fields the grouping reads: a rescan that changes none of them regroups nothing.
GROUPING_FIELDS = (
    "artist_name", "album_title", "album_artist_name", "composer", "performer", "genre",
    "compilation",
    "musicbrainz_albumid", "album_version", "year", "original_year", "disc_number",
    "disc_total", "disc_subtitle", "release_type", "artist_sort", "album_artist_sort",
)  # fmt: skip
# What the grouping reads of a track; the folder query selects these.
TRACK_INPUTS = (
    "id, path, folder, title, artist_name, album_title, album_artist_name, composer, performer,"
    " genre,"
    " compilation, musicbrainz_albumid, album_version, year, original_year, disc_number,"
    " disc_total, disc_subtitle, release_type, artist_sort, album_artist_sort, album_id,"
    " track_artist_id, display_artist"
)


@dataclasses.dataclass(frozen=True)
class Rules:
    """The settings users disagree on: the ``[soniquebay]`` keys of the same names, whose
    defaults (:class:`soniquebay.config.Settings`) are the rules' defaults."""

    artist_separators: tuple[str, ...]
    genre_separators: tuple[str, ...]
    never_split: tuple[str, ...]
    sort_articles: tuple[str, ...]
    album_identity: str  # "musicbrainz": a tagged release id is the album; "tags": tags only
    folder_compilations: bool  # off: one album per artist where a folder mixes artists

    @classmethod
    def from_settings(cls, settings: Any) -> Rules:
        return cls(
            artist_separators=settings.artist_separators,
            genre_separators=settings.genre_separators,
            never_split=settings.never_split,
            sort_articles=settings.sort_articles,
            album_identity=settings.album_identity,
            folder_compilations=settings.folder_compilations,
        )

    def fingerprint(self) -> str:
        """Changes when the rules (or this module's way of applying them) change."""
        return json.dumps({"version": 1, **dataclasses.asdict(self)}, sort_keys=True)


def clean(text: Any) -> str:
    """A tag value as one line of printable text, capped (control characters are refused)."""
    if text is None:
        return ""
    return " ".join(CONTROL.sub(" ", str(text)).split())[: MAX_NAME * MAX_NAMES]


@functools.lru_cache(maxsize=32)
def _splitter(separators: tuple[str, ...], never_split: tuple[str, ...]):
    """The compiled patterns of one rule set: separators (longest first, so " feat. " wins over
    " feat "), and the names never split."""
    longest_first = sorted(separators, key=len, reverse=True)
    cut = re.compile("|".join(map(re.escape, longest_first)), re.IGNORECASE) if separators else None
    keep = re.compile("|".join(map(re.escape, never_split)), re.IGNORECASE) if never_split else None
    return cut, keep


def split(raw: Any, separators: Sequence[str], never_split: Sequence[str] = ()) -> list[str]:
    """``raw`` as a list of names: split on each separator (case-insensitive), except inside
    ``never_split`` names; empty parts, repeats and parts with no letter or digit dropped."""
    if raw is None:
        return []
    return list(_split(str(raw), tuple(separators), tuple(never_split)))


@functools.lru_cache(maxsize=8192)  # a library repeats its artist and genre strings
def _split(raw: str, separators: tuple[str, ...], never_split: tuple[str, ...]) -> tuple[str, ...]:
    text = clean(raw)
    if not text:
        return ()
    cut, keep = _splitter(separators, never_split)
    protected: list[str] = []
    if keep is not None and keep.search(text):

        def hide(found: re.Match) -> str:
            protected.append(found.group(0))
            return f"\ue000{len(protected) - 1}\ue001"

        text = keep.sub(hide, text)
    parts = cut.split(text) if cut is not None else [text]
    names, seen = [], set()
    for part in parts:
        if protected:
            part = re.sub("\ue000(\\d+)\ue001", lambda m: protected[int(m.group(1))], part)
        name = part.strip()[:MAX_NAME].strip()
        key = sql.name_key(name)
        if key and key not in seen and any(c.isalnum() for c in name):
            seen.add(key)
            names.append(name)
        if len(names) == MAX_NAMES:
            break
    return tuple(names)


@functools.lru_cache(maxsize=8192)
def display(raw: Any, rules: Rules) -> str | None:
    """How a list of artists reads: "A, B" for a list, "A feat. B, C" where the tag says so."""
    text = clean(raw)
    if not text:
        return None
    main, featured = text, ""
    for separator in FEATURING:
        at = text.lower().find(separator.lower())
        if at > 0 and separator in rules.artist_separators:
            main, featured = text[:at], text[at + len(separator) :]
            break
    listed = [s for s in rules.artist_separators if s not in FEATURING]
    shown = ", ".join(split(main, listed, rules.never_split))
    if featured:
        shown += " feat. " + ", ".join(split(featured, rules.artist_separators, rules.never_split))
    return shown or None


def album_artists(raw: Any, rules: Rules) -> list[str]:
    """Album artists as tagged, less names that are only a number (a "4" in TPE2 is a disc or
    track count written in the wrong field, not an artist)."""
    return [
        n
        for n in split(raw, rules.artist_separators, rules.never_split)
        if not n.replace(" ", "").isdigit()
    ]


def sort_name(name: str, sort_tag: str | None, articles: Sequence[str]) -> str:
    """An artist's sort key: its sort tag, else its name without a leading article."""
    if sort_tag and clean(sort_tag):
        return clean(sort_tag)
    for article in articles:
        prefix = article + " "
        if name.lower().startswith(prefix.lower()) and len(name) > len(prefix):
            return name[len(prefix) :]
    return name


def folder_of(path: bytes) -> bytes:
    return path.rsplit(b"/", 1)[0] if b"/" in path else b""


def folder_title(folder: bytes) -> str:
    """The album title of untitled tracks: "[folder name]"."""
    name = os.fsdecode(os.path.basename(folder) or folder or b"/")
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return f"[{clean(name) or '/'}]"


class Grouper:
    """One regrouping in the caller's transaction: artist ids are looked up once, albums whose
    tracks moved are remembered so that empty ones go at the end."""

    def __init__(self, conn: apsw.Connection, rules: Rules, now: float | None = None):
        self.conn, self.rules, self.now = conn, rules, now or time.time()
        self.artists: dict[tuple[str, str], int] = {}
        self.albums: dict[str, int] = {}
        self.left_albums: dict[int, Counter] = {}  # old album -> where its tracks went
        self.left_artists: set[int] = set()
        self.touched_albums: set[int] = set()
        self.pinned: dict[int, set[str]] = {}
        self.folders: set[bytes] = set()
        self.roles_now: dict[int, list[tuple[str, int, int]]] = {}
        # What one folder's regrouping writes, flushed together (_flush).
        self.placed: list[tuple[int, int, str, int]] = []
        self.credit_rows: list[tuple[int, int, str, int]] = []
        self.genre_rows: list[tuple[int, str, int]] = []
        self.stale_credits: list[int] = []
        self.stale_genres: list[int] = []
        self.genres_now: dict[int, list[tuple[int, str]]] = {}

    # -- artists -------------------------------------------------------------------------
    def artist_id(self, name: str, sort_tag: str | None = None) -> int:
        key = sql.name_key(name)
        cached = (key, sort_tag or "")
        if cached in self.artists:
            return self.artists[cached]
        sort = sort_name(name, sort_tag, self.rules.sort_articles)
        row = self.conn.execute(
            """INSERT INTO artists (name, name_key, sort_name, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (name_key) DO UPDATE SET
                 sort_name = CASE WHEN ? THEN excluded.sort_name
                                  ELSE COALESCE(sort_name, excluded.sort_name) END
               RETURNING id""",
            (name, key, sort, self.now, self.now, bool(sort_tag)),
        ).fetchall()[0]
        self.artists[cached] = row["id"]
        return row["id"]

    # -- folders -------------------------------------------------------------------------
    def regroup(self, folders: Iterable[bytes]) -> None:
        self.folders = set(folders)
        for folder in self.folders:
            rows = sql.dict_rows(
                self.conn, f"SELECT {TRACK_INPUTS} FROM tracks WHERE folder = ?", (folder,)
            )
            if rows:
                self._regroup_folder(folder, rows)

    def _regroup_folder(self, folder: bytes, rows: list[dict[str, Any]]) -> None:
        ids = [r["id"] for r in rows]
        self._load_pins(ids)
        self._load_credits(ids)
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(sql.name_key(clean(row["album_title"])), []).append(row)
        self.placed, self.credit_rows, self.genre_rows = [], [], []
        self.stale_credits, self.stale_genres = [], []
        for title_key, tracks in groups.items():
            self._place_group(folder, title_key, tracks)
        self._flush()

    def _load_credits(self, ids: list[int]) -> None:
        """What the folder's tracks are credited with now: compared, not rewritten, when the
        grouping finds the same (one query each for the whole folder)."""
        marks = sql.placeholders(ids)
        self.roles_now: dict[int, list[tuple[str, int, int]]] = {i: [] for i in ids}
        for r in self.conn.execute(
            f"SELECT track_id, role, position, artist_id FROM track_artists"
            f" WHERE track_id IN ({marks})",
            tuple(ids),
        ):
            self.roles_now[r["track_id"]].append((r["role"], r["position"], r["artist_id"]))
        self.genres_now: dict[int, list[tuple[int, str]]] = {i: [] for i in ids}
        for r in self.conn.execute(
            f"SELECT track_id, position, genre FROM track_genres WHERE track_id IN ({marks})",
            tuple(ids),
        ):
            self.genres_now[r["track_id"]].append((r["position"], r["genre"]))

    def _load_pins(self, ids: list[int]) -> None:
        """Tracks whose album or artist a person set by id: the grouping leaves those be."""
        self.pinned = {}
        for r in self.conn.execute(
            f"""SELECT track_id, field FROM track_edits
                WHERE field IN ('album_id', 'track_artist_id')
                  AND track_id IN ({sql.placeholders(ids)})""",
            tuple(ids),
        ):
            self.pinned.setdefault(r["track_id"], set()).add(r["field"])

    def _place_group(self, folder: bytes, title_key: str, tracks: list[dict[str, Any]]) -> None:
        rules = self.rules
        artists = {t["id"]: split(t["artist_name"], rules.artist_separators, rules.never_split)
                   for t in tracks}  # fmt: skip
        owners = {t["id"]: album_artists(t["album_artist_name"], rules) for t in tracks}
        tagged = Counter(tuple(o) for o in owners.values() if o)
        compilation = any(t["compilation"] == 1 for t in tracks)
        if tagged:  # tracks that lack the album artist take their folder-mates' most common one
            common = list(tagged.most_common(1)[0][0])
            owners = {i: o or common for i, o in owners.items()}
        else:
            leads = {sql.name_key(a[0]) for a in artists.values() if a}
            if compilation or (len(leads) > 1 and rules.folder_compilations):
                owners = {i: [VARIOUS_ARTISTS] for i in owners}
            elif leads:
                owners = {i: artists[i][:1] or _first(artists) for i in owners}
            else:
                owners = {i: [UNKNOWN_ARTIST] for i in owners}
        from_folder = not title_key
        for track in tracks:
            owner = owners[track["id"]]
            if "album_id" in self.pinned.get(track["id"], ()):
                self._place_track(track, track["album_id"], artists[track["id"]], owner)
                continue
            title = clean(track["album_title"])[:MAX_NAME] or folder_title(folder)
            owner_id = self.artist_id(owner[0], track["album_artist_sort"])
            mbid = clean(track["musicbrainz_albumid"]).lower()
            if mbid and rules.album_identity == "musicbrainz":
                key = f"mb:{mbid}"
            elif from_folder:
                key = "dir:" + hashlib.sha1(folder).hexdigest()
            else:
                key = sql.album_key(title, owner_id)
                edition = sql.name_key(clean(track["album_version"]))
                if edition:
                    key += f"\x1f{edition}"
            album_id = self._album(key, title, owner_id, track, from_folder, compilation
                                   or owner == [VARIOUS_ARTISTS])  # fmt: skip
            self._place_track(track, album_id, artists[track["id"]], owner)

    def _album(self, key: str, title: str, owner_id: int, track: dict[str, Any],
               from_folder: bool, compilation: bool) -> int:  # fmt: skip
        if key in self.albums:
            return self.albums[key]
        found = self.conn.execute("SELECT id FROM albums WHERE album_key = ?", (key,)).fetchall()
        if found:
            album_id = found[0]["id"]
        else:
            album_id = self._rekey(track["album_id"], key)
            if album_id is None:
                album_id = self.conn.execute(
                    """INSERT INTO albums (title, album_key, album_artist_id, musicbrainz_albumid,
                                          from_folder, compilation, created_at, updated_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                    (title, key, owner_id, clean(track["musicbrainz_albumid"]) or None,
                     int(from_folder), int(compilation), self.now, self.now),
                ).fetchall()[0]["id"]  # fmt: skip
        if album_id not in self.touched_albums:
            old = self.conn.execute(
                "SELECT album_artist_id FROM albums WHERE id = ?", (album_id,)
            ).fetchall()[0]["album_artist_id"]
            if old is not None and old != owner_id:
                self.left_artists.add(old)
            self.conn.execute(
                """UPDATE albums SET title = ?, album_artist_id = ?, from_folder = ?,
                     compilation = ?, updated_at = ? WHERE id = ?""",
                (title, owner_id, int(from_folder), int(compilation), self.now, album_id),
            )
            self.touched_albums.add(album_id)
        self.albums[key] = album_id
        return album_id

    def _rekey(self, old_album: int | None, key: str) -> int | None:
        """An album whose tracks all move to a new key keeps its id (and what users kept of it):
        an upgrade's regrouping renames albums rather than replacing them."""
        if old_album is None or old_album in self.touched_albums:
            return None
        spread = self.conn.execute(
            "SELECT DISTINCT folder FROM tracks WHERE album_id = ?", (old_album,)
        ).fetchall()
        if any(r["folder"] not in self.folders for r in spread):
            return None  # tracks elsewhere stay in it: the new key is a new album
        self.conn.execute("UPDATE albums SET album_key = ? WHERE id = ?", (key, old_album))
        return old_album

    def _place_track(
        self, track: dict[str, Any], album_id: int, artists: list[str], owners: list[str]
    ) -> None:
        pins = self.pinned.get(track["id"], set())
        rules = self.rules
        if not artists and "track_artist_id" in pins and track["track_artist_id"] is not None:
            ids = [track["track_artist_id"]]  # named by id, no artist tag: that artist
        else:
            ids = [self.artist_id(n, track["artist_sort"] if i == 0 else None)
                   for i, n in enumerate(artists or [UNKNOWN_ARTIST])]  # fmt: skip
        roles = [("artist", i, a) for i, a in enumerate(ids)]
        if "album_id" in pins:  # the album's own artist, whatever the tags say
            head = self.conn.execute(
                "SELECT album_artist_id FROM albums WHERE id = ?", (track["album_id"],)
            ).fetchall()
            owner_ids = [head[0]["album_artist_id"]] if head and head[0]["album_artist_id"] else []
        else:
            owner_ids = [self.artist_id(n) for n in owners]
        roles += [("albumartist", i, a) for i, a in enumerate(owner_ids)]
        for role in ("composer", "performer"):
            names = split(track[role], rules.artist_separators, rules.never_split)
            roles += [(role, i, self.artist_id(n)) for i, n in enumerate(names)]
        new_album = track["album_id"] if "album_id" in pins else album_id
        new_artist = track["track_artist_id"] if "track_artist_id" in pins else ids[0]
        shown = display(track["artist_name"], rules) or UNKNOWN_ARTIST
        if track["album_id"] != new_album and track["album_id"] is not None:
            self.left_albums.setdefault(track["album_id"], Counter())[new_album] += 1
        if track["track_artist_id"] not in (None, new_artist):
            self.left_artists.add(track["track_artist_id"])
        if (track["album_id"], track["track_artist_id"], track["display_artist"]) != (
            new_album,
            new_artist,
            shown,
        ):
            self.placed.append((new_album, new_artist, shown, track["id"]))
        self.touched_albums.add(new_album)
        before = self.roles_now.get(track["id"], [])
        if sorted(before) != sorted(roles):
            self.left_artists.update(a for _, _, a in before)
            if before:
                self.stale_credits.append(track["id"])
            self.credit_rows += [(track["id"], a, role, pos) for role, pos, a in roles]
        genres = split(track["genre"], rules.genre_separators)
        stored = [g for _, g in sorted(self.genres_now.get(track["id"], []))]
        if stored != genres:
            if stored:
                self.stale_genres.append(track["id"])
            self.genre_rows += [(track["id"], g, pos) for pos, g in enumerate(genres)]

    def _flush(self) -> None:
        """The folder's changed placements, credits and genres, a few statements in all."""
        for table, stale in (
            ("track_artists", self.stale_credits),
            ("track_genres", self.stale_genres),
        ):
            if stale:
                self.conn.execute(
                    f"DELETE FROM {table} WHERE track_id IN ({sql.placeholders(stale)})",
                    tuple(stale),
                )
        if self.placed:
            self.conn.executemany(
                "UPDATE tracks SET album_id = ?, track_artist_id = ?, display_artist = ? WHERE id = ?",
                self.placed,
            )
        if self.credit_rows:
            self.conn.executemany(
                "INSERT INTO track_artists (track_id, artist_id, role, position) VALUES (?, ?, ?, ?)",
                self.credit_rows,
            )
        if self.genre_rows:
            self.conn.executemany(
                "INSERT INTO track_genres (track_id, genre, position) VALUES (?, ?, ?)",
                self.genre_rows,
            )

    # -- albums as a whole ----------------------------------------------------------------
    def finish(self) -> dict[str, list[int]]:
        """Album fields from all their tracks; empty albums and artists deleted (their stars
        and ratings following the tracks where they all went to one album)."""
        deleted_albums = []
        for old, went in self.left_albums.items():
            if self.conn.execute(
                "SELECT 1 FROM tracks WHERE album_id = ? LIMIT 1", (old,)
            ).fetchall():
                continue
            if len(went) == 1:
                self.conn.execute(
                    """UPDATE OR IGNORE annotations SET item_id = ?
                       WHERE kind = 'album' AND item_id = ?""",
                    (next(iter(went)), old),
                )
            row = self.conn.execute(
                "DELETE FROM albums WHERE id = ? RETURNING album_artist_id", (old,)
            ).fetchall()
            if row and row[0]["album_artist_id"] is not None:
                self.left_artists.add(row[0]["album_artist_id"])
            deleted_albums.append(old)
        self.touched_albums -= set(deleted_albums)
        for album_id in self.touched_albums:
            self._album_fields(album_id)
        deleted_artists = [a for a in self.left_artists if self._delete_if_empty(a)]
        if deleted_albums or deleted_artists:
            for kind, ids in (("album", deleted_albums), ("artist", deleted_artists)):
                if ids:
                    self.conn.execute(
                        f"DELETE FROM annotations WHERE kind = ? AND item_id IN ({sql.placeholders(ids)})",
                        (kind, *ids),
                    )
        return {"albums_deleted": deleted_albums, "artists_deleted": deleted_artists}

    def _album_fields(self, album_id: int) -> None:
        rows = self.conn.execute(
            """SELECT year, original_year, disc_number, disc_total, disc_subtitle, release_type
               FROM tracks WHERE album_id = ? AND missing_since IS NULL""",
            (album_id,),
        ).fetchall()
        if not rows:
            return
        originals = [r["original_year"] for r in rows if r["original_year"]]
        years = Counter(r["year"] for r in rows if r["year"])
        # The earliest original year; else the most common year (the earliest of a tie).
        year = min(originals) if originals else (
            min(y for y, n in years.items() if n == max(years.values())) if years else None
        )  # fmt: skip
        discs = [n for r in rows for n in (r["disc_number"], r["disc_total"]) if n]
        subtitles = {str(r["disc_number"] or 1): clean(r["disc_subtitle"])[:MAX_NAME]
                     for r in rows if clean(r["disc_subtitle"])}  # fmt: skip
        types = Counter(clean(r["release_type"]).lower() for r in rows if clean(r["release_type"]))
        self.conn.execute(
            """UPDATE albums SET year = coalesce(?, year), disc_total = ?, disc_subtitles = ?,
                 release_type = ? WHERE id = ?""",
            (
                year,
                max(discs) if discs else None,
                json.dumps(subtitles, sort_keys=True) if subtitles else None,
                types.most_common(1)[0][0] if types else None,
                album_id,
            ),
        )

    def _delete_if_empty(self, artist_id: int) -> bool:
        used = self.conn.execute(
            """SELECT 1 WHERE EXISTS (SELECT 1 FROM track_artists WHERE artist_id = ?1)
                 OR EXISTS (SELECT 1 FROM tracks WHERE track_artist_id = ?1)
                 OR EXISTS (SELECT 1 FROM albums WHERE album_artist_id = ?1)""",
            (artist_id,),
        ).fetchall()
        if used:
            return False
        self.conn.execute("DELETE FROM artists WHERE id = ?", (artist_id,))
        return True


@functools.cache
def default_rules() -> Rules:
    return Rules.from_settings(Settings())


def _first(artists: dict[int, list[str]]) -> list[str]:
    return next((a[:1] for a in artists.values() if a), [UNKNOWN_ARTIST])


def regroup(
    conn: apsw.Connection,
    folders: Iterable[bytes],
    rules: Rules | None = None,
    now: float | None = None,
) -> dict[str, list[int]]:
    """Regroup the tracks of ``folders`` (inside the caller's transaction)."""
    grouper = Grouper(conn, rules or default_rules(), now)
    grouper.regroup(folders)
    return grouper.finish()


def folders_of(conn: apsw.Connection, track_ids: Sequence[int]) -> set[bytes]:
    if not track_ids:
        return set()
    return {
        r["folder"]
        for r in conn.execute(
            f"SELECT DISTINCT folder FROM tracks WHERE id IN ({sql.placeholders(track_ids)})",
            tuple(track_ids),
        )
        if r["folder"] is not None
    }


def regroup_library(conn: apsw.Connection, rules: Rules, *, force: bool = False) -> int | None:
    """Regroup every folder when the rules differ from those the library was grouped with (an
    upgrade, a changed setting). Keeps every track id and what users kept; returns the number
    of folders regrouped, or None when nothing was due. One transaction."""
    fingerprint = rules.fingerprint()
    with conn:
        stored = conn.execute(
            "SELECT value FROM library_state WHERE key = ?", (RULES_KEY,)
        ).fetchall()
        if stored and stored[0]["value"] == fingerprint and not force:
            return None
        for row in conn.execute("SELECT id, path FROM tracks WHERE folder IS NULL").fetchall():
            conn.execute(
                "UPDATE tracks SET folder = ? WHERE id = ?", (folder_of(row["path"]), row["id"])
            )
        folders = [r["folder"] for r in conn.execute("SELECT DISTINCT folder FROM tracks")]
        regroup(conn, folders, rules)
        conn.execute(
            """INSERT INTO library_state (key, value) VALUES (?, ?)
               ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
            (RULES_KEY, fingerprint),
        )
    return len(folders)
