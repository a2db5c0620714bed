"""Server settings: every option of `zenhire-mock serve`, each also a `ZENHIRE_MOCK_*`
environment variable. Defaults are faithful to the platform and need no configuration.

`to_env` is the inverse of `from_env`: several worker processes (`--workers N`) each rebuild
the same settings from the environment the supervisor hands them.

A bad value is a `ConfigError` whose message is one line naming the setting the way the
user gave it (`--port` or `ZENHIRE_MOCK_PORT`) and the value; the CLI prints it and exits 2.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit
from dataclasses import dataclass, field, fields
from pathlib import Path

PREVIEWS = ("cvds-results",)
CLOCK_MODES = ("real", "scaled", "manual")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
ALLOCATORS = ("system", "jemalloc")  # the C allocator `serve` runs on (mockserver.allocator)
ENV_PREFIX = "ZENHIRE_MOCK_"
# The mock process's own liveness (outside the simulated platform): container HEALTHCHECK.
LIVENESS_PATH = "/__mock/live"
SQLITE_MAGIC = b"SQLite format 3\x00"
# --store: "memory" (one process, the default) or a Redis URL shared by every process.
MEMORY_STORE = "memory"
SHARED_STORE_SCHEMES = ("redis", "rediss", "unix")
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
    store: str = MEMORY_STORE
    workers: int = 1
    allocator: str = "system"
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
        if self.allocator not in ALLOCATORS:
            raise self._bad("allocator", f"must be one of {', '.join(ALLOCATORS)}")
        for name in self.preview:
            if name not in PREVIEWS:
                raise self._bad("preview", f"unknown preview {name!r}; known: {', '.join(PREVIEWS)}")
        self._check_store()
        self._check_workers()

    @property
    def shared_store(self) -> bool:
        """True when the state lives in a store other processes can share (Redis)."""
        return self.store != MEMORY_STORE

    def store_label(self) -> str:
        """The store for banners and logs: in memory, the SQLite file, or the Redis URL with
        its password masked."""
        if not self.shared_store:
            return "SQLite file " + self.state if self.state else "in memory"
        return mask_password(self.store)

    def _bad_store(self, why: str) -> ConfigError:
        return ConfigError(f"{self.named('store')}={mask_password(str(self.store))!r}: {why}")

    def _check_store(self) -> None:
        if not isinstance(self.store, str) or not self.store.strip():
            raise self._bad_store(f"must be {MEMORY_STORE!r} or a redis://HOST:PORT/DB URL")
        if self.store == MEMORY_STORE:
            return
        parts = urlsplit(self.store)
        if parts.scheme not in SHARED_STORE_SCHEMES:
            raise self._bad_store(f"unknown store; use {MEMORY_STORE!r} (one process) or "
                                  "redis://HOST:PORT/DB (shared by several processes; also rediss://, unix://PATH)")
        if parts.scheme == "unix":
            if not parts.path:
                raise self._bad_store("names no socket path (unix:///run/redis.sock?db=0)")
            return self._check_store_with_state()
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            raise self._bad_store("the port must be a number from 1 to 65535")
        if not parts.hostname:
            raise self._bad_store("names no host (redis://HOST:PORT/DB)")
        db = parts.path.strip("/")
        if db and not db.isdigit():
            raise self._bad_store(f"the database {db!r} must be a whole number (redis://HOST:PORT/0)")
        self._check_store_with_state()

    def _check_store_with_state(self) -> None:
        if self.state:
            raise ConfigError(f"{self.named('state')}={self.state!r}: a SQLite state file cannot be used with "
                              f"{self.named('store')}={self.store_label()!r} (Redis keeps the state; "
                              f"leave one of them out)")

    def _check_workers(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise self._bad("workers", "must be a whole number of processes, at least 1")
        if self.workers == 1:
            return
        if not self.shared_store:
            raise ConfigError(f"{self.named('workers')}={self.workers}: several workers need a shared store "
                              f"(add --store redis://HOST:PORT/DB); with state {self.store_label()} each "
                              "process would have its own runs, credits and keys")

    def to_env(self) -> dict[str, str]:
        """Every setting as its ``ZENHIRE_MOCK_*`` variable (`from_env` reads them back to equal
        settings); settings left at None are omitted."""
        env: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "origins" or value is None:
                continue
            if isinstance(value, bool):
                text = "1" if value else "0"
            elif isinstance(value, list):
                text = (os.pathsep if f.name == "scenarios" else ",").join(value)
            elif isinstance(value, float):
                text = repr(value)
            else:
                text = str(value)
            env[env_var(f.name)] = text
        return env

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


def mask_password(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part replaced by ``***``."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://[^:@/]*):[^@/]*@", r"\1:***@", url, flags=re.I)


def _convert(name: str, raw: str):
    var = env_var(name)
    if name == "port":
        try:
            return int(raw.strip())
        except ValueError:
            raise ConfigError(f"{var}={raw!r}: must be a whole number (a TCP port from 1 to 65535)") from None
    if name in ("seed", "journal_size", "workers"):
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
