"""Layer 1 — stateless conformance of EVERY operation in the target's contract.

Schemathesis generates positive and negative requests (examples, coverage and fuzzing
phases) and runs every built-in check plus the suite's own (`checks.py`) on each response.
The schema is loaded at module level from the session's target (``from_fixture`` breaks on
pytest 9) with the base URL and the key set explicitly.

Credits: in the ``safe`` profile, operations that may charge (``x-submit``, or a documented
402) get negative data only — requests the contract rejects before charging; in ``full``
they get positive data too, within ``--max-credits``.

Semantics the schema cannot express: positive cases go through
``examples.apply_documented_values`` (server-issued cursors and webhook URLs left out, filter
pairs kept whole, JSON-in-a-field and ``x-validated-by: handler`` fields from the docs'
example, upload parts as real WAV/PDF files). A positive case Schemathesis mislabels (its
body breaks the schema) or a 400 for a rule the contract documents as its own is not held
against positive-data acceptance; every other check still runs on it. On the mock, a submit
refused by the per-minute limit is retried once after moving the clock.

Guard: ``test_conformance_reached_the_api`` fails the layer if no authenticated operation
ever answered 2xx or every answer was a 401 (a wrong key must not pass).
"""

from __future__ import annotations

import threading
from collections import defaultdict

import pytest
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from contract_tests import target as target_mod
from contract_tests.catalog import covers
from contract_tests.contract import Operation, request_body_problems
from contract_tests.examples import apply_documented_values
from contract_tests.schemas import excluded_for, load_schema, may_charge

TARGET = target_mod.current()
CONTRACT = TARGET.contract

CHARGING = [op.operation_id for op in CONTRACT if may_charge(op)]
_charging_modes = [GenerationMode.NEGATIVE] if TARGET.profile == "safe" else list(GenerationMode)
FREE = [op.operation_id for op in CONTRACT if not may_charge(op)]
schema = load_schema(TARGET, list(GenerationMode)).include(operation_id=FREE)
charging_schema = load_schema(TARGET, _charging_modes).include(operation_id=CHARGING)

SEEN: dict[str, set[int]] = defaultdict(set)
_SEEN_LOCK = threading.Lock()


def _call(case) -> None:
    op = CONTRACT.get(case.operation.definition.raw.get("operationId", ""))
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if op is not None and positive:
        if may_charge(op) and not TARGET.credits.permits():
            return
        apply_documented_values(case, op)
    response = _send(case)
    with _SEEN_LOCK:
        SEEN[case.operation.label].add(response.status_code)
    excluded = excluded_for(TARGET, op.operation_id) if op is not None else []
    if positive and op is not None and (_semantic_refusal(op, response) or not _schema_valid(case, op)):
        excluded.append(positive_data_acceptance)
    case.validate_response(response, excluded_checks=excluded or None)


def _send(case):
    """Call; on a target with the control API, a submit refused by the per-minute limit is
    retried once after moving the clock past Retry-After (the limit itself has its own tests)."""
    response = case.call()
    if response.status_code == 429 and TARGET.control is not None:
        try:
            code = response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return response
        if code == "RATE_LIMIT_EXCEEDED":
            TARGET.time.wait_advertised(int(response.headers.get("retry-after", ["60"])[0]) + 1,
                                        "the submit rate window")
            response = case.call()
    return response


def _schema_valid(case, op: Operation) -> bool:
    """Whether a "positive" case really satisfies the request schema. Schemathesis' coverage
    phase can pair a header scenario with a placeholder body (empty strings for required form
    fields); such a case proves nothing about accepting valid data."""
    if case.media_type is None or not isinstance(case.body, (dict, list)):
        return True
    return not request_body_problems(op, case.media_type, case.body)


def _semantic_refusal(op: Operation, response) -> bool:
    """A 400 for a rule the schema cannot express: a code the contract documents for this
    operation other than its generic validation code (audio duration, webhook address, …),
    or the generic code naming only fields marked ``x-validated-by: handler``. The request
    was valid per the schema but broke a rule stated in the text; every other check runs."""
    if response.status_code != 400:
        return False
    try:
        error = response.json()["error"]
        code = error["code"]
    except (ValueError, KeyError, TypeError):
        return False
    generic = op.raw.get("x-validation-error-code", "INVALID_INPUT")
    if code != generic:
        return code in op.documented_codes(400)
    fields = set((error.get("details") or {}).get("fields") or {})
    return bool(fields) and fields <= _handler_fields(op)


def _handler_fields(op: Operation) -> set[str]:
    out = set()
    for media in op.request_media_types():
        for name, sub in ((op.request_schema(media) or {}).get("properties") or {}).items():
            if CONTRACT.resolve(sub).get("x-validated-by") == "handler":
                out.add(name)
    return out


if FREE:
    @covers("ERR-1", "ERR-2", "ERR-3", "JSON-1", "AUTH-1")
    @schema.parametrize()
    def test_operation_conforms(case):
        _call(case)

if CHARGING:
    @covers("ERR-1", "ERR-2", "ERR-3", "JSON-1", "AUTH-1")
    @charging_schema.parametrize()
    def test_charging_operation_conforms(case):
        _call(case)


def test_conformance_reached_the_api():
    """The generated layer must have been answered by the API itself, not only by its auth
    wall: at least one authenticated 2xx, and not every authenticated answer a 401."""
    secured = {label: statuses for label, statuses in SEEN.items()
               if not (op := _op_by_label(label)) or not op.is_public}
    if not secured:
        pytest.skip("no authenticated operation was exercised")
    statuses = set().union(*secured.values())
    assert statuses - {401}, "every authenticated request was answered 401 — is --api-key right?"
    assert any(200 <= s < 300 for s in statuses), f"no authenticated request got a 2xx (saw {sorted(statuses)})"


def _op_by_label(label: str) -> Operation | None:
    method, _, path = label.partition(" ")
    for op in CONTRACT:
        if op.method == method.lower() and op.path == path:
            return op
    return None
