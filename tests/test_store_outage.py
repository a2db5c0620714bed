"""The shared store goes away (issue #15): requests answer 503 with the platform's error
envelope (code INTERNAL_ERROR, Retry-After — valid against the contract, which strict mode
checks on every reply), the control API answers 503 too, the health check reports its
database unreachable, the log says so once per outage (naming the store without
credentials), and the mock recovers by itself when Redis is back.

Two kinds of outage on a real redis-server: SIGKILL + restart (Redis comes back empty:
persistence is off in tests) and SIGSTOP/SIGCONT of the same process (Redis comes back with
its data: earlier runs and the ledger are intact).
"""

from __future__ import annotations

import logging
import os
import signal
import uuid

import pytest

from conftest import FULL, Api
from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.platform.outage import without_credentials
from mockserver.store import MemoryStore, StoreUnavailable
from mockserver.store.redis_broadcast import SILENCE
from mockserver.store.redis_store import RedisStore
from test_cvdeepmatch_submit import submit as cvdm_submit
from test_speech_support import poll as speech_poll, submit as speech_submit, submitted as speech_submitted
from tests.support.waiting import wait_until


def replica(url: str) -> Api:
    store = RedisStore(url, connect_timeout=0.3, op_timeout=0.3)
    return Api(create_app(Settings(clock="manual", strict=True), store=store))


def outage_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "zenhire_mock" and "unavailable" in r.getMessage() and r.levelno >= logging.ERROR]


def assert_store_down_envelope(api: Api, response, operation: str | None) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "INTERNAL_ERROR"
    assert error["message"] and error["timestamp"]
    assert int(response.headers["Retry-After"]) >= 1
    if operation is not None:  # the API reply: documented for the operation, Retry-After in the body too
        assert error["retryAfterSeconds"] == int(response.headers["Retry-After"])
        assert error["requestId"].startswith("req_")
        validator = api.platform.contract.operations[operation].responses["503"]["application/json"]
        assert not list(validator.iter_errors(response.json()))


@pytest.fixture
def redis_down(redis_server, redis_url):
    """Yields the server; whatever a test did to it, it is running again afterwards."""
    yield redis_server
    if redis_server.proc is not None and redis_server.proc.poll() is None:
        os.kill(redis_server.proc.pid, signal.SIGCONT)
    else:
        redis_server.start()


def test_a_killed_redis_gives_503_envelopes_one_log_line_and_recovery_on_restart(redis_down, redis_url, caplog):
    with replica(redis_url) as api:
        assert api.call("GET", "/api/v1/credits").status_code == 200
        with caplog.at_level(logging.INFO, logger="zenhire_mock"):
            redis_down.kill()
            assert_store_down_envelope(api, api.call("GET", "/api/v1/credits"), "getCredits")
            assert_store_down_envelope(api, speech_submit(api), "submitSpeechAnalysis")
            assert_store_down_envelope(api, api.call("GET", "/api/v1/speech/runs"), "listSpeechRuns")
            assert_store_down_envelope(api, api.get("/__mock/clock"), None)
            assert_store_down_envelope(api, api.post("/__mock/clock/advance", json={"seconds": 5}), None)
            health = api.call("GET", "/api/v1/health", key=None)
            assert health.status_code == 503
            assert health.json()["checks"]["database"]["status"] == "unreachable"
            lines = outage_lines(caplog)
            assert len(lines) == 1, lines
            assert redis_url.split("//")[1] in lines[0]
            assert not any(r.exc_info for r in caplog.records if r.name == "zenhire_mock")
            redis_down.restart()  # empty: persistence is off
            assert api.call("GET", "/api/v1/credits").status_code == 200
            assert any("reachable again" in r.getMessage() for r in caplog.records)
        assert api.call("GET", "/api/v1/health", key=None).status_code == 200
        assert api.advance(30)["epoch"] == pytest.approx(api.platform.clock.now())
        assert speech_submit(api).status_code == 202


def test_a_paused_redis_gives_503_and_earlier_data_is_intact_when_it_answers_again(redis_down, redis_url):
    with replica(redis_url) as a, replica(redis_url) as b:
        run = speech_submitted(a)
        credits = a.call("GET", "/api/v1/credits").json()
        os.kill(redis_down.proc.pid, signal.SIGSTOP)
        try:
            assert_store_down_envelope(b, speech_poll(b, run["id"]), "getSpeechAnalysis")
            # A keeps a confirmed credits view; it answers from it until its listener has
            # heard nothing from Redis for `SILENCE` seconds (pings unanswered), then reads
            assert wait_until(lambda: not a.platform.store.broadcast.live, SILENCE + 2.0)
            assert_store_down_envelope(a, a.call("GET", "/api/v1/credits"), "getCredits")
        finally:
            os.kill(redis_down.proc.pid, signal.SIGCONT)
        again = speech_poll(b, run["id"])
        assert again.status_code == 200, again.text
        assert again.json()["id"] == run["id"]
        after = b.call("GET", "/api/v1/credits").json()
        assert (after["creditBalance"], after["heldCredits"]) == (credits["creditBalance"], credits["heldCredits"])


def test_store_urls_are_logged_without_credentials():
    assert without_credentials("redis://user:s3cret@cache.internal:6380/2") == "redis://cache.internal:6380/2"
    assert without_credentials("redis://:s3cret@127.0.0.1/0") == "redis://127.0.0.1/0"
    assert without_credentials("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert "s3cret" not in without_credentials("rediss://a:s3cret@[::1]:7000/0")


def test_an_unshared_store_never_syncs_and_keeps_its_fast_path():
    api_app = create_app(Settings(clock="manual"))
    platform = api_app.state.platform
    assert platform.shared is None and platform.sync_hooks == []
    assert platform.ids.replica == 1
    with Api(api_app) as api:
        assert api.call("GET", "/api/v1/credits", key=FULL).status_code == 200


class FailingOnce(MemoryStore):
    """A store that becomes unreachable for one write of one kind (then answers again)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.fail_kind = kind

    def put(self, kind, key, doc, *, owner=None):
        if kind == self.fail_kind:
            self.fail_kind = None
            raise StoreUnavailable("store went away mid-submit")
        return super().put(kind, key, doc, owner=owner)


def test_a_submit_the_store_fails_midway_leaves_no_hold_and_its_key_can_be_retried():
    store = FailingOnce("cvdm_run")
    with Api(create_app(Settings(clock="manual", strict=True), store=store)) as api:
        before = api.call("GET", "/api/v1/credits").json()
        key = str(uuid.uuid4())
        failed = cvdm_submit(api, idempotency_key=key)
        assert_store_down_envelope(api, failed, "submitCvDeepMatch")
        after = api.call("GET", "/api/v1/credits").json()
        assert (after["heldCredits"], after["availableCredits"]) == (before["heldCredits"], before["availableCredits"])
        undone = [t["type"] for t in after["recentTransactions"]]
        assert undone == ["release", "hold"] + [t["type"] for t in before["recentTransactions"]]
        assert after["recentTransactions"][0]["amount"] == after["recentTransactions"][1]["amount"] == 3
        assert list(store.scan("hold")) == [] and list(store.scan("settlement")) == []
        retried = cvdm_submit(api, idempotency_key=key)
        assert retried.status_code == 202, retried.text
        assert api.call("GET", "/api/v1/credits").json()["heldCredits"] == before["heldCredits"] + 3
