"""The running aggregates and indexes behind credits and lists (issue 14) give exactly what a
scan of the whole history gives: under Hypothesis sequences of submits (hold + scheduled
settlement), clock moves, top-ups, resets of a client and restarts from `--state`, the
ledger summary equals a from-scratch reference model, and every page of the runs list
(filters, cursors) equals filtering the full newest-first history."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.clock import iso
from mockserver.modules.speech.listing import list_page, list_row, run_filter
from mockserver.modules.speech.runs import API_RUN_KIND, run_status
from mockserver.platform.credits import MODULES, Ledger
from mockserver.store import MemoryStore, SqlitePersistence

INITIAL = 60
CLIENTS = ("alpha", "beta")


class ReferenceLedger:
    """The ledger recomputed from its whole history on every read (no indexes, no heaps)."""

    def __init__(self) -> None:
        self.events: list[tuple] = []  # what happened, in order
        self.pending: list[dict] = []
        self.seq = itertools.count()

    def state(self, client: str, now: float) -> dict:
        balance, held, usage, holds, txns = INITIAL, 0, {m: 0 for m in MODULES}, {}, []
        pending = []
        for event in self.events:
            kind = event[0]
            if kind == "reset" and event[1] == client:
                balance, held, usage, holds, txns, pending = INITIAL, 0, {m: 0 for m in MODULES}, {}, [], []
            if event[1] != client:
                continue
            if kind == "settle_to":
                at_most = event[2]
                due = sorted((p for p in pending if p["at"] <= at_most), key=lambda p: (p["at"], p["seq"]))
                for item in due:
                    pending.remove(item)
                    amount = holds.pop(item["run"], 0)
                    held -= amount
                    if item["action"] == "charge":
                        charged = min(amount, balance)
                        balance -= charged
                        usage[item["module"]] += charged
                        txns.append(("charge", -charged, balance, item["run"], item["at"]))
                    elif amount:
                        txns.append(("release", amount, balance, item["run"], item["at"]))
            elif kind == "hold":
                _, _, run, amount, module, at, finish, action, seq = event
                if amount <= balance - held:
                    held += amount
                    holds[run] = amount
                    txns.append(("hold", amount, balance, run, at))
                    pending.append({"run": run, "at": finish, "action": action, "module": module, "seq": seq})
            elif kind == "topup":
                balance += event[2]
                txns.append(("topup", event[2], balance, None, event[3]))
        return {"balance": balance, "held": held, "usage": usage, "txns": txns}


operation = st.one_of(
    st.tuples(st.just("submit"), st.sampled_from(CLIENTS), st.integers(1, 25), st.sampled_from(("speech", "cvdeepmatch")),
              st.integers(1, 120), st.sampled_from(("charge", "release"))),
    st.tuples(st.just("advance"), st.sampled_from((0.5, 1, 10, 30, 60, 200))),
    st.tuples(st.just("rewind"), st.sampled_from((0.5, 30))),  # e.g. a restart with an earlier --clock-start
    st.tuples(st.just("credits"), st.sampled_from(CLIENTS), st.sampled_from((3, 20, 500))),
    st.tuples(st.just("topup"), st.sampled_from(CLIENTS), st.integers(1, 40)),
    st.tuples(st.just("reset"), st.sampled_from(CLIENTS)),
    st.tuples(st.just("restart"),),
)


def _open(path) -> tuple[MemoryStore, Ledger]:
    store = MemoryStore(persistence=SqlitePersistence(path))
    return store, Ledger(store, lambda _client: INITIAL)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=60))
def test_ledger_summary_equals_a_replay_of_the_whole_history(tmp_path_factory, ops):
    path = tmp_path_factory.mktemp("ledger") / "state.sqlite"
    store, ledger = _open(path)
    reference = ReferenceLedger()
    now, runs = 1_000_000.0, itertools.count()
    for op in ops:
        if op[0] == "submit":
            _, client, amount, module, seconds, action = op
            run = f"run_{next(runs)}"
            refused = ledger.hold(client, run, amount, module, now)
            reference.events.append(("settle_to", client, now))
            seq = next(reference.seq)
            reference.events.append(("hold", client, run, amount, module, now, now + seconds, action, seq))
            if refused is None:
                ledger.schedule(client, run, now + seconds, action, module)
        elif op[0] == "advance":
            now += op[1]
        elif op[0] == "rewind":
            now -= op[1]
        elif op[0] == "topup":
            ledger.adjust(op[1], now=now, delta=op[2])
            reference.events.append(("settle_to", op[1], now))
            reference.events.append(("topup", op[1], op[2], now))
        elif op[0] == "reset":
            store.purge_owner(op[1])
            reference.events.append(("reset", op[1]))
        elif op[0] == "restart":
            store._persistence.close()
            store, ledger = _open(path)
        else:
            client = op[1]
            got = ledger.summary(client, now, limit=op[2])
            reference.events.append(("settle_to", client, now))
            want = reference.state(client, now)
            assert got["creditBalance"] == want["balance"]
            assert got["heldCredits"] == want["held"]
            assert got["availableCredits"] == max(want["balance"] - want["held"], 0)
            assert got["usage"]["byModule"] == want["usage"]
            assert got["usage"]["totalCharged"] == sum(want["usage"].values())
            # newest first by (time, order of recording), as the ledger documents
            ordered = sorted(enumerate(want["txns"]), key=lambda it: (it[1][4], it[0]), reverse=True)
            expected = [(t[0], t[1], t[2], t[3], iso(t[4])) for _i, t in ordered][:op[2]]
            assert [(t["type"], t["amount"], t["balanceAfter"], t["runId"], t["createdAt"])
                    for t in got["recentTransactions"]] == expected
    store._persistence.close()


run_doc = st.fixed_dictionaries({
    "serviceType": st.sampled_from(("speech", "cv_deepmatch")),
    "project": st.sampled_from((None, "p1", "p2")),
    "tags": st.lists(st.sampled_from(("a", "b", "c")), unique=True, max_size=2),
    "metadata": st.dictionaries(st.sampled_from(("k", "j")), st.sampled_from(("1", "x")), max_size=1),
    "externalId": st.sampled_from((None, "e1", "e2")),
    "seconds": st.floats(1, 500),
    "outcome": st.sampled_from(("success", "failed")),
})
list_query = st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(("processing", "success", "failed")),
    "serviceType": st.sampled_from(("speech", "cv_deepmatch")),
    "project": st.sampled_from(("none", "p1")),
    "tags": st.sampled_from(("a", "a,b")),
    "metadata_key": st.just("k"),
    "externalId": st.just("e1"),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(run_doc, max_size=30), min_size=1, max_size=4), query=list_query,
       limit=st.integers(1, 7), advance=st.floats(0, 400), other_owner_every=st.integers(2, 5))
def test_runs_list_pages_equal_filtering_the_whole_history(tmp_path_factory, batches, query, limit, advance,
                                                           other_owner_every):
    path = tmp_path_factory.mktemp("runs") / "state.sqlite"
    store = MemoryStore(persistence=SqlitePersistence(path))
    now, counter, history = 2_000_000.0, itertools.count(), []
    for batch in batches:  # each batch after a restart from the state file
        for spec in batch:
            n = next(counter)
            owner = "other" if n % other_owner_every == 0 else "me"
            doc = {"id": f"run_{n:05d}", "serviceType": spec["serviceType"], "externalId": spec["externalId"],
                   "project": spec["project"], "metadata": spec["metadata"], "tags": spec["tags"],
                   "createdAt": iso(now), "created_at": now, "start_at": now, "finish_at": now + spec["seconds"],
                   "outcome": spec["outcome"], "language": "en", "durationSeconds": 60.0}
            stored = store.put(API_RUN_KIND, doc["id"], doc, owner=owner)
            if owner == "me":
                history.append(stored)
            now += 1.0
        store._persistence.close()
        store = MemoryStore(persistence=SqlitePersistence(path))
    now += advance
    keep = run_filter(query)
    expected = []
    for doc in reversed(history):
        doc = dict(doc, status=run_status(doc, now))
        if keep(doc):
            expected.append(list_row(doc, now))
    pages, cursor = [], None
    for _ in range(len(history) + 2):
        page = list_page(store, "me", dict(query, limit=limit, **({"cursor": cursor} if cursor else {})), now)
        assert len(page["runs"]) <= limit
        pages.extend(page["runs"])
        cursor = page["pagination"]["nextCursor"]
        assert page["pagination"]["hasMore"] == (cursor is not None)
        if cursor is None:
            break
    assert pages == expected
    store._persistence.close()


def test_recent_transactions_are_in_time_order_when_recorded_out_of_order(tmp_path):
    """A clock that went back (a restart with an earlier --clock-start) records a hold older
    than the one before it: the summary still lists the newest by time, before and after a
    restart."""
    store, ledger = _open(tmp_path / "state.sqlite")
    ledger.adjust("alpha", now=1000.0, delta=5)
    for i, now in enumerate((500.0, 510.0, 520.0)):
        assert ledger.hold("alpha", f"late_{i}", 1, "speech", now) is None
    times = [t["createdAt"] for t in ledger.summary("alpha", 520.0, limit=3)["recentTransactions"]]
    assert times == [iso(1000.0), iso(520.0), iso(510.0)]
    store._persistence.close()
    store, ledger = _open(tmp_path / "state.sqlite")
    times = [t["createdAt"] for t in ledger.summary("alpha", 520.0, limit=3)["recentTransactions"]]
    assert times == [iso(1000.0), iso(520.0), iso(510.0)]
    store._persistence.close()


def test_documents_of_many_shapes_read_back_as_written(tmp_path):
    """The store keeps each top-level key list once; past its table size a document is kept
    whole. Either way, and after a restart, a read gives back exactly what was written."""
    store = MemoryStore(persistence=SqlitePersistence(tmp_path / "state.sqlite"))
    written = {}
    for i in range(4200):
        doc = {f"k{i}": i, "nested": {"n": [i, None, 1.5]}, "text": "é" * (i % 3)}
        if i % 2:
            doc = {"text": doc["text"], f"k{i}": i}  # another key order: another shape
        written[f"d{i}"] = doc
        store.put("shapes", f"d{i}", doc, owner="o")
    for name, doc in written.items():
        got = store.get("shapes", name)
        assert got == doc and list(got) == list(doc)
    store._persistence.close()
    reopened = MemoryStore(persistence=SqlitePersistence(tmp_path / "state.sqlite"))
    assert list(reopened.scan("shapes", owner="o")) == list(written.values())
    reopened._persistence.close()


def test_large_values_shared_between_documents_survive_overwrites_deletes_and_purges(tmp_path):
    """A big value common to many documents is kept once; replacing, deleting or purging some
    of its documents never changes what the others read, and a value nobody uses is dropped."""
    store = MemoryStore()
    config = {"weights": {f"skill{i}": i / 10 for i in range(40)}, "notes": ["x" * 30] * 5}
    other = {"parsed": [{"line": i, "text": "cv line " * 4} for i in range(20)]}
    for i in range(30):
        store.put("run", f"r{i}", {"id": i, "config": config, "cv": other if i % 2 else {"parsed": []}},
                  owner="a" if i < 20 else "b")
    assert len(store._codec._shared) == 2
    store.put("run", "r1", {"id": 1, "config": dict(config, extra=[1, 2]), "cv": other})
    store.delete("run", "r3")
    store.update("run", "r5", lambda cur: dict(cur, config={"small": 1}))
    store.purge_owner("b")
    for i in range(20):
        got = store.get("run", f"r{i}")
        if i == 3:
            assert got is None
            continue
        want_config = dict(config, extra=[1, 2]) if i == 1 else {"small": 1} if i == 5 else config
        assert got["config"] == want_config and got["cv"] == (other if i % 2 else {"parsed": []})
    store.purge_all()
    assert store._codec._shared == {} and store._codec._uses == {}
