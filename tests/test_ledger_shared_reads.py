"""The credits ledger on a shared (Redis) store reads in one consistent step and writes an
account change together with its transaction: a read racing settlements made by another
process never shows a half-settled account (a balance without the charge that explains it,
or held credits already charged); a read with nothing due takes no lock; and the two store
operations behind it (`read_view`, `update_and_put`) are atomic."""

from __future__ import annotations

import multiprocessing

import pytest

from mockserver.platform.credits import ACCOUNT, TXN, Ledger
from tests.support import ledger_workers, store_workers




@pytest.fixture(params=["memory", "redis"])
def any_store(request):
    """Stores made by the test on one backend (in memory: one store, shared by every call)."""
    if request.param == "memory":
        from mockserver.store import MemoryStore

        one = MemoryStore()
        return lambda: one
    return request.getfixturevalue("rstore")


def test_read_view_returns_documents_and_index_ranges_in_order(any_store):
    store = any_store()
    for n in range(5):
        store.put("txn", f"t{n}", {"n": n}, owner="acme")
    store.put("txn", "other", {"n": 99}, owner="beta")
    store.put("account", "acme", {"balance": 7}, owner="acme")
    store.delete("txn", "t2")
    (account, missing), (newest, every, none_yet) = store.read_view(
        [("account", "acme"), ("account", "nobody")],
        [("txn", "acme", True, 2), ("txn", "acme", False, 0), ("settlement", "acme", False, 0)])
    assert account == {"balance": 7} and missing is None  # a pure document: no bookkeeping inside
    assert [(e.doc["n"], e.owner) for e in newest] == [(4, "acme"), (3, "acme")]
    assert [e.doc["n"] for e in every] == [0, 1, 3, 4]
    assert [e.seq for e in every] == sorted(e.seq for e in every) and len({e.seq for e in every}) == 4
    assert none_yet == []


def test_update_and_put_writes_the_update_and_its_companions_together_and_retries_on_a_change(rstore):
    store, other = rstore(), rstore()
    store.put("account", "acme", {"balance": 10}, owner="acme")
    calls = []

    def apply(cur):
        calls.append(cur["balance"])
        if len(calls) == 1:  # another process changes the account meanwhile
            other.update("account", "acme", lambda d: dict(d, balance=d["balance"] + 5), owner="acme")
        return dict(cur, balance=cur["balance"] - 1)

    new = store.update_and_put("account", "acme", apply,
                               lambda doc: [("txn", f"after-{doc['balance']}", {"balanceAfter": doc["balance"]}, "acme")],
                               owner="acme")
    assert calls == [10, 15] and new["balance"] == 14
    assert store.get("account", "acme")["balance"] == 14
    assert [t["balanceAfter"] for t in store.scan("txn", owner="acme")] == [14]  # the stale one never written
    created = store.update_and_put("account", "beta", lambda cur: {"balance": 3}, lambda doc: [], owner="beta")
    assert created == {"balance": 3} and store.get_entry("account", "beta").owner == "beta"
    assert store.count("account", owner="beta") == 1


def test_a_credits_read_with_nothing_due_takes_no_lock(rstore):
    store = rstore()
    ledger = Ledger(store, lambda _c: 500)
    assert ledger.hold("acme", "r1", 40, "speech", 1.0) is None
    ledger.schedule("acme", "r1", 10.0, "charge", "speech")

    def no_lock(*_a, **_k):
        raise AssertionError("a read with nothing due took the ledger lock")

    store.lock = no_lock
    view = ledger.summary("acme", 5.0)
    assert (view["creditBalance"], view["heldCredits"], view["availableCredits"]) == (500, 40, 460)
    del store.lock
    view = ledger.summary("acme", 10.0)  # now due: settled by this read
    assert (view["creditBalance"], view["heldCredits"]) == (460, 0)
    assert [t["type"] for t in view["recentTransactions"]] == ["charge", "hold"]


def _consistent(state, amount: int) -> bool:
    balance, held, txns = state
    holds = sum(a for kind, a in txns if kind == "hold")
    charged = -sum(a for kind, a in txns if kind == "charge")
    return balance == ledger_workers.INITIAL - charged and held == holds - charged and charged % amount == 0


def test_a_credits_read_racing_settlements_in_another_process_never_shows_a_half_settled_account(redis_url):
    runs, amount = 40, 7
    done = multiprocessing.get_context("spawn").Event()
    got = store_workers.run_together(2, lambda barrier: [
        (ledger_workers.hold_and_settle, (redis_url, barrier, done, runs, amount)),
        (ledger_workers.read_summaries, (redis_url, barrier, done, 2 * runs + 10))])
    assert got[0] == (True, runs), got[0]
    ok, states = got[1]
    assert ok, states
    broken = [s for s in states if not _consistent(s, amount)]
    assert broken == []
    assert len(states) > 3  # the reader saw the account move while it read
    final = max(states, key=lambda s: len(s[2]))
    assert final[0] == ledger_workers.INITIAL - runs * amount and final[1] == 0


def test_account_changes_and_their_transactions_land_together_on_a_shared_store(rstore):
    store = rstore()
    ledger = Ledger(store, lambda _c: 100)
    ledger.adjust("acme", now=1.0, delta=25)
    assert ledger.hold("acme", "r1", 30, "speech", 2.0) is None
    ledger.cancel_hold("acme", "r1", 3.0)
    account = store.get(ACCOUNT, "acme")
    txns = list(store.scan(TXN, owner="acme"))
    assert (account["balance"], account["held"]) == (125, 0)
    assert [(t["type"], t["amount"], t["balanceAfter"]) for t in txns] == [
        ("topup", 25, 125), ("hold", 30, 125), ("release", 30, 125)]


def test_update_and_put_in_memory_puts_what_extra_makes_of_the_new_document():
    from mockserver.store import MemoryStore

    store = MemoryStore()
    new = store.update_and_put("account", "acme", lambda cur: {"balance": 9},
                               lambda doc: [("txn", "t1", {"balanceAfter": doc["balance"]}, "acme")], owner="acme")
    assert new["balance"] == 9 and store.get("txn", "t1")["balanceAfter"] == 9
    assert store.count("txn", owner="acme") == 1


def test_a_first_credits_read_racing_the_first_hold_shows_the_account_as_it_starts(rstore):
    """The view is read before the client's account exists; another process holds right
    after. The read answers the starting account with no transactions — never the new hold's
    account beside the view's empty transaction list."""
    store, other = rstore(), rstore()
    reader, writer = Ledger(store, lambda _c: 500), Ledger(other, lambda _c: 500)
    real_read_view = store.read_view

    def read_then_hold(*args, **kwargs):
        view = real_read_view(*args, **kwargs)
        assert writer.hold("acme", "r1", 40, "speech", 1.0) is None  # lands between view and answer
        return view

    store.read_view = read_then_hold
    view = reader.summary("acme", 1.0)
    del store.read_view
    assert (view["creditBalance"], view["heldCredits"], view["recentTransactions"]) == (500, 0, [])
    after = reader.summary("acme", 1.0)
    assert (after["heldCredits"], [t["type"] for t in after["recentTransactions"]]) == (40, ["hold"])
