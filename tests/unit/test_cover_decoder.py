"""The cover decoder processes: thumbnails made outside the caller, bad images refused, a dead
decoder replaced, and the processes stopped when there is no more work."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import time

import pytest
from PIL import Image

from soniquebay import artwork
from soniquebay.web import cover_decoder


def png(size=(800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(out, "PNG")
    return out.getvalue()


def test_thumbnails_are_made_in_another_process_which_stops_when_idle(monkeypatch):
    monkeypatch.setattr(cover_decoder, "IDLE_SECONDS", 0.3)

    async def run():
        decoder = cover_decoder.CoverDecoder(1)
        try:
            image = await decoder.thumbnail(png(), 64)
            assert Image.open(io.BytesIO(image)).size == (64, 48)
            pids = decoder.worker_pids()
            assert pids and os.getpid() not in pids
            with pytest.raises(artwork.BadImage):
                await decoder.thumbnail(b"\x89PNG\r\n\x1a\nnot really", 64)
            os.kill(pids[0], signal.SIGKILL)  # a decoder killed (out of memory, say)
            await asyncio.sleep(0.1)
            assert Image.open(io.BytesIO(await decoder.thumbnail(png(), 32))).size == (32, 24)
            deadline = time.monotonic() + 10
            while decoder.running and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert not decoder.running  # idle: the decoders' memory went back to the system
        finally:
            decoder.close()

    asyncio.run(run())
