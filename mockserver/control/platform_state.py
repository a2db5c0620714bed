"""The mock as a whole: what it offers (`GET /__mock`), its own contract
(`GET /__mock/openapi.yaml`), resetting state (all, or one client's), reloading the scenario
files, and overriding the simulated health checks."""

from __future__ import annotations

from importlib import resources

from starlette.responses import Response
from starlette.routing import Route

from ..scenarios import ScenarioError, Scenarios
from .http import bad_input, error_response, guard, json_response, not_found, read_object

HEALTH_STATES = {"healthy", "configured", "unhealthy", "unreachable", "not_configured"}


def routes(platform, reload_hook) -> list[Route]:
    settings = platform.settings

    async def capabilities(request):
        modules = sorted({op.permission for op in platform.contract.operations.values() if op.permission})
        return json_response(200, {"mock": "zenhire-mock", "control": True, "clock": platform.clock.describe(),
                                   "modules": modules, "preview": list(settings.preview),
                                   "allowLocalWebhooks": settings.allow_local_webhooks,
                                   "webhookLog": platform.webhooks is not None, "strict": settings.strict})

    async def spec(request):
        text = resources.files("mockserver").joinpath("data/control-openapi.yaml").read_text("utf-8")
        return Response(text, media_type="application/yaml")

    async def reset(request):
        client = (await read_object(request)).get("client")
        if client:
            if client not in platform.registry.clients:
                raise not_found(f"no client {client!r}")
            removed = platform.store.purge_owner(client)
            platform.journal.clear(client)
        else:
            platform.store.purge_all()
            platform.journal.clear()
            removed = None
            if platform.shared is not None:  # the shared clock and configuration were purged too
                platform.shared.republish()
        return json_response(200, {"reset": client or "all", "removedDocuments": removed})

    async def reload_scenarios(request):
        try:
            scenarios = Scenarios.load(settings.scenarios, settings.include_default_scenarios)
            with platform.change(reload=True):  # other processes re-read their files too
                reload_hook(scenarios)
        except ScenarioError as exc:
            return error_response(platform, 400, "INVALID_SCENARIO", str(exc))
        return json_response(200, {"sources": scenarios.sources, "rules": len(scenarios.rules),
                                   "faults": len(scenarios.faults), "clients": len(scenarios.clients)})

    async def health(request):
        checks = (await read_object(request)).get("checks", {})
        if not isinstance(checks, dict) or not all(isinstance(k, str) and v in HEALTH_STATES
                                                   for k, v in checks.items()):
            raise bad_input(f"checks maps a check name to one of {sorted(HEALTH_STATES)}")
        with platform.change():
            platform.health_overrides = dict(checks)
        return json_response(200, {"checks": checks})

    wrap = guard(platform)
    return [Route("/", wrap(capabilities), methods=["GET"]),  # "/" is the prefix itself: /__mock
            Route("/openapi.yaml", wrap(spec), methods=["GET"]),
            Route("/reset", wrap(reset), methods=["POST"]),
            Route("/scenarios/reload", wrap(reload_scenarios), methods=["POST"]),
            Route("/health", wrap(health), methods=["PUT"])]
