"""The control API under `/__mock` (documented in `data/control-openapi.yaml`), one file per
resource, all on one error envelope and one JSON writer (`http`):

- `platform_state` — what the mock offers, its control contract, reset, scenario reload, health overrides
- `clock` — read, advance, set the virtual clock
- `clients` — clients, keys, credits, webhook secrets
- `journal` — the request journal (paged), one entry
- `deliveries` — the webhook delivery log, one delivery, resend
- `runs` — runs with their timelines, what a clock move changed
- `tenants` — a client's credit ledger
- `grades` — client grading and receiver probes
- `console` — the console page (not token-guarded; it asks for the token itself)

On by default for local use; `--no-control` removes it and `--control-token` protects it.
API modules add their own control routes (`ApiModule.control_routes`), guarded the same way.
"""

from __future__ import annotations

from typing import Callable

from starlette.routing import Route

from ..scenarios import Scenarios
from . import clients, clock, console, deliveries, grades, journal, platform_state, runs, tenants
from .http import guard

CONTROL_PREFIX = "/__mock"


def build_control_routes(platform, reload_hook: Callable[[Scenarios], None],
                         module_routes: list[Route]) -> list[Route]:
    """Every control route under ``CONTROL_PREFIX``; ``module_routes`` are the API modules'
    own (relative paths, unguarded endpoints)."""
    relative = [*platform_state.routes(platform, reload_hook), *clock.routes(platform),
                *clients.routes(platform), *journal.routes(platform), *deliveries.routes(platform),
                *runs.routes(platform), *tenants.routes(platform), *grades.routes(platform)]
    wrap = guard(platform)
    relative += [Route(r.path, wrap(r.endpoint), methods=list(r.methods or [])) for r in module_routes]
    routes = [Route(CONTROL_PREFIX + (r.path if r.path != "/" else ""), r.endpoint, methods=list(r.methods or []))
              for r in relative]
    return routes + console.routes(CONTROL_PREFIX)
