"""Webhook deliveries made by several replicas sharing one store (issue #15): each attempt
exactly once, wherever it was enqueued, with its retry schedule, and one log for all.

Each "replica" is a `WebhookEngine` with its own holder id, on its own store client: one
`MemoryStore` shared in-process (marked shared, as a store other processes use is), or a
`RedisStore` per replica on one real redis-server (the `redis_url` fixture). The replicas
share one manual virtual clock — the shared clock is another part of issue #15 — and an
injected lease clock (`LeaseClock`, the real-time source leases are judged by), so a lease
expires when a test moves it, never by sleeping. Replicas that must run at the same time
run in threads, each with its own event loop, like processes; waits for them are bounded
polls. Deliveries go to a real receiver on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from types import SimpleNamespace

import pytest

from mockserver.clock import Clock, parse_iso
from mockserver.scheduler import Scheduler
from mockserver.store import MemoryStore
from mockserver.webhooks import WebhookEngine, compact_json
from tests.support.waiting import wait_until
from tests.support.webhook_receiver import WebhookReceiver, slow, status

START = 1_780_000_000.0
WALL = 1_790_000_000.0
LEASE = 20.0
PAYLOAD = {"external_request_id": "550e8400-e29b-41d4-a716-446655440000", "status": "finished"}


class SharedMemoryStore(MemoryStore):
    shared = True  # several replicas use it: nobody may take a lease for a dead one's


class LeaseClock:
    """The real-time source leases are judged by, moved by hand."""

    def __init__(self, now: float = WALL) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def store_for(request):
    """A function giving each replica its store client: all on one shared store."""
    if request.param == "memory":
        shared = SharedMemoryStore()
        yield lambda: shared
        return
    from mockserver.store.redis_store import RedisStore

    url = request.getfixturevalue("redis_url")
    opened = []

    def open_one():
        opened.append(RedisStore(url))
        return opened[-1]
    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def clock():
    return Clock("manual", start=START)


@pytest.fixture
def lease_clock():
    return LeaseClock()


@pytest.fixture
def replicas(store_for, clock, lease_clock):
    def make(name: str) -> WebhookEngine:
        return WebhookEngine(clock, store=store_for(), allow_local=True, secret_for=lambda client: "whsec_x",
                             timeout=2.0, wall_time=lambda: WALL, lease_time=lease_clock,
                             lease_seconds=LEASE, holder=name)
    return make("A"), make("B")


def enqueue(engine, url, run_id="run-1", client_id="client_a", due_at=None):
    return engine.enqueue(kind="cvdm", client_id=client_id, run_id=run_id, url=url, payload=PAYLOAD, due_at=due_at)


def run(coro):
    return asyncio.run(coro)


class LoopThread:
    """An event loop in a thread of its own: one replica process's loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def submit(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, fn, *args, **kwargs):
        async def call():
            return fn(*args, **kwargs)
        return self.submit(call()).result(10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def request_ids(receiver):
    return [r.header("X-CVDM-Request-Id") for r in receiver.requests]


# -- exactly once -----------------------------------------------------------------------------
def test_deliveries_enqueued_on_two_replicas_running_at_once_are_each_made_exactly_once(replicas, receiver):
    a, b = replicas
    threads = {a: LoopThread(), b: LoopThread()}
    stop = threading.Event()
    delivered_hooks = Counter()
    for engine in (a, b):
        async def hook(record, attempt):
            delivered_hooks[record["id"]] += 1
        engine.after_delivered.append(hook)

    async def serve(engine):
        made = 0
        while not stop.is_set():
            made += await engine.run_due()
            await asyncio.sleep(0.001)
        return made

    try:
        serving = [threads[e].submit(serve(e)) for e in (a, b)]
        ids = []
        for n in range(40):  # enqueued on both while both run: their leases race
            engine = a if n % 2 == 0 else b
            ids.append(threads[engine].call(enqueue, engine, receiver.url, run_id=f"run-{n}"))
        wait_until(lambda: all(a.delivery(i)["state"] == "delivered" for i in ids), 20.0, what="every delivery made")
        stop.set()
        made = [future.result(10) for future in serving]
    finally:
        stop.set()
        for thread in threads.values():
            thread.close()

    assert sum(made) == 40
    assert sorted(request_ids(receiver)) == sorted(f"api_run-{n}" for n in range(40))  # once each
    assert all(len(a.delivery(i)["attempts"]) == 1 for i in ids)
    assert delivered_hooks == Counter({i: 1 for i in ids})  # after_delivered once per delivered attempt


def test_a_replica_skips_an_attempt_another_holds_and_concurrent_runs_make_it_once(replicas, receiver):
    a, b = replicas
    enqueue(b, receiver.url)

    async def both():
        return await asyncio.gather(a.run_due(), b.run_due())

    assert sorted(run(both())) == [0, 1]
    assert len(receiver.requests) == 1
    assert run(a.run_due()) == 0 and run(b.run_due()) == 0 and a.next_due() is None


# -- a replica that stops mid-attempt -----------------------------------------------------------
def test_a_lease_held_by_a_replica_that_died_is_taken_over_once_it_expires(replicas, receiver, clock, lease_clock):
    a, b = replicas
    delivery_id = enqueue(a, receiver.url)
    dead = a.queue.take(delivery_id, clock.now())  # A leases the attempt, then dies before making it
    assert dead is not None

    assert run(b.run_due()) == 0 and receiver.requests == []
    assert b.next_due() is None and b.next_due(include_leased=True) == START  # in flight elsewhere
    assert b.in_flight(START) == [delivery_id]
    assert b.queue.take(delivery_id, clock.now()) is None  # the store refuses a second lease
    lease_clock.now += LEASE - 0.5
    assert run(b.run_due()) == 0 and receiver.requests == []
    assert b.queue.take(delivery_id, clock.now()) is None

    lease_clock.now += 1.0  # the lease has expired: B makes the attempt
    assert run(b.run_due()) == 1
    assert request_ids(receiver) == ["api_run-1"]
    record = b.delivery(delivery_id)
    assert record["state"] == "delivered" and [x["n"] for x in record["attempts"]] == [1]

    # A "comes back" with a result for its lost lease: nothing is recorded from it
    dead.record["attempts"].append({"n": 1, "outcome": "delivered"})
    dead.record["state"] = "delivered"
    assert a.queue.complete(dead, dead.record) is False
    assert a.delivery(delivery_id) == record


def test_an_attempt_recorded_by_a_replica_that_died_before_updating_the_queue_is_not_made_again(
        replicas, receiver, clock, lease_clock):
    a, b = replicas
    delivery_id = enqueue(a, receiver.url)
    lease = a.queue.take(delivery_id, clock.now())
    # A wrote the record of its failed attempt 1 (retry due in 1 s), then died before the entry
    record = dict(lease.record, state="pending", due_epoch=START + 1.0,
                  next_attempt_at=clock.iso(START + 1.0),
                  attempts=[{"n": 1, "at": clock.iso(START), "status": 500, "outcome": "retry",
                             "next_attempt_at": clock.iso(START + 1.0)}])
    a.queue.store.put("webhook_delivery", delivery_id, record, owner="client_a")

    lease_clock.now += LEASE + 1
    assert run(b.run_due()) == 0 and receiver.requests == []  # attempt 1 is not made twice
    assert b.next_due() == START + 1.0  # the entry caught up with the record
    clock.set(START + 1.0)
    assert run(b.run_due()) == 1
    log = b.delivery(delivery_id)
    assert [x["n"] for x in log["attempts"]] == [1, 2] and log["state"] == "delivered"
    assert len(receiver.requests) == 1


# -- retries keep their schedule ---------------------------------------------------------------
def test_a_retry_of_an_attempt_failed_on_one_replica_is_made_by_the_other_at_its_due_time(replicas, receiver, clock):
    a, b = replicas
    receiver.program(status(500), status(200))
    delivery_id = enqueue(a, receiver.url)
    assert run(a.run_due()) == 1

    due = b.next_due()
    assert due is not None and 0.9 <= due - START <= 1.1
    assert a.delivery(delivery_id)["due_epoch"] == due
    clock.set(due - 0.05)
    assert run(b.run_due()) == 0  # not before it is due
    clock.set(due)
    assert run(b.run_due()) == 1

    log = a.delivery(delivery_id)
    assert [(x["status"], x["outcome"]) for x in log["attempts"]] == [(500, "retry"), (200, "delivered")]
    assert parse_iso(log["attempts"][1]["at"]) == pytest.approx(due, abs=0.001)
    assert [r.body for r in receiver.requests] == [compact_json(PAYLOAD)] * 2  # the same bytes


# -- the manual clock across replicas ----------------------------------------------------------
def scheduler_for(engine, clock):
    """The scheduler of one replica (its platform: the shared clock, this replica's engine)."""
    syncs = []
    platform = SimpleNamespace(clock=clock, webhooks=engine, sync=lambda: syncs.append(1))
    return Scheduler(platform), syncs


def test_a_manual_advance_on_one_replica_makes_the_deliveries_enqueued_on_the_other(replicas, receiver, clock):
    a, b = replicas
    receiver.program(status(503), status(200))
    first = enqueue(b, receiver.url, run_id="run-1", due_at=START + 30)
    second = enqueue(b, receiver.url, run_id="run-2", due_at=START + 45)
    scheduler, syncs = scheduler_for(a, clock)

    made = run(scheduler.advance_to(START + 60))

    assert made == 3 and clock.now() == START + 60 and syncs  # synced before its rounds
    one, two = b.delivery(first), b.delivery(second)
    assert [x["status"] for x in one["attempts"]] == [503, 200] and one["state"] == "delivered"
    at = [parse_iso(x["at"]) for x in one["attempts"]]
    assert at[0] == START + 30 and 0.9 <= at[1] - at[0] <= 1.1  # each attempt at its own time
    assert two["state"] == "delivered" and parse_iso(two["attempts"][0]["at"]) == START + 45
    assert a.next_due(include_leased=True) is None


def test_a_manual_advance_waits_for_an_attempt_another_replica_is_making(replicas, receiver, clock):
    a, b = replicas
    receiver.program(slow(0.4, 500), status(200))
    delivery_id = enqueue(b, receiver.url)
    b_loop = LoopThread()
    try:
        in_flight = b_loop.submit(b.run_due())  # B is making attempt 1 (slow, fails)
        wait_until(lambda: a.in_flight(clock.now()) == [delivery_id], 5, what="B's lease")
        scheduler, _ = scheduler_for(a, clock)
        made = run(scheduler.advance_to(START + 10))
        assert in_flight.result(10) == 1
    finally:
        b_loop.close()

    assert made == 1  # A made only the retry, after B recorded attempt 1
    log = a.delivery(delivery_id)
    assert [(x["status"], x["outcome"]) for x in log["attempts"]] == [(500, "retry"), (200, "delivered")]
    first, second = (parse_iso(x["at"]) for x in log["attempts"])
    assert first == START and 0.9 <= second - first <= 1.1
    assert len(receiver.requests) == 2


def test_a_manual_advance_takes_over_an_attempt_whose_holder_died_once_its_lease_expires(
        replicas, receiver, clock, lease_clock):
    a, b = replicas
    delivery_id = enqueue(b, receiver.url)
    assert b.queue.take(delivery_id, clock.now()) is not None  # B leases it, then dies
    scheduler, _ = scheduler_for(a, clock)

    async def advance_while_the_lease_lives():
        task = asyncio.create_task(scheduler.advance_to(START + 10))
        await asyncio.sleep(0.1)
        waiting = not task.done() and receiver.requests == []
        lease_clock.now += LEASE + 1
        return waiting, await asyncio.wait_for(task, 10)

    waiting, made = run(advance_while_the_lease_lives())
    assert waiting  # the move did not go past B's attempt while B's lease lived
    assert made == 1 and request_ids(receiver) == ["api_run-1"]
    assert a.delivery(delivery_id)["state"] == "delivered" and clock.now() == START + 10


# -- the log, resends -------------------------------------------------------------------------
def test_the_log_read_on_either_replica_is_the_same(replicas, receiver):
    a, b = replicas
    ids = [enqueue(a, receiver.url, run_id="r1"), enqueue(b, receiver.url, run_id="r2", client_id="client_b"),
           enqueue(b, receiver.url, run_id="r3")]
    run(a.drain())
    assert a.deliveries() == b.deliveries() and [d["id"] for d in a.deliveries()] == ids
    assert [d["id"] for d in b.deliveries("client_a")] == [ids[0], ids[2]]
    assert [d["id"] for d in a.deliveries("client_a", newest_first=True)] == [ids[2], ids[0]]
    assert a.deliveries("client_b") == b.deliveries("client_b") and len(a.deliveries("client_b")) == 1
    assert all(b.delivery(i) == a.delivery(i) and a.delivery(i)["state"] == "delivered" for i in ids)


def test_a_resend_leases_the_delivery_like_any_attempt(replicas, receiver, clock, lease_clock):
    a, b = replicas
    delivery_id = enqueue(a, receiver.url)
    lease = a.queue.take(delivery_id, clock.now())  # A's attempt is in flight
    with pytest.raises(RuntimeError):
        run(b.resend(delivery_id))
    assert receiver.requests == []
    a.queue.release(lease)

    record = run(b.resend(delivery_id))
    assert record["attempts"][-1]["resend"] is True and record["state"] == "delivered"
    assert a.delivery(delivery_id) == record and a.next_due(include_leased=True) is None
    resent = run(a.resend(delivery_id))  # a finished delivery can be resent again, from either
    assert [x["n"] for x in resent["attempts"]] == [1, 2] and len(receiver.requests) == 2
    assert run(a.resend("whd_unknown")) is None


def test_a_running_replica_notices_a_delivery_another_replica_enqueued_within_its_wake_bound(
        store_for, receiver, monkeypatch):
    """Real clock: B enqueues without telling A's scheduler; A's background loop, which wakes
    at least every MAX_SLEEP_SECONDS (shortened here), finds it in the shared queue."""
    import mockserver.scheduler as scheduler_module
    monkeypatch.setattr(scheduler_module, "MAX_SLEEP_SECONDS", 0.05)
    real = Clock("real")

    def make(name):
        return WebhookEngine(real, store=store_for(), allow_local=True, secret_for=lambda client: "whsec_x",
                             timeout=2.0, holder=name)
    a, b = make("A"), make("B")
    scheduler, syncs = scheduler_for(a, real)
    a_loop = LoopThread()
    try:
        a_loop.call(scheduler.start)
        time.sleep(0.1)  # A's loop is idle: nothing pending
        delivery_id = enqueue(b, receiver.url)
        wait_until(lambda: b.delivery(delivery_id)["state"] == "delivered", 5, what="A delivering B's enqueue")
        a_loop.submit(scheduler.stop()).result(5)
    finally:
        a_loop.close()
    assert request_ids(receiver) == ["api_run-1"] and syncs


# -- two whole apps on one store ----------------------------------------------------------------
def test_two_apps_on_one_store_deliver_a_callback_once_when_the_other_advances_the_clock(store_for, receiver):
    """The real wiring (`make_webhooks`, the control API's clock move): a CV DeepMatch run
    submitted to app B calls back when app A's control API moves the shared clock past its
    finish, once, and both apps' delivery logs show it."""
    from conftest import Api
    from mockserver.app import create_app
    from mockserver.config import Settings
    from test_cvdeepmatch_submit import accepted_id, submit

    shared_clock = Clock("manual", start=START)  # the shared clock is another part of issue #15

    def app():
        settings = Settings(clock="manual", strict=True, allow_local_webhooks=True, webhook_timeout=2.0)
        return create_app(settings, clock=shared_clock, store=store_for())
    with Api(app()) as a, Api(app()) as b:
        run_id = accepted_id(submit(b, webhook_url=receiver.url, headers={"X-Mock-Scenario": "cvdm-fast"}))
        a.advance(4)
        assert receiver.requests == []  # not before the finish
        a.advance(2)
        assert request_ids(receiver) == [f"api_{run_id}"]  # made by the time A's move returned
        log_a = a.get("/__mock/webhooks/deliveries").json()["deliveries"]
        log_b = b.get("/__mock/webhooks/deliveries").json()["deliveries"]
        assert log_a == log_b and [d["run_id"] for d in log_a] == [run_id]
        assert log_a[0]["state"] == "delivered" and len(log_a[0]["attempts"]) == 1
        a.advance(60)
        assert len(receiver.requests) == 1
