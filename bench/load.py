"""Load: 500 live-event clients while 5,000 files land, and a minute of REST at concurrency 32.

    .venv/bin/python bench/load.py [--clients 500] [--files 5000] [--tracks 100000] [--seconds 60]

1. ``soniquebay serve`` (analysis and fingerprints off: the tag pipeline) on an empty library;
   ``--clients`` SSE connections on ``/api/events?channels=notifications``; then a folder of
   ``--files`` small tagged files lands (one rename). Reports how many clients received every
   ``track.added`` event, and the RSS of serve's processes (Redis aside) sampled each second:
   at the start, at its peak, and once the files are in — "flat" means the clients cost no
   memory that grows with the events.
2. ``soniquebay web`` over ``--tracks`` generated tracks (bench/api.py's generator); 32 clients
   send a mix (paged lists, a filtered list, one track, a GraphQL page of albums with their
   tracks) for ``--seconds``; reports requests, the error rate and p50/p99 per kind.
3. The hostile neighbour, on that same web: one well-behaved client (a track, then a page of
   the list, one request at a time) alone for ``--seconds / 2``, then again while four clients
   send the worst the limits let through, each request new so no cache helps — a GraphQL
   document of 1,990 aliased fields (just under the 2,000 selections taken), one of 199
   fragment spreads, the deepest filtered and sorted REST page, and a Subsonic
   ``findSonicPath`` of 100 songs; reports the well-behaved client's p50/p99 both ways and
   their ratio.

Loopback only; each part is bounded in time. Notes the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # tests/support
sys.path.insert(0, str(HERE))  # the other benches' generators
from api import API_KEY, populate  # noqa: E402
from scan import generate, get_json, start_serve, tree_rss_mb  # noqa: E402
from support.servers import Server, start_redis  # noqa: E402

SSE_TIMEOUT = 300.0


async def sse_client(url: str, token: str, counts: list[int], index: int, ready, stop) -> None:
    """One listener, as the page's script is: when the server drops it (too slow to keep up),
    it reconnects with Last-Event-ID and the server replays what it missed."""
    headers = {"Authorization": f"Bearer {token}"}
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    last = ""
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while not stop.is_set():
            sent = {**headers, "Last-Event-ID": last} if last else headers
            try:
                async with session.get(
                    f"{url}/api/events?channels=notifications", headers=sent
                ) as resp:
                    ready.set()
                    async for raw in resp.content:
                        line = raw.decode("utf-8", "replace")
                        if line.startswith("id:"):
                            last = line[3:].strip()
                        elif line.startswith("data:") and '"track.added"' in line:
                            counts[index] += 1
            except aiohttp.ClientError:
                await asyncio.sleep(0.5)
            reconnects[index] += 1


reconnects: list[int] = []


async def sse_part(args, work: Path) -> dict:
    folder = work / "files"
    generate(folder, args.files)
    library, staging = work / "library", work / "staging"
    library.mkdir()
    (library / "already-here").mkdir()  # an online library root, not an empty mount point
    subprocess.run(["cp", "-al", str(folder), str(staging)], check=True)
    os.environ["SONIQUEBAY_PLUGIN_FINGERPRINT_ENABLED"] = "false"
    process, url, token_file = start_serve(library, work / "data", work)
    samples: list[float] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                token = Path(token_file).read_text().strip()
                if get_json(url + "/api/health", token)["watcher"]["reconciled"]:
                    break
            except (OSError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit("serve did not start: see serve.log")
            await asyncio.sleep(0.2)
        counts = [0] * args.clients
        reconnects[:] = [0] * args.clients
        stop = asyncio.Event()
        events = [asyncio.Event() for _ in range(args.clients)]
        tasks = [
            asyncio.create_task(sse_client(url, token, counts, i, events[i], stop))
            for i in range(args.clients)
        ]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 60)
        samples.append(tree_rss_mb(process.pid))
        started = time.perf_counter()
        os.rename(staging, library / "landed")
        deadline = time.monotonic() + SSE_TIMEOUT
        while min(counts) < args.files and time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            samples.append(tree_rss_mb(process.pid))
        elapsed = time.perf_counter() - started
        total = get_json(url + "/api/tracks?limit=1", token)["total"]
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        process.terminate()
        process.wait(30)
    return {
        "clients": args.clients,
        "complete": sum(c >= args.files for c in counts),
        "min_events": min(counts),
        "reconnects": sum(reconnects),
        "tracks": total,
        "seconds": elapsed,
        "rss_start": samples[0],
        "rss_peak": max(samples),
        "rss_end": samples[-1],
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def rest_part(args, work: Path) -> dict:
    data = work / "rest-data"
    populate(data / "library.db", args.tracks)
    redis_process, redis_url = start_redis(work / "redis")
    server = Server(work / "rest-music", data, command="web",
                    env={"SONIQUEBAY_REDIS_URL": redis_url, "SONIQUEBAY_LOG_LEVEL": "WARNING"})  # fmt: skip
    rng = random.Random(7)
    pages = args.tracks // 50
    albums_query = "{ albums(limit: 10) { items { title tracks { title duration } } } }"
    kinds = {
        "list page": lambda: ("GET", f"/api/tracks?limit=50&offset={50 * rng.randrange(20)}", None),
        "filtered": lambda: ("GET", f"/api/tracks?genre=Jazz&limit=50&year_min={rng.randrange(1960, 2020)}", None),
        "one track": lambda: ("GET", f"/api/tracks/{rng.randrange(1, args.tracks)}", None),
        "graphql albums": lambda: ("POST", "/api/graphql", {"query": albums_query}),
        "deep page": lambda: ("GET", f"/api/tracks?limit=50&offset={50 * rng.randrange(pages)}", None),
    }  # fmt: skip
    latencies: dict[str, list[float]] = {k: [] for k in kinds}
    errors = 0
    try:
        server.start()
        headers = server.auth_headers()
        deadline = time.monotonic() + args.seconds

        async def client(session: aiohttp.ClientSession) -> None:
            nonlocal errors
            names = list(kinds)
            while time.monotonic() < deadline:
                kind = rng.choice(names)
                method, path, body = kinds[kind]()
                began = time.perf_counter()
                try:
                    async with session.request(
                        method, server.url + path, json=body, headers=headers
                    ) as resp:
                        await resp.read()
                        ok = resp.status == 200
                except aiohttp.ClientError:
                    ok = False
                latencies[kind].append(time.perf_counter() - began)
                errors += not ok

        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(*(client(session) for _ in range(args.concurrency)))
        neighbour = await hostile_neighbour(server, args)
    finally:
        server.stop()
        redis_process.terminate()
        redis_process.wait(10)
    total = sum(len(v) for v in latencies.values())
    return {
        "neighbour": neighbour,
        "requests": total,
        "errors": errors,
        "per_kind": {
            k: (len(v), pct(v, 0.5) * 1000, pct(v, 0.99) * 1000) for k, v in latencies.items()
        },
        "all": (pct([x for v in latencies.values() for x in v], 0.5) * 1000,
                pct([x for v in latencies.values() for x in v], 0.99) * 1000),
    }  # fmt: skip


HOSTILE_CLIENTS = 4


def _hostile_requests(tracks: int, rng: random.Random):
    """The worst each limit lets through, new every time (no cache of parse, validation or
    answer helps)."""
    n = 0

    def aliases():
        fields = " ".join(f"f{n}_{i}: title" for i in range(1990))
        return (
            "POST",
            "/api/graphql",
            {"query": f"{{ tracks(limit: 1) {{ items {{ {fields} }} }} }}"},
        )

    def spreads():
        body = " ".join("...F" for _ in range(199))
        query = f"{{ tracks(limit: 25) {{ items {{ {body} }} }} }} fragment F on Track {{ id title bpm key }} # {n}"
        return ("POST", "/api/graphql", {"query": query})

    def deep_page():
        offset = 50 * rng.randrange(max(1, tracks // 10 // 50 - 10))  # deep in one genre
        return ("GET", f"/api/tracks?limit=500&offset={offset}&sort=title&genre=Rock", None)

    def sonic_path():
        a, b = rng.randrange(1, tracks), rng.randrange(1, tracks)
        return (
            "GET",
            f"/rest/findSonicPath?apiKey={API_KEY}&v=1.16.1&c=bench&f=json"
            f"&startSongId=tr-{a}&endSongId=tr-{b}&count=100",
            None,
        )

    kinds = [aliases, spreads, deep_page, sonic_path]
    while True:
        n += 1
        yield kinds[n % len(kinds)]()


async def hostile_neighbour(server: Server, args) -> dict:
    """The well-behaved client's latency alone, then beside four hostile clients."""
    rng = random.Random(11)
    headers = server.auth_headers()

    async def polite(session, seconds: float) -> list[float]:
        out, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            path = (f"/api/tracks/{rng.randrange(1, args.tracks)}" if len(out) % 2
                    else f"/api/tracks?limit=50&offset={50 * rng.randrange(20)}")  # fmt: skip
            began = time.perf_counter()
            async with session.get(server.url + path, headers=headers) as resp:
                await resp.read()
            out.append(time.perf_counter() - began)
        return out

    async def hostile(session, stop: asyncio.Event, counts: list[int]) -> None:
        requests = _hostile_requests(args.tracks, random.Random(rng.random()))
        while not stop.is_set():
            method, path, body = next(requests)
            async with session.request(
                method, server.url + path, json=body, headers=headers
            ) as resp:
                await resp.read()
                counts[resp.status < 400] += 1

    half = args.seconds / 2
    async with aiohttp.ClientSession() as session:
        alone = await polite(session, half)
        stop, counts = asyncio.Event(), [0, 0]
        attackers = [
            asyncio.create_task(hostile(session, stop, counts)) for _ in range(HOSTILE_CLIENTS)
        ]
        beside = await polite(session, half)
        stop.set()
        await asyncio.gather(*attackers, return_exceptions=True)
    return {
        "alone": (pct(alone, 0.5) * 1000, pct(alone, 0.99) * 1000, len(alone)),
        "beside": (pct(beside, 0.5) * 1000, pct(beside, 0.99) * 1000, len(beside)),
        "hostile_requests": sum(counts),
        "hostile_refused": counts[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="soniquebay-bench-load-"))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    try:
        sse = asyncio.run(sse_part(args, work))
        print(
            f"SSE: {sse['complete']}/{sse['clients']} clients received all {args.files}"
            f" track.added events (fewest: {sse['min_events']}; reconnections with Last-Event-ID:"
            f" {sse['reconnects']}); {sse['tracks']} tracks listed in"
            f" {sse['seconds']:.1f}s; serve RSS {sse['rss_start']:.0f} MB at the start,"
            f" peak {sse['rss_peak']:.0f} MB, {sse['rss_end']:.0f} MB at the end",
            flush=True,
        )
        rest = asyncio.run(rest_part(args, work))
        rate = rest["errors"] / max(rest["requests"], 1)
        print(
            f"REST: {rest['requests']} requests in {args.seconds:.0f}s at c={args.concurrency}"
            f" over {args.tracks:,} tracks, error rate {rate:.4f};"
            f" all p50 {rest['all'][0]:.1f} ms p99 {rest['all'][1]:.1f} ms"
        )
        for kind, (n, p50, p99) in rest["per_kind"].items():
            print(f"    {kind:15s} n={n:6d}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
        near = rest["neighbour"]
        (a50, a99, an), (b50, b99, bn) = near["alone"], near["beside"]
        print(
            f"Hostile neighbour: a well-behaved client alone p50 {a50:.1f} ms p99 {a99:.1f} ms"
            f" (n={an}); beside {HOSTILE_CLIENTS} hostile clients ({near['hostile_requests']}"
            f" requests, {near['hostile_refused']} refused) p50 {b50:.1f} ms p99 {b99:.1f} ms"
            f" (n={bn}): ratio p50 {b50 / a50:.2f}, p99 {b99 / a99:.2f}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
