"""What a handler receives (`Ctx`) and returns (`Reply`), and the composition root's
product (`Platform`): every service a module uses, named and typed — contract, clock,
randomness (`ids`), store, registry, scenarios, ledger, journal, webhook engine, scheduler
(which owns the tick bus), the webhook resolver and the health overrides. `app.create_app`
builds it in one place; nothing is looked up by string."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, ContextManager

from starlette.requests import Request

from ..clock import Clock
from ..config import Settings
from ..contract import Contract, Operation
from ..scenarios import Facts, Scenarios
from ..store.base import Store
from ..webhooks.admission import Resolver
from .credits import Ledger
from .ids import Ids
from .journal import Journal
from .outage import OutageLog
from .registry import ApiKey, Client, Registry
from .request_input import RequestInput

if TYPE_CHECKING:  # imported for types only: both modules import this one
    from ..scheduler import Scheduler
    from ..webhooks.engine import WebhookEngine
    from .shared_state import SharedState

CLOCK_KIND = "_clock"


@dataclass
class Platform:
    settings: Settings
    contract: Contract
    clock: Clock
    ids: Ids
    store: Store
    registry: Registry
    scenarios: Scenarios
    ledger: Ledger
    journal: Journal
    started_at: float
    resolver: Resolver  # the webhook resolver (scenario DNS table in front of the OS's)
    # Built right after the platform (they take it as an argument); set by create_app.
    webhooks: "WebhookEngine" = None  # type: ignore[assignment]
    scheduler: "Scheduler" = None  # type: ignore[assignment]
    health_overrides: dict[str, str] = field(default_factory=dict)
    handlers: dict[str, Callable[["Ctx"], Awaitable["Reply"]]] = field(default_factory=dict)
    body_limits: dict[str, Any] = field(default_factory=dict)
    module_of_tag: dict[str, str] = field(default_factory=dict)
    # A module's own long-lived state (e.g. Interview's session book), made by its
    # `ApiModule.state` factory at start; read through that module's typed accessor.
    module_state: dict[str, Any] = field(default_factory=dict)
    # Refreshers of process-local views of shared state, run by `sync` (shared stores only).
    sync_hooks: list[Callable[[], None]] = field(default_factory=list)
    # The clock and control changes shared with other processes (a shared store only).
    shared: "SharedState | None" = None
    outage: OutageLog = field(default_factory=lambda: OutageLog(None))

    def preview_enabled(self, name: str) -> bool:
        return name in self.settings.preview or bool(self.scenarios.setting("preview", name, False))

    def setting(self, module: str, name: str, default: Any = None, client: Client | None = None) -> Any:
        """A module setting: the client's own override, else the scenarios', else ``default``."""
        if client is not None and name in client.settings.get(module, {}):
            return client.settings[module][name]
        return self.scenarios.setting(module, name, default)

    def sync(self) -> None:
        """Bring this process's views of shared state up to date — the virtual clock, the
        registry (clients, keys, credits), health overrides, reloaded scenarios — when other
        processes share the store (issue #15). Called by the pipeline before each request and
        by the scheduler before each round. With a store of its own, this process already
        holds the only view, so there is nothing to do."""
        if not self.store.shared:
            return
        for refresh in self.sync_hooks:
            refresh()

    def change(self, *, reload: bool = False) -> ContextManager[None]:
        """Wrap a control change of in-process state (clients, keys, health overrides, a
        scenario reload): with a shared store, exclusive across processes and published to
        them when the block ends (`SharedState.changing`); otherwise nothing to do."""
        if self.shared is None:
            return contextlib.nullcontext()
        return self.shared.changing(reload=reload)

    def save_clock(self) -> None:
        """Persist virtual now, so a manual or scaled clock resumes there after a restart.
        A shared clock is in the store already (written on every move)."""
        if self.shared is not None:
            return
        self.store.put(CLOCK_KIND, "clock", {"now": self.clock.now()})


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
    store_down: bool = False  # the shared store could not be read (a public operation still runs)

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
