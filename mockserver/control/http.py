"""What every control-API resource shares: JSON replies through the one JSON writer, the
platform's error envelope (`{"error": {code, message, timestamp}}`), reading a JSON-object
body, typed field reads that answer 400 naming the field, and the token guard (which also brings
a shared store's state up to date before each request and answers 503 INTERNAL_ERROR with
Retry-After when the store cannot be reached)."""

from __future__ import annotations

import json
import math
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from ..json_writer import api_json
from ..platform.outage import MESSAGE as STORE_DOWN_MESSAGE, RETRY_AFTER_SECONDS as STORE_RETRY_AFTER
from ..scenarios import ScenarioError
from ..store.base import StoreUnavailable

TOKEN_HEADER = "x-mock-control-token"
# The mock's own pages (the console, the candidate page): never cached, no referrer, scripts
# and styles from the page's own origin only.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
}


class ControlError(Exception):
    """A refused control request: status + envelope code + message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad_input(message: str) -> ControlError:
    return ControlError(400, "INVALID_INPUT", message)


def not_found(message: str) -> ControlError:
    return ControlError(404, "NOT_FOUND", message)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(api_json(body), status_code=status, media_type="application/json", headers=headers)


def error_response(platform, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "timestamp": platform.clock.iso()}}
    return json_response(status, body, headers)


async def read_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object ({} when empty); 400 for anything else."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise bad_input("the body must be JSON") from None
    if not isinstance(data, dict):
        raise bad_input("the body must be a JSON object")
    return data


def number(body: dict, name: str, *, default: float | None = None) -> float:
    value = body.get(name, default)
    if value is None:
        raise bad_input(f"{name} is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad_input(f"{name} must be a number, not {value!r}")
    return float(value)


def whole_number(body: dict, name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_input(f"{name} must be a whole number, not {value!r}")
    return value


def text(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise bad_input(f"{name} must be a string, not {value!r}")
    return value


Endpoint = Callable[[Request], Awaitable[Response]]


def guard(platform) -> Callable[[Endpoint], Endpoint]:
    """Wrap an endpoint: the control token when one is set, and every refusal (a
    `ControlError`; a `ScenarioError` in a client/key document or a `ValueError` from parsing
    a parameter, both 400 INVALID_INPUT) as the error envelope."""
    token = platform.settings.control_token

    def wrap(fn: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            if token and request.headers.get(TOKEN_HEADER) != token:
                return error_response(platform, 401, "CONTROL_TOKEN_REQUIRED",
                                      "This control API is protected: send X-Mock-Control-Token.")
            try:
                platform.sync()  # a shared store: this process's views brought up to date first
                response = await fn(request)
            except ControlError as exc:
                return error_response(platform, exc.status, exc.code, exc.message)
            except (ScenarioError, ValueError) as exc:  # a value the endpoint cannot take
                return error_response(platform, 400, "INVALID_INPUT", str(exc))
            except StoreUnavailable as exc:
                platform.outage.failed(exc)
                return error_response(platform, 503, "INTERNAL_ERROR", STORE_DOWN_MESSAGE,
                                      {"Retry-After": str(STORE_RETRY_AFTER)})
            except TimeoutError as exc:  # a store lock held too long by another process
                return error_response(platform, 503, "INTERNAL_ERROR", f"{exc}; retry",
                                      {"Retry-After": str(STORE_RETRY_AFTER)})
            platform.outage.succeeded()
            return response
        endpoint.__name__ = getattr(fn, "__name__", "endpoint")
        return endpoint

    return wrap
