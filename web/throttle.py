"""Who is knocking, and how often: login throttling, and what a trusted proxy says.

**Throttling.** Failed logins are counted per account and per client address over a window
(15 minutes). The first few are free; after that each attempt must wait twice as long as the
previous one (capped at 15 minutes), answered 429 with ``Retry-After``. A success clears the
account's count, and old failures age out, so a real user is never locked out for good. The
counts live in the web process (there is one).

**Proxies.** Behind a TLS-terminating proxy (Caddy, nginx) the request reaches SoniqueBay as
plain HTTP from the proxy's address. ``X-Forwarded-Proto`` and ``X-Forwarded-For`` are believed
only from the addresses in ``trusted_proxies``; anyone else could send them.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

WINDOW = 15 * 60.0
MAX_WAIT = 15 * 60.0
FREE_PER_ACCOUNT = 5
FREE_PER_ADDRESS = 20
MAX_KEYS = 50_000  # bounded memory under a flood of made-up names


@dataclass
class _Failures:
    times: list[float] = field(default_factory=list)


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._seen: dict[str, _Failures] = {}

    def _recent(self, key: str) -> list[float]:
        entry = self._seen.get(key)
        if entry is None:
            return []
        cutoff = self.clock() - WINDOW
        entry.times = [t for t in entry.times if t > cutoff]
        if not entry.times:
            del self._seen[key]
        return entry.times

    def _wait(self, key: str, free: int) -> float:
        times = self._recent(key)
        if len(times) < free:
            return 0.0
        wait = min(MAX_WAIT, 2.0 ** (len(times) - free))
        return max(0.0, times[-1] + wait - self.clock())

    def retry_after(self, account: str, address: str) -> float:
        """Seconds before this account may try again from this address (0: now)."""
        return max(
            self._wait("account:" + account.casefold(), FREE_PER_ACCOUNT),
            self._wait("address:" + address, FREE_PER_ADDRESS),
        )

    def failed(self, account: str, address: str) -> None:
        if len(self._seen) > MAX_KEYS:
            for key in list(self._seen):
                self._recent(key)
        now = self.clock()
        for key in ("account:" + account.casefold(), "address:" + address):
            self._seen.setdefault(key, _Failures()).times.append(now)

    def succeeded(self, account: str) -> None:
        self._seen.pop("account:" + account.casefold(), None)


def parse_proxies(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``trusted_proxies``: addresses or networks, comma-separated (ValueError if one is not)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip()
    )


def _trusted(request: web.Request, proxies) -> bool:
    try:
        peer = ipaddress.ip_address(request.remote or "")
    except ValueError:
        return False
    return any(peer in network for network in proxies)


def client_address(request: web.Request, proxies) -> str:
    """The client's address: the proxy's ``X-Forwarded-For`` (its last hop) when it comes
    from a trusted proxy, else the peer's."""
    if proxies and _trusted(request, proxies):
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return request.remote or "?"


def is_https(request: web.Request, proxies) -> bool:
    """Did the client use HTTPS: TLS on our own socket, or a trusted proxy that says so."""
    if request.secure:
        return True
    if proxies and _trusted(request, proxies):
        return request.headers.get("X-Forwarded-Proto", "").strip().lower() == "https"
    return False
