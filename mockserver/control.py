"""The control API under `/__mock` (documented in `data/control-openapi.yaml`).

Moves the virtual clock, resets state, reads the request journal and the webhook delivery
log, edits clients/keys/credits at runtime, reloads scenarios and overrides health checks.
On by default for local use; `--no-control` removes it and `--control-token` protects it.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .clock import parse_iso
from .control_journal import journal_entry, journal_page
from .platform.context import Platform
from .pipeline import dumps
from .scenarios import ScenarioError, Scenarios

CONTROL_PREFIX = "/__mock"


def _json(status: int, body: Any) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


def _error(platform: Platform, status: int, code: str, message: str) -> Response:
    return _json(status, {"error": {"code": code, "message": message, "timestamp": platform.clock.iso()}})


async def _body(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def build_control_routes(platform: Platform, scheduler, reload_hook: Callable[[Scenarios], None],
                         extra_routes: list[Route]) -> list[Route]:
    token = platform.settings.control_token

    def guarded(fn):
        async def endpoint(request: Request) -> Response:
            if token and request.headers.get("x-mock-control-token") != token:
                return _error(platform, 401, "CONTROL_TOKEN_REQUIRED",
                              "This control API is protected: send X-Mock-Control-Token.")
            try:
                return await fn(request)
            except ScenarioError as exc:
                return _error(platform, 400, "INVALID_INPUT", str(exc))
            except (ValueError, TypeError, KeyError) as exc:
                return _error(platform, 400, "INVALID_INPUT", f"{type(exc).__name__}: {exc}")
        endpoint.__name__ = fn.__name__
        return endpoint

    clock = platform.clock

    async def capabilities(request: Request) -> Response:
        modules = sorted({op.permission for op in platform.contract.operations.values() if op.permission})
        return _json(200, {"mock": "zenhire-mock", "control": True, "clock": clock.describe(),
                           "modules": modules, "preview": list(platform.settings.preview),
                           "allowLocalWebhooks": platform.settings.allow_local_webhooks,
                           "webhookLog": platform.webhooks is not None,
                           "strict": platform.settings.strict})

    async def get_clock(request: Request) -> Response:
        return _json(200, clock.describe())

    async def advance(request: Request) -> Response:
        body = await _body(request)
        seconds = float(body.get("seconds", 0))
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        delivered = await scheduler.advance_to(clock.now() + seconds)
        platform.save_clock()
        scheduler.poke()
        return _json(200, dict(clock.describe(), webhookAttempts=delivered))

    async def set_clock(request: Request) -> Response:
        body = await _body(request)
        target = body["time"]
        target = parse_iso(target) if isinstance(target, str) else float(target)
        if target < clock.now():
            raise ValueError("the clock only moves forward")
        delivered = await scheduler.advance_to(target)
        platform.save_clock()
        scheduler.poke()
        return _json(200, dict(clock.describe(), webhookAttempts=delivered))

    async def reset(request: Request) -> Response:
        body = await _body(request)
        client = body.get("client")
        if client:
            if client not in platform.registry.clients:
                return _error(platform, 404, "NOT_FOUND", f"no client {client!r}")
            removed = platform.store.purge_owner(client)
            platform.journal.clear(client)
        else:
            platform.store.purge_all()
            platform.journal.clear()
            removed = None
        return _json(200, {"reset": client or "all", "removedDocuments": removed})

    async def journal(request: Request) -> Response:
        return _json(200, journal_page(platform.journal, request.query_params))

    async def journal_one(request: Request) -> Response:
        entry = journal_entry(platform.journal, request.path_params["request_id"])
        if entry is None:
            return _error(platform, 404, "NOT_FOUND", "no journal entry with this request id")
        return _json(200, entry)

    async def list_clients(request: Request) -> Response:
        reg = platform.registry
        out = []
        for client in reg.clients.values():
            account = platform.ledger.summary(client.id, clock.now(), limit=0)
            out.append({"id": client.id, "name": client.name, "active": client.active,
                        "permissions": client.permissions, "multilingual": client.multilingual,
                        "maxConcurrentRequests": client.max_concurrent_requests,
                        "rateLimitPerMinute": client.rate_limit_per_minute,
                        "creditBalance": account["creditBalance"],
                        "keys": [k for k in reg.describe_keys() if k["client"] == client.id]})
        return _json(200, {"clients": out})

    async def add_client(request: Request) -> Response:
        body = await _body(request)
        from .scenarios import parse_scenario_text
        parse_scenario_text(json.dumps({"version": 1, "clients": [body]}), "request body")
        client = platform.registry.upsert_client(body)
        return _json(201, {"id": client.id})

    async def patch_client(request: Request) -> Response:
        client_id = request.path_params["client_id"]
        if client_id not in platform.registry.clients:
            return _error(platform, 404, "NOT_FOUND", f"no client {client_id!r}")
        body = await _body(request)
        client = platform.registry.patch_client(client_id, body)
        return _json(200, {"id": client.id, "active": client.active, "permissions": client.permissions})

    async def add_key(request: Request) -> Response:
        client_id = request.path_params["client_id"]
        if client_id not in platform.registry.clients:
            return _error(platform, 404, "NOT_FOUND", f"no client {client_id!r}")
        body = await _body(request)
        key = platform.registry.add_key(client_id, body)
        return _json(201, {"key": key.key, "client": client_id})

    async def patch_key(request: Request) -> Response:
        value = request.path_params["key"]
        if value not in platform.registry.keys:
            return _error(platform, 404, "NOT_FOUND", "no such key")
        key = platform.registry.patch_key(value, await _body(request))
        return _json(200, {"key": key.key, "active": key.active})

    async def credits(request: Request) -> Response:
        client_id = request.path_params["client_id"]
        if client_id not in platform.registry.clients:
            return _error(platform, 404, "NOT_FOUND", f"no client {client_id!r}")
        body = await _body(request)
        if "balance" in body:
            platform.ledger.adjust(client_id, now=clock.now(), balance=int(body["balance"]))
        else:
            platform.ledger.adjust(client_id, now=clock.now(), delta=int(body["delta"]))
        return _json(200, platform.ledger.summary(client_id, clock.now()))

    async def webhook_secret(request: Request) -> Response:
        client_id = request.path_params["client_id"]
        if client_id not in platform.registry.clients:
            return _error(platform, 404, "NOT_FOUND", f"no client {client_id!r}")
        body = await _body(request)
        secret = body["secret"]
        if not isinstance(secret, str) or not secret.startswith("whsec_"):
            raise ValueError("secret must be a string starting with whsec_")
        platform.registry.patch_client(client_id, {"webhookSecret": secret})
        return _json(200, {"client": client_id, "secretLast4": secret[-4:]})

    async def reload_scenarios(request: Request) -> Response:
        try:
            scenarios = Scenarios.load(platform.settings.scenarios, platform.settings.include_default_scenarios)
            reload_hook(scenarios)
        except ScenarioError as exc:
            return _error(platform, 400, "INVALID_SCENARIO", str(exc))
        return _json(200, {"sources": scenarios.sources, "rules": len(scenarios.rules),
                           "faults": len(scenarios.faults), "clients": len(scenarios.clients)})

    async def deliveries(request: Request) -> Response:
        if platform.webhooks is None:
            return _json(200, {"deliveries": []})
        return _json(200, {"deliveries": platform.webhooks.deliveries(request.query_params.get("client"))})

    async def health(request: Request) -> Response:
        body = await _body(request)
        checks = body.get("checks", {})
        allowed = {"healthy", "configured", "unhealthy", "unreachable", "not_configured"}
        if not all(v in allowed for v in checks.values()):
            raise ValueError(f"check states must be one of {sorted(allowed)}")
        platform.health_overrides = dict(checks)
        return _json(200, {"checks": checks})

    async def spec(request: Request) -> Response:
        from importlib import resources
        text = resources.files("mockserver").joinpath("data/control-openapi.yaml").read_text()
        return Response(text, media_type="application/yaml")

    table = [
        ("", capabilities, ["GET"]),
        ("/openapi.yaml", spec, ["GET"]),
        ("/clock", get_clock, ["GET"]),
        ("/clock/advance", advance, ["POST"]),
        ("/clock/set", set_clock, ["POST"]),
        ("/reset", reset, ["POST"]),
        ("/journal", journal, ["GET"]),
        ("/journal/{request_id}", journal_one, ["GET"]),
        ("/clients", list_clients, ["GET"]),
        ("/clients", add_client, ["POST"]),
        ("/clients/{client_id}", patch_client, ["PATCH"]),
        ("/clients/{client_id}/keys", add_key, ["POST"]),
        ("/keys/{key}", patch_key, ["PATCH"]),
        ("/clients/{client_id}/credits", credits, ["POST"]),
        ("/clients/{client_id}/webhook-secret", webhook_secret, ["PUT"]),
        ("/scenarios/reload", reload_scenarios, ["POST"]),
        ("/webhooks/deliveries", deliveries, ["GET"]),
        ("/health", health, ["PUT"]),
    ]
    from .control_grades import grade_routes
    routes = [Route(CONTROL_PREFIX + path, guarded(fn), methods=methods) for path, fn, methods in table]
    from . import control_console, control_deliveries, control_runs, control_tenants  # the console's views
    extra_routes = [*control_runs.routes(platform), *control_deliveries.routes(platform),
                    *control_tenants.routes(platform), *grade_routes(platform), *extra_routes]
    routes += control_console.routes(CONTROL_PREFIX)  # the page itself is not token-guarded
    for route in extra_routes:
        routes.append(Route(CONTROL_PREFIX + route.path, guarded(route.endpoint), methods=list(route.methods or [])))
    return routes
