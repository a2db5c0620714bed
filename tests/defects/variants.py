"""The deviant variants of the mock: each breaks exactly one catalog behaviour or one schema
rule, so the contract suite's power can be measured (tests/defects/test_mutation_score.py).

A ``Defect`` names the behaviour it breaks, says how in one line, and wraps the real app
(``middleware.Deviation``) — these variants exist only here, never in the product.
``requires`` lists operations the suite must be able to exercise to observe the defect;
a defect whose operations the running mock does not simulate yet is left out of the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .middleware import Deviation, Exchange

PRIMARY_KEY = "zh_api_test_full_access_0001"
HEALTH = "/api/v1/health"
CREDITS = "/api/v1/credits"


@dataclass(frozen=True)
class Defect:
    name: str
    breaks: str
    description: str
    build: Callable
    requires: tuple[str, ...] = ()


def _is(path: str, method: str = "GET") -> Callable[[Exchange], bool]:
    return lambda ex: ex.path == path and ex.method == method


def _api(ex: Exchange) -> bool:
    return ex.path.startswith("/api/")


def _error_with(code: str) -> Callable:
    """on_response helper factory: apply ``fn`` to envelopes whose code is ``code``."""
    def wrap(fn: Callable[[Exchange, dict], None]) -> Callable[[Exchange], None]:
        def on_response(ex: Exchange) -> None:
            err = ex.error
            if err is not None and err.get("code") == code:
                fn(ex, err)
        return on_response
    return wrap


def _on_errors(fn: Callable[[Exchange, dict], None]) -> Callable[[Exchange], None]:
    def on_response(ex: Exchange) -> None:
        err = ex.error
        if ex.status >= 400 and err is not None:
            fn(ex, err)
            body = ex.json()
            if isinstance(body, dict) and "error" in body:
                body["error"] = err
                ex.set_json(body)
    return on_response


def _edit_json(fn: Callable[[Exchange, dict], None], statuses: tuple[int, ...] = (200,)) -> Callable[[Exchange], None]:
    """on_response: edit the JSON body of responses with one of ``statuses`` (errors untouched)."""
    def on_response(ex: Exchange) -> None:
        body = ex.json()
        if ex.status in statuses and isinstance(body, dict):
            fn(ex, body)
            ex.set_json(body)
    return on_response


def wrap(**kwargs) -> Callable:
    return lambda app: Deviation(app, **kwargs)


# --------------------------------------------------------------------------- health (HLTH-1, A7)

def _health_requires_key(ex: Exchange) -> None:
    if not ex.key:
        ex.status = 401
        ex.set_json({"error": {"code": "MISSING_API_KEY", "message": "No API key.",
                               "timestamp": "2026-04-21T12:34:56.789Z"}})


def _health_503_as_envelope(ex: Exchange) -> None:
    if ex.status == 503:
        ex.set_json({"error": {"code": "SERVICE_UNAVAILABLE", "message": "A check failed.",
                               "timestamp": ex.json()["timestamp"]}})


def _health_always_200(ex: Exchange) -> None:
    ex.status = 200


def _not_configured_is_healthy(ex: Exchange) -> None:
    body = ex.json()
    states = {c["status"] for c in body["checks"].values()}
    if ex.status == 503 and states <= {"healthy", "configured", "not_configured"}:
        body["status"] = "healthy"
        ex.status = 200
        ex.set_json(body)


def _timestamp_seconds_only(ex: Exchange, body: dict) -> None:
    body["timestamp"] = body["timestamp"][:19] + "Z"


def _unknown_check_state(ex: Exchange, body: dict) -> None:
    for check in body.get("checks", {}).values():
        if check["status"] == "healthy":
            check["status"] = "ok"


def _api_health_alias(ex: Exchange) -> None:
    if ex.path == "/api/health":
        ex.path = HEALTH


# --------------------------------------------------------------------------- credits (CRED-1)

def _available_ignores_holds(ex: Exchange, body: dict) -> None:
    body["heldCredits"] = body["heldCredits"] + 5
    body["availableCredits"] = body["creditBalance"]


def _transactions_oldest_first(ex: Exchange, body: dict) -> None:
    body["recentTransactions"] = list(reversed(body["recentTransactions"]))


def _credits_of_another_tenant(ex: Exchange) -> None:
    """A valid key of any other client reads the primary tenant's account."""
    key = _registry_key(ex)
    registry = ex.platform.registry
    primary = registry.keys[PRIMARY_KEY]
    valid = key is not None and key.active and registry.clients[key.client_id].active and \
        (key.expires_at is None or key.expires_at > ex.platform.clock.now()) and not key.ip_allow_list
    if valid and key.client_id != primary.client_id:
        ex.request_headers.pop("authorization", None)
        ex.request_headers["x-api-key"] = PRIMARY_KEY


class _StaleCredits:
    """Answers every key's first credits body forever (a cache that never invalidates)."""

    def __init__(self) -> None:
        self.first: dict[str, bytes] = {}

    def __call__(self, ex: Exchange) -> None:
        if ex.status == 200:
            ex.body = self.first.setdefault(ex.key or "", ex.body)


def _usage_total_off(ex: Exchange, body: dict) -> None:
    body["usage"]["totalCharged"] += 1


def _extra_credit_field(ex: Exchange, body: dict) -> None:
    body["plan"] = "pro"


def _balance_as_text(ex: Exchange, body: dict) -> None:
    body["creditBalance"] = str(body["creditBalance"])


def _negative_holds(ex: Exchange, body: dict) -> None:
    body["heldCredits"] = -1
    body["availableCredits"] = body["creditBalance"] + 1


def _balance_after_off(ex: Exchange, body: dict) -> None:
    if body.get("recentTransactions"):
        body["recentTransactions"][0]["balanceAfter"] += 1


# --------------------------------------------------------------------------- auth (AUTH-1..5)

def _registry_key(ex: Exchange):
    return ex.platform.registry.keys.get(ex.key or "")


def _accept_inactive_keys(ex: Exchange) -> None:
    key = _registry_key(ex)
    if key is not None:
        key.active = True


def _accept_expired_keys(ex: Exchange) -> None:
    key = _registry_key(ex)
    if key is not None:
        key.expires_at = None


def _accept_disabled_clients(ex: Exchange) -> None:
    key = _registry_key(ex)
    if key is not None:
        ex.platform.registry.clients[key.client_id].active = True


def _ignore_ip_allow_lists(ex: Exchange) -> None:
    key = _registry_key(ex)
    if key is not None:
        key.ip_allow_list = []


def _reject_legacy_prefixes(ex: Exchange) -> None:
    if ex.key and not ex.key.startswith("zh_api_"):
        ex.request_headers["x-api-key"] = "zh_api_rejected_legacy_prefix"
        ex.request_headers.pop("authorization", None)


def _drop_bearer(ex: Exchange) -> None:
    ex.request_headers.pop("authorization", None)


def _empty_key_accepted(ex: Exchange) -> None:
    if ex.request_headers.get("x-api-key") == "":
        ex.request_headers["x-api-key"] = PRIMARY_KEY


def _set_status(status: int) -> Callable[[Exchange, dict], None]:
    def fn(ex: Exchange, err: dict) -> None:
        ex.status = status
    return fn


def _set_code(code: str) -> Callable[[Exchange, dict], None]:
    def fn(ex: Exchange, err: dict) -> None:
        err["code"] = code
        ex.set_json({"error": err})
    return fn


def _add_request_id(ex: Exchange, err: dict) -> None:
    err["requestId"] = "req_1705412345678_abc123"
    ex.set_json({"error": err})


# --------------------------------------------------------------------------- envelope (ERR-1, ERR-2, JSON-1)

def _no_millis(ex: Exchange, err: dict) -> None:
    err["timestamp"] = err["timestamp"][:19] + "Z"


def _offset_not_z(ex: Exchange, err: dict) -> None:
    err["timestamp"] = err["timestamp"][:23] + "+00:00"


def _drop_message(ex: Exchange, err: dict) -> None:
    err.pop("message", None)


def _unwrapped(ex: Exchange) -> None:
    err = ex.error
    if ex.status >= 400 and err is not None:
        ex.set_json(err)


def _extra_error_field(ex: Exchange, err: dict) -> None:
    err["status"] = ex.status


def _errors_as_text(ex: Exchange) -> None:
    if ex.status >= 400:
        ex.headers["content-type"] = "text/plain; charset=utf-8"


def _bad_request_id(ex: Exchange, err: dict) -> None:
    if "requestId" in err:
        err["requestId"] = "request-" + err["requestId"][-6:]


def _constant_request_id(ex: Exchange, err: dict) -> None:
    if "requestId" in err:
        err["requestId"] = "req_1705412345678_abc123"


def _lowercase_code(ex: Exchange, err: dict) -> None:
    err["code"] = err["code"].lower()


def _stale_error_time(ex: Exchange, err: dict) -> None:
    err["timestamp"] = "2024-01-01T00:00:00.000Z"


def _unknown_route_200(ex: Exchange) -> None:
    err = ex.error
    if ex.status == 404 and err is not None and ex.path.startswith("/api/v1/no-such"):
        ex.status = 200
        ex.set_json({})


def _wrong_method_404(ex: Exchange) -> None:
    if ex.status == 405:
        ex.status = 404
        err = ex.error or {}
        err["code"] = "NOT_FOUND"
        ex.set_json({"error": err})


def _pretty_json(ex: Exchange) -> None:
    body = ex.json()
    if ex.status < 300 and body is not None:
        ex.set_json(body, indent=2)


# --------------------------------------------------------------------------- module-level (need submit/poll ops)

def _no_fields(ex: Exchange, err: dict) -> None:
    if ex.status == 400:
        err.pop("details", None)


def _retry_after_off_by_one(ex: Exchange) -> None:
    if ex.status == 429 and "retry-after" in ex.headers:
        ex.headers["retry-after"] = str(int(ex.headers["retry-after"]) + 1)


def _retry_after_missing(ex: Exchange) -> None:
    ex.headers.pop("retry-after", None)


def _no_submit_limit(ex: Exchange) -> None:
    key = _registry_key(ex)
    if key is not None:
        key.rate_limit_per_minute = 10 ** 6


def _unknown_id_200(ex: Exchange) -> None:
    err = ex.error
    unknown = err is not None and err.get("code") in ("REQUEST_NOT_FOUND", "NOT_FOUND")
    if ex.method == "GET" and ex.status == 404 and unknown and not ex.path.startswith("/api/v1/no-such"):
        ex.status = 200
        ex.set_json({"id": ex.path.rsplit("/", 1)[-1], "status": "processing"})


DEFECTS: list[Defect] = [
    # health
    Defect("health-requires-a-key", "HLTH-1", "GET /api/v1/health answers 401 without a key",
           wrap(on_response=_health_requires_key, when=_is(HEALTH))),
    Defect("health-503-is-an-error-envelope", "A7", "an unhealthy check answers the error envelope, not a health body",
           wrap(on_response=_health_503_as_envelope, when=_is(HEALTH))),
    Defect("health-always-200", "HLTH-1", "health answers 200 even when a check is unreachable",
           wrap(on_response=_health_always_200, when=_is(HEALTH))),
    Defect("health-not-configured-counts-as-healthy", "HLTH-1", "a not_configured check keeps health at 200",
           wrap(on_response=_not_configured_is_healthy, when=_is(HEALTH))),
    Defect("health-timestamp-without-milliseconds", "HLTH-1", "the health timestamp drops its milliseconds",
           wrap(on_response=_edit_json(_timestamp_seconds_only, (200, 503)), when=_is(HEALTH))),
    Defect("health-check-state-outside-the-enum", "HLTH-1", "checks report `ok` instead of `healthy`",
           wrap(on_response=_edit_json(_unknown_check_state, (200, 503)), when=_is(HEALTH))),
    Defect("api-health-alias-served", "HLTH-1", "/api/health is served as a second health path",
           wrap(on_request=_api_health_alias, when=lambda ex: ex.path == "/api/health")),
    # credits
    Defect("credits-available-ignores-holds", "CRED-1", "availableCredits equals the balance despite holds",
           wrap(on_response=_edit_json(_available_ignores_holds), when=_is(CREDITS))),
    Defect("credits-transactions-oldest-first", "CRED-1", "recentTransactions come oldest first",
           wrap(on_response=_edit_json(_transactions_oldest_first), when=_is(CREDITS))),
    Defect("credits-leak-another-tenants-balance", "AUTH-6", "every key reads the first tenant's balance",
           wrap(on_request=_credits_of_another_tenant, when=_is(CREDITS))),
    Defect("credits-stale-cache", "CRED-1", "the first credits body of a key is replayed forever",
           lambda app: Deviation(app, on_response=_StaleCredits(), when=_is(CREDITS))),
    Defect("credits-usage-total-mismatch", "CRED-1", "usage.totalCharged disagrees with byModule",
           wrap(on_response=_edit_json(_usage_total_off), when=_is(CREDITS))),
    Defect("credits-undeclared-field", "schema", "the credits body carries an undeclared `plan` field",
           wrap(on_response=_edit_json(_extra_credit_field), when=_is(CREDITS))),
    Defect("credits-balance-as-text", "schema", "creditBalance is a string",
           wrap(on_response=_edit_json(_balance_as_text), when=_is(CREDITS))),
    Defect("credits-negative-holds", "schema", "heldCredits is negative",
           wrap(on_response=_edit_json(_negative_holds), when=_is(CREDITS))),
    Defect("credits-balance-after-wrong", "CRED-1", "the newest transaction's balanceAfter is off by one",
           wrap(on_response=_edit_json(_balance_after_off), when=_is(CREDITS))),
    # auth
    Defect("missing-key-is-403", "AUTH-2", "no key answers 403 instead of 401",
           wrap(on_response=_error_with("MISSING_API_KEY")(_set_status(403)), when=_api)),
    Defect("missing-key-reported-as-invalid", "AUTH-2", "no key answers INVALID_API_KEY",
           wrap(on_response=_error_with("MISSING_API_KEY")(_set_code("INVALID_API_KEY")), when=_api)),
    Defect("401-carries-a-request-id", "AUTH-2", "middleware 401s carry a requestId",
           wrap(on_response=_error_with("INVALID_API_KEY")(_add_request_id), when=_api)),
    Defect("bearer-token-ignored", "AUTH-1", "Authorization: Bearer <key> is not read",
           wrap(on_request=_drop_bearer, when=_api)),
    Defect("empty-key-accepted", "AUTH-2", "an empty X-API-Key is served as the first tenant",
           wrap(on_request=_empty_key_accepted, when=_api)),
    Defect("inactive-key-accepted", "AUTH-2", "a revoked key still authenticates",
           wrap(on_request=_accept_inactive_keys, when=_api)),
    Defect("expired-key-accepted", "AUTH-2", "an expired key still authenticates",
           wrap(on_request=_accept_expired_keys, when=_api)),
    Defect("expired-key-reported-as-invalid", "AUTH-2", "an expired key answers INVALID_API_KEY",
           wrap(on_response=_error_with("API_KEY_EXPIRED")(_set_code("INVALID_API_KEY")), when=_api)),
    Defect("disabled-client-accepted", "AUTH-2", "a disabled client's key still authenticates",
           wrap(on_request=_accept_disabled_clients, when=_api)),
    Defect("disabled-client-reported-as-invalid", "AUTH-2", "a disabled client answers INVALID_API_KEY",
           wrap(on_response=_error_with("CLIENT_INACTIVE")(_set_code("INVALID_API_KEY")), when=_api)),
    Defect("legacy-key-prefixes-rejected", "AUTH-3", "only zh_api_… keys authenticate",
           wrap(on_request=_reject_legacy_prefixes, when=_api)),
    Defect("ip-allow-list-ignored", "AUTH-5", "a key's IP allow-list is not enforced",
           wrap(on_request=_ignore_ip_allow_lists, when=_api)),
    Defect("ip-not-allowed-is-401", "AUTH-5", "IP_NOT_ALLOWED answers 401",
           wrap(on_response=_error_with("IP_NOT_ALLOWED")(_set_status(401)), when=_api)),
    # envelope
    Defect("error-timestamp-without-milliseconds", "ERR-1", "error timestamps drop milliseconds",
           wrap(on_response=_on_errors(_no_millis))),
    Defect("error-timestamp-with-offset", "ERR-1", "error timestamps end in +00:00, not Z",
           wrap(on_response=_on_errors(_offset_not_z))),
    Defect("error-without-message", "ERR-1", "errors omit message",
           wrap(on_response=_on_errors(_drop_message))),
    Defect("error-not-wrapped", "ERR-1", "errors are the bare inner object, no `error` wrapper",
           wrap(on_response=_unwrapped)),
    Defect("error-undeclared-field", "ERR-1", "errors carry an extra `status` field",
           wrap(on_response=_on_errors(_extra_error_field))),
    Defect("errors-as-text-plain", "ERR-1", "errors are labelled text/plain",
           wrap(on_response=_errors_as_text)),
    Defect("error-code-lower-case", "ERR-1", "error codes are lower-case",
           wrap(on_response=_on_errors(_lowercase_code))),
    Defect("error-timestamp-stale", "ERR-1", "error timestamps are a fixed past instant",
           wrap(on_response=_on_errors(_stale_error_time))),
    Defect("request-id-wrong-format", "ERR-2", "requestId is not req_<13 digits>_<alnum>",
           wrap(on_response=_on_errors(_bad_request_id))),
    Defect("request-id-constant", "ERR-2", "every request gets the same requestId",
           wrap(on_response=_on_errors(_constant_request_id))),
    Defect("unknown-route-answers-200", "ERR-1", "an unknown /api route answers 200 {}",
           wrap(on_response=_unknown_route_200)),
    Defect("wrong-method-answers-404", "ERR-1", "a wrong method answers 404 instead of 405",
           wrap(on_response=_wrong_method_404)),
    Defect("pretty-printed-json", "JSON-1", "success bodies are indented JSON",
           wrap(on_response=_pretty_json, when=_api)),
    # module-level: need operations the mock may not simulate yet
    Defect("validation-error-without-fields", "ERR-4", "400s drop details.fields",
           wrap(on_response=_on_errors(_no_fields), when=_api), requires=("submitCvDeepMatch",)),
    Defect("retry-after-off-by-one", "ERR-3", "Retry-After disagrees with retryAfterSeconds",
           wrap(on_response=_retry_after_off_by_one, when=_api), requires=("submitCvDeepMatch",)),
    Defect("retry-after-missing", "ERR-3", "429s carry no Retry-After header",
           wrap(on_response=_retry_after_missing, when=_api), requires=("submitCvDeepMatch",)),
    Defect("submit-rate-limit-ignored", "RATE-1", "no submit is ever refused with 429",
           wrap(on_request=_no_submit_limit, when=_api), requires=("submitCvDeepMatch",)),
    Defect("unknown-id-answers-200", "POLL-5", "an unknown run id is answered 200",
           wrap(on_response=_unknown_id_200, when=_api), requires=("getCvDeepMatch",)),
]
