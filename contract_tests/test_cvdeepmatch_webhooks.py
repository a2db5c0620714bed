"""The CV DeepMatch completion callback over HTTP (HOOK-3..6, HOOK-8, A3): read from the
mock's delivery log, or caught by a receiver on 127.0.0.1 when the target admits local
receivers — one signed POST, its headers and body, each attempt signed at its own time, the
retries a receiver's answer decides, a rotated secret. Shared helpers: ``cvdeepmatch_helpers``.
"""

from __future__ import annotations

import json
import re
import secrets
import time

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import Observed, assert_no_problems, compact_json_problems, parse_timestamp
from contract_tests.contract import Contract
from contract_tests.cvdeepmatch_helpers import UNRESOLVABLE_HOOK, accepted, cvdm_tenant, deliveries_of, follow, submit
from contract_tests.cvdeepmatch_helpers import ops  # noqa: F401  (fixtures)
from contract_tests.receiver import WebhookReceiver, verify_signature

SIGNATURE = re.compile(r"^t=([0-9]+),v1=([0-9a-f]{64})$")


# --------------------------------------------------------------------------- reading responses

def webhook_body_problems(contract: Contract, body) -> list[str]:
    """Problems of a callback body against the contract's cvdeepmatchCompleted webhook schema."""
    from jsonschema import Draft202012Validator
    webhook = (contract.spec.get("webhooks") or {}).get("cvdeepmatchCompleted", {}).get("post")
    if webhook is None:
        return []
    schema = webhook["requestBody"]["content"]["application/json"]["schema"]
    validator = Draft202012Validator(dict(schema, components=contract.components))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in validator.iter_errors(body)][:5]


# --------------------------------------------------------------------------- fixtures

@pytest.fixture()
def local_receivers(target):
    """Starts receivers on 127.0.0.1 answering a programme of statuses; skips unless the target
    admits local receivers (the mock's --allow-local-webhooks)."""
    if not (target.capabilities or {}).get("allowLocalWebhooks"):
        pytest.skip("the target does not deliver to local receivers; the delivery-log tests cover callbacks")
    started: list[WebhookReceiver] = []

    def start(*statuses: int) -> WebhookReceiver:
        receiver = WebhookReceiver(statuses=statuses or (200,))
        receiver.__enter__()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.__exit__(None, None, None)


def signing_tenant(provision, control, label: str):
    """A tenant whose webhook signing secret the suite knows."""
    tenant = cvdm_tenant(provision, label)
    secret = "whsec_ct" + secrets.token_hex(16)
    control.set_webhook_secret(tenant.client_id, secret)
    return tenant, secret


# --------------------------------------------------------------------------- the completion callback (delivery log)

@pytest.fixture(scope="module")
def logged_delivery(api, ops, target, provision, control, time_machine):
    """A finished match whose webhook_url never resolves, every attempt read from the delivery log.
    After the finish the clock moves in 0.25 s steps, so the log's attempt times show the backoff."""
    target.credits.allow("a CV DeepMatch submit (3 credits)")
    tenant, secret = signing_tenant(provision, control, "cvdm-hooklog")
    client = api.with_key(tenant.key)
    real_start, started = time.time(), time.monotonic()
    match = accepted(submit(client, webhook_url=UNRESOLVABLE_HOOK), ops)
    result = follow(client, match["id"], time_machine, ops)
    assert result["status"] == "finished", result
    records: list[dict] = []
    for _ in range(160):  # bounded: 40 virtual seconds
        records = deliveries_of(control, tenant.client_id, match["id"])
        if records and len(records[0]["attempts"]) >= 3:
            break
        time_machine.pass_time(0.25, "the callback's retries")
    slack = time_machine.drift(time.monotonic() - started)  # target time that ran on its own meanwhile
    time_machine.pass_time(60, "any further attempt")
    final = deliveries_of(control, tenant.client_id, match["id"])
    return {"tenant": tenant, "secret": secret, "result": result, "records": records, "final": final,
            "real_window": (real_start, time.time()), "slack": slack}


@covers("HOOK-3", "HOOK-6")
def test_the_callback_is_one_post_with_the_documented_headers_and_body(logged_delivery, ops):
    records, result = logged_delivery["final"], logged_delivery["result"]
    assert len(records) == 1, f"one callback per successful match, got {len(records)}"
    attempt = records[0]["attempts"][0]
    headers = {k.lower(): v for k, v in attempt["request_headers"].items()}
    assert headers["content-type"].split(";")[0] == "application/json"
    assert headers["x-cvdm-request-id"] == f"api_{result['id']}"
    signature = SIGNATURE.match(headers["x-cvdm-signature"])
    assert signature, headers["x-cvdm-signature"]
    assert headers["x-cvdm-signature-timestamp"] == signature.group(1)
    body = json.loads(attempt["body"])
    assert_no_problems(webhook_body_problems(ops.submit.contract, body))
    assert body["external_request_id"] == result["id"] and body["status"] == "finished"
    assert re.match(r"^app_[A-Za-z0-9]+$", body["application_id"]), body
    assert body["cv2jd_result"] == result["cv2jd_result"]
    assert "cv_parser_result" not in attempt["body"]
    for value in (result["cv_parser_result"].get("email"), result["cv_parser_result"].get("name")):
        assert not value or value not in attempt["body"], "PII of the parsed CV in the callback"


@covers("HOOK-4", "HOOK-8")
def test_every_attempt_is_signed_at_its_own_time_over_the_exact_compact_body(logged_delivery):
    attempts = logged_delivery["final"][0]["attempts"]
    earliest, latest = logged_delivery["real_window"]
    stamps = []
    for attempt in attempts:
        body = attempt["body"].encode("utf-8")
        assert_no_problems(compact_json_problems(Observed(200, {"content-type": "application/json"}, body)))
        header = attempt["request_headers"]["X-CVDM-Signature"]
        # HOOK-8: checked as the docs' verifier does, against a receiver's REAL clock
        assert_no_problems(verify_signature(header, body, logged_delivery["secret"], now=latest))
        t = int(SIGNATURE.match(header).group(1))
        assert int(earliest) - 1 <= t <= latest + 1, \
            f"t={t} is not the real time of an attempt made between {earliest:.0f} and {latest:.0f} (HOOK-8)"
        if attempt.get("signed_at"):  # a log that records the real signing time shows the same t
            assert t == int(parse_timestamp(attempt["signed_at"])), (t, attempt["signed_at"])
        stamps.append(t)
    # Each attempt is signed at its own real time (checked above); the retries' waits are target
    # time, so on a manual clock they may all fall within one real second: stamps only never go back.
    assert stamps == sorted(stamps), f"retries are re-signed at their own time: {stamps}"


@covers("HOOK-5", "A3")
def test_network_errors_are_retried_three_times_after_about_1_then_4_seconds(logged_delivery):
    record = logged_delivery["final"][0]
    attempts = record["attempts"]
    assert len(attempts) == 3, f"{len(attempts)} attempts: up to 3 (1 initial + 2 retries)"
    assert all(a["status"] is None for a in attempts), "the host never resolves: no HTTP status"
    assert [a["outcome"] for a in attempts] == ["retry", "retry", "exhausted"] and record["state"] == "failed"
    times = [parse_timestamp(a["at"]) for a in attempts]
    waits = [b - a for a, b in zip(times, times[1:])]
    slack = logged_delivery["slack"]  # later, never sooner, by what a running clock adds on its own
    assert 0.75 <= waits[0] <= 1.5 + slack and 3.0 <= waits[1] <= 5.25 + slack, \
        f"waits {waits}: about 1 s, then 4 s (A3; slack {slack:.1f} s of a running clock)"


@covers("HOOK-4")
def test_a_rotated_secret_signs_the_next_callback(api, ops, provision, control, credit_guard, time_machine):
    credit_guard.allow("two CV DeepMatch submits (6 credits)")
    tenant, old = signing_tenant(provision, control, "cvdm-rotate")
    client = api.with_key(tenant.key)

    def first_attempt(secret_now: str) -> dict:
        match = accepted(submit(client, webhook_url=UNRESOLVABLE_HOOK), ops)
        follow(client, match["id"], time_machine, ops)
        for _ in range(8):  # bounded
            records = deliveries_of(control, tenant.client_id, match["id"])
            if records and records[0]["attempts"]:
                return records[0]["attempts"][0]
            time_machine.pass_time(0.25, "the first attempt")
        pytest.fail(f"no callback attempt for {match['id']} (signed with {secret_now[:10]}…)")

    before = first_attempt(old)
    new = "whsec_ct" + secrets.token_hex(16)
    control.set_webhook_secret(tenant.client_id, new)
    after = first_attempt(new)
    for attempt, good, bad in ((before, old, new), (after, new, old)):
        body, header = attempt["body"].encode("utf-8"), attempt["request_headers"]["X-CVDM-Signature"]
        now = time.time()  # a receiver's real clock (HOOK-8)
        assert_no_problems(verify_signature(header, body, good, now=now))
        assert verify_signature(header, body, bad, now=now) != [], "signed with the secret of another moment"


# --------------------------------------------------------------------------- the completion callback (a real receiver)

@covers("HOOK-3", "HOOK-4", "HOOK-6", "HOOK-8")
def test_a_local_receiver_gets_one_signed_callback_it_can_verify(api, ops, provision, control, webhook_receiver,
                                                                credit_guard, time_machine):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    tenant, secret = signing_tenant(provision, control, "cvdm-receiver")
    client = api.with_key(tenant.key)
    match = accepted(submit(client, webhook_url=webhook_receiver.url), ops)
    result = follow(client, match["id"], time_machine, ops)
    received = webhook_receiver.wait_for(1, timeout=10)
    assert len(received) == 1, f"{len(received)} callbacks for one finished match"
    request = received[0]
    assert request.header("Content-Type").split(";")[0] == "application/json"
    assert request.header("X-CVDM-Request-Id") == f"api_{match['id']}"
    # HOOK-8: the receiver's real clock at arrival, as the docs' verifier reads it
    assert_no_problems(verify_signature(request.header("X-CVDM-Signature"), request.body, secret, now=request.at))
    assert request.header("X-CVDM-Signature-Timestamp") == SIGNATURE.match(request.header("X-CVDM-Signature")).group(1)
    body = json.loads(request.body)
    assert_no_problems(webhook_body_problems(ops.submit.contract, body))
    assert body["external_request_id"] == match["id"] and body["cv2jd_result"] == result["cv2jd_result"]
    assert "cv_parser_result" not in body
    time_machine.pass_time(3600, "an hour after the callback")
    assert len(webhook_receiver.received) == 1, "the callback fires once per successful match"


@covers("HOOK-5")
@pytest.mark.parametrize("statuses, expected", [((500, 200), 2), ((503,), 3), ((429,), 3), ((400,), 1), ((404,), 1)],
                         ids=["500-then-200", "503-always", "429-always", "400-permanent", "404-permanent"])
def test_the_receivers_answer_decides_the_retries(api, ops, provision, control, local_receivers, credit_guard,
                                                 time_machine, statuses, expected):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    receiver = local_receivers(*statuses)
    tenant, _ = signing_tenant(provision, control, "cvdm-retries")
    client = api.with_key(tenant.key)
    match = accepted(submit(client, webhook_url=receiver.url), ops)
    follow(client, match["id"], time_machine, ops)
    for step in (2, 5, 20, 60):  # past both backoff waits (about 1 s, then 4 s) and well beyond
        time_machine.pass_time(step, "the callback's retries")
    received = receiver.wait_for(expected, timeout=10)
    assert len(received) == expected, f"receiver answering {statuses}: {len(received)} attempts, expected {expected}"
    assert len({r.body for r in received}) == 1, "every attempt carries the same bytes"
