"""What a handler receives (`Ctx`) and returns (`Reply`), and the services container
(`Platform`) every module uses: contract, clock, store, registry, scenarios, ledger,
webhooks, journal and settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable

from starlette.requests import Request

from ..clock import Clock
from ..config import Settings
from ..contract import Contract, Operation
from ..scenarios import Facts, Scenarios
from ..store.memory import MemoryStore
from .credits import Ledger
from .journal import Journal
from .registry import ApiKey, Client, Registry
from .request_input import RequestInput


@dataclass
class Platform:
    settings: Settings
    contract: Contract
    clock: Clock
    store: MemoryStore
    registry: Registry
    scenarios: Scenarios
    ledger: Ledger
    journal: Journal
    started_at: float
    webhooks: Any = None
    handlers: dict[str, Callable[["Ctx"], Awaitable["Reply"]]] = field(default_factory=dict)
    body_limits: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    def preview_enabled(self, name: str) -> bool:
        return name in self.settings.preview or bool(self.scenarios.setting("preview", name, False))

    def setting(self, module: str, name: str, default: Any = None, client: Client | None = None) -> Any:
        """A module setting: the client's own override, else the scenarios', else ``default``."""
        if client is not None and name in client.settings.get(module, {}):
            return client.settings[module][name]
        return self.scenarios.setting(module, name, default)


@dataclass
class Ctx:
    platform: Platform
    request: Request
    op: Operation
    request_id: str
    now: float
    key: ApiKey | None = None
    client: Client | None = None
    input: RequestInput = field(default_factory=RequestInput)

    @property
    def client_id(self) -> str:
        assert self.client is not None
        return self.client.id

    @property
    def scenario_header(self) -> str | None:
        return self.request.headers.get("x-mock-scenario")

    def facts(self, module: str, **extra: Any) -> Facts:
        return Facts(
            operation=self.op.operation_id, module=module,
            client=self.client.id if self.client else "", key=self.key.key if self.key else "",
            scenario=self.scenario_header, headers={k.lower(): v for k, v in self.request.headers.items()},
            fields=dict(self.input.form), **extra)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"
    stream: AsyncIterator[bytes] | None = None
