"""`GET /api/v1/credits` renders its view once and keeps it on the account document
(`Ledger.summary` with `kept_views`): every change of the account or its transactions must
show on the very next read after one served from the kept view — a hold, a settlement at
its virtual instant, a control-API top-up, a reset — and a tenant only ever sees its own."""

from __future__ import annotations

import pytest

from conftest import FULL, SECOND
from mockserver.platform.credits import ACCOUNT
from mockserver.platform.kept_views import kept_views
from test_speech_support import advance_to, run_doc, submitted


def credits(api, key: str = FULL) -> dict:
    r = api.call("GET", "/api/v1/credits", key=key)
    assert r.status_code == 200, r.text
    return r.json()


def client_of(api, key: str = FULL) -> str:
    return api.platform.registry.keys[key].client_id


@pytest.fixture
def kept(api):
    """The credits of FULL read twice: the second read served from the kept view."""
    first = credits(api)
    assert credits(api) == first
    assert kept_views(api.platform.store).get(ACCOUNT, client_of(api), client_of(api), 0.0) is not None
    return first


def test_a_hold_shows_on_the_next_read(api, kept):
    submitted(api)
    after = credits(api)
    assert after["heldCredits"] > kept["heldCredits"]
    assert len(after["recentTransactions"]) == len(kept["recentTransactions"]) + 1


def test_a_settlement_shows_at_its_instant(api, kept):
    run_id = submitted(api)
    held = credits(api)
    advance_to(api, run_doc(api, run_id["id"])["finish_at"])
    settled = credits(api)
    assert settled["heldCredits"] < held["heldCredits"] and settled["creditBalance"] < held["creditBalance"]


def test_a_control_top_up_shows_on_the_next_read(api, kept):
    r = api.post(f"/__mock/clients/{client_of(api)}/credits", json={"delta": 7})
    assert r.status_code == 200
    assert credits(api)["creditBalance"] == kept["creditBalance"] + 7


@pytest.mark.parametrize("one_client", [False, True], ids=["all", "client"])
def test_a_reset_shows_the_account_as_it_starts(api, kept, one_client):
    submitted(api)
    assert credits(api)["heldCredits"] > 0
    assert api.post("/__mock/reset", json={"client": client_of(api)} if one_client else {}).status_code == 200
    fresh = credits(api)
    assert fresh["heldCredits"] == 0 and fresh["recentTransactions"] == []


def test_a_transaction_recorded_without_an_account_write_shows_too(api, kept):
    api.platform.ledger._record(client_of(api), "adjustment", 1, kept["creditBalance"], api.platform.clock.now(),
                                None, None, "Balance set through the control API")
    assert len(credits(api)["recentTransactions"]) == len(kept["recentTransactions"]) + 1


def test_each_tenant_reads_its_own_kept_view(api, kept):
    submitted(api, key=SECOND)
    other = credits(api, key=SECOND)
    assert credits(api) == kept and other["heldCredits"] > 0 and credits(api, key=SECOND) == other


def test_an_account_write_without_a_transaction_shows_too(api, kept):
    client = client_of(api)
    api.platform.store.update(ACCOUNT, client, lambda cur: dict(cur, balance=cur["balance"] + 5), owner=client)
    assert credits(api)["creditBalance"] == kept["creditBalance"] + 5
