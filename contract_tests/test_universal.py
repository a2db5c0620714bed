"""Universal endpoints: health (HLTH-1, A7) and the shared credit balance (CRED-1)."""

from __future__ import annotations

from datetime import datetime

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import Observed, assert_no_problems, compact_json_problems, envelope_problems
from contract_tests.contract import schema_problems

HEALTHY = {"healthy", "configured"}
FAILING = ("unhealthy", "unreachable", "not_configured")


@pytest.fixture()
def health_override(control):
    """Sets health checks through the control API and restores the target's own afterwards."""
    yield control.set_health
    control.set_health({})


def _health(api):
    return api.anonymous().get("/api/v1/health")


@covers("HLTH-1", "AUTH-1")
def test_health_answers_without_a_key(api, operation):
    op = operation("getHealth")
    resp = _health(api)
    assert resp.status_code in (200, 503), resp.text
    assert_no_problems(schema_problems(op, resp.status_code, resp.json()))


@covers("HLTH-1")
def test_health_status_follows_its_checks(api, operation):
    operation("getHealth")
    body = _health(api).json()
    states = {name: check["status"] for name, check in body["checks"].items()}
    all_good = all(state in HEALTHY for state in states.values())
    assert body["status"] == ("healthy" if all_good else "unhealthy"), states
    assert _health(api).status_code == (200 if all_good else 503)


@covers("HLTH-1", "A7")
@pytest.mark.parametrize("state", FAILING)
def test_a_failing_check_makes_health_503_with_a_health_body(api, operation, health_override, state):
    op = operation("getHealth")
    health_override({"scoring": state})
    resp = _health(api)
    assert resp.status_code == 503, resp.text
    body = resp.json()
    assert "error" not in body, "the health 503 is a health body, not the error envelope (A7)"
    assert_no_problems(schema_problems(op, 503, body))
    assert body["status"] == "unhealthy"
    assert body["checks"]["scoring"]["status"] == state


@covers("HLTH-1")
def test_configured_checks_count_as_healthy(api, operation, health_override):
    op = operation("getHealth")
    health_override({"scoring": "configured", "transcription": "configured"})
    resp = _health(api)
    assert resp.status_code == 200, resp.text
    assert_no_problems(schema_problems(op, 200, resp.json()))
    assert resp.json()["status"] == "healthy"


@covers("HLTH-1")
def test_health_timestamp_is_utc_with_milliseconds(api, operation):
    operation("getHealth")
    body = _health(api).json()
    assert body["timestamp"].endswith("Z") and len(body["timestamp"].split(".")[-1]) == 4, body["timestamp"]
    datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))


@covers("HLTH-1")
def test_api_health_is_not_the_health_path(api):
    resp = api.anonymous().get("/api/health")
    assert resp.status_code == 404 or resp.status_code == 401, \
        f"/api/health answered {resp.status_code}: the health path is /api/v1/health only"
    assert_no_problems(envelope_problems(Observed.from_httpx(resp)))


@covers("CRED-1", "JSON-1")
def test_credits_body_matches_the_contract(api, operation):
    op = operation("getCredits")
    resp = api.get("/api/v1/credits")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert_no_problems(schema_problems(op, 200, body))
    assert_no_problems(compact_json_problems(Observed.from_httpx(resp)))


@covers("CRED-1")
def test_available_credits_are_balance_minus_holds(api, operation):
    operation("getCredits")
    body = api.get("/api/v1/credits").json()
    if "availableCredits" not in body or "heldCredits" not in body:
        pytest.skip("the contract's credits body has no holds")
    assert body["availableCredits"] == body["creditBalance"] - body["heldCredits"], body


@covers("CRED-1")
def test_usage_by_module_adds_up_to_the_total(api, operation):
    operation("getCredits")
    usage = api.get("/api/v1/credits").json()["usage"]
    assert sum(usage["byModule"].values()) == usage["totalCharged"], usage


@covers("CRED-1")
def test_recent_transactions_are_newest_first(api, operation, control, primary_client_id):
    operation("getCredits")
    control.set_credits(primary_client_id, delta=3)
    control.advance(1)
    control.set_credits(primary_client_id, delta=-2)
    try:
        txns = api.get("/api/v1/credits").json()["recentTransactions"]
        assert len(txns) >= 2
        stamps = [t["createdAt"] for t in txns]
        assert stamps == sorted(stamps, reverse=True), stamps
        # runs of earlier tests may settle between the two changes (their charges sit at the
        # runs' own finish times): the two balance changes are the newest of their kind
        changes = [t for t in txns if t["runId"] is None]
        assert [t["amount"] for t in changes[:2]] == [-2, 3], txns[:5]
    finally:
        control.set_credits(primary_client_id, delta=-1)


@covers("CRED-1")
def test_a_top_up_shows_in_balance_and_newest_transaction(api, operation, control, primary_client_id):
    operation("getCredits")
    before = api.get("/api/v1/credits").json()
    control.set_credits(primary_client_id, delta=7)
    try:
        after = api.get("/api/v1/credits").json()
        assert after["creditBalance"] == before["creditBalance"] + 7
        assert after["availableCredits"] == before["availableCredits"] + 7
        newest = after["recentTransactions"][0]
        assert newest["amount"] == 7 and newest["balanceAfter"] == after["creditBalance"], newest
    finally:
        control.set_credits(primary_client_id, delta=-7)


@covers("CRED-1", "AUTH-6")
def test_each_client_sees_only_its_own_balance(api, second_api, operation, control, primary_client_id):
    operation("getCredits")
    second_client = control.client_of_key(second_api.key)
    assert second_client and second_client != primary_client_id
    originals = {primary_client_id: _balance(api), second_client: _balance(second_api)}
    try:
        control.set_credits(primary_client_id, balance=123456)
        control.set_credits(second_client, balance=654)
        assert _balance(api) == 123456
        assert _balance(second_api) == 654
    finally:
        for cid, balance in originals.items():
            control.set_credits(cid, balance=balance)


def _balance(api) -> int:
    return api.get("/api/v1/credits").json()["creditBalance"]


@covers("CRED-1", "AUTH-1")
def test_the_key_as_a_bearer_token_reads_the_same_balance(api, operation):
    operation("getCredits")
    by_header = api.get("/api/v1/credits")
    by_bearer = api.bearer().get("/api/v1/credits")
    assert by_bearer.status_code == 200, by_bearer.text
    assert by_bearer.json()["creditBalance"] == by_header.json()["creditBalance"]
