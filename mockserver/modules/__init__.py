"""The API modules the mock simulates, registered in one explicit list.

Each module exposes `HANDLERS` (operationId → async handler taking a `Ctx`), and
optionally `BODY_LIMITS` (operationId → `BodyLimit`), `check_scenarios(scenarios)` (refuse
rules the module cannot honour — at start and on reload), `control_routes(platform)` (extra
control-API routes), `candidate_routes(platform)` (public pages) and `startup(platform)`.
"""

from __future__ import annotations

import importlib

MODULE_NAMES = ["universal", "speech", "cvdeepmatch", "cvdeepsearch", "interview"]


def load_modules() -> list:
    modules = []
    for name in MODULE_NAMES:
        try:
            modules.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return modules
