"""CV DeepMatch credits and idempotency over HTTP: three credits deducted when a match
finishes, the 402 and credits held in flight (CRED-1, CRED-4), and the Idempotency-Key
replay, 24-hour window, concurrency and retry after a 502 (IDEM-1, IDEM-3, IDEM-4).
Shared helpers: ``cvdeepmatch_helpers``.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import assert_error, assert_no_problems
from contract_tests.contract import schema_problems
from contract_tests.cvdeepmatch_helpers import accepted, credits_of, cvdm_tenant, follow, listed_ids, submit
from contract_tests.cvdeepmatch_helpers import ops, scenarios  # noqa: F401  (fixtures)

MATCH_COST = 3


# --------------------------------------------------------------------------- building requests

def fresh_key(label: str) -> str:
    return f"ct-{label}-{secrets.token_hex(6)}"


# --------------------------------------------------------------------------- credits

@covers("CRED-4", "CRED-1")
def test_a_match_costs_three_credits_deducted_when_it_finishes(api, ops, provision, credit_guard, time_machine):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    client = api.with_key(cvdm_tenant(provision, "cvdm-ledger", credits=10).key)
    match = accepted(submit(client), ops)
    during = credits_of(client)
    assert during["creditBalance"] == 10, f"charged before the match finished: {during}"
    assert during["availableCredits"] == 10 - MATCH_COST, f"the in-flight match is not held: {during}"
    result = follow(client, match["id"], time_machine, ops)
    assert result["status"] == "finished", result
    after = credits_of(client)
    assert (after["creditBalance"], after["heldCredits"], after["availableCredits"]) == (7, 0, 7), after


@covers("CRED-4")
def test_a_balance_below_three_credits_is_402_with_the_gap(api, ops, provision):
    client = api.with_key(cvdm_tenant(provision, "cvdm-poor", credits=2).key)
    err = assert_error(submit(client), 402, "INSUFFICIENT_CREDITS", ops.submit)
    assert_no_problems(schema_problems(ops.submit, 402, {"error": err}))
    assert err["details"] == {"required": 3, "available": 2, "shortfall": 1}, err


@covers("CRED-4")
def test_credits_held_by_a_match_in_flight_count_against_the_next_submit(api, ops, provision, credit_guard):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    client = api.with_key(cvdm_tenant(provision, "cvdm-held", credits=5).key)
    accepted(submit(client), ops)
    err = assert_error(submit(client), 402, "INSUFFICIENT_CREDITS", ops.submit)
    assert err["details"]["available"] == 2 and err["details"]["shortfall"] == 1, err


# --------------------------------------------------------------------------- idempotency

@covers("IDEM-1", "CRED-4")
def test_a_repeated_idempotency_key_replays_the_original_match_with_200(api, ops, provision, credit_guard, time_machine):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    client = api.with_key(cvdm_tenant(provision, "cvdm-idem", credits=10).key)
    key = fresh_key("idem")
    original = accepted(submit(client, idempotency_key=key), ops)
    replay = submit(client, idempotency_key=key)
    assert replay.status_code == 200, replay.text
    body = replay.json()
    assert_no_problems(schema_problems(ops.submit, 200, body))
    assert body["id"] == original["id"] and body["idempotent_replay"] is True, body
    assert credits_of(client)["availableCredits"] == 10 - MATCH_COST, "a replay must hold nothing more"
    follow(client, original["id"], time_machine, ops)
    again = submit(client, idempotency_key=key)
    assert again.status_code == 200 and again.json()["id"] == original["id"], again.text
    assert listed_ids(client, ops) == [original["id"]], "a replay starts no second match"
    assert credits_of(client)["creditBalance"] == 10 - MATCH_COST, "a replay is not charged again"


@covers("IDEM-1")
def test_an_idempotency_key_starts_a_new_match_after_24_hours(api, ops, credit_guard, time_machine):
    credit_guard.allow("two CV DeepMatch submits (6 credits)")
    key = fresh_key("idem24")
    original = accepted(submit(api, idempotency_key=key), ops)
    time_machine.pass_time(24 * 3600 + 60, "the 24 h idempotency window to close")
    later = accepted(submit(api, idempotency_key=key), ops)
    assert later["id"] != original["id"]


@covers("IDEM-3")
def test_concurrent_submits_with_one_key_create_exactly_one_match(api, ops, provision, credit_guard):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    client = api.with_key(cvdm_tenant(provision, "cvdm-race", credits=30).key)
    key = fresh_key("race")
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: submit(client, idempotency_key=key), range(6)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [202], f"statuses {statuses}: exactly one submit may start the match"
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1, ids
    assert listed_ids(client, ops) == list(ids)
    assert credits_of(client)["availableCredits"] == 30 - MATCH_COST


@covers("IDEM-4")
def test_a_502_start_failure_is_retry_safe_with_the_same_key(api, ops, provision, scenarios, credit_guard):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    client = api.with_key(cvdm_tenant(provision, "cvdm-flaky", credits=10).key)
    key = fresh_key("flaky")
    first = submit(client, idempotency_key=key, headers=scenarios("cvdm-step-functions-flaky"))
    if first.status_code != 502:
        pytest.skip(f"the target does not inject the cvdm-step-functions-flaky scenario (answered {first.status_code})")
    assert_error(first, 502, "STEP_FUNCTIONS_FAILED", ops.submit)
    assert credits_of(client)["availableCredits"] == 10, "a start failure holds nothing"
    retry = accepted(submit(client, idempotency_key=key, headers=scenarios("cvdm-step-functions-flaky")), ops)
    assert listed_ids(client, ops) == [retry["id"]]
