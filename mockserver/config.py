"""Server settings: every option of `zenhire-mock serve`, each also a `ZENHIRE_MOCK_*`
environment variable. Defaults are faithful to the platform and need no configuration."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

PREVIEWS = ("cvds-results",)


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
    include_default_scenarios: bool = True
    seed: int | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> "Settings":
        """Settings from ``ZENHIRE_MOCK_*`` variables, then explicit overrides (CLI flags)."""
        env = dict(os.environ if env is None else env)
        values: dict = {}
        for f in fields(cls):
            raw = env.get("ZENHIRE_MOCK_" + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _convert(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.clock not in ("real", "scaled", "manual"):
            raise ValueError(f"--clock must be real, scaled or manual, not {self.clock!r}")
        if self.time_scale <= 0:
            raise ValueError("--time-scale must be positive")
        for name in self.preview:
            if name not in PREVIEWS:
                raise ValueError(f"unknown preview {name!r}; known: {', '.join(PREVIEWS)}")


def _convert(name: str, raw: str):
    if name in ("port", "seed"):
        return int(raw)
    if name in ("time_scale", "clock_start", "webhook_timeout"):
        return float(raw)
    if name in ("control", "strict", "allow_local_webhooks", "include_default_scenarios"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if name in ("scenarios", "preview"):
        return [p for p in raw.split(os.pathsep if name == "scenarios" else ",") if p]
    return raw
