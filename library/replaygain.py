"""ReplayGain of tracks and albums, as players are given it: the file's tags (REPLAYGAIN_*,
or Opus's R128_* read by the tag plugin) or SoniqueBay's own EBU R128 measure, and an album
gain from all of an album's tracks.

An album's loudness is that of its tracks played one after the other: EBU R128's integrated
loudness of the whole, which is the mean of the tracks' loudness as energy, weighted by their
duration (close to a measure of the joined audio; it leaves out the relative gate's
across-track effect, a fraction of a LU on real albums). Its peak is the highest track peak.
"""

from __future__ import annotations

import math
from typing import Any

import apsw

from soniquebay.library import sql

REFERENCE_LUFS = -18.0  # ReplayGain 2.0's reference loudness


def album_measures(conn: apsw.Connection, album_ids: list[int]) -> dict[int, dict[str, float]]:
    """album id -> {"gain", "peak"} from the analysis of its present tracks (albums none of
    whose tracks is analysed yet are left out)."""
    ids = sorted({i for i in album_ids if i is not None})
    if not ids:
        return {}
    energy: dict[int, list[float]] = {}
    peaks: dict[int, float] = {}
    rows = conn.execute(
        f"""SELECT album_id, duration, loudness_lufs, replaygain_track_peak FROM tracks
            WHERE album_id IN ({sql.placeholders(ids)}) AND missing_since IS NULL
              AND loudness_lufs IS NOT NULL AND duration > 0""",
        ids,
    )
    for row in rows:
        album_id, duration, lufs = row["album_id"], row["duration"], row["loudness_lufs"]
        peak = row["replaygain_track_peak"]
        total = energy.setdefault(album_id, [0.0, 0.0])
        total[0] += duration * 10 ** (lufs / 10)
        total[1] += duration
        if peak is not None:
            peaks[album_id] = max(peaks.get(album_id, 0.0), peak)
    out = {}
    for album_id, (weighted, seconds) in energy.items():
        loudness = 10 * math.log10(weighted / seconds) if weighted > 0 else None
        if loudness is not None:
            out[album_id] = {
                "gain": round(REFERENCE_LUFS - loudness, 2),
                "peak": peaks.get(album_id),
            }
    return out


def of_track(
    track: dict[str, Any], album: dict[str, float] | None, source: str = "tags"
) -> dict[str, float] | None:
    """OpenSubsonic's ``replayGain`` of a track: with ``source`` "tags", each value from the
    tags when the file has it, else from the analysis; with "analysis", the analysis only."""
    measured = {
        "trackGain": track.get("replaygain_track_gain"),
        "trackPeak": track.get("replaygain_track_peak"),
        "albumGain": (album or {}).get("gain"),
        "albumPeak": (album or {}).get("peak"),
    }
    if source == "tags":
        tagged = {
            "trackGain": track.get("tagged_track_gain"),
            "trackPeak": track.get("tagged_track_peak"),
            "albumGain": track.get("tagged_album_gain"),
            "albumPeak": track.get("tagged_album_peak"),
        }
        if tagged["trackGain"] is not None or tagged["albumGain"] is not None:
            # a tagged file is tagged as a whole: its peaks go with its gains
            measured = {k: v if v is not None else measured[k] for k, v in tagged.items()}
    if measured["trackGain"] is None and measured["albumGain"] is None:
        return None
    return {k: round(v, 4) for k, v in measured.items() if v is not None}
