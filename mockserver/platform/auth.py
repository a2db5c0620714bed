"""Authentication and authorisation of one request (AUTH-1..5).

Order: key present (401 MISSING_API_KEY) → known and active (401 INVALID_API_KEY) →
not expired (401 API_KEY_EXPIRED) → client active (401 CLIENT_INACTIVE) — these four are
middleware-level, so their envelope carries no requestId (AUTH-2) — then the key's IP
allow-list (403 IP_NOT_ALLOWED) and the module permission (403 MISSING_PERMISSION).
"""

from __future__ import annotations

from starlette.requests import Request

from ..errors import ApiError
from .registry import ApiKey, Client, Registry


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip() or None
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return auth.strip() if auth.strip().startswith("zh_") else ""
    return None


def authenticate(request: Request, registry: Registry, now: float) -> tuple[ApiKey, Client]:
    value = presented_key(request)
    if value is None:
        raise ApiError(401, "MISSING_API_KEY", include_request_id=False)
    key = registry.keys.get(value)
    if key is None or not key.active:
        raise ApiError(401, "INVALID_API_KEY", include_request_id=False)
    if key.expires_at is not None and key.expires_at <= now:
        raise ApiError(401, "API_KEY_EXPIRED", include_request_id=False)
    client = registry.clients.get(key.client_id)
    if client is None or not client.active:
        raise ApiError(401, "CLIENT_INACTIVE", include_request_id=False)
    return key, client


def authorise(request: Request, key: ApiKey, client: Client, permission: str | None) -> None:
    host = request.client.host if request.client else None
    if not key.allows_ip(host):
        raise ApiError(403, "IP_NOT_ALLOWED")
    if permission and permission not in client.permissions:
        raise ApiError(403, "MISSING_PERMISSION",
                       message=f"This API key's client does not have the '{permission}' permission.")
