"""Example plugin: log every track that enters the library.

Enable with::

    [plugin.example_logger]
    enabled = true
    prefix = new track    ; what each log line starts with
"""

from soniquebay import Option, hookimpl


@hookimpl
def plugin_options():
    return [Option("prefix", str, "track added", help="what each log line starts with")]


@hookimpl
def on_event(ctx, event):
    if event["type"] == "track.added":
        ctx.log.info(
            "%s: %s — %s", ctx.options["prefix"], event.get("artist_name"), event.get("title")
        )
