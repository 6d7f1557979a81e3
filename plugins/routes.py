"""What a plugin's HTTP route may say about itself: the access it needs.

A plugin's ``GET`` routes need read access and its other routes a listener's write access (their
own things: stars, settings). A route that changes the library for everyone (accepting a match,
editing tags) says so with :func:`changes_catalog`; then only admins, ``write`` API tokens and
the workers may call it, as the core's own catalogue routes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

H = TypeVar("H", bound=Callable)
CATALOG_ROUTE = "_soniquebay_changes_catalog"


def changes_catalog(handler: H) -> H:
    """Mark a route handler as changing the library for everyone (catalogue scope)."""
    setattr(handler, CATALOG_ROUTE, True)
    return handler


def changes_the_catalog(handler: Callable) -> bool:
    return bool(getattr(handler, CATALOG_ROUTE, False))
