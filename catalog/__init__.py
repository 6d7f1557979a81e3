"""The catalogue: the use cases every front door shares.

REST, GraphQL, the pages and the Subsonic API each parse their own requests and shape their
own answers; what they ask of the library ("a page of tracks", "a track in detail for this
user", "import this playlist file") is written once, here, over the storage layer
(:mod:`soniquebay.library`). A use case takes the database handle it reads through (the web
process's :class:`~soniquebay.web.database.Database`, or a reader process's read-only one)
and plain values; it never sees a request, so any process can run it: the web process's
reader processes answer REST lists with the very functions the web process would call.

Layering (checked by ``tests/unit/test_layering.py``): front doors → catalogue → storage →
SQL. Nothing here imports :mod:`soniquebay.web` or :mod:`soniquebay.daemon`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypedDict, TypeVar

T = TypeVar("T")


class Reads(Protocol):
    """What a use case reads through: run ``fn(connection, …)``; ``cached_read`` keeps the
    answer until the next write (list totals)."""

    def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

    def cached_read(self, key: Any, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...


class Writes(Reads, Protocol):
    """The web process's handle, the only one that writes: ``fn(connection, …)`` on the
    writer thread."""

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...


class Page(TypedDict):
    """One page of a list, as every front door answers it."""

    items: list[dict[str, Any]]
    total: int | None
    limit: int
    offset: int
    next_cursor: str | None


def page(
    items: list[dict[str, Any]],
    total: int | None,
    limit: int,
    offset: int,
    next_cursor: str | None = None,
) -> Page:
    return {
        "items": items,
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_cursor": next_cursor,
    }
