"""Schemathesis schemas for the session's target, built the one way every generated layer
needs: loaded from the target's contract (module level — ``from_fixture`` breaks on
pytest 9), base URL always set, the key given as the contract's own apiKey security scheme
(so the ``ignored_auth`` check knows which credential to break), ``--exclude-checks``
applied, generation deterministic when the Hypothesis profile is derandomized (CI runs
repeat), and positive-data acceptance tolerating the statuses a valid request may still
meet on a shared, rate-limited, paid API (401/403/404/409/429)."""

from __future__ import annotations

import hypothesis
import schemathesis
from schemathesis import GenerationMode
from schemathesis.config._auth import OpenAPIAuthConfig

from .contract import Operation
from .target import Target, TargetError

POSITIVE_ACCEPTED = ["2xx", "401", "403", "404", "409", "429"]


def may_charge(op: Operation) -> bool:
    """Operations that may spend credits: submits, and anything documenting a 402."""
    return op.is_submit or "402" in op.statuses()


def auth_config(target: Target) -> OpenAPIAuthConfig:
    schemes = {}
    for name, scheme in (target.contract.components.get("securitySchemes") or {}).items():
        if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
            schemes[name] = {"api_key": target.config.api_key}
    if not schemes:
        raise TargetError("the contract declares no apiKey header security scheme")
    return OpenAPIAuthConfig(schemes=schemes)


def load_schema(target: Target, modes: list[GenerationMode] | None = None):
    schema = schemathesis.openapi.from_dict(target.spec)
    schema.config.update(base_url=target.config.root)
    schema.config.auth.openapi = auth_config(target)
    schema.config.generation.update(modes=modes or list(GenerationMode),
                                    deterministic=bool(hypothesis.settings.default.derandomize))
    everywhere, _ = split_exclusions(target.config.excluded_checks)
    if everywhere:
        schema.config.checks.update(excluded_check_names=everywhere)
    schema.config.checks.positive_data_acceptance.expected_statuses = list(POSITIVE_ACCEPTED)
    for phase in ("examples", "coverage", "fuzzing"):
        schema.config.phases.get_by_name(name=phase).enabled = phase in target.config.phases
    return schema


def split_exclusions(names: tuple[str, ...]) -> tuple[list[str], dict[str, list[str]]]:
    """``--exclude-checks`` entries: ``check`` (everywhere) or ``check:operationId`` (one operation)."""
    everywhere: list[str] = []
    per_operation: dict[str, list[str]] = {}
    for entry in names:
        check, _, operation_id = entry.partition(":")
        if operation_id:
            per_operation.setdefault(operation_id, []).append(check)
        else:
            everywhere.append(check)
    return everywhere, per_operation


def excluded_for(target: Target, operation_id: str) -> list:
    """The check functions ``--exclude-checks check:operationId`` leaves out for this operation."""
    from schemathesis.checks import CHECKS
    _, per_operation = split_exclusions(target.config.excluded_checks)
    return CHECKS.get_by_names(per_operation.get(operation_id, []))
