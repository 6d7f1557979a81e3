"""Acoustic fingerprints with Chromaprint's ``fpcalc`` (Debian's ``libchromaprint-tools``).

One stage on the ``enrich`` queue, for every track: ``fingerprint`` (AcoustID's compressed
form, what its lookup takes) and ``fingerprint_duration``. The web indexes them to link
duplicates (:mod:`soniquebay.library.duplicates`); the MusicBrainz plugin looks them up.

``fpcalc`` is run directly rather than through ``acoustid.fingerprint_file``: Debian 12's
fpcalc 1.5.1 (built on FFmpeg 5) exits with status 3, "Error decoding audio frame (End of
file)", at the end of every MP3, and pyacoustid treats any non-zero status as a failure.
``-ignore-errors`` makes fpcalc keep what it decoded. A file that does not decode is reported
against the track; one too short to fingerprint (fpcalc's "Empty fingerprint") is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from soniquebay import Option, hookimpl, stage
from soniquebay.errors import BadAudioFile
from soniquebay.plugins.context import PluginContext
from soniquebay.plugins.stages import FILE

STAGE_VERSION = "1"


@hookimpl
def plugin_options() -> list[Option]:
    return [
        Option("length", int, 120, "seconds of audio fingerprinted (AcoustID's lookups use 120)"),
        Option("fpcalc", str, "fpcalc", "the fpcalc program (a name on PATH or a path)"),
    ]


@hookimpl
def startup(ctx: PluginContext, process: str) -> None:
    if process == "worker" and shutil.which(ctx.options["fpcalc"]) is None:
        raise RuntimeError(
            f"{ctx.options['fpcalc']} not found: install Debian's libchromaprint-tools"
        )


def fpcalc(path: str, length: int = 120, program: str = "fpcalc") -> dict[str, Any] | None:
    """``{"fingerprint": str, "fingerprint_duration": float}`` for one file; None when it
    decodes but is too short to fingerprint (under about 3 s); :class:`BadAudioFile` when it
    does not decode."""
    try:
        done = subprocess.run(
            [program, "-json", "-ignore-errors", "-length", str(length), os.fsencode(path)],
            capture_output=True,
            timeout=max(60, length),
        )
    except FileNotFoundError:
        raise RuntimeError(f"{program} not found: install libchromaprint-tools") from None
    except subprocess.TimeoutExpired:
        raise BadAudioFile(f"fpcalc took too long on {path}") from None
    try:
        out = json.loads(done.stdout)
    except ValueError:
        errors = [ln for ln in done.stderr.decode(errors="replace").splitlines() if ln.strip()]
        reason = errors[-1].removeprefix("ERROR: ") if errors else f"status {done.returncode}"
        if reason == "Empty fingerprint":  # decoded, but too short (a jingle): nothing to say
            return None
        raise BadAudioFile(f"no fingerprint: {reason}") from None
    return {"fingerprint": out["fingerprint"], "fingerprint_duration": float(out["duration"])}


@hookimpl
@stage(needs=(FILE,), produces=("fingerprint", "fingerprint_duration"), version=STAGE_VERSION)
def fingerprint_track(
    ctx: PluginContext, track: dict[str, Any], path: str
) -> dict[str, Any] | None:
    return fpcalc(path, ctx.options["length"], ctx.options["fpcalc"])
