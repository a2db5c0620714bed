"""The app factory: builds the Starlette application from settings, the contract and the
scenario files, wiring every module's handlers into the one request pipeline."""

from __future__ import annotations

import contextlib
import json
import logging
from functools import lru_cache

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .clock import Clock, parse_iso
from .config import LIVENESS_PATH, Settings
from .contract import SPEC_PATH, Contract
from .control import CONTROL_PREFIX, build_control_routes
from .modules import load_modules
from .pipeline import Pipeline
from .platform.context import Platform
from .platform.credits import Ledger
from .platform.journal import Journal
from .platform.registry import Registry
from .scenarios import ScenarioError, Scenarios
from .scheduler import Scheduler
from .store import open_store

log = logging.getLogger("zenhire_mock")
CLOCK_KIND = "_clock"


@lru_cache(maxsize=4)
def cached_contract(path: str = str(SPEC_PATH)) -> Contract:
    return Contract.load(path)


def check_faults(scenarios: Scenarios, contract: Contract) -> None:
    """Every injected error must be one the contract documents for its operation."""
    for i, fault in enumerate(scenarios.faults):
        then = fault["then"]
        if "status" not in then:
            continue
        if "code" not in then:
            raise ScenarioError(f"faults[{i}] ({fault.get('name', '')}): a fault with a status needs a code")
        ops = fault["when"].get("operation")
        if ops is None:
            raise ScenarioError(f"faults[{i}] ({fault.get('name', '')}): a fault with a status must name its operation(s)")
        for op_id in [ops] if isinstance(ops, str) else ops:
            op = contract.operations.get(op_id)
            if op is None:
                raise ScenarioError(f"faults[{i}]: unknown operation {op_id!r}")
            if then["code"] not in op.documented_codes(then["status"]):
                raise ScenarioError(
                    f"faults[{i}]: {then['status']} {then['code']} is not documented for {op_id}")


class StoreDeliveryPersistence:
    """Keeps webhook deliveries in the store so they survive a restart with --state."""

    KIND = "webhook_delivery"

    def __init__(self, store) -> None:
        self.store = store

    def save(self, delivery: dict) -> None:
        self.store.put(self.KIND, delivery["id"], delivery, owner=delivery.get("client_id"))

    def load_all(self) -> list[dict]:
        return [{k: v for k, v in d.items() if not k.startswith("_")} for d in self.store.scan(self.KIND)]


def _make_webhooks(platform: Platform, resolver):
    from .platform.webhook_urls import platform_resolver
    from .webhooks.engine import WebhookEngine
    registry = platform.registry
    if resolver is not None:
        platform.extras["resolver"] = resolver
    resolver = platform_resolver(platform)

    def secret_for(client_id: str) -> str:
        client = registry.clients.get(client_id)
        from .platform.registry import DEFAULT_WEBHOOK_SECRET
        return client.secret() if client else DEFAULT_WEBHOOK_SECRET

    return WebhookEngine(platform.clock, resolver=resolver, allow_local=platform.settings.allow_local_webhooks,
                         secret_for=secret_for, persistence=StoreDeliveryPersistence(platform.store),
                         timeout=platform.settings.webhook_timeout)


def _prefix(path: str) -> str:
    """The literal start of a route path (up to its first parameter)."""
    return path.split("{", 1)[0]


class MockApp(Starlette):
    """The Starlette app with a front door: API paths go straight to the pipeline; only the
    contract documents, the control API and module pages (`side_prefixes`) go through the
    router. Lifespan and everything else is Starlette's."""

    side_prefixes: tuple[str, ...] = ()
    pipeline: Pipeline | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and self.pipeline is not None \
                and not scope["path"].startswith(self.side_prefixes):
            await self.pipeline(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, store=None,
               resolver=None, contract: Contract | None = None) -> Starlette:
    settings = settings or Settings()
    settings.check()
    contract = contract or cached_contract()
    scenarios = Scenarios.load(settings.scenarios, settings.include_default_scenarios)
    check_faults(scenarios, contract)
    store = store if store is not None else open_store(settings.state)
    persisted = store.get(CLOCK_KIND, "clock")
    if clock is None:
        start = settings.clock_start
        if persisted and settings.clock != "real":
            start = max(persisted["now"], start or 0)
        clock = Clock(settings.clock, settings.time_scale, start)
    registry = Registry(scenarios.clients, parse_iso)
    ledger = Ledger(store, lambda cid: registry.clients[cid].credits if cid in registry.clients else 0)
    platform = Platform(settings=settings, contract=contract, clock=clock, store=store, registry=registry,
                        scenarios=scenarios, ledger=ledger, journal=Journal(), started_at=clock.now())
    platform.extras["persist_clock"] = lambda: store.put(CLOCK_KIND, "clock", {"now": clock.now()})
    platform.webhooks = _make_webhooks(platform, resolver)
    scheduler = Scheduler(platform)
    platform.extras["scheduler"] = scheduler
    platform.webhooks.subscribe(scheduler.poke)
    extra_control: list[Route] = []
    extra_public: list[Route] = []
    modules = load_modules()
    checks = [module.check_scenarios for module in modules if hasattr(module, "check_scenarios")]
    for check in checks:
        check(scenarios)
    for module in modules:
        platform.handlers.update(getattr(module, "HANDLERS", {}))
        platform.body_limits.update(getattr(module, "BODY_LIMITS", {}))
        if hasattr(module, "control_routes"):
            extra_control.extend(module.control_routes(platform))
        if hasattr(module, "candidate_routes"):
            extra_public.extend(module.candidate_routes(platform))
        if hasattr(module, "startup"):
            module.startup(platform)

    def reload_hook(new: Scenarios) -> None:
        """Swap in re-read scenarios only if every check passes (else ScenarioError)."""
        check_faults(new, contract)
        for check in checks:
            check(new)
        platform.scenarios = new
        for doc in new.clients:
            registry.upsert_client(doc)

    pipeline = Pipeline(platform)
    spec_yaml = SPEC_PATH.read_bytes()
    spec_json = json.dumps(contract.spec, ensure_ascii=False).encode("utf-8")

    async def openapi_yaml(request: Request) -> Response:
        return Response(spec_yaml, media_type="application/yaml")

    async def openapi_json(request: Request) -> Response:
        return Response(spec_json, media_type="application/json")

    async def live(request: Request) -> Response:
        """Liveness of the mock process itself (container HEALTHCHECK): 200 whatever the
        simulated platform's health, and present even with --no-control."""
        return Response(b'{"status":"live"}', media_type="application/json")

    routes = [Route(LIVENESS_PATH, live, methods=["GET", "HEAD"]),
              Route("/openapi.yaml", openapi_yaml, methods=["GET"]),
              Route("/openapi.json", openapi_json, methods=["GET"])] + extra_public
    if settings.control:
        routes += build_control_routes(platform, scheduler, reload_hook, extra_control)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        scheduler.start()
        try:
            yield
        finally:
            await scheduler.stop()
            platform.extras["persist_clock"]()

    app = MockApp(routes=routes, lifespan=lifespan)
    app.router.default = pipeline
    app.pipeline = pipeline
    app.side_prefixes = tuple(sorted({"/openapi.", CONTROL_PREFIX} | {_prefix(r.path) for r in extra_public}))
    app.state.platform = platform
    app.state.pipeline = pipeline
    return app
