"""Layer 2 — stateful workflows through the contract's OpenAPI links (submit → poll,
ingest → status, search → run, persona → session → transcript): Schemathesis chains
operations by their links and runs every check, built-in and the suite's own, on each step.

On a target with the control API the virtual clock moves past the poll interval before
each step, so runs progress and polls are never throttled; elsewhere throttled polls are
simply documented 429s. Workflows submit work, so the layer runs only in the ``full``
profile and stops at ``--max-credits``; it skips with the reason while the contract has
no links.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from contract_tests import target as target_mod
from contract_tests.catalog import covers
from contract_tests.examples import apply_documented_values
from contract_tests.schemas import load_schema, may_charge

TARGET = target_mod.current()
CONTRACT = TARGET.contract
STEP_SECONDS = 11
HAS_LINKS = any(op.links(status) for op in CONTRACT for status in op.statuses())


def _skip_reason() -> str | None:
    if not HAS_LINKS:
        return "the target's contract declares no OpenAPI links to follow"
    if TARGET.profile == "safe":
        return "stateful workflows submit work; the safe profile spends no credits (use --profile full)"
    return None


if _skip_reason() is None:
    schema = load_schema(TARGET)

    class ContractWorkflows(schema.as_state_machine()):
        def before_call(self, case):
            op = CONTRACT.get(case.operation.definition.raw.get("operationId", ""))
            if op is None:
                return
            if may_charge(op) and not TARGET.credits.permits():
                pytest.skip(f"--max-credits {TARGET.config.max_credits} reached")
            if case.meta is None or case.meta.generation.mode.is_positive:
                apply_documented_values(case, op)
            if TARGET.control is not None:
                TARGET.control.advance(STEP_SECONDS)

    TestContractWorkflows = ContractWorkflows.TestCase
    TestContractWorkflows.settings = settings(
        settings.default, max_examples=max(3, settings.default.max_examples // 2), stateful_step_count=6,
        deadline=None)
    TestContractWorkflows = covers("ERR-1", "ERR-3", "JSON-1")(TestContractWorkflows)
else:
    @covers("ERR-1", "ERR-3", "JSON-1")
    def test_contract_workflows():
        pytest.skip(_skip_reason())
