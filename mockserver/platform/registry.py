"""Clients and API keys (AUTH-1..7): who a key belongs to, what the client may do.

Built from the scenario files' `clients:` section; the control API can add or patch clients
and keys at runtime. Credit balances live in the ledger (`credits.py`), not here. With a
shared store the registry is one process's view: `export`/`restore` carry it between
processes (`shared_state`).
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
from dataclasses import dataclass, field
from typing import Any

MODULE_PERMISSIONS = ("speech", "interview", "cvdeepmatch", "cvdeepsearch")
DEFAULT_WEBHOOK_SECRET = "whsec_zenhire_mock_default_signing_secret"


@dataclass
class ApiKey:
    key: str
    client_id: str
    label: str = ""
    active: bool = True
    expires_at: float | None = None
    ip_allow_list: list[str] = field(default_factory=list)
    project: str | None = None
    rate_limit_per_minute: int | None = None
    max_concurrent_requests: int | None = None

    def allows_ip(self, host: str | None) -> bool:
        if not self.ip_allow_list:
            return True
        if not host:
            return False
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(addr in ipaddress.ip_network(net, strict=False) for net in self.ip_allow_list)

    def masked(self) -> str:
        return self.key[:10] + "…" + self.key[-4:] if len(self.key) > 16 else self.key[:4] + "…"


@dataclass
class Client:
    id: str
    name: str = ""
    active: bool = True
    permissions: list[str] = field(default_factory=lambda: list(MODULE_PERMISSIONS))
    multilingual: bool = True
    credits: int = 0
    max_concurrent_requests: int = 8
    rate_limit_per_minute: int = 500
    webhook_secret: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def secret(self) -> str:
        return self.webhook_secret or DEFAULT_WEBHOOK_SECRET


def _key_from_doc(doc: dict, client_id: str, parse_time) -> ApiKey:
    expires = doc.get("expiresAt")
    return ApiKey(
        key=doc["key"], client_id=client_id, label=doc.get("label", ""),
        active=doc.get("active", True),
        expires_at=parse_time(expires) if isinstance(expires, str) else expires,
        ip_allow_list=list(doc.get("ipAllowList", [])), project=doc.get("project"),
        rate_limit_per_minute=doc.get("rateLimitPerMinute"),
        max_concurrent_requests=doc.get("maxConcurrentRequests"))


def _client_from_doc(doc: dict) -> Client:
    return Client(
        id=doc["id"], name=doc.get("name", doc["id"]), active=doc.get("active", True),
        permissions=list(doc.get("permissions", MODULE_PERMISSIONS)),
        multilingual=doc.get("multilingual", True), credits=int(doc.get("credits", 0)),
        max_concurrent_requests=int(doc.get("maxConcurrentRequests", 8)),
        rate_limit_per_minute=int(doc.get("rateLimitPerMinute", 500)),
        webhook_secret=doc.get("webhookSecret"), settings=dict(doc.get("settings", {})))


class Registry:
    """Lookup of keys → clients, rebuilt from scenario documents plus runtime patches."""

    def __init__(self, client_docs: list[dict], parse_time) -> None:
        self._parse_time = parse_time
        self._base_docs = [copy.deepcopy(d) for d in client_docs]
        self.clients: dict[str, Client] = {}
        self.keys: dict[str, ApiKey] = {}
        self.key_docs: dict[str, list[dict]] = {}
        for doc in self._base_docs:
            self.upsert_client(doc)

    def upsert_client(self, doc: dict) -> Client:
        client = _client_from_doc(doc)
        old = self.clients.get(client.id)
        if old is not None and "webhookSecret" not in doc:
            client.webhook_secret = old.webhook_secret
        self.clients[client.id] = client
        for key_doc in doc.get("keys", []):
            self.add_key(client.id, key_doc)
        return client

    def patch_client(self, client_id: str, patch: dict) -> Client:
        client = self.clients[client_id]
        mapping = {"name": "name", "active": "active", "permissions": "permissions",
                   "multilingual": "multilingual", "maxConcurrentRequests": "max_concurrent_requests",
                   "rateLimitPerMinute": "rate_limit_per_minute", "webhookSecret": "webhook_secret"}
        for src, attr in mapping.items():
            if src in patch:
                setattr(client, attr, patch[src])
        return client

    def add_key(self, client_id: str, key_doc: dict) -> ApiKey:
        key = _key_from_doc(key_doc, client_id, self._parse_time)
        self.keys[key.key] = key
        return key

    def patch_key(self, key_value: str, patch: dict) -> ApiKey:
        key = self.keys[key_value]
        if "active" in patch:
            key.active = bool(patch["active"])
        if "expiresAt" in patch:
            key.expires_at = self._parse_time(patch["expiresAt"]) if patch["expiresAt"] else None
        if "ipAllowList" in patch:
            key.ip_allow_list = list(patch["ipAllowList"] or [])
        if "project" in patch:
            key.project = patch["project"]
        if "rateLimitPerMinute" in patch:
            key.rate_limit_per_minute = patch["rateLimitPerMinute"]
        if "maxConcurrentRequests" in patch:
            key.max_concurrent_requests = patch["maxConcurrentRequests"]
        return key

    def rate_limit(self, key: ApiKey) -> int:
        return key.rate_limit_per_minute or self.clients[key.client_id].rate_limit_per_minute

    def concurrency(self, key: ApiKey) -> int:
        return key.max_concurrent_requests or self.clients[key.client_id].max_concurrent_requests

    def export(self) -> dict:
        """Every client and key as plain documents (the shared configuration, issue #15)."""
        return {"clients": [dataclasses.asdict(c) for c in self.clients.values()],
                "keys": [dataclasses.asdict(k) for k in self.keys.values()]}

    def restore(self, state: dict) -> None:
        """Replace every client and key with those of ``export`` (another process's)."""
        self.clients = {doc["id"]: Client(**copy.deepcopy(doc)) for doc in state["clients"]}
        self.keys = {doc["key"]: ApiKey(**copy.deepcopy(doc)) for doc in state["keys"]}

    def describe_keys(self) -> list[dict]:
        out = []
        for key in self.keys.values():
            client = self.clients.get(key.client_id)
            out.append({"key": key.key, "client": key.client_id, "label": key.label,
                        "permissions": client.permissions if client else [],
                        "project": key.project})
        return out
