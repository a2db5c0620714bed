"""One conformance suite for every store backend — memory, memory + SQLite file, Redis — so
they behave the same behind the `Store` protocol: documents and copies, owner scoping,
ordered and paged scans under concurrent writes, update/take/idempotency/windows/gates/
slots/locks/counters/purges with their edge cases. Redis also: atomicity across two store
instances hammered from threads and from two OS processes, state seen by a reopened store,
and an outage (redis-server killed → `StoreUnavailable` in bounded time; restarted → works)."""

from __future__ import annotations

import threading
import time

import pytest

from mockserver.store import MemoryStore, SqlitePersistence

BACKENDS = ("memory", "sqlite", "redis")


def _open(backend: str, request, tmp_path):
    if backend == "memory":
        return MemoryStore()
    if backend == "sqlite":
        return MemoryStore(persistence=SqlitePersistence(tmp_path / "state.sqlite"))
    from mockserver.store.redis_store import RedisStore

    store = RedisStore(request.getfixturevalue("redis_url"))
    request.addfinalizer(store.close)
    return store


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    return _open(request.param, request, tmp_path)


# -- documents --------------------------------------------------------------------------------
def test_put_returns_a_fresh_copy_of_the_document_and_leaves_the_callers_dict_alone(store):
    doc = {"name": "a", "nested": {"list": [1, 2]}}
    out = store.put("run", "r1", doc, owner="alice")
    assert doc == {"name": "a", "nested": {"list": [1, 2]}}
    assert out == doc and out is not doc
    out["nested"]["list"].append(3)
    read = store.get("run", "r1")
    assert read["nested"]["list"] == [1, 2]
    read["nested"]["list"].append(9)
    assert store.get("run", "r1")["nested"]["list"] == [1, 2]


def test_documents_come_back_exactly_as_written_with_no_bookkeeping_keys(store):
    doc = {"name": "a", "n": 1, "f": 0.5, "none": None, "flag": True, "nested": {"list": [1, {"x": "y"}]},
           "unicode": "żółw"}
    store.put("run", "r1", doc, owner="alice")
    store.put("run", "r2", {"v": 2})
    assert store.get("run", "r1") == doc and store.get("run", "r1", owner="alice") == doc
    assert store.get("run", "r2") == {"v": 2}
    assert list(store.scan("run")) == [doc, {"v": 2}]
    assert list(store.scan("run", owner="alice", newest_first=True)) == [doc]
    assert store.update("run", "r2", lambda cur: dict(cur, w=3)) == {"v": 2, "w": 3}
    seen = []
    store.update("run", "r1", lambda cur: seen.append(cur) or cur)
    assert seen[-1] == doc  # fn sees the pure document too
    assert store.take("run", "r2") == {"v": 2, "w": 3}
    assert store.put_entry("run", "r3", {"v": 3}).doc == {"v": 3}


def test_entries_carry_sequence_and_owner_beside_the_document(store):
    first = store.put_entry("run", "r1", {"v": 1}, owner="alice")
    second = store.put_entry("run", "r2", {"v": 2})
    assert (first.owner, first.doc) == ("alice", {"v": 1}) and second.owner is None
    assert isinstance(first.seq, int) and second.seq > first.seq
    assert store.get_entry("run", "r1") == first
    assert store.get_entry("run", "r1", owner="alice") == first
    assert store.get_entry("run", "r2") == second
    assert [(e.seq, e.owner, e.doc) for e in store.scan_entries("run")] == \
        [(first.seq, "alice", {"v": 1}), (second.seq, None, {"v": 2})]
    assert [e.seq for e in store.scan_entries("run", newest_first=True)] == [second.seq, first.seq]
    assert [e.doc for e in store.scan_entries("run", owner="alice")] == [{"v": 1}]
    assert list(store.scan_entries("run", before_seq=second.seq)) == [first]
    with pytest.raises(AttributeError):
        first.seq = 0  # frozen


def test_entries_follow_the_tenant_rule(store):
    store.put("run", "r1", {"v": 1}, owner="alice")
    assert store.get_entry("run", "r1", owner="bob") is None
    assert store.get_entry("run", "missing") is None
    assert list(store.scan_entries("run", owner="bob")) == []


def test_overwrite_keeps_the_documents_sequence_and_first_owner(store):
    first = store.put_entry("run", "r1", {"v": 1}, owner="alice")
    store.put("run", "other", {"v": 0})
    # keys that look like the old in-document bookkeeping are plain domain data now
    again = store.put_entry("run", "r1", {"v": 2, "_seq": 999, "_owner": "mallory"}, owner="bob")
    assert (again.seq, again.owner) == (first.seq, "alice")
    assert store.get_entry("run", "r1") == again
    assert store.get("run", "r1") == {"v": 2, "_seq": 999, "_owner": "mallory"}
    assert store.get("run", "r1", owner="mallory") is None and store.get("run", "r1", owner="bob") is None
    store.update("run", "r1", lambda cur: {"v": 3}, owner="bob")
    assert store.get_entry("run", "r1") == type(first)(first.seq, "alice", {"v": 3})


def test_get_with_an_owner_hides_another_tenants_document(store):
    store.put("run", "r1", {"v": 1}, owner="alice")
    store.put("run", "r2", {"v": 2})
    assert store.get("run", "r1", owner="alice")["v"] == 1
    assert store.get("run", "r1", owner="bob") is None
    assert store.get("run", "r2", owner="alice") is None
    assert store.get_entry("run", "r2").owner is None
    assert store.get("run", "missing") is None
    assert store.get("other-kind", "r1") is None


def test_delete_removes_the_document_from_reads_scans_and_counts(store):
    store.put("run", "r1", {"v": 1}, owner="alice")
    store.put("run", "r2", {"v": 2}, owner="alice")
    store.delete("run", "r1")
    store.delete("run", "never-there")
    assert store.get("run", "r1") is None
    assert [d["v"] for d in store.scan("run", owner="alice")] == [2]
    assert store.count("run") == 1 and store.count("run", owner="alice") == 1


def test_kinds_and_keys_with_separators_do_not_collide(store):
    store.put("a:b", "c", {"v": "kind a:b"})
    store.put("a", "b:c", {"v": "kind a"})
    store.put("a", "x|y", {"v": "bar"}, owner="o|p")
    assert store.get("a:b", "c")["v"] == "kind a:b"
    assert store.get("a", "b:c")["v"] == "kind a"
    assert [d["v"] for d in store.scan("a", owner="o|p")] == ["bar"]
    assert store.count("a") == 2 and store.count("a:b") == 1


# -- scans ---------------------------------------------------------------------------------------
def _fill(store, n, owner="alice", kind="run"):
    return [store.put_entry(kind, f"r{i:03d}", {"i": i}, owner=owner).seq for i in range(n)]


def test_scan_orders_by_insertion_both_ways_per_owner_and_overall(store):
    _fill(store, 5, owner="alice")
    _fill(store, 3, owner="bob", kind="run2")
    store.put("run", "b1", {"i": 100}, owner="bob")
    store.put("run", "r002", {"i": 2, "touched": True}, owner="alice")  # overwrite keeps place
    assert [d["i"] for d in store.scan("run", owner="alice")] == [0, 1, 2, 3, 4]
    assert [d["i"] for d in store.scan("run", owner="alice", newest_first=True)] == [4, 3, 2, 1, 0]
    assert [d["i"] for d in store.scan("run")] == [0, 1, 2, 3, 4, 100]
    assert [d["i"] for d in store.scan("run", newest_first=True)] == [100, 4, 3, 2, 1, 0]
    assert [d["i"] for d in store.scan("run", owner="bob")] == [100]
    assert list(store.scan("run", owner="nobody")) == [] and list(store.scan("empty-kind")) == []


def test_scan_pages_with_before_seq_in_both_directions(store):
    seqs = _fill(store, 150)
    pages, cursor = [], None
    while True:  # newest first, 40 at a time, cursor = the last sequence of the page
        page = []
        for entry in store.scan_entries("run", owner="alice", newest_first=True, before_seq=cursor):
            page.append(entry.doc["i"])
            if len(page) == 40:
                cursor = entry.seq
                break
        pages.append(page)
        if len(page) < 40:
            break
    assert [i for p in pages for i in p] == list(range(149, -1, -1))
    assert [d["i"] for d in store.scan("run", owner="alice", before_seq=seqs[100])] == list(range(100))
    assert [d["i"] for d in store.scan("run", before_seq=seqs[3])] == [0, 1, 2]
    assert [d["i"] for d in store.scan("run", newest_first=True, before_seq=seqs[3])] == [2, 1, 0]


@pytest.mark.parametrize("newest_first", [False, True])
@pytest.mark.parametrize("owner", ["alice", None])
def test_scan_under_concurrent_writes_visits_each_survivor_once_and_no_newcomer(store, newest_first, owner):
    _fill(store, 200)
    seen = []
    for n, doc in enumerate(store.scan("run", owner=owner, newest_first=newest_first)):
        seen.append(doc["i"])
        if n % 30 == 5:  # between chunks and inside them: new documents, deletions, overwrites
            store.put("run", f"new{n}", {"i": 1000 + n}, owner="alice")
            store.delete("run", f"r{199 - n if not newest_first else n:03d}")
            store.put("run", "r100", {"i": 100})
    assert not [i for i in seen if i >= 1000]  # written after the scan began
    assert len(seen) == len(set(seen))
    gone = {int(k[1:]) for k in (f"r{199 - n if not newest_first else n:03d}" for n in range(5, 200, 30))}
    survivors = set(range(200)) - gone
    assert survivors <= set(seen) <= set(range(200))
    assert seen == sorted(seen, reverse=newest_first)


def test_count_per_kind_and_owner(store):
    _fill(store, 4, owner="alice")
    store.put("run", "x", {}, owner="bob")
    store.put("run", "y", {})
    assert store.count("run") == 6
    assert store.count("run", owner="alice") == 4 and store.count("run", owner="bob") == 1
    assert store.count("nothing") == 0 and store.count("run", owner="nobody") == 0


# -- update / take --------------------------------------------------------------------------------
def test_update_creates_modifies_and_deletes_on_none(store):
    created = store.update("acct", "a", lambda cur: {"n": 1} if cur is None else None, owner="alice")
    assert created == {"n": 1}
    entry = store.get_entry("acct", "a")
    assert entry.owner == "alice"
    changed = store.update("acct", "a", lambda cur: {**cur, "n": cur["n"] + 1}, owner="bob")
    assert changed == {"n": 2}
    assert store.get_entry("acct", "a") == type(entry)(entry.seq, "alice", {"n": 2})
    assert store.get("acct", "a")["n"] == 2
    assert store.update("acct", "a", lambda cur: None) is None
    assert store.get("acct", "a") is None and store.count("acct", owner="alice") == 0
    assert store.update("acct", "never", lambda cur: None) is None
    assert store.get("acct", "never") is None


def test_update_hands_fn_a_copy_and_an_exception_writes_nothing(store):
    store.put("acct", "a", {"items": [1]})

    def mutate_then_fail(cur):
        cur["items"].append(2)
        raise ValueError("no")

    with pytest.raises(ValueError):
        store.update("acct", "a", mutate_then_fail)
    assert store.get("acct", "a")["items"] == [1]


def test_take_removes_and_returns_once(store):
    store.put("job", "j", {"v": 1}, owner="alice")
    assert store.get_entry("job", "j").owner == "alice"
    taken = store.take("job", "j")
    assert taken == {"v": 1}
    assert store.take("job", "j") is None and store.get("job", "j") is None
    assert store.count("job", owner="alice") == 0


def test_take_has_one_winner_among_threads(store):
    for i in range(20):
        store.put("prize", f"k{i}", {"i": i})
    wins: list[str] = []
    barrier = threading.Barrier(6)

    def taker():
        barrier.wait()
        for i in range(20):
            if store.take("prize", f"k{i}") is not None:
                wins.append(f"k{i}")

    threads = [threading.Thread(target=taker) for _ in range(6)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert sorted(wins) == sorted(f"k{i}" for i in range(20))


def test_update_from_threads_loses_no_increment(store):
    def bump():
        for _ in range(40):
            store.update("counter", "c", lambda d: {"n": (d or {"n": 0})["n"] + 1})

    threads = [threading.Thread(target=bump) for _ in range(4)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert store.get("counter", "c")["n"] == 160


# -- atomic operations ------------------------------------------------------------------------
def test_idempotency_claim_holds_for_the_ttl_in_virtual_time(store):
    first = store.claim_idempotency("alice|submit", "k", "run-1", 1000.0, 60.0)
    assert first.fresh and first.value == "run-1"
    replay = store.claim_idempotency("alice|submit", "k", "run-2", 1059.9, 60.0)
    assert not replay.fresh and replay.value == "run-1"
    assert store.claim_idempotency("bob|submit", "k", "run-3", 1001.0, 60.0).fresh  # another scope
    expired = store.claim_idempotency("alice|submit", "k", "run-4", 1060.0, 60.0)  # exactly ttl
    assert expired.fresh and expired.value == "run-4"
    assert store.claim_idempotency("alice|submit", "k", "x", 1061.0, 60.0).value == "run-4"


def test_release_forgets_only_the_matching_claim(store):
    store.claim_idempotency("alice|submit", "k", "run-1", 10.0, 60.0)
    store.release_idempotency("alice|submit", "k", "someone-else")
    assert not store.claim_idempotency("alice|submit", "k", "run-2", 11.0, 60.0).fresh
    store.release_idempotency("alice|submit", "k", "run-1")
    store.release_idempotency("alice|submit", "never", "run-1")
    assert store.claim_idempotency("alice|submit", "k", "run-2", 12.0, 60.0).fresh


def test_hit_window_lets_limit_hits_per_sliding_window(store):
    assert [store.hit_window("alice|w", t, 10.0, 3) for t in (0.0, 1.0, 2.0)] == [None, None, None]
    assert store.hit_window("alice|w", 5.0, 10.0, 3) == pytest.approx(5.0)  # oldest (0.0) + 10 - 5
    assert store.hit_window("alice|w", 9.5, 10.0, 3) == pytest.approx(0.5)
    assert store.hit_window("alice|w", 10.0, 10.0, 3) is None  # the hit at 0.0 left (<= now - window)
    assert store.hit_window("alice|w", 10.0, 10.0, 3) == pytest.approx(1.0)
    assert store.hit_window("bob|w", 10.0, 10.0, 3) is None  # buckets are separate
    same = [store.hit_window("alice|same", 7.0, 10.0, 2) for _ in range(3)]
    assert same[:2] == [None, None] and same[2] == pytest.approx(10.0)


def test_hit_window_never_answers_zero_seconds(store):
    store.hit_window("alice|z", 0.0, 1.0, 1)
    assert store.hit_window("alice|z", 0.9999999, 1.0, 1) == 0.001


def test_poll_gate_spaces_allowed_polls(store):
    assert store.poll_gate("alice|run1", 100.0, 5.0) is None
    assert store.poll_gate("alice|run1", 103.0, 5.0) == pytest.approx(2.0)
    assert store.poll_gate("alice|run1", 104.0, 5.0) == pytest.approx(1.0)  # refused polls do not count
    assert store.poll_gate("alice|run2", 104.0, 5.0) is None
    assert store.poll_gate("alice|run1", 105.0, 5.0) is None
    assert store.poll_gate("alice|run1", 106.0, 0.0) is None


def test_schedule_slot_is_fifo_over_capacity(store):
    got = [store.schedule_slot("alice|pool", 2, 0.0, d) for d in (10.0, 4.0, 1.0, 1.0)]
    assert got == [(0.0, 10.0), (0.0, 4.0), (4.0, 5.0), (5.0, 6.0)]
    # a short job arriving later never starts before an earlier arrival
    assert store.schedule_slot("alice|pool", 2, 1.0, 0.5) == (6.0, 6.5)
    assert store.schedule_slot("alice|pool", 1, 20.0, 1.0) == (20.0, 21.0)  # capacity shrank
    assert store.schedule_slot("bob|pool", 1, 0.0, 3.0) == (0.0, 3.0)


def test_lock_is_reentrant_and_excludes_other_threads(store):
    inside = threading.Event()
    release = threading.Event()
    result = {}

    def holder():
        with store.lock("section"):
            with store.lock("section"):  # re-entrant in one thread
                inside.set()
                release.wait(10)

    def contender():
        try:
            with store.lock("section", timeout=0.2):
                result["got"] = True
        except TimeoutError:
            result["got"] = False

    t = threading.Thread(target=holder)
    t.start()
    assert inside.wait(10)
    c = threading.Thread(target=contender)
    c.start()
    c.join(10)
    assert result == {"got": False}
    with pytest.raises(TimeoutError):
        with store.lock("section", timeout=0.05):
            pass
    release.set()
    t.join(10)
    with store.lock("section", timeout=2):  # free again once the holder left
        with store.lock("other", timeout=0.1):
            pass


def test_lock_makes_a_read_then_write_exact_across_threads(store):
    def add():
        for _ in range(25):
            with store.lock("tally"):
                doc = store.get("tally", "t") or {"n": 0}
                time.sleep(0)
                store.put("tally", "t", {"n": doc["n"] + 1})

    threads = [threading.Thread(target=add) for _ in range(4)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert store.get("tally", "t")["n"] == 100


def test_counters_start_at_zero_and_add(store):
    assert store.incr("requests") == 1
    assert store.incr("requests", 5) == 6
    assert store.incr("requests", -2) == 4
    assert store.incr("other") == 1


def test_purge_owner_drops_its_documents_windows_and_gates_only(store):
    _fill(store, 3, owner="alice")
    store.put("run", "b", {"i": 9}, owner="bob")
    store.claim_idempotency("alice|submit", "k", "v", 0.0, 60.0)
    store.hit_window("alice|submit", 0.0, 60.0, 1)
    store.hit_window("bob|submit", 0.0, 60.0, 1)
    store.poll_gate("alice|r1", 0.0, 60.0)
    store.poll_gate("bob|r1", 0.0, 60.0)
    assert store.purge_owner("alice") == 4  # three runs and the claim
    assert store.count("run", owner="alice") == 0 and store.get("run", "b")["i"] == 9
    assert store.claim_idempotency("alice|submit", "k", "v2", 1.0, 60.0).fresh
    assert store.hit_window("alice|submit", 1.0, 60.0, 1) is None
    assert store.poll_gate("alice|r1", 1.0, 60.0) is None
    assert store.hit_window("bob|submit", 1.0, 60.0, 1) is not None
    assert store.poll_gate("bob|r1", 1.0, 60.0) is not None


def test_purge_all_drops_state_but_keeps_counters(store):
    _fill(store, 3)
    store.hit_window("alice|w", 0.0, 60.0, 1)
    store.poll_gate("alice|g", 0.0, 60.0)
    store.incr("n")
    store.purge_all()
    assert store.count("run") == 0 and list(store.scan("run")) == []
    assert store.hit_window("alice|w", 0.0, 60.0, 1) is None
    assert store.poll_gate("alice|g", 0.0, 60.0) is None
    assert store.incr("n") == 2
    assert store.put_entry("run", "after", {}).seq > 3  # sequences never go back


def test_a_reopened_store_sees_the_same_state(request, tmp_path):
    for backend in ("sqlite", "redis"):
        first = _open(backend, request, tmp_path)
        seqs = _fill(first, 3)
        second = _open(backend, request, tmp_path) if backend == "redis" else MemoryStore(
            persistence=SqlitePersistence(tmp_path / "state.sqlite"))
        assert [d["i"] for d in second.scan("run", owner="alice")] == [0, 1, 2]
        assert second.get("run", "r001") == {"i": 1}
        assert second.get_entry("run", "r001") == type(second.get_entry("run", "r001"))(seqs[1], "alice", {"i": 1})
        assert second.put_entry("run", "next", {}).seq > seqs[-1]


def _old_format_state_file(path) -> list[tuple[str, str, int, str | None, dict]]:
    """A --state file as the previous version wrote it: no owner column, and ``_seq``/``_owner``
    inside every JSON body (the seq column a copy of ``_seq``)."""
    import json
    import sqlite3

    rows = [("run", "r1", 1, "alice", {"v": 1, "nested": {"a": [1]}}), ("run", "r2", 2, None, {"v": 2}),
            ("acct", "alice", 3, "alice", {"balance": 10}), ("run", "r3", 5, "bob", {"v": 3})]
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE docs (kind TEXT NOT NULL, key TEXT NOT NULL, "
                 "seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, key))")
    for kind, key, seq, owner, doc in rows:
        conn.execute("INSERT INTO docs VALUES (?, ?, ?, ?)",
                     (kind, key, seq, json.dumps(dict(doc, _seq=seq, _owner=owner), separators=(",", ":"))))
    conn.commit()
    conn.close()
    return rows


def test_a_state_file_of_the_previous_format_is_migrated_on_open(tmp_path):
    import json
    import sqlite3

    path = tmp_path / "old.sqlite"
    rows = _old_format_state_file(path)
    store = MemoryStore(persistence=SqlitePersistence(path))
    for kind, key, seq, owner, doc in rows:
        assert store.get(kind, key) == doc  # no bookkeeping left in the documents
        entry = store.get_entry(kind, key)
        assert (entry.seq, entry.owner, entry.doc) == (seq, owner, doc)
    assert store.get("run", "r1", owner="bob") is None and store.get("run", "r3", owner="bob") == {"v": 3}
    assert [e.seq for e in store.scan_entries("run", newest_first=True)] == [5, 2, 1]
    assert store.put_entry("run", "r4", {"v": 4}, owner="bob").seq == 6  # sequences go on from the file
    store._persistence.close()
    conn = sqlite3.connect(str(path))  # the file itself now keeps bookkeeping in columns only
    stored = {(k, key): (seq, owner, json.loads(body))
              for k, key, seq, owner, body in conn.execute("SELECT kind, key, seq, owner, body FROM docs")}
    conn.close()
    assert stored[("run", "r1")] == (1, "alice", {"v": 1, "nested": {"a": [1]}})
    assert stored[("run", "r2")] == (2, None, {"v": 2})
    assert stored[("run", "r4")] == (6, "bob", {"v": 4})
    reopened = MemoryStore(persistence=SqlitePersistence(path))  # opening again migrates nothing more
    assert [(e.seq, e.owner, e.doc) for e in reopened.scan_entries("run")] == \
        [(1, "alice", {"v": 1, "nested": {"a": [1]}}), (2, None, {"v": 2}), (5, "bob", {"v": 3}), (6, "bob", {"v": 4})]


def test_the_behaviour_fixtures_run_the_app_on_the_chosen_backend(request, api, store_backend):
    """The `api` fixture of the modules in conftest.BACKEND_MODULES really runs on each backend
    (a fall-back to memory would make the parametrized behaviour suite prove nothing)."""
    backend = request.node.callspec.params["store_backend"]
    store, rows = api.platform.store, type(api.platform.journal._rows).__name__
    expected = {"memory": ("MemoryStore", False, "MemoryRows"), "sqlite": ("MemoryStore", True, "MemoryRows"),
                "redis": ("RedisStore", True, "RedisRows")}[backend]
    persisted = store.shared or getattr(store, "_persistence", None) is not None
    assert (type(store).__name__, persisted, rows) == expected
    assert api.call("GET", "/api/v1/credits").status_code == 200
    assert len(api.platform.journal) >= 1
