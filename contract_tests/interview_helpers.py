"""What the Interview behaviour files (``test_interview_*.py``) share: the operations, a
persona of the primary tenant, creating personas and sessions and reading them back against the
contract's schemas, and the refusal helper.

Requests the contract refuses run in every profile; anything that creates a persona or a
session asks `credit_guard` (or, in module fixtures, ``module_credits``) first, so the `safe`
profile writes nothing.
"""

from __future__ import annotations

import re
import secrets

import pytest

from contract_tests.checks import Observed, assert_error, assert_no_problems, compact_json_problems
from contract_tests.contract import schema_problems

PERSONAS = "/api/v1/interview/personas"
SESSIONS = "/api/v1/interview/sessions"
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_PAGES = 20
OPERATIONS = {
    "create_persona": "createInterviewPersona",
    "list_personas": "listInterviewPersonas",
    "get_persona": "getInterviewPersona",
    "create_session": "createInterviewSession",
    "list_sessions": "listInterviewSessions",
    "get_session": "getInterviewSession",
    "recording": "getInterviewRecording",
    "transcript": "getInterviewTranscript",
}


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def ops(operation) -> dict:
    """The eight Interview operations of the target's contract (skips when one is missing)."""
    return {short: operation(op_id) for short, op_id in OPERATIONS.items()}


@pytest.fixture(scope="module")
def module_credits(target):
    """The credit guard, for module-scoped fixtures (``credit_guard`` is per test)."""
    return target.credits


@pytest.fixture(scope="module")
def persona(api, ops, module_credits) -> dict:
    """A persona of the primary tenant: created here when the profile allows writes, else the
    newest one the tenant already has (the safe profile only reads)."""
    if module_credits.permits():
        return create_persona(api, ops, role_name="Contract Suite Engineer", language="en")
    resp = api.get(PERSONAS, params={"limit": 1})
    assert resp.status_code == 200, resp.text[:300]
    rows = resp.json()["personas"]
    if not rows:
        pytest.skip("the safe profile creates no persona and the tenant has none to reuse")
    return rows[0]


# --------------------------------------------------------------------------- helpers

def create_persona(api, ops, **body) -> dict:
    resp = api.post(PERSONAS, json=body)
    assert resp.status_code == 201, f"persona creation: {resp.status_code} {resp.text[:300]}"
    persona = resp.json()
    assert_no_problems(schema_problems(ops["create_persona"], 201, persona))
    return persona


def create_session(api, persona_id: str, **body):
    return api.post(f"{PERSONAS}/{persona_id}/sessions", json=body)


def created(resp, ops) -> dict:
    assert resp.status_code == 201, f"session creation: {resp.status_code} {resp.text[:300]}"
    body = resp.json()
    assert_no_problems(schema_problems(ops["create_session"], 201, body))
    assert_no_problems(compact_json_problems(Observed.from_httpx(resp)))
    return body


def read_session(api, ops, session_id: str) -> dict:
    resp = api.get(f"{SESSIONS}/{session_id}")
    assert resp.status_code == 200, f"session read: {resp.status_code} {resp.text[:300]}"
    body = resp.json()
    assert_no_problems(schema_problems(ops["get_session"], 200, body))
    if body["status"] in ("initiated", "in_progress"):
        retry = resp.headers.get("Retry-After", "")
        assert retry.isdigit() and int(retry) >= 1, f"a {body['status']} session read carries Retry-After: {retry!r}"
    return body


def token_of(session: dict) -> str:
    return session["candidate_link"].split("#t=", 1)[1]


def rows_by_id(api, **params) -> dict[str, dict]:
    resp = api.get(SESSIONS, params=dict(params, limit=100))
    assert resp.status_code == 200, resp.text[:300]
    return {row["id"]: row for row in resp.json()["sessions"]}


def refused_field(resp, op, field: str) -> dict:
    """A 400 INVALID_INPUT whose details.fields names ``field`` (or a path inside it)."""
    err = assert_error(resp, 400, "INVALID_INPUT", op)
    fields = (err.get("details") or {}).get("fields") or {}
    assert any(name == field or name.startswith((field + ".", field + "[")) for name in fields), \
        f"details.fields does not name {field}: {err}"
    return err


def unique_tag(label: str) -> str:
    return f"ct-{label}-{secrets.token_hex(4)}"
