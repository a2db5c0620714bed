"""Client grading, webhook rules: a receiver that fails deliveries (non-2xx, too slow to
answer, unreachable, answering slowly) is reported from the delivery log; receiver probes
(opt-in per client) send a tampered, a stale and a replayed copy after each accepted delivery,
and only a receiver that verifies signatures and their age grades clean.

Receivers are real HTTP servers on 127.0.0.1 (`tests/support/webhook_receiver.py`); the
verifying ones use the docs' own Python verifier on the receiver's clock. The mock runs on a
manual clock moved by a few seconds only, so its signatures stay fresh for that verifier.
"""

from __future__ import annotations

import pytest

from conftest import Api
from mockserver.grading.probes import CAPTURE_AGE_SECONDS
from mockserver.webhooks import verify_signature
from test_cvdeepmatch_submit import accepted_id, poll, submit
from test_cvdeepmatch_webhooks import FAST, hook_app
from test_grading_misbehaving import broken, finding, grade
from tests.support.docs_verifier import docs_verifier
from tests.support.webhook_receiver import Reply, WebhookReceiver, refused_url, slow, status

ACME = "acme"


class VerifyingReceiver(WebhookReceiver):
    """Answers 200 when ``accept(request)`` says so, else 401; remembers each verdict."""

    def __init__(self, accept) -> None:
        super().__init__()
        self.accept = accept
        self.verdicts: list[int] = []

    def _take(self, request):
        super()._take(request)
        verdict = 200 if self.accept(request) else 401
        self.verdicts.append(verdict)
        return Reply(status=verdict)


def docs_receiver(secret: str) -> VerifyingReceiver:
    """The docs' verifier verbatim: HMAC and the 5-minute window on the receiver's clock."""
    verify = docs_verifier()
    return VerifyingReceiver(lambda r: verify(r.header("X-CVDM-Signature") or "", r.body, secret))


def hmac_only_receiver(secret: str) -> VerifyingReceiver:
    """Checks the HMAC but forgets the timestamp window."""
    return VerifyingReceiver(lambda r: verify_signature(r.header("X-CVDM-Signature") or "", r.body, secret,
                                                        tolerance=10 ** 12))


def trusting_receiver() -> VerifyingReceiver:
    return VerifyingReceiver(lambda r: True)


def secret_of(api, client: str = ACME) -> str:
    return api.platform.registry.clients[client].secret()


def finished_match(api, url: str, **fields) -> str:
    run_id = accepted_id(submit(api, webhook_url=url, headers=FAST, **fields))
    api.advance(6)  # finished at 5 s: the first attempt is made
    assert poll(api, run_id).json()["status"] == "finished"
    return run_id


def probes_on(api, client: str = ACME) -> None:
    response = api.put("/__mock/grades/probes", json={"client": client, "enabled": True})
    assert response.status_code == 200 and response.json() == {"client": client, "receiverProbes": True}


@pytest.fixture
def hooks():
    with Api(hook_app(webhook_timeout=1.0)) as client:
        yield client


# -- receiver failures from the delivery log ----------------------------------------------------

def test_a_receiver_answering_500_breaks_webhook_receiver_rejected_only(hooks):
    with WebhookReceiver([status(500)]) as receiver:
        run_id = finished_match(hooks, receiver.url)
        hooks.advance(30)  # both retries
        assert len(receiver.requests) == 3
    report = grade(hooks)
    assert broken(report) == {"WEBHOOK_RECEIVER_REJECTED"}
    found = finding(report, "WEBHOOK_RECEIVER_REJECTED")
    assert found["count"] == 3
    assert [e["attempt"] for e in found["evidence"]] == [1, 2, 3]
    assert all(e["status"] == 500 and e["run"] == run_id for e in found["evidence"])


def test_a_receiver_answering_400_is_one_rejected_attempt(hooks):
    with WebhookReceiver([status(400)]) as receiver:
        finished_match(hooks, receiver.url)
        hooks.advance(30)
    report = grade(hooks)
    assert broken(report) == {"WEBHOOK_RECEIVER_REJECTED"}
    assert finding(report, "WEBHOOK_RECEIVER_REJECTED")["count"] == 1


def test_a_receiver_slower_than_the_timeout_breaks_webhook_receiver_timeout_only():
    with Api(hook_app(webhook_timeout=0.2)) as api, WebhookReceiver([slow(2.0)]) as receiver:
        finished_match(api, receiver.url)
        report = grade(api)
    assert broken(report) == {"WEBHOOK_RECEIVER_TIMEOUT"}
    evidence = finding(report, "WEBHOOK_RECEIVER_TIMEOUT")["evidence"][0]
    assert evidence["error"] == "timeout" and evidence["status"] is None


def test_an_unreachable_receiver_breaks_webhook_receiver_unreachable_only(hooks):
    with refused_url() as url:
        finished_match(hooks, url)
    report = grade(hooks)
    assert broken(report) == {"WEBHOOK_RECEIVER_UNREACHABLE"}
    assert finding(report, "WEBHOOK_RECEIVER_UNREACHABLE")["evidence"][0]["error"] == "connection_error"


def test_a_receiver_answering_2xx_after_more_than_half_the_timeout_is_webhook_receiver_slow_only():
    with Api(hook_app(webhook_timeout=0.8)) as api, WebhookReceiver([slow(0.5, 200)]) as receiver:
        finished_match(api, receiver.url)
        report = grade(api)
    assert broken(report) == {"WEBHOOK_RECEIVER_SLOW"}
    found = finding(report, "WEBHOOK_RECEIVER_SLOW")
    assert found["severity"] == "warning" and found["evidence"][0]["durationMs"] >= 400


def test_a_fast_2xx_receiver_without_probes_grades_clean_and_gets_one_request(hooks):
    with WebhookReceiver() as receiver:
        finished_match(hooks, receiver.url)
        hooks.advance(3600)
        assert len(receiver.requests) == 1
    assert grade(hooks)["findings"] == []


# -- receiver probes -------------------------------------------------------------------------------

def test_a_receiver_verifying_like_the_docs_rejects_every_probe_and_grades_clean(hooks):
    probes_on(hooks)
    receiver = docs_receiver(secret_of(hooks))
    with receiver:
        finished_match(hooks, receiver.url)
    assert receiver.verdicts == [200, 401, 401, 401]  # genuine, tampered, stale, replay
    assert grade(hooks)["findings"] == []


def test_a_receiver_that_verifies_nothing_accepts_all_three_probes(hooks):
    probes_on(hooks)
    with trusting_receiver() as receiver:
        run_id = finished_match(hooks, receiver.url)
        genuine, tampered, stale, replay = receiver.requests
    assert tampered.body == genuine.body and tampered.header("X-CVDM-Signature") != genuine.header("X-CVDM-Signature")
    t = int(genuine.header("X-CVDM-Signature-Timestamp"))
    assert int(stale.header("X-CVDM-Signature-Timestamp")) == t - CAPTURE_AGE_SECONDS
    assert verify_signature(stale.header("X-CVDM-Signature"), stale.body, secret_of(hooks), now=t - CAPTURE_AGE_SECONDS)
    assert replay.header("X-CVDM-Request-Id") == f"api_{run_id}"
    report = grade(hooks)
    assert broken(report) == {"RECEIVER_ACCEPTS_TAMPERED", "RECEIVER_ACCEPTS_STALE", "RECEIVER_ACCEPTS_REPLAY"}
    for rule in ("RECEIVER_ACCEPTS_TAMPERED", "RECEIVER_ACCEPTS_STALE", "RECEIVER_ACCEPTS_REPLAY"):
        evidence = finding(report, rule)["evidence"][0]
        assert evidence["status"] == 200 and evidence["run"] == run_id and evidence["url"] == receiver.url


def test_a_receiver_checking_the_hmac_but_not_the_age_breaks_the_stale_and_replay_rules(hooks):
    probes_on(hooks)
    receiver = hmac_only_receiver(secret_of(hooks))
    with receiver:
        finished_match(hooks, receiver.url)
    assert receiver.verdicts == [200, 401, 200, 200]
    assert broken(grade(hooks)) == {"RECEIVER_ACCEPTS_STALE", "RECEIVER_ACCEPTS_REPLAY"}


def test_the_replay_probe_resends_an_earlier_delivery(hooks):
    probes_on(hooks)
    with trusting_receiver() as receiver:
        first = finished_match(hooks, receiver.url, position_id="grading-first")
        second = finished_match(hooks, receiver.url, position_id="grading-second")
        requests = receiver.requests
    assert len(requests) == 8
    replay_of_second = requests[7]
    assert replay_of_second.header("X-CVDM-Request-Id") == f"api_{first}"  # the earlier run's callback
    assert replay_of_second.body == requests[0].body
    assert requests[4].header("X-CVDM-Request-Id") == f"api_{second}"


def test_probes_switch_on_through_a_scenario_client_setting(hooks):
    created = hooks.post("/__mock/clients", json={
        "id": "probed", "credits": 100000, "settings": {"grading": {"receiverProbes": True}},
        "keys": [{"key": "zh_api_test_probed_grading_0001"}]})
    assert created.status_code == 201, created.text
    with trusting_receiver() as receiver:
        finished_match_with_key(hooks, receiver.url, "zh_api_test_probed_grading_0001")
        assert len(receiver.requests) == 4
    assert "RECEIVER_ACCEPTS_TAMPERED" in broken(grade(hooks, "probed"))


def finished_match_with_key(api, url: str, key: str) -> str:
    run_id = accepted_id(submit(api, key=key, webhook_url=url, headers=FAST))
    api.advance(6)
    assert poll(api, run_id, key=key).json()["status"] == "finished"
    return run_id


def test_probes_switched_off_again_send_nothing_extra(hooks):
    probes_on(hooks)
    assert hooks.put("/__mock/grades/probes", json={"client": ACME, "enabled": False}).status_code == 200
    with trusting_receiver() as receiver:
        finished_match(hooks, receiver.url)
        assert len(receiver.requests) == 1


def test_no_probe_follows_a_rejected_genuine_delivery(hooks):
    probes_on(hooks)
    with WebhookReceiver([status(400)]) as receiver:
        finished_match(hooks, receiver.url)
        assert len(receiver.requests) == 1


@pytest.mark.parametrize("body", [{"client": "nobody", "enabled": True}, {"client": ACME, "enabled": "yes"}, [1]])
def test_a_bad_probe_switch_request_is_a_400_in_the_control_envelope(hooks, body):
    response = hooks.put("/__mock/grades/probes", json=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_INPUT"
