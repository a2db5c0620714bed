"""Universal endpoints: health (HLTH-1) and credits (CRED-1). With a shared store that does
not answer, the health check reports its ``database`` check unreachable (503)."""

from __future__ import annotations

from typing import Any

from ...json_writer import freeze, rendered
from ...platform.api_module import ApiModule
from ...platform.context import Ctx, Reply
from ...scenarios import ScenarioError

HEALTHY_STATES = {"healthy", "configured"}
DEFAULT_CHECKS = {"database": "healthy", "scoring": "healthy", "transcription": "configured",
                  "storage": "healthy", "queue": "healthy"}


async def get_health(ctx: Ctx) -> Reply:
    global _last_body
    platform = ctx.platform
    found = _checks(platform.scenarios, platform.health_overrides, ctx.store_down)
    healthy, version, checks = found
    stamp = platform.clock.iso(ctx.now)
    last = _last_body
    if last is not None and last[0] is found and last[1] == stamp:
        body = last[2]  # the same checks in the same millisecond: the same bytes
    else:
        body = rendered({"status": "healthy" if healthy else "unhealthy", "timestamp": stamp,
                         "version": version, "checks": checks})
        _last_body = (found, stamp, body)
    return Reply(200 if healthy else 503, body)


# The last answer rendered, for its checks (`_checks`'s tuple) and timestamp: under load many
# requests share a millisecond, and a manual clock stands still between moves.
_last_body: tuple[tuple, str, dict] | None = None


# The last (scenarios, overrides, store down) and the checks they give: the same on almost every
# health request, so the checks are built and JSON-encoded once (frozen), not per request.
_last_checks: tuple[Any, dict[str, str], bool, tuple[bool, str, dict]] | None = None


def _checks(scenarios: Any, overrides: dict[str, str], store_down: bool) -> tuple[bool, str, dict]:
    """(healthy, version, checks) for the scenarios' `health:`, the control API's overrides and
    whether the shared store answered; the checks frozen (`json_writer.freeze`), never changed."""
    global _last_checks
    last = _last_checks
    if last is not None and last[0] is scenarios and last[2] is store_down and last[1] == overrides:
        return last[3]
    states = dict(DEFAULT_CHECKS)
    states.update(scenarios.health.get("checks", {}))
    states.update(overrides)
    if store_down:  # the shared store (Redis) did not answer: the truth, not an override
        states["database"] = "unreachable"
    checks = {name: {"status": state} for name, state in states.items()}
    if store_down:
        checks["database"]["message"] = "The platform's storage did not answer."
    healthy = all(state in HEALTHY_STATES for state in states.values())
    found = (healthy, scenarios.health.get("version", "2.0.0"), freeze(checks))
    _last_checks = (scenarios, dict(overrides), store_down, found)
    return found


async def get_credits(ctx: Ctx) -> Reply:
    return Reply(200, ctx.platform.ledger.summary(ctx.client_id, ctx.now))


HANDLERS = {"getHealth": get_health, "getCredits": get_credits}


def check_scenarios(scenarios) -> None:
    """Universal has no outcome rules (health comes from `health:`; errors from `faults:`,
    checked for every operation by the app): a rule aimed at it would never match, so it
    is refused rather than silently ignored."""
    for index, rule in enumerate(scenarios.rules):
        operations = rule["when"].get("operation")
        operations = [operations] if isinstance(operations, str) else list(operations or [])
        if rule["when"].get("module") == "universal" or set(operations) & set(HANDLERS):
            raise ScenarioError(f"rule {rule.get('name') or index!r}: health and credits take no outcome rules; "
                                "use `health:` or a fault")


API_MODULE = ApiModule(name="universal", tag="Universal", handlers=HANDLERS, check_scenarios=check_scenarios)
