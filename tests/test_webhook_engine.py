"""HOOK-3..5, HOOK-8: deliveries to a real receiver on 127.0.0.1, driven by a manual clock.

The engine runs with ``allow_local=True`` (the mock's ``--allow-local-webhooks``) so it may
call the plain-HTTP receiver. Virtual time moves only when a test moves it; the one real
wait is the bounded timeout test. The engine's wall-clock source is a fake ``Wall`` set far
from the virtual clock, so every check of ``t=`` shows it is the real time of the attempt
(HOOK-8), never the virtual time.
"""

from __future__ import annotations

import asyncio

import pytest

from mockserver.clock import Clock, parse_iso
from mockserver.store import MemoryStore
from mockserver.webhooks import WebhookEngine, compact_json, verify_signature
from mockserver.webhooks.policy import MAX_ATTEMPTS, classify, jitter, retry_delay
from tests.support.webhook_receiver import WebhookReceiver, redirect, refused_url, slow, status

START = 1_780_000_000.0
WALL_START = 1_790_000_000.0  # the "real" time: ~115 days after the virtual START
PAYLOAD = {
    "external_request_id": "550e8400-e29b-41d4-a716-446655440000",
    "application_id": "app_abc123",
    "status": "finished",
    "cv2jd_result": {"overall_score": 0.81, "breakdown": {"workExperience": 0.85, "skills": 0.78}},
    "candidate": "Zoë Ågren",
}
RUN_ID = PAYLOAD["external_request_id"]


class Secrets:
    """The per-client signing secrets, rotatable mid-test."""

    def __init__(self) -> None:
        self.by_client = {"client_a": "whsec_first", "client_b": "whsec_b"}

    def __call__(self, client_id: str) -> str:
        return self.by_client[client_id]


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


class Wall:
    """A fake wall clock that moves 7 real seconds at every reading (attempts differ)."""

    def __init__(self, start: float = WALL_START, step: float = 7.0) -> None:
        self.now, self.step, self.readings = start - step, step, []

    def __call__(self) -> float:
        self.now += self.step
        self.readings.append(self.now)
        return self.now


@pytest.fixture
def clock():
    return Clock("manual", start=START)


def make_engine(clock, *, secrets=None, store=None, timeout=2.0, wall=None):
    return WebhookEngine(clock, allow_local=True, secret_for=secrets or Secrets(),
                         store=store, timeout=timeout, wall_time=wall or Wall())


def run(coro):
    return asyncio.run(coro)


def deliver_until_done(engine, clock, max_attempts=MAX_ATTEMPTS):
    """Drain now, then jump to each next due time until nothing is pending; returns the jumps."""
    waits = []
    run(engine.drain())
    for _ in range(max_attempts):
        due = engine.next_due()
        if due is None:
            break
        waits.append(due - clock.now())
        clock.set(due)
        run(engine.drain())
    return waits


def attempt_times(log):
    return [parse_iso(a["at"]) for a in log["attempts"]]


def enqueue(engine, url, *, kind="cvdm", client_id="client_a"):
    return engine.enqueue(kind=kind, client_id=client_id, run_id=RUN_ID, url=url, payload=PAYLOAD)


# -- outcomes against a real receiver -------------------------------------------------------
def test_2xx_is_delivered_in_one_signed_attempt(receiver, clock):
    engine = make_engine(clock)
    delivery_id = enqueue(engine, receiver.url)
    assert engine.next_due() == START

    assert run(engine.drain()) == 1

    [request] = receiver.requests
    assert request.method == "POST" and request.path == "/hook"
    assert request.body == compact_json(PAYLOAD)
    assert request.header("Content-Type") == "application/json"
    assert request.header("X-CVDM-Request-Id") == f"api_{RUN_ID}"
    signature = request.header("X-CVDM-Signature")
    assert signature.startswith(f"t={int(WALL_START)},v1=")
    assert request.header("X-CVDM-Signature-Timestamp") == str(int(WALL_START))
    assert verify_signature(signature, request.body, "whsec_first", now=WALL_START)
    log = engine.delivery(delivery_id)
    assert log["state"] == "delivered" and engine.next_due() is None
    [attempt] = log["attempts"]
    assert attempt["status"] == 200 and attempt["outcome"] == "delivered"
    assert attempt["response_body_excerpt"] == "ok"
    assert attempt["request_headers"]["X-CVDM-Signature"] == signature
    assert attempt["body"] == request.body.decode("utf-8")


def test_5xx_then_2xx_retries_once_about_one_second_later(receiver, clock):
    receiver.program(status(500), status(200))
    engine = make_engine(clock)
    delivery_id = enqueue(engine, receiver.url)

    waits = deliver_until_done(engine, clock)

    log = engine.delivery(delivery_id)
    assert [a["status"] for a in log["attempts"]] == [500, 200]
    assert [a["outcome"] for a in log["attempts"]] == ["retry", "delivered"]
    assert log["state"] == "delivered"
    assert len(waits) == 1 and 0.9 <= waits[0] <= 1.1
    first, second = attempt_times(log)
    assert 0.9 <= second - first <= 1.1
    assert len(receiver.requests) == 2


def test_a_retry_is_not_made_before_it_is_due(receiver, clock):
    receiver.program(status(503), status(200))
    engine = make_engine(clock)
    enqueue(engine, receiver.url)
    run(engine.drain())
    clock.advance(0.85)  # below the earliest jittered wait (0.9 s)
    assert run(engine.drain()) == 0
    assert len(receiver.requests) == 1


def test_429_is_retried_twice_waiting_about_1s_then_4s_then_fails(receiver, clock):
    receiver.program(status(429))
    engine = make_engine(clock)
    delivery_id = enqueue(engine, receiver.url)

    waits = deliver_until_done(engine, clock, max_attempts=5)

    log = engine.delivery(delivery_id)
    assert len(log["attempts"]) == 3 == len(receiver.requests)
    assert [a["outcome"] for a in log["attempts"]] == ["retry", "retry", "exhausted"]
    assert log["state"] == "failed" and engine.next_due() is None
    assert 0.9 <= waits[0] <= 1.1 and 3.6 <= waits[1] <= 4.4
    assert waits == pytest.approx([retry_delay(delivery_id, 1), retry_delay(delivery_id, 2)])


def test_other_4xx_is_a_permanent_failure_after_one_attempt(receiver, clock):
    receiver.program(status(400, b'{"error":"bad"}'))
    engine = make_engine(clock)
    delivery_id = enqueue(engine, receiver.url)

    run(engine.drain())
    clock.advance(3600)
    run(engine.drain())

    log = engine.delivery(delivery_id)
    assert [(a["status"], a["outcome"]) for a in log["attempts"]] == [(400, "permanent")]
    assert log["attempts"][0]["response_body_excerpt"] == '{"error":"bad"}'
    assert log["state"] == "failed" and len(receiver.requests) == 1


def test_connection_refused_is_retried_until_three_attempts(clock):
    engine = make_engine(clock)
    with refused_url() as url:
        delivery_id = enqueue(engine, url)
        deliver_until_done(engine, clock, max_attempts=5)
    log = engine.delivery(delivery_id)
    assert [a["error"] for a in log["attempts"]] == ["connection_error"] * 3
    assert [a["status"] for a in log["attempts"]] == [None] * 3
    assert log["state"] == "failed"


def test_a_receiver_slower_than_the_timeout_is_a_retried_timeout(receiver, clock):
    receiver.program(slow(5.0), status(200))
    engine = make_engine(clock, timeout=0.3)
    delivery_id = enqueue(engine, receiver.url)

    deliver_until_done(engine, clock)

    log = engine.delivery(delivery_id)
    assert [(a["error"], a["outcome"]) for a in log["attempts"]] == [("timeout", "retry"), (None, "delivered")]
    assert log["attempts"][0]["duration_ms"] >= 250
    assert log["state"] == "delivered"


def test_redirects_are_not_followed_and_fail_permanently(receiver, clock):
    receiver.program(redirect("/elsewhere"), status(200))
    engine = make_engine(clock)
    delivery_id = enqueue(engine, receiver.url)

    deliver_until_done(engine, clock)

    log = engine.delivery(delivery_id)
    assert [(a["status"], a["outcome"]) for a in log["attempts"]] == [(301, "permanent")]
    assert [r.path for r in receiver.requests] == ["/hook"]


# -- signing across attempts ------------------------------------------------------------------
def test_secret_rotation_applies_from_the_next_attempt_only(receiver, clock):
    receiver.program(status(500), status(200))
    secrets = Secrets()
    wall = Wall()
    engine = make_engine(clock, secrets=secrets, wall=wall)
    enqueue(engine, receiver.url)
    run(engine.drain())
    secrets.by_client["client_a"] = "whsec_rotated"
    clock.set(engine.next_due())
    run(engine.drain())

    first, second = receiver.requests
    sig1, sig2 = first.header("X-CVDM-Signature"), second.header("X-CVDM-Signature")
    now = wall.now
    assert verify_signature(sig1, first.body, "whsec_first", now=now)
    assert not verify_signature(sig1, first.body, "whsec_rotated", now=now)
    assert verify_signature(sig2, second.body, "whsec_rotated", now=now)
    assert not verify_signature(sig2, second.body, "whsec_first", now=now)


def test_every_attempt_sends_the_same_body_bytes_signed_at_its_own_real_time(receiver, clock):
    """HOOK-8: each attempt's t= is the wall time it was made; the log keeps that real time
    (signed_at, signature_timestamp) beside the attempt's virtual time (at)."""
    receiver.program(status(502), status(503), status(200))
    wall = Wall()
    engine = make_engine(clock, wall=wall)
    delivery_id = enqueue(engine, receiver.url)

    deliver_until_done(engine, clock)

    bodies = {r.body for r in receiver.requests}
    assert bodies == {compact_json(PAYLOAD)}
    log = engine.delivery(delivery_id)
    stamps = [r.header("X-CVDM-Signature-Timestamp") for r in receiver.requests]
    assert stamps == [str(int(t)) for t in wall.readings] and len(set(stamps)) == 3
    assert [a["signature_timestamp"] for a in log["attempts"]] == [int(t) for t in wall.readings]
    assert [parse_iso(a["signed_at"]) for a in log["attempts"]] == wall.readings
    virtual = attempt_times(log)
    assert START <= virtual[0] < virtual[1] < virtual[2] < START + 10  # the retries' virtual times
    for request, stamp in zip(receiver.requests, stamps):
        signature = request.header("X-CVDM-Signature")
        assert signature.startswith(f"t={stamp},v1=")
        assert verify_signature(signature, request.body, "whsec_first", now=int(stamp))


def test_by_default_t_is_the_clocks_wall_time_not_its_virtual_time(receiver):
    """Without an injected source the engine asks the clock's wall_now (the real time), so a
    manual clock far in the future still signs with the real time of the attempt."""
    wall = Wall(start=WALL_START, step=0.0)
    future = Clock("manual", start=START + 10 * 86400, wall=wall)
    engine = WebhookEngine(future, allow_local=True, secret_for=Secrets())
    enqueue(engine, receiver.url)
    run(engine.drain())
    [request] = receiver.requests
    assert request.header("X-CVDM-Signature-Timestamp") == str(int(WALL_START))
    [attempt] = engine.deliveries()[0]["attempts"]
    assert parse_iso(attempt["at"]) == START + 10 * 86400 and parse_iso(attempt["signed_at"]) == WALL_START


def test_interview_callbacks_carry_x_interview_headers(receiver, clock):
    engine = make_engine(clock)
    enqueue(engine, receiver.url, kind="interview")
    run(engine.drain())
    [request] = receiver.requests
    assert request.header("X-Interview-Request-Id") == f"api_{RUN_ID}"
    assert verify_signature(request.header("X-Interview-Signature"), request.body, "whsec_first", now=WALL_START)
    assert request.header("X-CVDM-Signature") is None


def test_an_unknown_kind_is_a_programming_error(clock):
    with pytest.raises(ValueError):
        make_engine(clock).enqueue(kind="speech", client_id="client_a", run_id="r", url="https://x", payload={})


# -- the log and restarts ---------------------------------------------------------------------
def test_the_delivery_log_is_kept_per_client(receiver, clock):
    engine = make_engine(clock)
    a = enqueue(engine, receiver.url, client_id="client_a")
    b = enqueue(engine, receiver.url, client_id="client_b", kind="cvds")
    run(engine.drain())
    assert [d["id"] for d in engine.deliveries("client_a")] == [a]
    assert [d["id"] for d in engine.deliveries("client_b")] == [b]
    assert [d["id"] for d in engine.deliveries()] == [a, b]
    only_b = engine.deliveries("client_b")[0]
    assert only_b["kind"] == "cvds" and only_b["run_id"] == RUN_ID and only_b["url"] == receiver.url
    assert verify_signature(only_b["attempts"][0]["request_headers"]["X-CVDM-Signature"],
                            only_b["body"].encode("utf-8"), "whsec_b", now=WALL_START + 7)


def test_a_restarted_engine_resumes_pending_deliveries_from_persistence(receiver, clock):
    receiver.program(status(500), status(200))
    store = MemoryStore()
    first_engine = make_engine(clock, store=store)
    pending = enqueue(first_engine, receiver.url)
    run(first_engine.drain())
    due = first_engine.next_due()
    del first_engine  # the process stops between attempts

    restarted = make_engine(clock, store=store)
    assert restarted.next_due() == due
    clock.set(due)
    assert run(restarted.drain()) == 1

    log = restarted.delivery(pending)
    assert [a["status"] for a in log["attempts"]] == [500, 200]
    assert log["state"] == "delivered"
    assert [r.body for r in receiver.requests] == [compact_json(PAYLOAD)] * 2


def test_finished_deliveries_are_kept_in_the_log_but_never_resent_after_restart(receiver, clock):
    store = MemoryStore()
    engine = make_engine(clock, store=store)
    delivered = enqueue(engine, receiver.url)
    run(engine.drain())

    restarted = make_engine(clock, store=store)
    clock.advance(60)
    assert run(restarted.drain()) == 0 and restarted.next_due() is None
    assert restarted.delivery(delivered)["state"] == "delivered"
    assert len(receiver.requests) == 1


def test_a_scheduler_is_told_when_the_next_due_time_may_change(receiver, clock):
    engine = make_engine(clock)
    changes = []
    engine.subscribe(lambda: changes.append(engine.next_due()))
    enqueue(engine, receiver.url)
    run(engine.drain())
    assert changes == [START, None]


def test_concurrent_runs_make_each_due_attempt_once(receiver, clock):
    engine = make_engine(clock)
    enqueue(engine, receiver.url)

    async def two_schedulers():
        return await asyncio.gather(engine.run_due(), engine.run_due())

    assert sorted(run(two_schedulers())) == [0, 1]
    assert len(receiver.requests) == 1


def test_nothing_is_due_on_an_empty_engine(clock):
    engine = make_engine(clock)
    assert engine.next_due() is None
    assert run(engine.run_due()) == 0 and engine.deliveries() == []


# -- the retry policy (HOOK-5, A3) ------------------------------------------------------------
@pytest.mark.parametrize("status_code, error, expected", [
    (200, None, "delivered"), (204, None, "delivered"), (299, None, "delivered"),
    (500, None, "retry"), (503, None, "retry"), (599, None, "retry"), (429, None, "retry"),
    (400, None, "permanent"), (401, None, "permanent"), (404, None, "permanent"), (410, None, "permanent"),
    (301, None, "permanent"), (302, None, "permanent"), (308, None, "permanent"),
    (None, "timeout", "retry"), (None, "connection_error", "retry"), (None, "network_error", "retry"),
    (None, "dns_unresolvable", "retry"), (None, "url_refused", "permanent"),
])
def test_classify(status_code, error, expected):
    assert classify(status_code, error) == expected


def test_retry_waits_are_1s_then_4s_with_at_most_ten_percent_jitter_and_no_fourth_attempt():
    for n in range(200):
        delivery_id = f"whd_{n}"
        first, second = retry_delay(delivery_id, 1), retry_delay(delivery_id, 2)
        assert 0.9 <= first <= 1.1 and 3.6 <= second <= 4.4
        assert retry_delay(delivery_id, 3) is None
        assert retry_delay(delivery_id, 1) == first  # reproducible from the id


def test_jitter_varies_between_deliveries():
    assert len({round(jitter(f"whd_{n}", 1), 6) for n in range(50)}) > 40


# -- connecting to the checked address (HOOK-2) ---------------------------------------------
def test_a_name_is_delivered_to_the_address_admission_checked_keeping_its_host(receiver, clock):
    from mockserver.webhooks.admission import StaticResolver
    resolver = StaticResolver({"hooks.example.test": ["127.0.0.1"]})
    engine = WebhookEngine(clock, resolver=resolver, allow_local=True, secret_for=Secrets())
    url = f"http://hooks.example.test:{receiver.port}/hook"
    delivery_id = enqueue(engine, url)
    run(engine.drain())
    [request] = receiver.requests
    assert request.header("Host") == f"hooks.example.test:{receiver.port}"
    log = engine.delivery(delivery_id)
    assert log["state"] == "delivered" and log["attempts"][0]["url"] == url


def test_pinning_keeps_literal_addresses_and_sets_sni_for_https():
    from mockserver.webhooks.transport import pin_to_address
    same = pin_to_address("https://127.0.0.1:9/x", {"A": "1"}, ["127.0.0.1"])
    assert same == ("https://127.0.0.1:9/x", {"A": "1"}, {})
    url, headers, ext = pin_to_address("https://hooks.example.test/cb?q=1", {}, ["93.184.215.14"])
    assert url == "https://93.184.215.14/cb?q=1"
    assert headers["Host"] == "hooks.example.test" and ext == {"sni_hostname": "hooks.example.test"}



# -- restarts with a store of its own (--state) -------------------------------------------------
def test_an_attempt_cut_off_by_a_restart_is_made_again_at_once(receiver, clock):
    store = MemoryStore()
    engine = make_engine(clock, store=store)
    delivery_id = enqueue(engine, receiver.url)
    assert engine.queue.take(delivery_id, clock.now()) is not None  # leased, then the process stops

    restarted = make_engine(clock, store=store)  # no other process shares this store
    assert restarted.next_due() == START
    assert run(restarted.drain()) == 1
    assert restarted.delivery(delivery_id)["state"] == "delivered" and len(receiver.requests) == 1


def test_pending_deliveries_resume_from_a_state_file(receiver, clock, tmp_path):
    from mockserver.store import SqlitePersistence
    receiver.program(status(500), status(200))
    first = SqlitePersistence(tmp_path / "state.sqlite")
    engine = make_engine(clock, store=MemoryStore(persistence=first))
    delivery_id = enqueue(engine, receiver.url)
    run(engine.drain())
    due = engine.next_due()
    first.close()

    restarted = make_engine(clock, store=MemoryStore(persistence=SqlitePersistence(tmp_path / "state.sqlite")))
    assert restarted.next_due() == due
    clock.set(due)
    assert run(restarted.drain()) == 1
    log = restarted.delivery(delivery_id)
    assert [a["status"] for a in log["attempts"]] == [500, 200] and log["state"] == "delivered"
    assert [r.body for r in receiver.requests] == [compact_json(PAYLOAD)] * 2


def test_a_state_file_written_before_the_pending_queue_existed_resumes_its_pending_deliveries(receiver, clock):
    store = MemoryStore()
    old = {"id": "whd_old", "kind": "cvdm", "client_id": "client_a", "run_id": RUN_ID, "url": receiver.url,
           "state": "pending", "created_at": clock.iso(), "next_attempt_at": clock.iso(), "due_epoch": START,
           "body": compact_json(PAYLOAD).decode("utf-8"), "attempts": []}
    store.put("webhook_delivery", "whd_old", old, owner="client_a")
    store.put("webhook_delivery", "whd_done", dict(old, id="whd_done", state="delivered", due_epoch=None),
              owner="client_a")

    engine = make_engine(clock, store=store)
    assert engine.next_due() == START
    assert run(engine.drain()) == 1
    assert engine.delivery("whd_old")["state"] == "delivered" and len(receiver.requests) == 1


def test_a_client_reset_drops_its_pending_deliveries(receiver, clock):
    store = MemoryStore()
    engine = make_engine(clock, store=store)
    enqueue(engine, receiver.url, client_id="client_a")
    kept = enqueue(engine, receiver.url, client_id="client_b")
    store.purge_owner("client_a")  # the control API's reset of one client
    assert run(engine.drain()) == 1
    assert [d["id"] for d in engine.deliveries()] == [kept] and len(receiver.requests) == 1
    assert engine.next_due(include_leased=True) is None
