"""HLTH-1 and CRED-1 through HTTP; the ledger's hold/charge/release movements (CRED-2/3/4
mechanics, per module tests live with the modules)."""

import pytest

from conftest import FULL, make_app, Api

STATES_OK = ["healthy", "configured"]
STATES_BAD = ["unhealthy", "unreachable", "not_configured"]


def test_health_is_200_with_named_checks(api):
    r = api.get("/api/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "healthy"
    assert body["checks"] and all(c["status"] in STATES_OK for c in body["checks"].values())


@pytest.mark.parametrize("state", STATES_BAD)
def test_any_bad_check_makes_health_503_with_a_health_body(api, state):
    assert api.put("/__mock/health", json={"checks": {"scoring": state}}).status_code == 200
    r = api.get("/api/v1/health")
    assert r.status_code == 503
    body = r.json()
    assert "error" not in body  # A7: a health body, not the error envelope
    assert body["status"] == "unhealthy" and body["checks"]["scoring"]["status"] == state


def test_configured_counts_as_healthy(api):
    api.put("/__mock/health", json={"checks": {"scoring": "configured"}})
    assert api.get("/api/v1/health").status_code == 200


def test_old_health_path_is_not_health(api):
    assert api.get("/api/health").status_code == 404


def test_health_can_be_marked_unhealthy_by_a_scenario_file(tmp_path):
    path = tmp_path / "sick.yaml"
    path.write_text("version: 1\nhealth:\n  checks:\n    database: unreachable\n")
    with Api(make_app(scenarios=[str(path)])) as client:
        assert client.get("/api/v1/health").status_code == 503


def test_credits_shape_and_ledger_movements(api):
    ledger, clock = api.platform.ledger, api.platform.clock
    now = clock.now()
    assert ledger.hold("acme", "run-1", 5, "speech", now) is None
    ledger.schedule("acme", "run-1", now + 100, "charge", "speech")
    assert ledger.hold("acme", "run-2", 3, "speech", now) is None
    ledger.schedule("acme", "run-2", now + 50, "release", "speech")
    body = api.call("GET", "/api/v1/credits").json()
    assert body["creditBalance"] == 100000 and body["heldCredits"] == 8 and body["availableCredits"] == 99992
    assert [t["type"] for t in body["recentTransactions"]] == ["hold", "hold"]
    api.advance(100)
    body = api.call("GET", "/api/v1/credits").json()
    assert body["creditBalance"] == 99995 and body["heldCredits"] == 0
    assert body["usage"]["byModule"]["speech"] == 5 and body["usage"]["totalCharged"] == 5
    kinds = [(t["type"], t["amount"], t.get("runId")) for t in body["recentTransactions"]]
    assert kinds[0] == ("charge", -5, "run-1") and kinds[1] == ("release", 3, "run-2")


def test_hold_refused_when_available_is_short(api):
    ledger, now = api.platform.ledger, api.platform.clock.now()
    refused = ledger.hold("lowfunds", "r", 3, "speech", now)
    assert refused is not None and refused.available == 2 and refused.cost == 3
    assert ledger.hold("lowfunds", "r2", 2, "speech", now) is None
    assert ledger.hold("lowfunds", "r3", 1, "speech", now).available == 0


def test_control_api_top_up_is_a_transaction(api):
    api.post("/__mock/clients/acme/credits", json={"delta": 25})
    body = api.call("GET", "/api/v1/credits", key=FULL).json()
    assert body["creditBalance"] == 100025
    assert body["recentTransactions"][0]["type"] == "topup" and body["recentTransactions"][0]["amount"] == 25


def test_credits_view_follows_every_transaction_and_a_reset_between_repeated_reads(api):
    """The view's transaction list is rendered once and reused while nothing changed: each
    repeated read must still show a new transaction, a top-up and a reset at once."""
    ledger, now = api.platform.ledger, api.platform.clock.now()

    def shown():
        return [(t["type"], t["amount"], t["runId"]) for t in api.call("GET", "/api/v1/credits").json()["recentTransactions"]]

    assert ledger.hold("acme", "run-1", 5, "speech", now) is None
    assert shown() == shown() == [("hold", 5, "run-1")]
    assert ledger.hold("acme", "run-2", 3, "speech", now) is None
    assert shown() == [("hold", 3, "run-2"), ("hold", 5, "run-1")]
    api.post("/__mock/clients/acme/credits", json={"delta": 25})
    assert shown()[0] == ("topup", 25, None)
    assert api.post("/__mock/reset", json={"client": "acme"}).status_code == 200
    assert shown() == shown() == []
    assert ledger.hold("acme", "run-3", 2, "speech", now) is None
    assert shown() == [("hold", 2, "run-3")]
    assert api.post("/__mock/reset", json={"client": "acme"}).status_code == 200
    assert ledger.hold("acme", "run-4", 4, "speech", now) is None  # as many transactions as before
    assert shown() == [("hold", 4, "run-4")]
