"""The Redis store where it differs from the embedded ones: several store instances and OS
processes on one Redis stay atomic (update, take, idempotency claims, windows, locks), a lock
held by a process killed with -9 is freed by its lease while a long-held lock is renewed,
documents are stored as JSON with the bookkeeping beside them, a namespace is the only thing
purged, `open_store` picks the backend from the URL, and an outage gives `StoreUnavailable` in
bounded time and heals when Redis is back (the behaviour of every Store method is in
test_store_backends.py, run on every backend)."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time

import pytest

from mockserver.store import MemoryStore, StoreUnavailable, open_store
from tests.support import store_workers as workers
from tests.support.redis_server import RedisServer, redis_server_missing




def _in_processes(target, args_for, n=2):
    """Run ``target`` in ``n`` spawned processes that start together (a shared barrier); their
    results in process order."""
    got = workers.run_together(n, lambda barrier: [(target, tuple(args_for(barrier, i))) for i in range(n)])
    failures = [value for ok, value in got.values() if not ok]
    assert not failures, failures
    return [got[i][1] for i in range(n)]


# -- two instances, threads -------------------------------------------------------------------
def test_two_instances_hammered_from_threads_stay_atomic(rstore):
    a, b = rstore(), rstore()
    for i in range(30):
        a.put("prize", f"k{i}", {"i": i})
    wins, fresh, allowed, errors = [], [], [], []
    barrier = threading.Barrier(6)

    def work(store, me):
        try:
            barrier.wait(10)
            for i in range(30):
                store.update("counter", "c", lambda d: {"n": (d or {"n": 0})["n"] + 1})
                if store.take("prize", f"k{i}") is not None:
                    wins.append(i)
                if store.claim_idempotency("t|submit", f"k{i}", f"{me}", 5.0, 60.0).fresh:
                    fresh.append(i)
                if store.hit_window("t|w", 1.0, 60.0, 40) is None:
                    allowed.append(me)
                with store.lock("l"):
                    doc = store.get("tally", "t") or {"n": 0}
                    store.put("tally", "t", {"n": doc["n"] + 1})
        except Exception as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=work, args=((a, b)[n % 2], n)) for n in range(6)]
    [t.start() for t in threads]
    [t.join(120) for t in threads]
    assert not errors
    assert a.get("counter", "c")["n"] == 180
    assert sorted(wins) == list(range(30))
    assert sorted(fresh) == list(range(30))
    assert len(allowed) == 40
    assert b.get("tally", "t")["n"] == 180


# -- two OS processes ---------------------------------------------------------------------------
def test_update_is_atomic_across_processes(redis_url, rstore):
    done = _in_processes(workers.bump, lambda bar, i: (redis_url, bar, 150))
    assert sum(done) == 300
    assert rstore(namespace="zh").get("counter", "one")["n"] == 300


def test_take_has_one_winner_across_processes(redis_url, rstore):
    store = rstore(namespace="zh")  # the worker processes' (their stores' default)
    for i in range(100):
        store.put("prize", f"k{i}", {"i": i})
    won = _in_processes(workers.take_all, lambda bar, i: (redis_url, bar, 100))
    assert sorted(won[0] + won[1]) == sorted(f"k{i}" for i in range(100))
    assert store.count("prize") == 0


def test_idempotency_claims_have_one_winner_across_processes(redis_url, rstore):
    fresh = _in_processes(workers.claim_all, lambda bar, i: (redis_url, bar, 100, f"p{i}"))
    assert sorted(fresh[0] + fresh[1]) == sorted(f"k{i}" for i in range(100))
    store = rstore(namespace="zh")
    for i in range(100):  # the winner's value is what everyone now sees
        winner = "p0" if f"k{i}" in fresh[0] else "p1"
        assert store.claim_idempotency("t|submit", f"k{i}", "late", 101.0, 3600.0).value == f"{winner}-{i}"


def test_a_window_lets_exactly_its_limit_through_across_processes(redis_url):
    allowed = _in_processes(workers.hit_many, lambda bar, i: (redis_url, bar, 60))
    assert sum(allowed) == 25


def test_the_named_lock_excludes_across_processes(redis_url, rstore):
    _in_processes(workers.locked_increments, lambda bar, i: (redis_url, bar, 60))
    assert rstore(namespace="zh").get("tally", "one")["n"] == 120


def test_a_lock_held_by_a_killed_process_is_freed_by_its_lease(redis_url, rstore):
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=workers.hold_lock_and_die, args=(redis_url, ready, 1.0))
    proc.start()
    assert ready.wait(60)
    proc.join(30)
    assert proc.exitcode == -9
    store = rstore(lock_lease=1.0, namespace="zh")
    with pytest.raises(TimeoutError):  # still leased right after the death
        with store.lock("abandoned", timeout=0.1):
            pass
    started = time.monotonic()
    with store.lock("abandoned", timeout=5.0):
        waited = time.monotonic() - started
    assert waited < 2.0


def test_a_lock_held_longer_than_its_lease_is_renewed(rstore):
    holder, other = rstore(lock_lease=0.6), rstore(lock_lease=0.6)
    with holder.lock("long"):
        with pytest.raises(TimeoutError):  # 2.5 leases later it is still held
            with other.lock("long", timeout=1.5):
                pass
    with other.lock("long", timeout=1.0):
        pass


# -- storage format, namespaces, open_store ---------------------------------------------------------
def test_documents_are_json_with_bookkeeping_beside_them(redis_url, rstore):
    import redis

    store = rstore(namespace="zh")  # the raw keys below name it
    store.put("run", "r1", {"v": [1, 2], "t": "é"}, owner="alice")
    raw = redis.Redis.from_url(redis_url).hgetall("zh:d:run:r1")
    assert json.loads(raw[b"b"]) == {"v": [1, 2], "t": "é"}
    assert raw[b"o"] == b"alice" and int(raw[b"s"]) >= 1


def test_a_redis_written_by_the_previous_version_reads_as_pure_documents_with_entries(redis_url, rstore):
    """The previous version kept (seq, owner) beside the JSON body too (hash fields ``s``/``o``,
    sorted-set indexes) and merged them into documents on read; its data, laid out by hand
    here, reads back as the pure document with the bookkeeping in the `Entry`."""
    import redis

    raw = redis.Redis.from_url(redis_url)
    raw.hset("zh:d:run:old1", mapping={"b": '{"v":1}', "s": 7, "v": 1, "o": "alice"})
    raw.hset("zh:d:run:old2", mapping={"b": '{"v":2}', "s": 8, "v": 3})  # no owner
    raw.zadd("zh:i:run", {"old1": 7, "old2": 8})
    raw.zadd("zh:o:run:alice", {"old1": 7})
    raw.zadd("zh:o:run:", {"old2": 8})
    raw.sadd("zh:kinds", "run")
    raw.set("zh:seq", 8)
    store = rstore(namespace="zh")  # the raw keys below name it
    assert store.get("run", "old1") == {"v": 1} and store.get("run", "old1", owner="bob") is None
    assert [(e.seq, e.owner, e.doc) for e in store.scan_entries("run")] == [(7, "alice", {"v": 1}), (8, None, {"v": 2})]
    assert list(store.scan("run", owner="alice")) == [{"v": 1}]
    assert store.update("run", "old1", lambda cur: dict(cur, w=1)) == {"v": 1, "w": 1}
    assert store.get_entry("run", "old1").seq == 7 and store.put_entry("run", "new", {}).seq == 9


def test_bytes_in_a_document_are_refused_not_pickled(rstore):
    with pytest.raises(TypeError):
        rstore().put("run", "r1", {"blob": b"\x80"})


def test_namespaces_are_separate_and_purge_all_touches_only_its_own(redis_url, rstore):
    import redis

    from mockserver.store.redis_store import RedisStore

    raw = redis.Redis.from_url(redis_url)
    raw.set("foreign:key", "kept")
    mine, theirs = rstore(), RedisStore(redis_url, namespace="other")
    try:
        mine.put("run", "r", {"v": 1})
        theirs.put("run", "r", {"v": 2})
        mine.purge_all()
        assert mine.get("run", "r") is None
        assert theirs.get("run", "r")["v"] == 2
        assert raw.get("foreign:key") == b"kept"
    finally:
        theirs.close()


def test_open_store_picks_the_backend_from_the_url(redis_url, tmp_path):
    assert isinstance(open_store(), MemoryStore) and isinstance(open_store(None, "memory"), MemoryStore)
    persisted = open_store(str(tmp_path / "s.sqlite"))
    assert isinstance(persisted, MemoryStore) and persisted._persistence is not None
    shared = open_store(url=redis_url)
    assert shared.shared is True and type(shared).__name__ == "RedisStore"
    shared.close()
    with pytest.raises(ValueError, match="unknown store 'mongodb://x'"):
        open_store(url="mongodb://x")


# -- outage -------------------------------------------------------------------------------------
@pytest.fixture
def own_redis():
    missing = redis_server_missing()
    if missing:
        pytest.skip(missing)
    server = RedisServer()
    yield server
    server.stop()


def test_a_dead_redis_gives_store_unavailable_quickly_and_a_restarted_one_works(own_redis):
    from mockserver.store.redis_store import RedisStore

    store = RedisStore(own_redis.url)
    store.put("run", "r", {"v": 1})
    own_redis.kill()
    calls = {
        "get": lambda: store.get("run", "r"), "put": lambda: store.put("run", "x", {}),
        "update": lambda: store.update("run", "r", lambda d: d), "scan": lambda: list(store.scan("run")),
        "count": lambda: store.count("run"), "take": lambda: store.take("run", "r"),
        "delete": lambda: store.delete("run", "r"), "purge_owner": lambda: store.purge_owner("a"),
        "purge_all": store.purge_all, "incr": lambda: store.incr("n"),
        "claim": lambda: store.claim_idempotency("a|s", "k", "v", 0.0, 1.0),
        "release": lambda: store.release_idempotency("a|s", "k", "v"),
        "hit_window": lambda: store.hit_window("a|w", 0.0, 1.0, 1),
        "poll_gate": lambda: store.poll_gate("a|g", 0.0, 1.0),
        "schedule_slot": lambda: store.schedule_slot("a|p", 1, 0.0, 1.0),
        "lock": lambda: store.lock("l", timeout=0.5).__enter__(),
    }
    for name, call in calls.items():
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as err:
            call()
        assert time.monotonic() - started < 3.0, name
        assert "Redis store at" in str(err.value) and "\n" not in str(err.value), name
    own_redis.restart()  # same port, empty (persistence is off)
    assert store.get("run", "r") is None
    assert store.put("run", "r", {"v": 2})["v"] == 2
    with store.lock("l", timeout=1.0):
        assert store.incr("n") == 1
    store.close()
