"""Two replicas as one platform (issue #15): two apps built by the real composition root
(`create_app` twice), each with its own `RedisStore` on ONE real redis-server, driven
alternately through Starlette's TestClient. What one replica does, the other sees: the
virtual clock, runs and their lifecycle, poll throttles and submit windows, idempotent
replays, the credits ledger, control-API changes (clients, keys, health overrides, scenario
reloads) and the Interview live-interview cap.
"""

from __future__ import annotations

import logging
import uuid

import pytest

from conftest import CAP2, FULL, SLOW_SUBMIT, Api
from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.platform.credits import TXN
from mockserver.store.redis_store import RedisStore
from test_cvdeepmatch_submit import submit as cvdm_submit
from test_interview_support import act, act_ok, get_session, make_persona, make_session, token_of
from test_speech_support import poll as speech_poll, submitted as speech_submitted
from tests.support.store_calls import recorded_calls

CLIENT = "client_test_full"


def replica(url: str, **settings) -> Api:
    settings.setdefault("clock", "manual")
    settings.setdefault("strict", True)
    return Api(create_app(Settings(**settings), store=RedisStore(url)))


@pytest.fixture
def pair(redis_url):
    with replica(redis_url) as a, replica(redis_url) as b:
        yield a, b


def client_id_of(api: Api, key: str) -> str:
    return api.platform.registry.keys[key].client_id


# -- one clock ------------------------------------------------------------------------------

def test_a_clock_move_on_one_replica_is_seen_by_the_next_request_on_the_other(pair):
    a, b = pair
    before = b.get("/__mock/clock").json()["epoch"]
    moved = a.advance(3600)["epoch"]
    assert moved == pytest.approx(before + 3600)
    assert b.get("/__mock/clock").json()["epoch"] == pytest.approx(moved)
    health = b.call("GET", "/api/v1/health", key=None).json()
    assert health["timestamp"] == b.platform.clock.iso(moved)
    r = b.post("/__mock/clock/set", json={"time": moved + 10})
    assert r.status_code == 200
    assert a.get("/__mock/clock").json()["epoch"] == pytest.approx(moved + 10)


def test_a_later_replica_adopts_the_running_clock_and_says_so_when_its_settings_differ(redis_url, caplog):
    with replica(redis_url) as a:
        a.advance(500)
        with caplog.at_level(logging.WARNING, logger="zenhire_mock"):
            with replica(redis_url, clock="scaled", time_scale=60.0) as b:
                assert b.platform.clock.mode == "manual"
                assert b.get("/__mock/clock").json()["epoch"] == pytest.approx(a.platform.clock.now())
    assert any("adopting the clock" in rec.getMessage() for rec in caplog.records)


def test_replicas_on_a_scaled_clock_share_its_anchors_and_its_moves(redis_url):
    with replica(redis_url, clock="scaled", time_scale=60.0) as a, \
            replica(redis_url, clock="scaled", time_scale=60.0) as b:
        assert b.get("/__mock/clock").status_code == 200
        assert b.platform.clock.state() == a.platform.clock.state()  # one wall and one virtual anchor
        a.advance(86400)
        assert b.get("/__mock/clock").json()["epoch"] >= a.platform.clock.state()["virtualAnchor"]
        assert b.platform.clock.state() == a.platform.clock.state()


# -- runs -------------------------------------------------------------------------------------

def test_a_run_submitted_on_one_replica_polls_on_the_other_through_its_lifecycle(pair):
    a, b = pair
    run = speech_submitted(a)
    first = speech_poll(b, run["id"])
    assert first.status_code == 200, first.text
    assert first.json()["status"] in ("queued", "processing")
    b.advance(3600)
    done = speech_poll(a, run["id"])
    assert done.status_code == 200
    assert done.json()["status"] == "success"


def test_a_finished_run_polled_again_and_again_answers_from_its_stamped_view_until_a_reset(pair):
    a, b = pair
    run = speech_submitted(a)
    a.advance(3600)
    answers = [speech_poll(b, run["id"]) for _ in range(4)]
    assert [r.status_code for r in answers] == [200] * 4
    assert len({r.content for r in answers}) == 1 and answers[0].json()["status"] == "success"
    views = b.platform.store.stamped_views
    assert len(views) == 1  # the answer B keeps: once its marked stamp is confirmed, read from nowhere
    assert b.platform.store.broadcast.wait_live()
    speech_poll(b, run["id"])  # confirmed under a subscription (a ticket from before it is given up)
    reads = store_reads(b.platform.store)
    assert [speech_poll(b, run["id"]).content for _ in range(3)] == [answers[0].content] * 3
    assert reads == []
    assert a.post("/__mock/reset", json={}).status_code == 200  # another process removes the run
    assert speech_poll(b, run["id"]).status_code == 404


def store_reads(store) -> list:
    """Record a store's stamp reads (plain or marked) and document reads: round trips a kept
    view spares."""
    return recorded_calls(store, "stamp", "marked_stamp", "get_entry", "read_view")


def test_a_submit_on_one_replica_shows_its_hold_in_the_others_kept_credits_view_at_once(pair):
    a, b = pair
    assert b.call("GET", "/api/v1/credits").status_code == 200
    assert b.platform.store.broadcast.wait_live()
    first = b.call("GET", "/api/v1/credits").json()  # kept under a marked stamp taken while subscribed
    reads = store_reads(b.platform.store)
    assert b.call("GET", "/api/v1/credits").json() == first
    assert reads == []  # answered from the kept view: no round trip
    heard = b.platform.store.broadcast.received
    speech_submitted(a)
    assert b.platform.store.broadcast.received > heard  # A answered only after B had acted on its writes
    after = b.call("GET", "/api/v1/credits").json()
    assert after["heldCredits"] > first["heldCredits"]
    assert after["recentTransactions"][0]["type"] == "hold"
    assert reads  # read again, once


def test_the_poll_throttle_holds_across_replicas(pair):
    a, b = pair
    run = speech_submitted(a)
    assert speech_poll(a, run["id"]).status_code == 200
    throttled = speech_poll(b, run["id"])
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "POLL_RATE_LIMITED"
    assert int(throttled.headers["Retry-After"]) >= 1
    b.advance(11)
    assert speech_poll(a, run["id"]).status_code == 200


def test_the_submit_window_holds_across_replicas(pair):
    a, b = pair  # the slow-submit key allows 3 submits a minute
    for api in (a, b, a):
        assert cvdm_submit(api, key=SLOW_SUBMIT).status_code == 202
    refused = cvdm_submit(b, key=SLOW_SUBMIT)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert "Retry-After" in refused.headers
    a.advance(61)
    assert cvdm_submit(b, key=SLOW_SUBMIT).status_code == 202


def test_an_idempotent_replay_on_the_other_replica_returns_the_same_run(pair):
    a, b = pair
    key = str(uuid.uuid4())
    first = cvdm_submit(a, idempotency_key=key)
    assert first.status_code == 202
    replay = cvdm_submit(b, idempotency_key=key)
    assert replay.status_code == 200, replay.text
    assert replay.json()["id"] == first.json()["id"]
    listed = b.call("GET", "/api/v1/cvdeepmatch/requests").json()
    assert [row["id"] for row in listed["requests"]].count(first.json()["id"]) == 1


def test_the_ledger_sums_exactly_when_runs_are_split_across_replicas(pair):
    a, b = pair
    start = a.call("GET", "/api/v1/credits").json()["creditBalance"]
    runs = [speech_submitted(api) for api in (a, b, a, b, a, b)]
    costs = {run["id"] for run in runs}
    held = b.call("GET", "/api/v1/credits").json()["heldCredits"]
    assert held > 0
    a.advance(7200)
    # both replicas read (and so settle) at the same virtual time
    views = [api.call("GET", "/api/v1/credits").json() for api in (b, a, b)]
    assert views[0]["creditBalance"] == views[1]["creditBalance"] == views[2]["creditBalance"]
    final = views[-1]
    assert final["heldCredits"] == 0
    client = client_id_of(a, FULL)
    txns = list(a.platform.store.scan(TXN, owner=client))
    charges = [t for t in txns if t["type"] == "charge"]
    holds = [t for t in txns if t["type"] == "hold"]
    assert sorted(t["runId"] for t in charges) == sorted(costs)  # each run charged exactly once
    assert sorted(t["runId"] for t in holds) == sorted(costs)
    assert {t["runId"]: -t["amount"] for t in charges} == {t["runId"]: t["amount"] for t in holds}
    assert final["creditBalance"] == start - sum(t["amount"] for t in holds)
    assert final["usage"]["byModule"]["speech"] == sum(t["amount"] for t in holds)


# -- control changes --------------------------------------------------------------------------

def test_client_and_key_changes_on_one_replica_take_effect_on_the_other(pair):
    a, b = pair
    client = client_id_of(a, FULL)
    assert a.patch(f"/__mock/clients/{client}", json={"active": False}).status_code == 200
    r = b.call("GET", "/api/v1/credits")
    assert r.status_code == 401 and r.json()["error"]["code"] == "CLIENT_INACTIVE"
    assert b.patch(f"/__mock/clients/{client}", json={"active": True}).status_code == 200
    assert a.call("GET", "/api/v1/credits").status_code == 200
    new_key = "zh_api_test_added_on_replica_a_0001"
    assert a.post(f"/__mock/clients/{client}/keys", json={"key": new_key}).status_code == 201
    assert b.call("GET", "/api/v1/credits", key=new_key).status_code == 200
    assert a.patch(f"/__mock/keys/{new_key}", json={"active": False}).status_code == 200
    assert b.call("GET", "/api/v1/credits", key=new_key).json()["error"]["code"] == "INVALID_API_KEY"


def test_a_credits_top_up_on_one_replica_shows_on_the_other(pair):
    a, b = pair
    client = client_id_of(a, FULL)
    before = b.call("GET", "/api/v1/credits").json()["creditBalance"]
    assert a.post(f"/__mock/clients/{client}/credits", json={"delta": 250}).status_code == 200
    after = b.call("GET", "/api/v1/credits").json()
    assert after["creditBalance"] == before + 250
    assert after["recentTransactions"][0]["type"] == "topup"


def test_a_health_override_on_one_replica_is_answered_by_the_other(pair):
    a, b = pair
    assert a.put("/__mock/health", json={"checks": {"scoring": "unreachable"}}).status_code == 200
    r = b.call("GET", "/api/v1/health", key=None)
    assert r.status_code == 503
    assert r.json()["checks"]["scoring"]["status"] == "unreachable"
    assert b.put("/__mock/health", json={"checks": {}}).status_code == 200
    assert a.call("GET", "/api/v1/health", key=None).status_code == 200


def test_a_scenario_reload_on_one_replica_makes_the_other_reread_its_files(redis_url, tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("version: 1\nhealth:\n  checks:\n    queue: healthy\n")
    with replica(redis_url, scenarios=[str(extra)]) as a, replica(redis_url, scenarios=[str(extra)]) as b:
        assert b.call("GET", "/api/v1/health", key=None).status_code == 200
        extra.write_text("version: 1\nhealth:\n  checks:\n    queue: unhealthy\n")
        assert a.post("/__mock/scenarios/reload").status_code == 200
        r = b.call("GET", "/api/v1/health", key=None)
        assert r.status_code == 503
        assert r.json()["checks"]["queue"]["status"] == "unhealthy"


def test_a_reset_on_one_replica_leaves_both_on_one_clock_and_configuration(pair):
    a, b = pair
    a.advance(100)
    client = client_id_of(a, FULL)
    assert a.patch(f"/__mock/clients/{client}", json={"name": "Renamed"}).status_code == 200
    run = speech_submitted(b)
    assert a.post("/__mock/reset", json={}).status_code == 200
    assert speech_poll(b, run["id"]).status_code == 404
    assert b.get("/__mock/clock").json()["epoch"] == pytest.approx(a.platform.clock.now())
    b.advance(5)
    assert a.get("/__mock/clock").json()["epoch"] == pytest.approx(b.platform.clock.now())
    names = {c["id"]: c["name"] for c in b.get("/__mock/clients").json()["clients"]}
    assert names[client] == "Renamed"


# -- Interview ----------------------------------------------------------------------------------

def test_the_live_interview_cap_holds_across_replicas(pair):
    a, b = pair  # the cap2 key allows two live interviews
    persona = make_persona(a, key=CAP2)
    first, second, third = (make_session(api, persona["id"], key=CAP2) for api in (a, b, a))
    act_ok(a, "start", token_of(first))
    act_ok(b, "start", token_of(second))
    refused = act(a, "start", token_of(third))
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "CONCURRENCY_LIMIT"
    refused = act(b, "start", token_of(third))
    assert refused.status_code == 429
    page = b.post("/candidate/api/start", json={"token": token_of(third)})  # the candidate's own page
    assert page.status_code == 429 and page.json()["error"]["code"] == "CONCURRENCY_LIMIT"
    act_ok(b, "finish", token_of(first))
    assert act_ok(a, "start", token_of(third))["status"] == "in_progress"
    assert get_session(b, third["id"], key=CAP2)["status"] == "in_progress"


# -- ids ------------------------------------------------------------------------------------------

def test_seeded_replicas_draw_different_ids_and_the_first_keeps_the_single_process_stream(redis_url):
    from mockserver.platform.ids import Ids

    with replica(redis_url, seed=7) as a, replica(redis_url, seed=7) as b:
        assert (a.platform.ids.replica, b.platform.ids.replica) == (1, 2)
        alone = Ids(7)
        assert a.platform.ids.uuid() == alone.uuid()
        drawn_a = {a.platform.ids.uuid() for _ in range(200)}
        drawn_b = {b.platform.ids.uuid() for _ in range(200)}
        assert not drawn_a & drawn_b
        run_a = speech_submitted(a)["id"]
        run_b = speech_submitted(b)["id"]
        assert run_a != run_b


# -- concurrency across replicas ------------------------------------------------------------------
# Six replicas, one thread each (a replica's request pipeline is driven by one event loop at a
# time, as under uvicorn), all submitting at once.

REPLICAS = 6


def concurrently(calls) -> list:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [reply for replies in pool.map(lambda call: call(), calls) for reply in replies]


@pytest.fixture
def many(redis_url):
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield [stack.enter_context(replica(redis_url)) for _ in range(REPLICAS)]


def test_concurrent_submits_with_one_idempotency_key_split_across_replicas_make_one_run(many):
    key = str(uuid.uuid4())
    start = many[0].call("GET", "/api/v1/credits").json()["creditBalance"]
    replies = concurrently([lambda api=api: [cvdm_submit(api, idempotency_key=key) for _ in range(2)]
                            for api in many])
    assert len(replies) == 2 * REPLICAS
    assert [r.status_code for r in replies].count(202) == 1, [r.status_code for r in replies]
    assert {r.status_code for r in replies} == {200, 202}
    assert len({r.json()["id"] for r in replies}) == 1
    assert many[-1].call("GET", "/api/v1/credits").json()["availableCredits"] == start - 3


def test_concurrent_holds_across_replicas_never_overdraw_the_balance(many):
    a, b = many[0], many[1]
    client = client_id_of(a, FULL)
    assert a.post(f"/__mock/clients/{client}/credits", json={"balance": 3 * 5 + 2}).status_code == 200
    replies = concurrently([lambda api=api: [cvdm_submit(api) for _ in range(2)] for api in many])
    codes = sorted(r.status_code for r in replies)
    assert codes.count(202) == 5 and codes.count(402) == 2 * REPLICAS - 5, codes
    account = b.call("GET", "/api/v1/credits").json()
    assert (account["heldCredits"], account["availableCredits"]) == (15, 2)
    holds = [t for t in a.platform.store.scan(TXN, owner=client) if t["type"] == "hold"]
    assert len(holds) == 5
