"""Two replicas sharing one Redis are one platform (issue #15, "How it is tested"): real
`zenhire-mock serve` processes on two loopback ports (tests/support/replicas.py) and a real
redis-server (tests/support/redis_server.py), requests alternated between them.

- a run submitted on A polls on B through to its end;
- 50 concurrent submits with one idempotency key, split across A and B, make one run;
- the poll throttle and the submit window hold across replicas (429 + Retry-After);
- the credits ledger sums exactly after runs split across A and B settle;
- each webhook reaches a loopback receiver once, whichever replica's advance made it due,
  and an advance on A makes the deliveries enqueued on B;
- `zenhire-mock verify` passes against A while B serves the same state;
- `serve --workers 2` answers on one port with the state shared by its workers;
- kill -9 of one replica mid-load loses no acknowledged submit, and a delivery the killed
  replica had leased is made by the survivor.

Every replica runs the manual clock (time moves only through the control API); real time
is waited for only in bounded polls (start-up, a kill, a lease's expiry).
"""

from __future__ import annotations

import json
import math
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from test_cvdeepmatch_submit import submit as cvdm_submit
from tests.conftest import FULL, SLOW_SUBMIT
from tests.support.replicas import Replica, ReplicaClient, replicas, serve_args
from tests.support.waiting import wait_until
from tests.support.webhook_receiver import WebhookReceiver, slow, status
from tests.test_speech_support import SUBMIT, assert_error, audio, submit

FAST_MATCH = {"X-Mock-Scenario": "cvdm-fast"}  # a match finishes 5 virtual seconds after its submit
TERMINAL = {"success", "partial", "failed", "completed", "canceled"}
CHARGED = {"success", "partial"}
POLL_SECONDS = 30.0


@pytest.fixture
def pair(redis_url):
    """Replicas A and B on one Redis, each with a client."""
    with replicas(2, redis_url) as (a, b), ReplicaClient(a) as ca, ReplicaClient(b) as cb:
        yield ca, cb


def speech_poll(client, run_id: str, key: str = FULL) -> httpx.Response:
    return client.call("GET", f"{SUBMIT}/{run_id}", key=key)


def credits(client) -> dict:
    r = client.call("GET", "/api/v1/credits")
    assert r.status_code == 200, r.text
    return r.json()


def accepted(response) -> str:
    assert response.status_code == 202, response.text
    return response.json()["id"]


def bounded(predicate, seconds: float = POLL_SECONDS, what: str = "condition"):
    """`wait_until` at this module's pace (real time, bounded): the predicate's truthy value."""
    return wait_until(predicate, seconds, what, step=0.1)


# -- runs, idempotency, throttles ------------------------------------------------------------

def test_a_run_submitted_on_a_polls_on_b_through_to_its_end(pair):
    a, b = pair
    run_id = accepted(submit(a, scenario="speech-fast"))
    first = speech_poll(b, run_id)
    assert first.status_code == 200, first.text
    assert first.json()["id"] == run_id and first.json()["status"] not in TERMINAL
    a.advance(60)
    done = speech_poll(b, run_id)
    assert done.status_code == 200 and done.json()["status"] == "success", done.text
    assert speech_poll(a, run_id).json() == done.json()


def test_fifty_concurrent_submits_with_one_idempotency_key_across_replicas_make_one_run(pair):
    a, b = pair
    before = credits(a)
    key = f"replicas-{time.time_ns()}"

    def one(i: int) -> httpx.Response:
        return cvdm_submit(a if i % 2 else b, idempotency_key=key)

    with ThreadPoolExecutor(max_workers=25) as pool:
        responses = list(pool.map(one, range(50)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 49 + [202], [(r.status_code, r.json().get("id"), r.json().get("idempotent_replay")) for r in responses if r.status_code != 200]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1, ids
    assert all(r.json()["idempotent_replay"] for r in responses if r.status_code == 200)
    (run_id,) = ids
    for client in (a, b):
        r = client.call("GET", f"/api/v1/cvdeepmatch/{run_id}")
        assert r.status_code == 200 and r.json()["id"] == run_id, r.text
        client.advance(10)  # the poll throttle is per id across replicas too
    after = credits(b)
    assert after["heldCredits"] - before["heldCredits"] == 3  # one match held, not fifty


def test_the_poll_throttle_holds_across_replicas(pair):
    a, b = pair
    run_id = accepted(submit(a))
    assert speech_poll(a, run_id).status_code == 200
    b.advance(3)
    r = speech_poll(b, run_id)
    error = assert_error(r, 429, "POLL_RATE_LIMITED")
    assert r.headers["Retry-After"] == "7" and error["retryAfterSeconds"] == 7
    a.advance(7)
    assert speech_poll(b, run_id).status_code == 200
    assert speech_poll(a, run_id).status_code == 429


def test_the_submit_window_holds_across_replicas(pair):
    a, b = pair
    for client in (a, b, a):
        accepted(submit(client, key=SLOW_SUBMIT))
    r = submit(b, key=SLOW_SUBMIT)
    error = assert_error(r, 429, "RATE_LIMIT_EXCEEDED")
    assert r.headers["Retry-After"] == str(error["retryAfterSeconds"])
    assert int(r.headers["Retry-After"]) >= 1
    a.advance(int(r.headers["Retry-After"]))
    accepted(submit(b, key=SLOW_SUBMIT))


def test_the_credits_ledger_sums_exactly_after_runs_split_across_replicas_settle(pair):
    a, b = pair
    before = credits(b)
    seconds = [180.0, 181.0, 240.0, 241.0, 300.0, 359.0, 360.0, 421.0]  # 3 to 8 credits
    runs = {}
    for i, length in enumerate(seconds):
        client = (a, b)[i % 2]
        runs[accepted(submit(client, data=audio("flac", length)))] = math.ceil(length / 60)
    held = credits(a)
    assert held["heldCredits"] - before["heldCredits"] == sum(runs.values())
    b.advance(3600)
    charged = 0
    for i, (run_id, cost) in enumerate(runs.items()):
        doc = speech_poll((b, a)[i % 2], run_id).json()
        assert doc["status"] in TERMINAL, doc
        charged += cost if doc["status"] in CHARGED else 0
    after = credits(a)
    assert after["heldCredits"] == before["heldCredits"]
    assert after["creditBalance"] == before["creditBalance"] - charged
    assert credits(b) == after


# -- webhooks ------------------------------------------------------------------------------

def delivered_ids(receiver: WebhookReceiver) -> list[str]:
    return [json.loads(r.body)["external_request_id"] for r in receiver.requests]


def test_each_webhook_is_delivered_once_with_deliveries_triggered_on_both_replicas(pair):
    a, b = pair
    with WebhookReceiver() as receiver:
        on_a = [accepted(cvdm_submit(c, webhook_url=receiver.url, headers=FAST_MATCH)) for c in (a, b, a)]
        a.advance(5)  # due: the three above, submitted through both replicas
        on_b = [accepted(cvdm_submit(c, webhook_url=receiver.url, headers=FAST_MATCH)) for c in (b, a, b)]
        b.advance(5)
        a.advance(600)  # nothing may be sent again
        b.advance(600)
        assert sorted(delivered_ids(receiver)) == sorted(on_a + on_b)
        for client in (a, b):
            log = client.deliveries(client="acme")
            assert len(log) == 6 and {d["state"] for d in log} == {"delivered"}, log
            assert all(len(d["attempts"]) == 1 for d in log)


def test_an_advance_on_a_makes_the_deliveries_enqueued_on_b(pair):
    a, b = pair
    with WebhookReceiver() as receiver:
        run_ids = [accepted(cvdm_submit(b, webhook_url=receiver.url, headers=FAST_MATCH)) for _ in range(2)]
        assert receiver.requests == []
        a.advance(5)
        assert sorted(delivered_ids(receiver)) == sorted(run_ids)  # made by the time the advance returned


# -- the contract suite ----------------------------------------------------------------------

@pytest.mark.verify_modes
def test_verify_passes_against_a_while_b_serves_the_same_state(pair, tmp_path):
    from tests.defects.serving import run_suite
    from tests.test_verify_modes import QUICK, assert_clean
    a, b = pair
    before = b.call("GET", "/api/v1/speech/runs", params={"limit": 100}).json()
    run = run_suite(str(a.base_url), tmp_path, *QUICK, "-k", "not test_conformance", name="replica-a",
                    timeout=900)
    rows = assert_clean(run, tmp_path)
    assert {"POLL-1", "SPCH-4", "CVDM-4", "HOOK-5"} <= {i for i, r in rows.items() if r["status"] == "passed"}
    after = b.call("GET", "/api/v1/speech/runs", params={"limit": 100})
    assert after.status_code == 200
    assert len(after.json()["runs"]) > len(before["runs"]), "B sees the runs the suite made on A"


# -- workers on one port ----------------------------------------------------------------------

def test_serve_with_two_workers_answers_on_one_port_with_shared_runs(redis_url):
    replica = Replica("W", serve_args(redis_url, "--workers", "2"))
    try:
        replica.wait_live()
        banner = replica.output()
        assert "2 worker processes" in banner and redis_url in banner, banner
        bounded(lambda: len(replica.workers()) == 2, what="two worker processes")
        epochs = {httpx.get(replica.url + "/__mock/clock", timeout=30).json()["epoch"] for _ in range(8)}
        assert len(epochs) == 1, epochs  # one manual clock, whichever worker answers
        httpx.post(replica.url + "/__mock/clock/advance", json={"seconds": 100}, timeout=30)
        assert {httpx.get(replica.url + "/__mock/clock", timeout=30).json()["epoch"] for _ in range(8)} \
            == {epochs.pop() + 100}
        ids = []
        for _ in range(12):  # a new connection each time: the kernel spreads them over the workers
            with ReplicaClient(replica) as fresh:
                ids.append(accepted(submit(fresh)))
        for run_id in ids:
            with ReplicaClient(replica) as fresh:
                r = speech_poll(fresh, run_id)
                assert r.status_code == 200 and r.json()["id"] == run_id, r.text
    finally:
        replica.stop()


# -- a replica dies ---------------------------------------------------------------------------

def test_kill_9_of_one_replica_mid_load_loses_no_acknowledged_submit(pair):
    a, b = pair
    acknowledged: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def one(i: int) -> None:
        client = (a, b)[i % 2]
        try:
            r = submit(client)
        except httpx.HTTPError:
            assert client is a and killed.is_set(), f"request {i} failed on {client.replica.name}"
            return
        if r.status_code == 202:
            with lock:
                acknowledged.append(r.json()["id"])
                if len(acknowledged) == 10:
                    killed.set()  # from here on, A may fail a request (it is being killed)
                    a.replica.kill()
        else:
            assert client is a and r.status_code >= 500, r.text

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(60)))
    assert killed.is_set() and len(acknowledged) >= 10
    assert a.replica.proc.returncode == -9
    for run_id in acknowledged:
        r = speech_poll(b, run_id)
        assert r.status_code == 200 and r.json()["id"] == run_id, r.text


def test_a_delivery_leased_by_a_killed_replica_is_made_by_the_survivor(redis_url):
    """A takes the attempt (the receiver holds its reply), A is killed mid-attempt; once A's
    lease has expired, B makes the delivery: the receiver gets it again and answers 200, and
    the shared delivery log shows it delivered."""
    with replicas(2, redis_url, "--webhook-timeout", "5") as (ra, rb), ReplicaClient(ra) as a, \
            ReplicaClient(rb) as b, WebhookReceiver([slow(60), status(200)]) as receiver:
        run_id = accepted(cvdm_submit(a, webhook_url=receiver.url, headers=FAST_MATCH))
        stuck = threading.Thread(target=lambda: _quietly(a.advance, 5), daemon=True)
        stuck.start()
        bounded(lambda: receiver.requests, what="A's attempt reaches the receiver")
        ra.kill()

        def made_by_b():
            b.advance(1)
            log = b.deliveries(client="acme")
            return [d for d in log if d["state"] == "delivered"]

        (delivery,) = bounded(made_by_b, seconds=60, what="B makes the delivery A had leased")
        assert run_id in json.dumps(delivery) or delivered_ids(receiver)[-1] == run_id
        assert delivered_ids(receiver) == [run_id, run_id]
        assert receiver.requests[0].header("X-CVDM-Request-Id") == receiver.requests[1].header("X-CVDM-Request-Id")
        stuck.join(timeout=10)


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except httpx.HTTPError:
        pass  # the replica serving the call was killed


# -- the compose example, without Docker ----------------------------------------------------------

def test_the_compose_example_is_two_replicas_on_one_loopback_redis(tmp_path):
    """docs/compose.yaml run as processes here: its Redis command and each mock service's
    environment (ports swapped for free ones) make one platform — a credit change through
    one replica is answered by the other, and the service with workers has two."""
    import socket
    import subprocess

    import yaml

    from tests.support.redis_server import REDIS_SERVER, _ping
    compose = yaml.safe_load((Path(__file__).resolve().parents[1] / "docs" / "compose.yaml").read_text())
    services = compose["services"]
    redis_cmd = services["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--bind") + 1] == "127.0.0.1"
    assert redis_cmd[redis_cmd.index("--save") + 1] == "" and "--appendonly" in redis_cmd
    mocks = {name: s["environment"] for name, s in services.items() if name != "redis"}
    assert len(mocks) == 2 and all(s.get("network_mode") == "host" for s in services.values())
    assert {env["ZENHIRE_MOCK_HOST"] for env in mocks.values()} == {"127.0.0.1"}
    (store,) = {env["ZENHIRE_MOCK_STORE"] for env in mocks.values()}
    compose_port = redis_cmd[redis_cmd.index("--port") + 1]
    assert store == f"redis://127.0.0.1:{compose_port}/0"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    redis = subprocess.Popen([REDIS_SERVER, *[port if a == compose_port else a for a in redis_cmd[1:]],
                              "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started: list[Replica] = []
    try:
        bounded(lambda: _ping(int(port)), seconds=10, what="the compose Redis answers")
        for name, env in mocks.items():
            env = {**{k: str(v) for k, v in env.items()}, "ZENHIRE_MOCK_PORT": "0",
                   "ZENHIRE_MOCK_STORE": store.replace(f":{compose_port}/", f":{port}/"),
                   "ZENHIRE_MOCK_LOG_LEVEL": "warning"}
            started.append(Replica(name, [], env=env))
        for replica in started:
            replica.wait_live()
        with_workers = [r for r, env in zip(started, mocks.values()) if int(env.get("ZENHIRE_MOCK_WORKERS", 1)) > 1]
        assert len(with_workers) == 1
        bounded(lambda: len(with_workers[0].workers()) == 2, what="two workers")
        with ReplicaClient(started[0]) as a, ReplicaClient(started[1]) as b:
            a.control("POST", "/clients/acme/credits", json={"balance": 2468})
            assert credits(b)["creditBalance"] == 2468
    finally:
        for replica in started:
            replica.stop()
        redis.terminate()
        redis.wait(timeout=10)
