"""Pages benchmark: the albums grid (100 albums) rendered over 100,000 tracks, against the
JSON list of the same 100 albums in the same run; and what a first view of it weighs.

    .venv/bin/python bench/pages.py [--tracks 100000] [--requests 200]

Rows are bulk-generated through the storage layer (as bench/api.py does); `soniquebay web`
runs as its own process on loopback with a private Redis; requests are sequential (one
listener), so the time is the server's work plus a loopback round trip. Target (issue 10): the
grid renders in under 100 ms here. Weight: the page's HTML, CSS and scripts as sent (gzip),
plus the thumbnails a 1280x860 window shows before scrolling (the grid's images load lazily),
measured on covers made like photos (1200 px JPEGs of noise and gradients) through the same
thumbnail code the server uses.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from PIL import Image

from soniquebay import artwork

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support
from api import pct, populate  # noqa: E402
from support.servers import Server, start_redis  # noqa: E402

FIRST_VIEW_COVERS = 21  # 7 columns x 3 rows at 1280x860 (150 px minimum per card)


async def timed(session, url, path, headers, count) -> dict:
    times, size = [], 0
    for _ in range(count):
        started = time.perf_counter()
        async with session.get(url + path, headers=headers) as resp:
            body = await resp.read()
            assert resp.status == 200, (path, resp.status, body[:200])
        times.append((time.perf_counter() - started) * 1000)
        size = len(body)
    return {
        "p50": statistics.median(times),
        "p90": pct(times, 0.9),
        "p99": pct(times, 0.99),
        "bytes": size,
    }


async def run(server: Server, requests: int) -> dict:
    headers = {
        "Authorization": f"Bearer {server.token}",
        "Accept-Encoding": "gzip",
        "Accept": "text/html",
    }
    out = {}
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        for path in ("/api/albums?limit=100", "/", "/albums?sort=title", "/albums?genre=Jazz"):
            await timed(session, server.url, path, headers, 5)  # warm
        for name, path in (
            ("JSON: 100 albums (baseline)", "/api/albums?limit=100"),
            ("page: albums grid, newest first", "/"),
            ("page: albums grid by title", "/albums?sort=title"),
            ("page: albums grid, one genre", "/albums?genre=Jazz"),
            ("page: albums grid, page 50", "/albums?offset=5000"),
        ):
            out[name] = await timed(session, server.url, path, headers, requests)
        assets = 0
        for path in (
            "/static/style.css",
            "/static/app.js",
            "/static/player.js",
            "/static/icons.svg",
        ):
            async with session.get(server.url + path, headers=headers) as resp:
                assets += len(await resp.read())
        out["assets"] = assets
    return out


def thumbnails(count: int = 20) -> tuple[float, float]:
    """(mean thumbnail bytes at 300 px, mean ms to make one) from photo-like 1200 px covers."""
    rng = random.Random(7)
    sizes, times = [], []
    for _ in range(count):
        image = Image.new("RGB", (1200, 1200))
        base = [rng.randrange(256) for _ in range(3)]
        pixels = [
            tuple((base[c] + x // 6 + y // 9 + rng.randrange(-40, 40)) % 256 for c in range(3))
            for y in range(0, 1200, 4)
            for x in range(0, 1200, 4)
        ]
        small = Image.new("RGB", (300, 300))
        small.putdata(pixels)
        image = small.resize((1200, 1200), Image.Resampling.BICUBIC)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        started = time.perf_counter()
        thumb = artwork.thumbnail(buffer.getvalue(), 300)
        times.append((time.perf_counter() - started) * 1000)
        sizes.append(len(thumb))
    return statistics.mean(sizes), statistics.mean(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="soniquebay-bench-pages-"))
    data = work / "data"
    populate(data / "library.db", args.tracks)
    redis_process, redis_url = start_redis(work / "redis")
    server = Server(
        work / "music",
        data,
        command="web",
        env={
            "SONIQUEBAY_REDIS_URL": redis_url,
            "SONIQUEBAY_LOG_LEVEL": "WARNING",
            "SONIQUEBAY_ACCESS_LOG": "off",
        },
    )
    try:
        server.start()
        figures = asyncio.run(run(server, args.requests))
    finally:
        server.stop()
        redis_process.terminate()
        redis_process.wait(10)
    thumb_bytes, thumb_ms = thumbnails()
    print(
        f"{args.tracks:,} tracks, {args.tracks // 10:,} albums; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    base = figures["JSON: 100 albums (baseline)"]["p50"]
    for name, f in figures.items():
        if name == "assets":
            continue
        print(f"{name:34s} p50 {f['p50']:6.1f} ms  p90 {f['p90']:6.1f}  p99 {f['p99']:6.1f}  "
              f"{f['bytes'] / 1024:6.1f} KiB sent  ratio to JSON {f['p50'] / base:.2f}")  # fmt: skip
    html = figures["page: albums grid, newest first"]["bytes"]
    first = html + figures["assets"] + FIRST_VIEW_COVERS * thumb_bytes
    whole = html + figures["assets"] + 100 * thumb_bytes
    print(
        f"thumbnail 300 px: {thumb_bytes / 1024:.1f} KiB on average, {thumb_ms:.1f} ms to make (once per cover)"
    )
    print(f"first view: {first / 1024:.0f} KiB (HTML {html / 1024:.1f} + CSS/JS/icons {figures['assets'] / 1024:.1f}"
          f" + {FIRST_VIEW_COVERS} thumbnails); all 100 covers scrolled through: {whole / 1024:.0f} KiB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
