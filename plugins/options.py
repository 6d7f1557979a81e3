"""Plugin options: each plugin declares them (``plugin_options``), the manager checks them.

Mopidy's way: a typed schema per extension, and a bad value is a start-up error that names the
plugin and the key, not a surprise in the middle of a job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soniquebay.errors import ConfigError

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
RESERVED = ("enabled",)


@dataclass(frozen=True)
class Option:
    name: str
    type: type = str  # str, int, float, bool or Path
    default: Any = None
    help: str = ""
    choices: Sequence[Any] | None = None

    def parse(self, section: str, raw: str) -> Any:
        text = raw.strip()
        try:
            if self.type is bool:
                if text.lower() not in TRUE + FALSE:
                    raise ValueError("expected true or false")
                value: Any = text.lower() in TRUE
            elif self.type is Path:
                value = Path(text).expanduser()
            else:
                value = self.type(text)
        except ValueError as exc:
            raise ConfigError(
                section, self.name, f"expected {self.type.__name__}, got {raw!r} ({exc})"
            ) from None
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(map(str, self.choices))
            raise ConfigError(section, self.name, f"expected one of {allowed}, got {raw!r}")
        return value


def parse_options(
    plugin: str, declared: Sequence[Option], raw: Mapping[str, str]
) -> dict[str, Any]:
    """The plugin's option values: defaults, overridden by its ``[plugin.<name>]`` section."""
    section = f"plugin.{plugin}"
    by_name = {o.name: o for o in declared}
    unknown = sorted(set(raw) - set(by_name) - set(RESERVED))
    if unknown and declared:
        known = ", ".join(sorted(by_name)) or "none"
        raise ConfigError(section, unknown[0], f"unknown option (this plugin has: {known})")
    values = {o.name: o.default for o in declared}
    for name, text in raw.items():
        if name in by_name:
            values[name] = by_name[name].parse(section, text)
    return values
