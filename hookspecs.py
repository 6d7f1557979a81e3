"""The plugin contract, version 1: every hook SoniqueBay calls, when, where, and what it expects.

A plugin is a module (or object) whose functions carry ``@hookimpl``::

    from soniquebay import hookimpl, stage

    @hookimpl
    @stage(produces=("loudness_class",), needs=("loudness_lufs",), version="1")
    def process_track(ctx, track):
        return {"loudness_class": "loud" if track["loudness_lufs"] > -10 else "quiet"}

Rules that hold for every hook:

- Hooks are called with keyword arguments; an implementation may take any subset of the
  arguments its spec names (``pluggy`` checks the names when the plugin loads).
- ``ctx`` is a :class:`soniquebay.plugins.context.PluginContext` made for *this* plugin: the
  settings, the process (``web``, ``watch``, ``worker`` or ``cli``), a logger named after the
  plugin, its validated options (``ctx.options``), a folder of its own (``ctx.data_dir``),
  in a worker the queues it serves (``ctx.queues``) and, in the web process, the library to
  read (``ctx.library``: ``track(id)``, ``tracks(filters=…, sort=…, limit=…)``,
  ``plugin_data(id, plugin)``; read-only, and the only way a plugin reads it — import nothing
  from ``soniquebay.web``, ``soniquebay.library`` or ``soniquebay.catalog``).
- ``SONIQUEBAY_TRACE_PLUGINS=1`` logs every hook call (process, plugin, hook, result, time).
- *Collected* hooks call every implementation and return the list of non-``None`` results;
  *first result* hooks stop at the first implementation that returns something other than
  ``None``.
- **Every call is guarded.** An implementation that raises is logged with the plugin's name,
  counted, and listed at ``/api/plugins``; the other implementations still run and the process
  goes on. Per-track hooks record the failure against the track (``/api/scan/errors``, the
  track page) and the other stages still run for it.
- Hook wrappers (``hookwrapper=True`` / ``wrapper=True``) are not supported: SoniqueBay calls
  each implementation itself to guard it.
- Call order is pluggy's: the plugin registered last is called first, and
  ``@hookimpl(tryfirst=True)`` / ``@hookimpl(trylast=True)`` move an implementation to the
  front or the back. Registration order: the builtins, entry points, contrib plugins, then
  drop-ins (by file name). A *first result* hook (``firstresult`` in its spec, which the stage
  table reads too) stops at the first answer that is not ``None``.
- Each hook below says its arguments (``:param:``), what it returns (``:returns:``), the
  process it runs in and whether it is collected or first result.

The per-track hooks (``analyze_audio``, ``fingerprint_track``, ``enrich_track``,
``vectorize_track``, ``process_track``) are *stages*: the web process schedules them after a track
is stored, on the RQ queue the stage names, once every field the stage ``needs`` has a value;
a worker runs them and sends the result back; the web stores it and schedules what the new
fields make possible. A stage runs again only when its inputs or its ``version`` change.
Declare a stage with :func:`soniquebay.stage` (defaults below, per hook). Where the fields a
stage returns go is its declaration's ``stores`` (the web process reads it, never the hook's
name): ``features`` — the track's audio features (:data:`soniquebay.library.fields
.FEATURE_FIELDS`; a failure is the track's ``analysis_error``), the default of
``analyze_audio``; ``vectors`` — its embeddings, the default of ``vectorize_track``; ``data``
— the plugin's own data (``GET /api/tracks/{id}`` → ``plugin_data``, where later stages can
``need`` them), every other hook's default.

Reserved result fields: the library gives these a meaning whichever plugin returns them.

- ``fingerprint`` with ``fingerprint_duration`` (a Chromaprint fingerprint, compressed as
  ``fpcalc`` prints it, and the seconds it covers): the track is indexed for duplicates.
- ``cover_image`` (base64 of a JPEG, PNG or WebP): the track's album cover, when the album has
  none yet; never stored as data.
- ``enriched`` (a dict of tag fields: title, artist_name, album_title, year, …): the metadata
  layer enrichment fills, shown per ``metadata_prefer`` and never written over the file's
  tags.
- ``lyrics`` (``{"lyrics": str, "lyrics_synced": [[seconds, line], …]}``): what the pages and
  Subsonic's ``getLyricsBySongId`` show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from aiohttp import web

    from soniquebay.plugins.context import PluginContext
    from soniquebay.plugins.options import Option

PROJECT = "soniquebay"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------- every process


@hookspec
def plugin_options() -> list[Option]:
    """Declare this plugin's options. Collected. Called once when a process loads its plugins.

    Return a list of :class:`soniquebay.plugins.options.Option` (name, type, default, help,
    choices). Values come from the ``[plugin.<name>]`` section of the configuration; the parsed
    values are ``ctx.options``. A value of the wrong type, out of ``choices``, or a key no option
    declares is a configuration error at start-up naming the plugin and the option.

    :returns: the options, each an :class:`~soniquebay.plugins.options.Option`.

    Runs in every process, once, as it loads its plugins (probed then: raising disables the
    plugin). Collected.
    """


@hookspec
def startup(ctx: PluginContext, process: str) -> None:
    """A SoniqueBay process has loaded its plugins. Collected; in every process.

    ``process`` is ``web``, ``watch``, ``worker`` or ``cli``; a worker's ``ctx.queues`` says
    what it serves, so a stage can import its heavy libraries once, before RQ forks a work-horse
    per job. A plugin that raises here is marked failed at ``/api/plugins`` (with the reason);
    its other hooks still run and the process starts.

    :param ctx: this plugin's context.
    :param process: ``web``, ``watch``, ``worker`` or ``cli``.
    :returns: nothing (a value is ignored).

    Runs in every process, once. Collected.
    """


@hookspec
def warm_up(ctx: PluginContext, queue: str) -> bool | None:
    """A worker is about to fork for its first job from ``queue``. Collected; in workers.

    Called in the worker's own process, once per queue, before the work-horse of that first
    job is forked: load here what this queue's jobs need and ``startup`` did not load (a
    plugin that preloads nothing while idle, as the analysis backends do in the low-memory
    profile), and every job after it starts warm. Return ``True`` when that memory should be
    given back once work stops: after ``release_idle_seconds`` without a job the worker
    restarts itself in place (same process id, nothing loaded) and this hook runs again on
    the next job. Return ``None`` when there was nothing to load.

    :param ctx: this plugin's context (``ctx.queues``: what the worker serves).
    :param queue: the queue whose first job comes.
    :returns: ``True`` (give it back when idle) or ``None``.

    Runs in workers. Collected.
    """


@hookspec
def audio_extensions() -> list[str]:
    """File name extensions (lower case, with the dot) this plugin can read. Collected.

    Called in the watcher, the workers and ``soniquebay scan``; files with other extensions are
    never read. Returns a list such as ``[".mp3", ".flac"]``.

    :returns: extensions such as ``[".mp3", ".flac"]``.

    Runs in every process that reads files (watcher, workers, ``scan``), probed once as plugins
    load: raising disables the plugin, the others carry on. Collected.
    """


# ---------------------------------------------------------------- worker: reading a file


@hookspec(firstresult=True)
def read_tags(ctx: PluginContext, path: str) -> dict[str, Any] | None:
    """Read one file's tags and stream information. First result wins; in the scan worker
    (and ``soniquebay scan``). Take ``ctx`` for your options and logger, or only ``path``.

    ``path`` is the file's path as ``os.fsdecode`` gives it (undecodable bytes survive as
    surrogate escapes). Return a dict with any of the fields of
    :data:`soniquebay.library.fields.TAG_FIELDS` under their tag names (``artist``, ``album``,
    ``album_artist``, ``musicbrainz_recordingid`` …), and ``warning`` (one line) for a file
    that reads but is damaged (the builtin reader says "truncated: …" when a copy holds less
    audio than its header declares; the track is stored and the warning listed at
    ``/api/scan/errors``). Return ``None`` when the file is not this
    plugin's kind; raise :class:`soniquebay.errors.BadAudioFile` when it is but cannot be read
    (recorded against the file, the scan goes on). Any other exception is recorded the same way
    as a plugin error.

    :param ctx: this plugin's context (optional: take only ``path`` if you need nothing).
    :param path: the file, as ``os.fsdecode`` gives it.
    :returns: the tags (:data:`soniquebay.library.fields.TAG_FIELDS` under their tag names), or
        ``None``: not this plugin's kind of file.
    :raises soniquebay.errors.BadAudioFile: this plugin's kind, but unreadable.

    Runs in the scan worker and ``soniquebay scan``. First result. A drop-in raising anything
    else is disabled with its reason (the builtin reader answers on).
    """


# ---------------------------------------------------------------- worker: per-track stages


@hookspec(firstresult=True)
def analyze_audio(
    ctx: PluginContext, track: dict[str, Any], path: str, max_seconds: float | None
) -> dict[str, Any] | None:
    """Compute a track's audio features. First result wins; a stage on queue ``analysis``.

    Default declaration: ``needs=("file",)`` (the file's content), ``produces`` the feature
    columns. ``max_seconds`` caps the analysed span (``None``: the backend's default; a job that
    timed out is retried once with a shorter span). A backend that is not the chosen one returns
    ``None`` so the next runs. Returns the feature columns (``bpm``, ``key``, ``loudness_lufs``
    …) plus ``analysis_backend``, ``analysis_version`` and ``waveform`` (a list of 0..255 peaks
    of the whole file for the player's seek bar, or ``None``). Raising records
    ``analysis_error`` on the track.

    :param ctx: this plugin's context.
    :param track: the track as stages see it: its columns (:class:`soniquebay.records.Track`),
        every plugin's data, and ``_stages`` (each stage's last version and inputs).
    :param path: the file.
    :param max_seconds: the longest span to analyse, or ``None``.
    :returns: the features (``stores="features"``), or ``None``: not the chosen backend.

    Runs in the stage worker, queue ``analysis``. First result.
    """


@hookspec
def fingerprint_track(ctx: PluginContext, track: dict[str, Any], path: str) -> dict[str, Any]:
    """Compute an acoustic fingerprint. Collected, one stage per plugin, on queue ``enrich``.

    Default declaration: ``needs=("file",)``. Returns fields such as
    ``{"fingerprint": str, "fingerprint_duration": float}``, stored as the plugin's data.

    :param ctx: this plugin's context.
    :param track: the track as stages see it.
    :param path: the file.
    :returns: the fingerprint's fields (reserved: ``fingerprint``, ``fingerprint_duration``).

    Runs in the stage worker, queue ``enrich``. Collected, one stage per plugin.
    """


@hookspec
def enrich_track(ctx: PluginContext, track: dict[str, Any]) -> dict[str, Any]:
    """Return extra metadata for a track. Collected, one stage per plugin, on queue ``enrich``.

    Default declaration: ``needs=("title",)``. ``track`` holds the track's columns and the data
    other plugins stored for it. Returned fields are the plugin's data (never written over the
    file's tags).

    :param ctx: this plugin's context.
    :param track: the track as stages see it.
    :returns: the plugin's data (reserved: ``enriched``, ``cover_image``), or ``None``.
    :raises soniquebay.errors.TryLater: a remote service is down: the track is queued again.

    Runs in the stage worker, queue ``enrich``. Collected, one stage per plugin.
    """


@hookspec
def vectorize_track(ctx: PluginContext, track: dict[str, Any]) -> dict[str, Any]:
    """Embed a track. Collected, one stage per plugin, on queue ``vectors``.

    Default declaration: ``needs=("title",)``. Return ``{"name": str, "vector": [float, ...]}``
    (or ``{"vectors": {name: [...], ...}}``); stored in ``track_vectors`` as float32, one row per
    (track, name), replacing the previous one.

    :param ctx: this plugin's context.
    :param track: the track as stages see it.
    :returns: ``{"name", "vector"}`` or ``{"vectors": {name: vector}}`` (``stores="vectors"``).

    Runs in the stage worker, queue ``vectors``. Collected, one stage per plugin.
    """


@hookspec
def process_track(ctx: PluginContext, track: dict[str, Any], path: str) -> dict[str, Any]:
    """A plugin's own per-track stage. Collected, one stage per plugin.

    For work that is none of the above (lyrics, ReplayGain, a classifier …). Default
    declaration: ``needs=("file",)``, queue ``enrich``; declare ``needs``, ``produces``,
    ``version`` and ``queue`` with :func:`soniquebay.stage`. Returns fields, stored as the
    plugin's data.

    :param ctx: this plugin's context.
    :param track: the track as stages see it.
    :param path: the file.
    :returns: fields, stored where the stage's ``stores`` says (default: the plugin's data).

    Runs in the stage worker, on the stage's queue. Collected, one stage per plugin.
    """


# ---------------------------------------------------------------- web process


@hookspec
def register_routes(ctx: PluginContext) -> list[web.RouteDef]:
    """Add HTTP routes to the web process. Collected; called once when the app is built.

    Return aiohttp route definitions (``web.get("/plugins/<name>/…", handler)``). Paths must
    start with ``/plugins/<plugin name>/`` or ``/api/plugins/<plugin name>/``; others are refused
    and logged. ``GET`` routes need read access, the others a listener's write access (their own
    things); a handler that changes the library for everyone is marked
    :func:`soniquebay.plugins.routes.changes_catalog` and needs catalogue access. A form posted
    from a page carries the session's ``csrf_token`` (a panel's actions add it).

    :param ctx: this plugin's context (``ctx.library`` works in the handlers).
    :returns: ``aiohttp`` route definitions under the plugin's prefixes.

    Runs in the web process, once, as the app is built. Collected.
    """


@hookspec
def track_panels(ctx: PluginContext, track: dict[str, Any]) -> dict[str, Any] | None:
    """Add a panel to a track's page. Collected; in the web process, per page view.

    ``track`` is the track as ``GET /api/tracks/{id}`` shows it, with ``plugin_data`` (what
    every plugin's stages stored). Return ``{"title": str, "rows": [(label, value), ...]}``;
    every label and value is shown as text (escaped), never as HTML. Optional keys:
    ``"actions"``, buttons, each ``{"text", "label", "url", "fields": {name: value}}``: a form
    posting ``fields`` (and the session's CSRF token) to ``url``, which must be one of this
    plugin's own ``/plugins/<name>/`` routes (others are dropped); ``"hides"``, the names of
    this plugin's data fields the panel shows, so the page's raw listing of plugin data leaves
    them out. A malformed panel is recorded as the plugin's failure and left out. Keep it cheap:
    it runs while the page renders.

    :param ctx: this plugin's context (``ctx.library``).
    :param track: the track as ``GET /api/tracks/{id}`` shows it
        (:class:`soniquebay.records.PublicTrack`).
    :returns: ``{"title", "rows", "actions", "hides"}``, or ``None``: no panel.

    Runs in the web process, per page view. Collected.
    """


@hookspec
def on_event(ctx: PluginContext, event: dict[str, Any]) -> None:
    """React to a live event. Collected; in the web process, in event order, off the event loop.

    ``event`` is the JSON object published on ``/api/events``: ``{"type", "ts", ...}`` with a
    type from :data:`soniquebay.events.CATALOGUE` (payloads typed there, listed in
    ``docs/events.md``: ``track.added``, ``track.updated``,
    ``track.removed``, ``scan.started``, ``scan.finished``, ``stage.finished``, ``progress``).
    Called for every event, whichever process published it.

    :param ctx: this plugin's context (``ctx.library``).
    :param event: the event (``type``, ``ts`` and its payload: ``docs/events.md``).
    :returns: nothing.

    Runs in the web process, one thread, in event order. Collected.
    """


@hookspec
def on_listen(ctx: PluginContext, listen: dict[str, Any]) -> None:
    """Someone is listening: a track started (``kind="playing"``) or a play counted
    (``kind="played"``: half the track or 4 minutes in the web player, as Last.fm counts a
    scrobble; a Subsonic app's ``scrobble``). Collected; in the web process, in order, off the
    event loop, on a thread of its own. What a scrobbling plugin is built on.

    :param ctx: this plugin's context (``ctx.library``, and ``ctx.library.user_data`` for
        what the plugin keeps per user).
    :param listen: :class:`soniquebay.records.Listen`: ``kind``, ``at``, ``user_id``,
        ``username``, ``client`` and the ``track`` (title, artists, album, duration, MusicBrainz
        recording id).
    :returns: nothing.

    Runs in the web process, one thread, in order. Collected.
    """
