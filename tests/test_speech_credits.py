"""Speech credits: exact-cost holds, settlement at the run's end, and the ledger on
`GET /api/v1/credits` (CRED-1, CRED-2, CRED-3, CRED-6, A1, A9, SPCH-13).
"""

from __future__ import annotations

import pytest

from tests.conftest import CAP2, FULL, LOW
from tests.test_speech_support import (
    RUNS,
    advance_to,
    assert_error,
    audio,
    credits,
    run_doc,
    submit,
    submitted,
)

TIGHT = "zh_api_test_tight_budget_0001"


@pytest.fixture
def tight(api):
    """A client with 10 credits (added through the control API)."""
    r = api.post("/__mock/clients", json={"id": "tight", "credits": 10, "permissions": ["speech"],
                                          "keys": [{"key": TIGHT}]})
    assert r.status_code == 201, r.text
    return TIGHT


def transactions(api, key: str, run_id: str) -> list[dict]:
    return [t for t in reversed(credits(api, key)["recentTransactions"]) if t["runId"] == run_id]


@pytest.mark.parametrize("seconds, cost", [(180.0, 3), (180.5, 4), (239.0, 4), (240.0, 4), (2700.0, 45)])
def test_cost_is_one_credit_per_started_minute(api, seconds, cost):
    run_id = submitted(api, data=audio("wav", seconds) if seconds < 600 else audio("flac", seconds))["id"]
    assert [(t["type"], t["amount"]) for t in transactions(api, FULL, run_id)] == [("hold", cost)]


def test_the_cost_is_held_at_submit_lowering_available_not_the_balance(api):
    before = credits(api)
    submitted(api, data=audio("flac", 300.0))
    after = credits(api)
    assert after["creditBalance"] == before["creditBalance"]
    assert after["heldCredits"] == before["heldCredits"] + 5
    assert after["availableCredits"] == before["availableCredits"] - 5


def test_success_charges_the_hold_at_the_runs_end(api):
    before = credits(api)["creditBalance"]
    run_id = submitted(api, data=audio("flac", 300.0))["id"]
    doc = run_doc(api, run_id)
    advance_to(api, doc["finish_at"] - 1)
    assert credits(api)["creditBalance"] == before
    api.advance(1)
    after = credits(api)
    assert after["creditBalance"] == before - 5 and after["heldCredits"] == 0
    assert after["usage"]["byModule"]["speech"] == 5
    charge = transactions(api, FULL, run_id)[-1]
    assert charge["type"] == "charge" and charge["amount"] == -5 and charge["module"] == "speech"
    assert charge["balanceAfter"] == before - 5


def test_partial_is_charged_in_full(api):
    before = credits(api)["creditBalance"]
    run_id = submitted(api, data=audio("flac", 300.0), scenario="speech-partial")["id"]
    advance_to(api, run_doc(api, run_id)["finish_at"])
    assert credits(api)["creditBalance"] == before - 5
    assert [t["type"] for t in transactions(api, FULL, run_id)] == ["hold", "charge"]


def test_failed_releases_the_hold_and_charges_nothing(api):
    before = credits(api)
    run_id = submitted(api, data=audio("flac", 300.0), scenario="speech-failed-ACCENT_SCORE_UNAVAILABLE")["id"]
    advance_to(api, run_doc(api, run_id)["finish_at"])
    after = credits(api)
    assert after["creditBalance"] == before["creditBalance"]
    assert after["availableCredits"] == before["availableCredits"]
    assert [(t["type"], t["amount"]) for t in transactions(api, FULL, run_id)] == [("hold", 5), ("release", 5)]


def test_402_when_the_cost_exceeds_balance_minus_holds(api, tight):
    first = submitted(api, key=tight, data=audio("flac", 360.0))          # 6 of 10 held
    r = submit(api, key=tight, data=audio("flac", 360.0))
    error = assert_error(r, 402, "INSUFFICIENT_CREDITS")
    assert error["details"] == {"cost": 6, "available": 4}
    assert submit(api, key=tight, data=audio("flac", 240.0)).status_code == 202  # exactly the 4 left
    assert_error(submit(api, key=tight, data=audio("flac", 180.0)), 402, "INSUFFICIENT_CREDITS")
    advance_to(api, run_doc(api, first["id"])["finish_at"])
    assert credits(api, tight)["creditBalance"] == 4


def test_a_refused_submit_leaves_no_run_and_no_hold(api):
    error = assert_error(submit(api, key=LOW, data=audio("flac", 200.0)), 402, "INSUFFICIENT_CREDITS")
    assert error["details"] == {"cost": 4, "available": 2}
    assert credits(api, LOW)["heldCredits"] == 0
    assert api.call("GET", RUNS, key=LOW).json()["runs"] == []


def test_a_failed_runs_released_hold_funds_the_next_submit(api, tight):
    run_id = submitted(api, key=tight, data=audio("flac", 600.0), scenario="speech-failed-TRANSCRIPTION_FAILED")["id"]
    assert_error(submit(api, key=tight, data=audio("flac", 200.0)), 402, "INSUFFICIENT_CREDITS")
    advance_to(api, run_doc(api, run_id)["finish_at"])
    assert submit(api, key=tight, data=audio("flac", 600.0)).status_code == 202


def test_queued_runs_hold_credits_but_are_charged_only_at_their_end(api):
    ids = [submitted(api, key=CAP2, data=audio("flac", 200.0, i))["id"] for i in range(3)]
    queued = run_doc(api, ids[2])
    assert queued["start_at"] > queued["created_at"]
    assert credits(api)["heldCredits"] == 12
    advance_to(api, queued["start_at"])
    assert [t["type"] for t in transactions(api, FULL, ids[2])] == ["hold"]  # processing: not charged yet
    advance_to(api, queued["finish_at"])
    charge = transactions(api, FULL, ids[2])[-1]
    assert charge["type"] == "charge" and charge["amount"] == -4


def test_one_balance_is_shared_by_every_key_of_the_client(api):
    before = credits(api, FULL)["availableCredits"]
    submitted(api, key=CAP2, data=audio("flac", 300.0))
    assert credits(api, FULL)["availableCredits"] == before - 5


def test_the_ledger_balances_after_a_mixed_batch(api):
    initial = credits(api)["creditBalance"]
    plans = [(None, 200.0), ("speech-partial", 300.0), ("speech-failed-SCORING_FAILED", 400.0), (None, 190.0)]
    runs = [(submitted(api, scenario=scenario, data=audio("flac", seconds))["id"], scenario) for scenario, seconds in plans]
    advance_to(api, max(run_doc(api, run_id)["finish_at"] for run_id, _ in runs))
    summary = credits(api)
    charged = sum(run_doc(api, run_id)["cost"] for run_id, scenario in runs if not (scenario or "").startswith("speech-failed"))
    assert summary["creditBalance"] == initial - charged
    assert summary["heldCredits"] == 0
    assert summary["usage"]["totalCharged"] == charged
