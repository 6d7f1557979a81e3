"""Telling systemd a service is ready (``Type=notify``), without libsystemd.

The web unit is ``Type=notify``: systemd starts the workers and the watcher (ordered ``After=``
it) only once the web process says ``READY=1``, that is once it answers HTTP. Outside systemd
(``NOTIFY_SOCKET`` unset: `serve`, a terminal) this does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def notify(state: str) -> bool:
    """Send ``state`` ("READY=1", "STOPPING=1", "STATUS=...") to systemd; False outside it."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        log.warning("could not notify systemd at %s: %s", address, exc)
        return False
    return True
