"""The app factory: builds the Starlette application from settings, the contract and the
scenario files, wiring every module's handlers into the one request pipeline."""

from __future__ import annotations

import contextlib
import json
import logging
from functools import lru_cache
from typing import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .clock import Clock, parse_iso
from .config import LIVENESS_PATH, Settings
from .contract import SPEC_PATH, Contract
from .grading.probes import install as install_probes
from .control import CONTROL_PREFIX, build_control_routes
from .modules import MODULES
from .pipeline import Pipeline
from .platform.api_module import ApiModule, check_modules
from .platform.context import CLOCK_KIND, Platform
from .platform.credits import Ledger
from .platform.ids import Ids
from .platform.journal import Journal
from .platform.webhook_urls import ScenarioDnsResolver
from .platform.registry import DEFAULT_WEBHOOK_SECRET, Registry
from .platform.outage import OutageLog
from .platform.shared_state import SharedState
from .scenarios import ScenarioError, Scenarios
from .scheduler import Scheduler
from .store import Store, open_store
from .platform import kept_views
from .webhooks.admission import Resolver, system_resolver
from .webhooks.engine import WebhookEngine

log = logging.getLogger("zenhire_mock")


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


def make_resolver(current_scenarios: Callable[[], Scenarios], override: Resolver | None) -> ScenarioDnsResolver:
    """The webhook resolver: the scenarios in force (re-read after a reload) put their DNS
    table in front of a test's own resolver, else the operating system's."""
    return ScenarioDnsResolver(current_scenarios, fallback=override or system_resolver)


def make_webhooks(platform: Platform) -> WebhookEngine:
    registry = platform.registry

    def secret_for(client_id: str) -> str:
        client = registry.clients.get(client_id)
        return client.secret() if client else DEFAULT_WEBHOOK_SECRET

    return WebhookEngine(platform.clock, resolver=platform.resolver, allow_local=platform.settings.allow_local_webhooks,
                         secret_for=secret_for, store=platform.store,
                         timeout=platform.settings.webhook_timeout, new_id=platform.ids.delivery_id)


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


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, store: Store | None = None,
               resolver: Resolver | None = None, contract: Contract | None = None,
               modules: tuple[ApiModule, ...] = MODULES) -> Starlette:
    """The composition root: every service is built here, once, and handed to the modules
    through the typed `Platform`. ``modules`` defaults to every API module (tests of the
    pipeline pass toy ones with a toy contract)."""
    settings = settings or Settings()
    settings.check()
    contract = contract or cached_contract()
    check_modules(modules, contract)
    scenarios = Scenarios.load(settings.scenarios, settings.include_default_scenarios)
    check_faults(scenarios, contract)
    for module in modules:
        module.check_scenarios(scenarios)
    store = kept_views.watch(store if store is not None else open_store(settings.state, settings.store))
    persisted = store.get(CLOCK_KIND, "clock")
    if clock is None:
        start = settings.clock_start
        if persisted and settings.clock != "real":
            start = max(persisted["now"], start or 0)
        clock = Clock(settings.clock, settings.time_scale, start)
    ids = Ids(settings.seed, replica=store.incr("replicas") if store.shared else 1)
    registry = Registry(scenarios.clients, parse_iso)
    ledger = Ledger(store, lambda cid: registry.clients[cid].credits if cid in registry.clients else 0,
                    new_txn_id=ids.txn_id)
    platform = Platform(settings=settings, contract=contract, clock=clock, ids=ids, store=store, registry=registry,
                        scenarios=scenarios, ledger=ledger, journal=Journal.for_store(store, settings.journal_size), started_at=clock.now(),
                        resolver=make_resolver(lambda: platform.scenarios, resolver))
    platform.outage = OutageLog(getattr(store, "url", None) or getattr(settings, "store", None) or settings.state)
    platform.webhooks = make_webhooks(platform)
    install_probes(platform)
    scheduler = platform.scheduler = Scheduler(platform)
    platform.webhooks.subscribe(scheduler.poke)
    extra_control: list[Route] = []
    extra_public: list[Route] = []
    for module in modules:
        platform.handlers.update(module.handlers)
        platform.body_limits.update(module.body_limits)
        platform.module_of_tag[module.tag] = module.name
        if module.state is not None:
            platform.module_state[module.name] = module.state(platform)
    for module in modules:
        if module.control_routes is not None:
            extra_control.extend(module.control_routes(platform))
        if module.public_routes is not None:
            extra_public.extend(module.public_routes(platform))
        if module.startup is not None:
            module.startup(platform)

    def reload_hook(new: Scenarios) -> None:
        """Swap in re-read scenarios only if every check passes (else ScenarioError)."""
        check_faults(new, contract)
        for module in modules:
            module.check_scenarios(new)
        platform.scenarios = new
        for doc in new.clients:
            registry.upsert_client(doc)

    if store.shared:  # one clock and one configuration with the other processes (issue #15)
        shared = platform.shared = SharedState(platform)

        def reload_here() -> None:
            try:
                reload_hook(Scenarios.load(settings.scenarios, settings.include_default_scenarios))
            except ScenarioError as exc:  # this process's files: keep the scenarios in force
                log.error("scenario reload made by another process failed here: %s", exc)

        shared.reload_scenarios = reload_here
        shared.join()
        platform.started_at = clock.now()
        platform.sync_hooks.append(shared.refresh)

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
        routes += build_control_routes(platform, reload_hook, extra_control)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        scheduler.start()
        try:
            yield
        finally:
            await scheduler.stop()
            platform.save_clock()
            platform.journal.flush()

    app = MockApp(routes=routes, lifespan=lifespan)
    app.router.default = pipeline
    app.pipeline = pipeline
    app.side_prefixes = tuple(sorted({"/openapi.", CONTROL_PREFIX} | {_prefix(r.path) for r in extra_public}))
    app.state.platform = platform
    app.state.pipeline = pipeline
    return app
