"""Media library scanning: ``startScan`` (admin) and ``getScanStatus``."""

from __future__ import annotations

import asyncio

from soniquebay import library, names, queueing
from soniquebay.web import keys
from soniquebay.web.subsonic.context import Call
from soniquebay.web.subsonic.protocol import SubsonicError


async def get_scan_status(call: Call) -> dict:
    client = call.app[keys.REDIS]
    try:
        waiting = await client.llen(names.rq_queue("scan"))
        watcher = await client.hgetall(names.WATCHER)
    except Exception:  # Redis down: say "not scanning" rather than fail the app's poll
        waiting, watcher = 0, {}
    scanning = bool(waiting) or int(watcher.get("debouncing", 0) or 0) > 0
    count = call.read(library.totals.counts)["tracks"]
    return {"scanStatus": {"scanning": scanning, "count": count}}


async def start_scan(call: Call) -> dict:
    if not call.user.is_admin:
        raise SubsonicError(SubsonicError.NOT_AUTHORIZED, "only an administrator may start a scan")
    await asyncio.get_running_loop().run_in_executor(
        None, queueing.enqueue_rescan, call.app[keys.RQ_REDIS], call.app[keys.SETTINGS]
    )
    status = await get_scan_status(call)
    status["scanStatus"]["scanning"] = True
    return status
