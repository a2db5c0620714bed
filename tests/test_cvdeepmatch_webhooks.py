"""CV DeepMatch callbacks end to end (HOOK-1..6, HOOK-8): URL admission at submit, a real
receiver on 127.0.0.1 (the mock runs with allow_local_webhooks), every retry classification,
the docs' own Python verifier on the exact bytes received, secret rotation, the delivery log
of the control API, and a pending retry that survives a restart with a state file.

Safety: every app here resolves names with a static table (no system DNS), and apps that
admit a public-looking name get a transport that records instead of connecting — the mock
never calls a non-loopback address from these tests.
"""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from conftest import SECOND, Api
from mockserver.app import create_app
from mockserver.clock import parse_iso
from mockserver.config import Settings
from mockserver.platform.registry import DEFAULT_WEBHOOK_SECRET
from mockserver.webhooks import StaticResolver, compact_json, sign, verify_signature
from test_cvdeepmatch_submit import accepted_id, blank_cv, poll, submit
from tests.support.docs_verifier import docs_verifier
from tests.support.webhook_receiver import WebhookReceiver, refused_url, slow, status

ACME_SECRET = "whsec_acme_mock_signing_secret_0001"
FAST = {"X-Mock-Scenario": "cvdm-fast"}   # the match finishes 5 s after submit
PAST_FINISH = 5  # exactly the finish: the first attempt is made, no retry is due yet


# -- the docs' Python verifier (tests/support/docs_verifier.py), unchanged: it reads the
# receiver's real clock, as an integrator's server does (HOOK-8) ------------------------------

verify_webhook = docs_verifier()


# -- apps ---------------------------------------------------------------------------------

def hook_app(resolver: StaticResolver | None = None, **settings):
    settings.setdefault("clock", "manual")
    settings.setdefault("strict", True)
    settings.setdefault("allow_local_webhooks", True)
    return create_app(Settings(**settings), resolver=resolver if resolver is not None else StaticResolver({}))


@pytest.fixture
def hooks():
    with Api(hook_app(webhook_timeout=0.5)) as client:
        yield client


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


class RecordingNetwork:
    """An httpx transport for the webhook engine that records requests and never connects;
    it answers with ``statuses`` in turn (the last one repeats)."""

    def __init__(self, *statuses: int) -> None:
        self.requests: list[httpx.Request] = []
        self.statuses = list(statuses) or [200]

    def install(self, api) -> None:
        def client_factory(**options):
            return httpx.AsyncClient(transport=httpx.MockTransport(self._answer), **options)
        api.platform.webhooks.transport.client_factory = client_factory

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.statuses[min(len(self.requests), len(self.statuses)) - 1])


def deliveries(api, run_id: str) -> list[dict]:
    log = api.get("/__mock/webhooks/deliveries").json()["deliveries"]
    return [d for d in log if d["run_id"] == run_id]


def the_delivery(api, run_id: str) -> dict:
    found = deliveries(api, run_id)
    assert len(found) == 1, found
    return found[0]


# -- HOOK-1: admission at submit ----------------------------------------------------------

@pytest.mark.parametrize("url", ["http://example.com/hook", "http://127.0.0.1:9/hook", "ftp://example.com/hook"])
def test_a_webhook_url_that_is_not_https_is_insecure_webhook_url(api, url):
    response = submit(api, webhook_url=url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INSECURE_WEBHOOK_URL"


@pytest.mark.parametrize("url", ["https://10.1.2.3/hook", "https://172.16.0.1/hook", "https://192.168.1.10/hook",
                                 "https://127.0.0.1/hook", "https://169.254.169.254/latest", "https://[::1]/hook",
                                 "https://[fe80::1]/hook", "https://localhost/hook"])
def test_a_webhook_url_on_a_private_loopback_or_link_local_address_is_private_webhook_url(api, url):
    response = submit(api, webhook_url=url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PRIVATE_WEBHOOK_URL"


def test_a_name_resolving_to_a_private_address_is_private_webhook_url():
    resolver = StaticResolver({"intranet.example.test": ["93.184.215.14", "10.0.0.8"]})
    with Api(hook_app(resolver, allow_local_webhooks=False)) as api:
        response = submit(api, webhook_url="https://intranet.example.test/hook")
        assert response.json()["error"]["code"] == "PRIVATE_WEBHOOK_URL"
        assert api.platform.store.count("cvdm_run") == 0


def test_a_public_https_url_is_accepted_and_echoed():
    resolver = StaticResolver({"hooks.example.test": ["93.184.215.14"]})
    with Api(hook_app(resolver, allow_local_webhooks=False)) as api:
        RecordingNetwork().install(api)
        run_id = accepted_id(submit(api, webhook_url="https://hooks.example.test/cvdm"))
        assert poll(api, run_id).json()["webhook_url"] == "https://hooks.example.test/cvdm"


def test_local_receivers_are_admitted_only_with_allow_local_webhooks(receiver):
    with Api(hook_app(allow_local_webhooks=False)) as faithful:
        assert submit(faithful, webhook_url=receiver.url).json()["error"]["code"] == "INSECURE_WEBHOOK_URL"
    with Api(hook_app()) as local:
        accepted_id(submit(local, webhook_url=receiver.url))
        assert submit(local, webhook_url="http://10.0.0.1/hook").json()["error"]["code"] == "INSECURE_WEBHOOK_URL"
        assert submit(local, webhook_url="https://10.0.0.1/hook").json()["error"]["code"] == "PRIVATE_WEBHOOK_URL"


# -- HOOK-3, HOOK-4, HOOK-6, HOOK-8: one successful callback ------------------------------

def test_a_finished_match_is_posted_once_with_the_documented_headers_and_body(hooks, receiver):
    run_id = accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    hooks.advance(4)
    assert receiver.requests == []  # nothing before the finish
    hooks.advance(2)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.method == "POST" and request.path == "/hook"
    assert request.header("Content-Type") == "application/json"
    assert request.header("X-CVDM-Request-Id") == f"api_{run_id}"
    signature = request.header("X-CVDM-Signature")
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", signature)
    assert request.header("X-CVDM-Signature-Timestamp") == signature.split(",")[0][2:]
    body = json.loads(request.body)
    assert set(body) == {"external_request_id", "application_id", "status", "cv2jd_result"}
    assert body["external_request_id"] == run_id and body["status"] == "finished"
    assert re.fullmatch(r"app_[A-Za-z0-9]+", body["application_id"])
    assert body["cv2jd_result"] == poll(hooks, run_id).json()["cv2jd_result"]
    assert request.body == compact_json(body)  # compact: no whitespace
    hooks.advance(3600)
    assert len(receiver.requests) == 1  # once per successful match


def test_the_callback_carries_no_pii(hooks, receiver):
    run_id = accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    hooks.advance(PAST_FINISH)
    raw = receiver.requests[0].body.decode("utf-8")
    parsed = poll(hooks, run_id).json()["cv_parser_result"]
    assert "cv_parser_result" not in raw
    assert parsed["email"] not in raw and parsed["name"] not in raw


def test_the_docs_python_verifier_accepts_the_exact_bytes_received(hooks, receiver):
    accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    hooks.advance(PAST_FINISH)
    request = receiver.requests[0]
    assert verify_webhook(request.header("X-CVDM-Signature"), request.body, ACME_SECRET)
    assert not verify_webhook(request.header("X-CVDM-Signature"), request.body + b" ", ACME_SECRET)
    assert not verify_webhook(request.header("X-CVDM-Signature"), request.body, "whsec_wrong")


def test_the_signature_time_is_the_real_time_of_the_attempt_and_stale_ones_are_rejected(hooks, receiver):
    """HOOK-8: `t` is the real time of sending, even after the manual clock moved an hour;
    the delivery log keeps it (signed_at) beside the virtual time (at); a receiver 5 min +
    1 s away rejects it."""
    accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    hooks.advance(3600)
    real_before = time.time()
    run_id = accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    hooks.advance(PAST_FINISH)
    real_after = time.time()
    request = receiver.requests[1]
    t = int(request.header("X-CVDM-Signature-Timestamp"))
    assert int(real_before) <= t <= real_after
    [attempt] = the_delivery(hooks, run_id)["attempts"]
    assert attempt["signature_timestamp"] == t and int(parse_iso(attempt["signed_at"])) == t
    assert parse_iso(attempt["at"]) == pytest.approx(hooks.platform.clock.now())  # virtual: 1 h ahead
    assert parse_iso(attempt["at"]) - t > 3600
    assert verify_webhook(request.header("X-CVDM-Signature"), request.body, ACME_SECRET)
    assert verify_signature(request.header("X-CVDM-Signature"), request.body, ACME_SECRET, now=t + 300)
    assert not verify_signature(request.header("X-CVDM-Signature"), request.body, ACME_SECRET, now=t + 301)


def test_a_client_without_its_own_secret_is_signed_with_the_default_secret(hooks, receiver):
    accepted_id(submit(hooks, key=SECOND, webhook_url=receiver.url, headers=FAST))
    hooks.advance(PAST_FINISH)
    request = receiver.requests[0]
    assert verify_signature(request.header("X-CVDM-Signature"), request.body, DEFAULT_WEBHOOK_SECRET)


def test_a_rotated_secret_signs_the_next_callback(hooks, receiver):
    accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    hooks.advance(PAST_FINISH)
    rotated = "whsec_rotated_secret_0002"
    assert hooks.put("/__mock/clients/acme/webhook-secret", json={"secret": rotated}).status_code == 200
    accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    hooks.advance(PAST_FINISH)
    first, second = receiver.requests
    assert verify_signature(first.header("X-CVDM-Signature"), first.body, ACME_SECRET)
    assert verify_signature(second.header("X-CVDM-Signature"), second.body, rotated)
    assert not verify_signature(second.header("X-CVDM-Signature"), second.body, ACME_SECRET)


def test_a_failed_match_sends_no_callback(hooks, receiver):
    run_id = accepted_id(submit(hooks, pdf=blank_cv(), webhook_url=receiver.url, headers=FAST))
    hooks.advance(3600)
    assert poll(hooks, run_id).json()["status"] == "failed"
    assert receiver.requests == [] and deliveries(hooks, run_id) == []


def test_an_idempotent_replay_queues_no_second_callback(hooks, receiver):
    run_id = accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST, idempotency_key="hook-once"))
    assert submit(hooks, webhook_url=receiver.url, headers=FAST, idempotency_key="hook-once").status_code == 200
    hooks.advance(PAST_FINISH)
    assert len(receiver.requests) == 1 and len(deliveries(hooks, run_id)) == 1


# -- HOOK-5: retry classifications against the real receiver -----------------------------

def attempts_after(api, run_id: str, *, rounds: int = 4, step: float = 5.0) -> dict:
    """Advance past the finish and through every retry window; the delivery record."""
    api.advance(PAST_FINISH)
    for _ in range(rounds):
        api.advance(step)
    return the_delivery(api, run_id)


def test_a_200_is_delivered_on_the_first_attempt(hooks, receiver):
    run_id = accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    record = attempts_after(hooks, run_id)
    assert record["state"] == "delivered"
    assert [(a["status"], a["outcome"]) for a in record["attempts"]] == [(200, "delivered")]


def test_a_500_is_retried_about_1_second_later_and_a_200_then_delivers(hooks, receiver):
    receiver.program(status(500), status(200))
    run_id = accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    hooks.advance(PAST_FINISH)
    assert len(receiver.requests) == 1
    hooks.advance(0.8)
    assert len(receiver.requests) == 1  # the 1 s backoff (±10 %) has not passed
    hooks.advance(0.4)
    assert len(receiver.requests) == 2
    record = the_delivery(hooks, run_id)
    assert record["state"] == "delivered"
    assert [(a["status"], a["outcome"]) for a in record["attempts"]] == [(500, "retry"), (200, "delivered")]
    assert receiver.requests[0].body == receiver.requests[1].body


def test_a_429_is_retried_until_three_attempts_are_spent(hooks, receiver):
    receiver.program(status(429))
    run_id = accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    record = attempts_after(hooks, run_id)
    assert record["state"] == "failed"
    assert [(a["status"], a["outcome"]) for a in record["attempts"]] == [(429, "retry"), (429, "retry"),
                                                                         (429, "exhausted")]
    assert len(receiver.requests) == 3


def test_a_400_is_permanent_and_never_retried(hooks, receiver):
    receiver.program(status(400))
    run_id = accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    record = attempts_after(hooks, run_id)
    assert record["state"] == "failed"
    assert [(a["status"], a["outcome"]) for a in record["attempts"]] == [(400, "permanent")]
    assert len(receiver.requests) == 1


def test_a_refused_connection_is_retried_as_a_network_error():
    with refused_url() as url, Api(hook_app()) as api:
        run_id = accepted_id(submit(api, webhook_url=url, headers=FAST))
        record = attempts_after(api, run_id)
    assert record["state"] == "failed"
    assert [a["error"] for a in record["attempts"]] == ["connection_error"] * 3
    assert [a["status"] for a in record["attempts"]] == [None] * 3


def test_a_slow_receiver_times_out_and_the_retry_is_delivered(receiver):
    receiver.program(slow(3.0), status(200))
    with Api(hook_app(webhook_timeout=0.3)) as api:
        run_id = accepted_id(submit(api, webhook_url=receiver.url, headers=FAST))
        record = attempts_after(api, run_id)
    assert [(a["error"], a["outcome"]) for a in record["attempts"]] == [("timeout", "retry"), (None, "delivered")]
    assert record["state"] == "delivered"


def test_the_backoff_waits_about_1_then_4_seconds(hooks, receiver):
    receiver.program(status(503))
    run_id = accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    record = attempts_after(hooks, run_id, rounds=30, step=0.25)
    times = [parse_iso(a["at"]) for a in record["attempts"]]
    waits = [round(b - a, 2) for a, b in zip(times, times[1:])]
    assert 0.9 <= waits[0] <= 1.35 and 3.6 <= waits[1] <= 4.65, waits


# -- HOOK-2: the address is re-checked before every attempt ------------------------------

class CountingResolver(StaticResolver):
    def __init__(self, table) -> None:
        super().__init__(table)
        self.calls = 0

    def __call__(self, host: str) -> list[str]:
        self.calls += 1
        return super().__call__(host)


def test_the_host_is_resolved_again_before_every_attempt():
    resolver = CountingResolver({"hooks.example.test": ["93.184.215.14"]})
    network = RecordingNetwork(500, 500, 200)
    with Api(hook_app(resolver, allow_local_webhooks=False)) as api:
        network.install(api)
        run_id = accepted_id(submit(api, webhook_url="https://hooks.example.test/cvdm", headers=FAST))
        at_submit = resolver.calls
        record = attempts_after(api, run_id)
    assert record["state"] == "delivered" and len(record["attempts"]) == 3
    assert resolver.calls - at_submit == 3
    assert len(network.requests) == 3


def test_a_host_rebound_to_a_private_address_after_an_attempt_is_not_called_again():
    resolver = StaticResolver({"hooks.example.test": ["93.184.215.14"]})
    network = RecordingNetwork(500)
    with Api(hook_app(resolver, allow_local_webhooks=False)) as api:
        network.install(api)
        run_id = accepted_id(submit(api, webhook_url="https://hooks.example.test/cvdm", headers=FAST))
        api.advance(PAST_FINISH)
        resolver.set("hooks.example.test", ["10.0.0.9"])
        record = attempts_after(api, run_id)
    assert len(network.requests) == 1
    assert [a["outcome"] for a in record["attempts"]] == ["retry", "permanent"]
    assert record["attempts"][1]["error"] == "url_refused"


def test_a_public_name_rebound_to_a_private_address_before_the_finish_is_never_called():
    resolver = StaticResolver({"hooks.example.test": ["93.184.215.14"]})
    network = RecordingNetwork()
    with Api(hook_app(resolver, allow_local_webhooks=False)) as api:
        network.install(api)
        run_id = accepted_id(submit(api, webhook_url="https://hooks.example.test/cvdm", headers=FAST))
        resolver.set("hooks.example.test", ["192.168.0.20"])
        record = attempts_after(api, run_id)
    assert network.requests == []
    assert [(a["error"], a["outcome"]) for a in record["attempts"]] == [("url_refused", "permanent")]


# -- the delivery log ---------------------------------------------------------------------

def test_every_attempt_is_in_the_delivery_log_and_verifiable_without_a_receiver():
    """An unreachable name (offline): each attempt's URL, headers, body, error and timing are logged."""
    with Api(hook_app(allow_local_webhooks=False)) as api:
        run_id = accepted_id(submit(api, webhook_url="https://unreachable.example.test/cb", headers=FAST))
        record = attempts_after(api, run_id)
    assert record["kind"] == "cvdm" and record["client_id"] == "acme" and record["state"] == "failed"
    assert len(record["attempts"]) == 3
    for attempt in record["attempts"]:
        assert attempt["url"] == "https://unreachable.example.test/cb"
        assert attempt["error"] == "dns_unresolvable" and attempt["status"] is None
        assert isinstance(attempt["duration_ms"], int) and attempt["at"]
        headers = attempt["request_headers"]
        assert headers["X-CVDM-Request-Id"] == f"api_{run_id}"
        assert verify_signature(headers["X-CVDM-Signature"], attempt["body"].encode("utf-8"), ACME_SECRET)
    assert json.loads(record["body"])["external_request_id"] == run_id


def test_the_delivery_log_records_the_receivers_status_and_reply(hooks, receiver):
    receiver.program(status(500, b"try later"), status(204))
    run_id = accepted_id(submit(hooks, webhook_url=receiver.url, headers=FAST))
    record = attempts_after(hooks, run_id)
    first, second = record["attempts"]
    assert (first["status"], first["response_body_excerpt"]) == (500, "try later")
    assert second["status"] == 204 and record["state"] == "delivered"
    for attempt in (first, second):  # each attempt is signed at its own (real) time
        assert attempt["request_headers"]["X-CVDM-Signature"] == sign(
            attempt["body"].encode("utf-8"), ACME_SECRET, attempt["signature_timestamp"])


# -- persistence --------------------------------------------------------------------------

def test_a_pending_retry_survives_a_restart_with_a_state_file(tmp_path, receiver):
    state = str(tmp_path / "state.sqlite")
    receiver.program(status(500), status(200))
    with Api(hook_app(state=state)) as first:
        run_id = accepted_id(submit(first, webhook_url=receiver.url, headers=FAST))
        first.advance(PAST_FINISH)
        assert the_delivery(first, run_id)["state"] == "pending"
    assert len(receiver.requests) == 1
    with Api(hook_app(state=state)) as second:
        second.advance(2)
        record = the_delivery(second, run_id)
        assert poll(second, run_id).json()["status"] == "finished"
    assert record["state"] == "delivered"
    assert [a["status"] for a in record["attempts"]] == [500, 200]
    assert len(receiver.requests) == 2 and receiver.requests[0].body == receiver.requests[1].body
