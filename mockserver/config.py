"""Server settings: every option of `zenhire-mock serve`, each also a `ZENHIRE_MOCK_*`
environment variable. Defaults are faithful to the platform and need no configuration.

A bad value is a `ConfigError` whose message is one line naming the setting the way the
user gave it (`--port` or `ZENHIRE_MOCK_PORT`) and the value; the CLI prints it and exits 2.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

PREVIEWS = ("cvds-results",)
CLOCK_MODES = ("real", "scaled", "manual")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
ENV_PREFIX = "ZENHIRE_MOCK_"
# The mock process's own liveness (outside the simulated platform): container HEALTHCHECK.
LIVENESS_PATH = "/__mock/live"
SQLITE_MAGIC = b"SQLite format 3\x00"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")
# The command-line flag of each setting (the CLI's option for it; used in error messages).
FLAGS = {"include_default_scenarios": "--no-default-scenarios", "control": "--no-control"}


class ConfigError(ValueError):
    """A setting has an unusable value; the message is one line naming the setting and value."""


def env_var(name: str) -> str:
    """The environment variable of setting ``name`` (``port`` → ``ZENHIRE_MOCK_PORT``)."""
    return ENV_PREFIX + name.upper()


def flag(name: str) -> str:
    return FLAGS.get(name, "--" + name.replace("_", "-"))


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    scenarios: list[str] = field(default_factory=list)
    clock: str = "real"
    time_scale: float = 1.0
    clock_start: float | None = None
    state: str | None = None
    control: bool = True
    control_token: str | None = None
    log_level: str = "info"
    strict: bool = False
    allow_local_webhooks: bool = False
    preview: list[str] = field(default_factory=list)
    candidate_base_url: str = "https://interview.zenhire.ai"
    webhook_timeout: float = 10.0
    journal_size: int = 20000
    include_default_scenarios: bool = True
    seed: int | None = None
    # Where each value came from (setting name → "--port" or "ZENHIRE_MOCK_PORT"), for messages.
    origins: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> "Settings":
        """Settings from ``ZENHIRE_MOCK_*`` variables, then explicit overrides (CLI flags)."""
        env = dict(os.environ if env is None else env)
        values: dict = {}
        origins: dict[str, str] = {}
        for f in fields(cls):
            if f.name == "origins":
                continue
            raw = env.get(env_var(f.name))
            if raw is None:
                continue
            values[f.name] = _convert(f.name, raw)
            origins[f.name] = env_var(f.name)
        for name, value in overrides.items():
            if value is not None:
                values[name] = value
                origins[name] = flag(name)
        settings = cls(**values, origins=origins)
        settings.check()
        return settings

    def named(self, name: str) -> str:
        """How the user set ``name`` (the env var if it came from there, else the flag)."""
        return self.origins.get(name, flag(name))

    def _bad(self, name: str, why: str) -> ConfigError:
        return ConfigError(f"{self.named(name)}={getattr(self, name)!r}: {why}")

    def check(self) -> None:
        if self.clock not in CLOCK_MODES:
            raise self._bad("clock", f"must be one of {', '.join(CLOCK_MODES)}")
        if not self.time_scale > 0:
            raise self._bad("time_scale", "must be a positive number")
        if not self.webhook_timeout > 0:
            raise self._bad("webhook_timeout", "must be a positive number of seconds")
        if isinstance(self.journal_size, bool) or not isinstance(self.journal_size, int) or self.journal_size < 1:
            raise self._bad("journal_size", "must be a whole number of requests, at least 1")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise self._bad("port", "must be a TCP port number from 1 to 65535 (0: any free port)")
        if self.log_level not in LOG_LEVELS:
            raise self._bad("log_level", f"must be one of {', '.join(LOG_LEVELS)}")
        for name in self.preview:
            if name not in PREVIEWS:
                raise self._bad("preview", f"unknown preview {name!r}; known: {', '.join(PREVIEWS)}")

    def check_state_file(self) -> None:
        """The ``--state`` file can be opened as SQLite: its folder exists and the file, if
        present, is a SQLite database (an empty file becomes one)."""
        if not self.state:
            return
        path = Path(self.state)
        if path.is_dir():
            raise self._bad("state", "is a folder, not a SQLite file")
        if not path.parent.is_dir():
            raise self._bad("state", f"folder {str(path.parent)!r} does not exist")
        if path.exists():
            try:
                with open(path, "rb") as fh:
                    head = fh.read(len(SQLITE_MAGIC))
            except OSError as exc:
                raise self._bad("state", f"cannot be read: {exc.strerror}") from None
            if head and head != SQLITE_MAGIC:
                raise self._bad("state", "is not a SQLite database (zenhire-mock state files are SQLite)")


def _convert(name: str, raw: str):
    var = env_var(name)
    if name == "port":
        try:
            return int(raw.strip())
        except ValueError:
            raise ConfigError(f"{var}={raw!r}: must be a whole number (a TCP port from 1 to 65535)") from None
    if name in ("seed", "journal_size"):
        try:
            return int(raw.strip())
        except ValueError:
            raise ConfigError(f"{var}={raw!r}: must be a whole number") from None
    if name in ("time_scale", "clock_start", "webhook_timeout"):
        try:
            return float(raw.strip())
        except ValueError:
            raise ConfigError(f"{var}={raw!r}: must be a number") from None
    if name in ("control", "strict", "allow_local_webhooks", "include_default_scenarios"):
        word = raw.strip().lower()
        if word not in _TRUE + _FALSE:
            raise ConfigError(f"{var}={raw!r}: must be one of 1/0, true/false, yes/no, on/off")
        return word in _TRUE
    if name in ("scenarios", "preview"):
        return [p for p in raw.split(os.pathsep if name == "scenarios" else ",") if p]
    return raw
