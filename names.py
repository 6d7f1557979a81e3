"""The names both sides of Redis agree on: queues, keys, channels.

The web process, the watcher and the workers all import this module instead of each other, so
web/ never imports daemon/ for a constant, and RQ's own key layout is spelled in one place.
"""

from __future__ import annotations

# RQ queues. "scan" has a worker of its own so a new file never waits behind analysis.
SCAN, ANALYSIS, ENRICH, VECTORS = "scan", "analysis", "enrich", "vectors"
QUEUES = (SCAN, ANALYSIS, ENRICH, VECTORS)
STAGE_QUEUES = (ANALYSIS, ENRICH, VECTORS)  # where per-track plugin stages run
# `soniquebay worker --queue stages` (and the soniquebay-worker@stages unit) serves all three.
QUEUE_GROUPS = {"stages": STAGE_QUEUES}


def expand_queues(names: list[str]) -> list[str]:
    """Queue names with groups spelled out, each once, in order."""
    return list(dict.fromkeys(q for name in names for q in QUEUE_GROUPS.get(name, (name,))))


# Our own keys.
PREFIX = "soniquebay:"
EVENTS_STREAM = PREFIX + "events"  # capped stream: SSE replay with Last-Event-ID
WATCHER = PREFIX + "watcher"  # the watcher's heartbeat hash, read by /api/health
METRICS_PREFIX = PREFIX + "metrics:"  # one hash per shared metric
QUERY_EMBEDDING_PREFIX = PREFIX + "query-embedding:"  # semantic search: a query's vector
NEIGHBOURS_PREFIX = PREFIX + "neighbours:"  # more like this: a track's nearest, per version

# Pub/sub channels of the live events (the seed's names).
PROGRESS, NOTIFICATIONS = "progress", "notifications"
CHANNELS = (PROGRESS, NOTIFICATIONS)


# RQ's key layout (rq 2.x), read by /api/health and /metrics without importing RQ's registries.
def rq_queue(name: str) -> str:
    return f"rq:queue:{name}"


def rq_started(name: str) -> str:
    return f"rq:wip:{name}"


def rq_failed(name: str) -> str:
    return f"rq:failed:{name}"


def rq_scheduled(name: str) -> str:
    return f"rq:scheduled:{name}"


def rq_scheduler_lock(name: str) -> str:
    """Held by the one scheduler that moves the queue's due jobs from rq:scheduled:* to it."""
    return f"rq:scheduler-lock:{name}"


def rq_scheduler(name: str) -> str:
    """A scheduler's hash: its hostname and pid (the lock holds its name)."""
    return f"rq:scheduler:{name}"


RQ_WORKERS = "rq:workers"


# Remote web services (MusicBrainz, AcoustID, the Cover Art Archive): state every worker shares.
REMOTE_SERVICES = PREFIX + "remote"  # set of the services' names, for /api/health and /metrics


def remote_next_slot(service: str) -> str:
    """When the next request to ``service`` may leave (microseconds, Redis's clock)."""
    return f"{PREFIX}remote:{service}:next"


def remote_breaker(service: str) -> str:
    """The service's circuit breaker: failures in a row, open_until, last_error."""
    return f"{PREFIX}remote:{service}:breaker"


# In data_dir: when the private redis-server could not load its files, where they were moved
# and why (written by daemon/redis_server.py, shown by /api/health).
REDIS_RECOVERED = "redis-recovered.json"
# Hash: "<process>:<plugin>" -> JSON {plugin, process, reason, at}, a plugin a worker disabled for
# raising in a hook every file goes through (read_tags); /api/health and /api/plugins read it.
PLUGINS_DISABLED = "soniquebay:plugins:disabled"
