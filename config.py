"""Configuration: package defaults, then one INI file, then environment variables.

The file is ``/etc/soniquebay/soniquebay.conf`` on a Pi (or ``--config`` / ``SONIQUEBAY_CONFIG``).
Every key of the ``[soniquebay]`` section can be overridden by ``SONIQUEBAY_<KEY>``; the seed's
names (``CHUNK_SIZE``, ``EMBEDDING_DIMENSION``, ``SCAN_TIMEOUT``, ``API_URL``) are aliases.
Plugins get one ``[plugin.<name>]`` section each, with at least ``enabled``.
A bad value is a :class:`ConfigError` naming the section and key, raised at start-up.
"""

from __future__ import annotations

import configparser
import dataclasses
import functools
import ipaddress
import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from soniquebay.errors import ConfigError

SYSTEM_CONFIG = Path("/etc/soniquebay/soniquebay.conf")
SECTION = "soniquebay"
FOLDERS_SECTION = "music_folders"

# Seed names kept as aliases so a deployment written for the seed keeps working.
ENV_ALIASES = {
    "CHUNK_SIZE": "chunk_size",
    "EMBEDDING_DIMENSION": "embedding_dimension",
    "EMBEDDING_MODEL": "embedding_model",
    "SCAN_TIMEOUT": "job_timeout",
    "API_URL": "api_url",
}


MEMORY_PROFILES = ("auto", "low", "standard")
LOW_MEMORY_RAM = 3 * 1024**3
LOW_MEMORY_SPAN = 300.0  # seconds analysed per track in the low-memory profile (unless set)


@functools.cache
def machine_memory() -> int | None:
    """MemTotal in bytes (None where /proc/meminfo cannot be read)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


@dataclasses.dataclass(frozen=True)
class MusicFolder:
    id: int
    name: str
    path: Path


def _folder_entry(entry: str) -> tuple[str, Path]:
    name, sep, path = entry.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise ValueError(f"a music folder is written Name=/path, got {entry!r}")
    return name.strip(), Path(path.strip()).expanduser().absolute()


@dataclasses.dataclass(frozen=True)
class Settings:
    library: tuple[Path, ...] = (Path("music"),)
    # The library's folders with the names apps and pages show ("Name=/path" each, from the
    # [music_folders] section); empty: each library folder named after its last component.
    music_folders: tuple[str, ...] = ()
    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = 8001
    redis_url: str = ""  # empty: `serve` starts a private redis-server in data_dir
    api_url: str = ""  # empty: http://{host}:{port}
    api_token: str = ""  # the token workers present to the API (empty: data_dir/worker-token)
    admin_password: str = ""  # first start only; empty: a random one is printed once to the log
    anonymous_read: bool = False  # let visitors without a login read the library (never write)
    metrics_public: bool = True  # /metrics without credentials, for a Prometheus on the LAN
    cors_origins: str = ""  # comma-separated origins allowed to call the API from a browser; "*"
    access_log: str = "-"  # JSON lines: "-" for stderr, a file path, or "off"
    session_days: float = 30.0
    graphql_max_depth: int = 10
    graphql_max_cost: int = 25000
    graphql_introspection: bool = True
    chunk_size: int = 500
    job_timeout: int = 300
    job_retries: int = 3
    analysis_retry_seconds: float = 120.0  # a timed-out analysis is retried once on this much audio
    debounce_seconds: float = 1.0
    settle_seconds: float = 0.25  # quiet time after a close-write event
    burst_threshold: int = 2000  # events in one folder above which one folder job replaces them
    missing_grace_days: float = 30.0
    plugins_dir: Path | None = None
    events_stream_maxlen: int = 10000
    embedding_dimension: int = 384
    embedding_model: str = "all-MiniLM-L6-v2"  # "mock-v1" (hashed words) is for tests only
    log_level: str = "INFO"
    # Which layer the library shows where the file's tags and an enrichment plugin disagree:
    # "tags" (enrichment only fills what the tags lack) or "enriched".
    metadata_prefer: str = "tags"
    # Whose ReplayGain Subsonic apps get: "tags" (the file's REPLAYGAIN_*/R128_* tags, else the
    # analysis's measure) or "analysis" (always SoniqueBay's own EBU R128 measure).
    replaygain_source: str = "tags"
    # Behind a TLS proxy: the addresses (or networks, comma-separated) whose X-Forwarded-Proto
    # and X-Forwarded-For are believed; the session cookie is Secure over HTTPS.
    trusted_proxies: str = ""
    secure_cookies: str = "auto"  # auto (when the client uses HTTPS) | always
    checkpoint_seconds: int = 300
    max_transcodes: int = 3  # ffmpeg encodes at once (players on slow links); a Pi 4 does a few
    # A transcode whose listener has read nothing for this long (a paused player) is ended and
    # its slot freed; the player asks again from where it was when it resumes.
    transcode_stall_seconds: float = 30.0
    backup_keep: int = 3
    # "low" for 1-2 GB Pis: one worker serves every queue, the analysis backend is loaded when
    # work comes (not held while idle) and analyses at most LOW_MEMORY_SPAN seconds; "auto"
    # picks it below LOW_MEMORY_RAM.
    memory: str = "auto"  # auto | low | standard
    # A worker that loaded a plugin's libraries when work came (warm_up) restarts itself in
    # place after this long without a job, giving that memory back.
    release_idle_seconds: float = 300.0
    # Processes that answer GraphQL queries beside the web's event loop (web/readers.py):
    # "auto" is one per core up to two, none in the low-memory profile or on one core.
    graphql_readers: str = "auto"
    # How tracks group into albums and artists (docs/library.md). Lists are written as quoted
    # strings: artist_separators = ";" "/" " feat. "
    artist_separators: tuple[str, ...] = (";", "/", " feat. ", " feat ", " ft. ", " featuring ")
    genre_separators: tuple[str, ...] = (";", "/", ",")
    never_split: tuple[str, ...] = ("AC/DC", "Au/Ra", "Earth, Wind & Fire")
    sort_articles: tuple[str, ...] = ("The", "Les", "Le", "La", "Die")
    album_identity: str = "musicbrainz"  # musicbrainz (a release id is the album) | tags
    folder_compilations: bool = True  # one folder, one title, several artists: one compilation
    # [plugin.<name>] sections, kept raw: each plugin validates its own keys.
    plugins: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)

    @functools.cached_property
    def folders(self) -> tuple[MusicFolder, ...]:
        """The music folders, numbered from 1 in the configured order (Subsonic's
        ``musicFolderId``), with their names."""
        named = dict(_folder_entry(e) for e in self.music_folders)
        by_path = {path: name for name, path in named.items()}
        return tuple(
            MusicFolder(i, by_path.get(root) or root.name or str(root), root)
            for i, root in enumerate(self.library, start=1)
        )

    @property
    def graphql_reader_count(self) -> int:
        if self.graphql_readers != "auto":
            return int(self.graphql_readers)
        cores = len(os.sched_getaffinity(0))
        return 0 if self.low_memory or cores < 2 else min(cores, 2)

    @property
    def low_memory(self) -> bool:
        """The low-memory profile: ``memory = low``, or ``auto`` on a machine with less than
        :data:`LOW_MEMORY_RAM` of RAM (a 1 or 2 GB Pi; a 4 GB one reports about 3.7 GiB)."""
        if self.memory != "auto":
            return self.memory == "low"
        total = machine_memory()
        return total is not None and total < LOW_MEMORY_RAM

    @property
    def db_path(self) -> Path:
        return self.data_dir / "library.db"

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.db"

    @property
    def redis_socket(self) -> Path:
        return self.data_dir / "redis.sock"

    @property
    def effective_api_url(self) -> str:
        if self.api_url:
            return self.api_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def web_url_path(self) -> Path:
        """Where the running web process writes the URL it answers at, for the command line."""
        return self.data_dir / "web-url"

    def running_api_url(self) -> str:
        """The API of the instance running on this data folder, else :attr:`effective_api_url`:
        ``soniquebay analyze --data-dir D`` finds a ``serve`` started on any port."""
        if not self.api_url:
            try:
                return self.web_url_path.read_text().strip() or self.effective_api_url
            except OSError:
                pass
        return self.effective_api_url

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or f"unix://{self.redis_socket.resolve()}"

    def plugin_enabled(self, name: str, default: bool) -> bool:
        raw = self.plugins.get(name, {}).get("enabled")
        if raw is None:
            return default
        return _parse_bool(f"plugin.{name}", "enabled", raw)

    def plugin_options(self, name: str) -> Mapping[str, str]:
        return self.plugins.get(name, {})

    def env(self) -> dict[str, str]:
        """This configuration as SONIQUEBAY_* variables, so child processes see the same values."""
        out = {}
        for field in dataclasses.fields(self):
            if field.name == "plugins":
                continue
            value = getattr(self, field.name)
            if value is None:
                continue
            if field.name == "library":
                value = os.pathsep.join(str(p) for p in value)
            elif field.type == "tuple[str, ...]":
                value = shlex.join(value)
            out[f"SONIQUEBAY_{field.name.upper()}"] = str(value)
        return out


METADATA_LAYERS = ("tags", "enriched")
ALBUM_IDENTITIES = ("musicbrainz", "tags")
REPLAYGAIN_SOURCES = ("tags", "analysis")
# Settings that take one of a few words.
CHOICES = {
    "metadata_prefer": METADATA_LAYERS,
    "album_identity": ALBUM_IDENTITIES,
    "memory": MEMORY_PROFILES,
    "replaygain_source": REPLAYGAIN_SOURCES,
}


def _parse_bool(section: str, key: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(section, key, f"expected true/false, got {raw!r}")


def _coerce(key: str, raw: str) -> Any:
    field_type = {f.name: f.type for f in dataclasses.fields(Settings)}[key]
    raw = raw.strip()
    try:
        if key == "library":
            parts = [p for chunk in raw.split(os.pathsep) for p in chunk.split("\n")]
            paths = tuple(Path(p.strip()).expanduser() for p in parts if p.strip())
            if not paths:
                raise ValueError("at least one folder is needed")
            return paths
        if field_type == "int":
            value = int(raw)
            if value < 0:
                raise ValueError("must not be negative")
            return value
        if field_type == "float":
            value = float(raw)
            if value < 0:
                raise ValueError("must not be negative")
            return value
        if field_type == "bool":
            return _parse_bool(SECTION, key, raw)
        if field_type == "tuple[str, ...]":
            return tuple(shlex.split(raw))
        if field_type == "Path":
            return Path(raw).expanduser()
        if field_type == "Path | None":
            return Path(raw).expanduser() if raw else None
    except ValueError as exc:
        raise ConfigError(SECTION, key, f"{exc} (got {raw!r})") from None
    return raw


def load(
    path: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings: defaults < config file < environment < explicit ``overrides``."""
    environ = os.environ if environ is None else environ
    known = {f.name for f in dataclasses.fields(Settings)} - {"plugins"}
    values: dict[str, Any] = {}
    plugins: dict[str, dict[str, str]] = {}

    if path is None:
        # SONIQUEBAY_CONFIG names the file; set but empty, it means "no file at all".
        if "SONIQUEBAY_CONFIG" in environ:
            path = environ["SONIQUEBAY_CONFIG"] or None
        elif SYSTEM_CONFIG.exists():
            path = SYSTEM_CONFIG
    if path:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            with open(path, encoding="utf-8") as fh:
                parser.read_file(fh)
        except OSError as exc:
            raise ConfigError(SECTION, "config", f"cannot read {path}: {exc.strerror}") from None
        except configparser.Error as exc:
            raise ConfigError(SECTION, "config", f"{path} is not a valid INI file: {exc}") from None
        for section in parser.sections():
            if section == SECTION:
                for key, raw in parser.items(section):
                    if key not in known:
                        raise ConfigError(SECTION, key, "unknown setting")
                    values[key] = _coerce(key, raw)
            elif section == FOLDERS_SECTION:  # Name = /path, names as written (not lower case)
                named = configparser.ConfigParser(interpolation=None)
                named.optionxform = str  # type: ignore[assignment, method-assign]
                with open(path, encoding="utf-8") as fh:
                    named.read_file(fh)
                values["music_folders"] = tuple(
                    f"{name}={raw.strip()}" for name, raw in named.items(section)
                )
            elif section.startswith("plugin."):
                plugins[section.removeprefix("plugin.")] = dict(parser.items(section))
            else:
                raise ConfigError(section, "-", "unknown section")

    for alias, key in ENV_ALIASES.items():
        if alias in environ:
            values[key] = _coerce(key, environ[alias])
    for key in known:
        env_key = f"SONIQUEBAY_{key.upper()}"
        if env_key in environ:
            values[key] = _coerce(key, environ[env_key])
    for env_key, raw in environ.items():
        # SONIQUEBAY_PLUGIN_<NAME>_ENABLED=false switches a plugin from the environment.
        if env_key.startswith("SONIQUEBAY_PLUGIN_") and env_key.endswith("_ENABLED"):
            name = env_key.removeprefix("SONIQUEBAY_PLUGIN_").removesuffix("_ENABLED").lower()
            plugins.setdefault(name, {})["enabled"] = raw

    for key, value in overrides.items():
        if value is not None:
            values[key] = value
    if values.get("chunk_size") == 0:
        raise ConfigError(SECTION, "chunk_size", "must be at least 1")
    if "port" in values and not 0 < int(values["port"]) < 65536:
        raise ConfigError(SECTION, "port", f"{values['port']} is not a TCP port")
    for key, allowed in CHOICES.items():
        if key in values and values[key] not in allowed:
            raise ConfigError(SECTION, key, f"expected one of {', '.join(allowed)}")
    readers = str(values.get("graphql_readers", "auto"))
    if readers != "auto" and not (readers.isascii() and readers.isdigit()):
        raise ConfigError(SECTION, "graphql_readers", f"expected auto or a number, got {readers!r}")
    if float(values.get("release_idle_seconds", 1.0)) <= 0:
        raise ConfigError(SECTION, "release_idle_seconds", "must be positive")
    if values.get("secure_cookies", "auto") not in ("auto", "always"):
        raise ConfigError(SECTION, "secure_cookies", "expected auto or always")
    if values.get("trusted_proxies"):
        for part in str(values["trusted_proxies"]).split(","):
            try:
                if part.strip():
                    ipaddress.ip_network(part.strip(), strict=False)
            except ValueError:
                raise ConfigError(
                    SECTION, "trusted_proxies", f"{part.strip()!r} is not an address or network"
                ) from None
    if values.get("music_folders"):
        try:
            entries = [_folder_entry(e) for e in values["music_folders"]]
        except ValueError as exc:
            raise ConfigError(FOLDERS_SECTION, "-", str(exc)) from None
        names = [name.casefold() for name, _ in entries]
        if len(set(names)) < len(names):
            raise ConfigError(FOLDERS_SECTION, "-", "two music folders have the same name")
        paths = tuple(p for _, p in entries)
        given = values.get("library")
        if given is not None and tuple(p.absolute() for p in given) != paths:
            raise ConfigError(
                SECTION,
                "library",
                f"set the folders once: [{FOLDERS_SECTION}] names them and their paths are the"
                " library, so leave library out (or give the same paths in the same order)",
            )
        values["library"] = paths
    settings = Settings(**values, plugins=plugins)
    # Paths travel to child processes and into the database: make them absolute once, here.
    return dataclasses.replace(
        settings,
        library=tuple(p.absolute() for p in settings.library),
        data_dir=settings.data_dir.absolute(),
    )
