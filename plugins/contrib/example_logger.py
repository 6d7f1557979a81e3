"""Example plugin: log every track that enters the library.

Enable with::

    [plugin.example_logger]
    enabled = true
"""

import logging

from soniquebay import hookimpl

log = logging.getLogger("soniquebay.plugins.example_logger")


@hookimpl
def track_added(track):
    log.info("track added: %s — %s", track.get("artist_name"), track.get("title"))
