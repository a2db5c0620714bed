"""Tenants at runtime: list clients (with keys and balances), add or patch a client, add or
patch a key, set credits, rotate a client's webhook secret. Every client and key document
is checked against the scenario format first, so a bad request is a 400 that leaves the
stored client untouched (never a half-applied patch). Each change runs in `platform.change()`,
which publishes it to the other processes of a shared store."""

from __future__ import annotations

import json

from starlette.routing import Route

from ..scenarios import parse_scenario_text
from .http import bad_input, guard, json_response, not_found, read_object, text, whole_number

CLEARABLE_KEY_FIELDS = ("expiresAt", "ipAllowList", "project")


def _check_client_doc(doc: dict) -> None:
    parse_scenario_text(json.dumps({"version": 1, "clients": [doc]}), "request body")


def _check_key_patch(key_value: str, patch: dict) -> None:
    """The patch applied to a minimal key document must still be a valid key (``null``
    clears `expiresAt`, `ipAllowList` and `project`)."""
    if "key" in patch:
        raise bad_input("a key's value cannot be changed; add a new key instead")
    present = {k: v for k, v in patch.items() if not (k in CLEARABLE_KEY_FIELDS and v is None)}
    _check_client_doc({"id": "patch-check", "keys": [{"key": key_value, **present}]})


def routes(platform) -> list[Route]:
    registry, ledger, clock = platform.registry, platform.ledger, platform.clock

    def client_of(request):
        client_id = request.path_params["client_id"]
        if client_id not in registry.clients:
            raise not_found(f"no client {client_id!r}")
        return client_id

    async def list_clients(request):
        out = []
        keys = registry.describe_keys()
        for client in registry.clients.values():
            account = ledger.summary(client.id, clock.now(), limit=0)
            out.append({"id": client.id, "name": client.name, "active": client.active,
                        "permissions": client.permissions, "multilingual": client.multilingual,
                        "maxConcurrentRequests": client.max_concurrent_requests,
                        "rateLimitPerMinute": client.rate_limit_per_minute,
                        "creditBalance": account["creditBalance"],
                        "keys": [k for k in keys if k["client"] == client.id]})
        return json_response(200, {"clients": out})

    async def add_client(request):
        body = await read_object(request)
        _check_client_doc(body)
        with platform.change():
            client = registry.upsert_client(body)
        return json_response(201, {"id": client.id})

    async def patch_client(request):
        client_id = client_of(request)
        body = await read_object(request)
        if "id" in body or "keys" in body:
            raise bad_input("patch a client's own fields; keys have their own endpoints and the id is fixed")
        _check_client_doc({"id": client_id, **body})
        with platform.change():
            client = registry.patch_client(client_id, body)
        return json_response(200, {"id": client.id, "active": client.active, "permissions": client.permissions})

    async def add_key(request):
        client_id = client_of(request)
        body = await read_object(request)
        _check_client_doc({"id": client_id, "keys": [body]})
        with platform.change():
            key = registry.add_key(client_id, body)
        return json_response(201, {"key": key.key, "client": client_id})

    async def patch_key(request):
        value = request.path_params["key"]
        if value not in registry.keys:
            raise not_found("no such key")
        body = await read_object(request)
        _check_key_patch(value, body)
        with platform.change():
            key = registry.patch_key(value, body)
        return json_response(200, {"key": key.key, "active": key.active})

    async def credits(request):
        client_id = client_of(request)
        body = await read_object(request)
        if "balance" in body:
            ledger.adjust(client_id, now=clock.now(), balance=whole_number(body, "balance"))
        else:
            ledger.adjust(client_id, now=clock.now(), delta=whole_number(body, "delta"))
        return json_response(200, ledger.summary(client_id, clock.now()))

    async def webhook_secret(request):
        client_id = client_of(request)
        secret = text(await read_object(request), "secret")
        if not secret.startswith("whsec_"):
            raise bad_input("secret must be a string starting with whsec_")
        _check_client_doc({"id": client_id, "webhookSecret": secret})
        with platform.change():
            registry.patch_client(client_id, {"webhookSecret": secret})
        return json_response(200, {"client": client_id, "secretLast4": secret[-4:]})

    wrap = guard(platform)
    return [Route("/clients", wrap(list_clients), methods=["GET"]),
            Route("/clients", wrap(add_client), methods=["POST"]),
            Route("/clients/{client_id}", wrap(patch_client), methods=["PATCH"]),
            Route("/clients/{client_id}/keys", wrap(add_key), methods=["POST"]),
            Route("/keys/{key}", wrap(patch_key), methods=["PATCH"]),
            Route("/clients/{client_id}/credits", wrap(credits), methods=["POST"]),
            Route("/clients/{client_id}/webhook-secret", wrap(webhook_secret), methods=["PUT"])]
