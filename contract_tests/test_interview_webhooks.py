"""The Interview completion callback over HTTP, read from the mock's delivery log: signed
with X-Interview-Signature (HOOK-3, HOOK-4, A4) and retried on 5xx, 429 and connection errors
at most three times at the documented waits (HOOK-5, A3). Shared helpers: ``interview_helpers``.
"""

from __future__ import annotations

import json
import re
import secrets
import time

import pytest
from jsonschema import Draft202012Validator

from contract_tests.catalog import covers
from contract_tests.checks import assert_no_problems, parse_timestamp
from contract_tests.interview_helpers import create_persona, create_session, created, token_of
from contract_tests.interview_helpers import ops  # noqa: F401  (fixtures)
from contract_tests.receiver import WebhookReceiver, verify_signature

CALLBACK_ROUNDS = 4
RETRY_WINDOW_SECONDS = 12  # covers the documented waits (about 1 s, then 4 s) with jitter
RETRY_GAPS = ((0.5, 2.5), (2.5, 6.5))  # the waits as seen through one-second clock steps
WEBHOOK_OPERATION = "interviewCompletedWebhook"
UNRESOLVABLE_HOOK = "https://hooks.contract-suite.invalid/interview"  # .invalid never resolves (RFC 6761)


# --------------------------------------------------------------------------- helpers

def webhook_problems(contract, body) -> list[str]:
    """Problems of a callback body against the contract's Interview webhook schema."""
    for hook in (contract.spec.get("webhooks") or {}).values():
        post = hook.get("post") or {}
        if post.get("operationId") == WEBHOOK_OPERATION:
            media = contract.resolve(post["requestBody"])["content"]["application/json"]
            validator = Draft202012Validator(dict(media["schema"], components=contract.components),
                                             format_checker=Draft202012Validator.FORMAT_CHECKER)
            return [e.message for e in validator.iter_errors(body)][:5]
    return [f"the contract documents no {WEBHOOK_OPERATION}"]


# --------------------------------------------------------------------------- the completion callback (HOOK-*)

@pytest.fixture(scope="module")
def delivery_log(target, control, ops):
    """The mock's webhook delivery log; skips when the target keeps none or the contract gives
    sessions no callback URL (A4)."""
    if not (target.capabilities or {}).get("webhookLog"):
        pytest.skip("the target exposes no webhook delivery log")
    if "webhook_url" not in json.dumps(ops["create_session"].request_schema("application/json") or {}):
        pytest.skip("the contract gives Interview sessions no webhook_url (A4)")
    return control


def hooked_tenant(api, ops, provision, label: str):
    tenant = provision.tenant(label, permissions=["interview"])
    client = api.with_key(tenant.key)
    return tenant, client, create_persona(client, ops, role_name="Backend Engineer", language="en")


def expire_with_callback(client, ops, persona_id: str, url: str, time_machine, **body) -> dict:
    """A session whose link expires unused 60 s after creation, so its end is called back."""
    resp = create_session(client, persona_id, consent_mode="integrator", webhook_url=url, expires_in=60, **body)
    if url == UNRESOLVABLE_HOOK and resp.status_code == 400:
        pytest.skip(f"the target refuses a callback host that does not resolve ({resp.text[:120]})")
    made = created(resp, ops)
    time_machine.pass_time(60, "an unused candidate link to expire and be called back")
    return made


def callback_attempts(log, client_id: str, session_id: str) -> tuple[list[dict], list[dict]]:
    """(delivery records, their attempts) of one session's callbacks."""
    records = [d for d in log.deliveries(client_id) if d.get("run_id") == session_id]
    return records, [a for d in records for a in d.get("attempts", [])]


def let_retries_fall_due(time_machine) -> None:
    for _ in range(RETRY_WINDOW_SECONDS):
        time_machine.pass_time(1, "callback retries to fall due")


def assert_documented_waits(attempts: list[dict], slack: float = 0.0) -> None:
    """The waits between attempts (their logged target times) are about 1 s then 4 s: never
    sooner, and later by at most ``slack`` — the target time that passes on its own (a scaled
    clock) while the attempts are made and the clock is stepped."""
    times = [parse_timestamp(a["at"]) for a in attempts]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert all(low <= gap <= high + slack for gap, (low, high) in zip(gaps, RETRY_GAPS)), \
        f"waits between attempts {gaps} are not about 1 s then 4 s (slack {slack:.1f} s of a running clock)"


@covers("HOOK-3", "HOOK-4", "HOOK-8", "A4", "INTV-5")
def test_the_end_of_a_session_is_called_back_signed_with_x_interview_signature(api, ops, target, provision,
                                                                              delivery_log, contract, credit_guard,
                                                                              time_machine):
    credit_guard.allow("creating an Interview session")
    tenant, client, persona = hooked_tenant(api, ops, provision, "interview-hook")
    secret = "whsec_" + secrets.token_hex(16)
    delivery_log.set_webhook_secret(tenant.client_id, secret)
    local = bool((target.capabilities or {}).get("allowLocalWebhooks"))
    with WebhookReceiver() as receiver:
        made = expire_with_callback(client, ops, persona["id"], receiver.url if local else UNRESOLVABLE_HOOK,
                                    time_machine, candidate_ref="ct-hook")
        for _ in range(CALLBACK_ROUNDS):
            records, attempts = callback_attempts(delivery_log, tenant.client_id, made["id"])
            if attempts:
                break
            time_machine.pass_time(1, "the callback to be attempted")
        assert len(records) == 1, f"one callback per session end, found {len(records)}"
        assert attempts, "the callback was never attempted"
        received = receiver.wait_for(1, timeout=5) if local else []
    headers = {k.lower(): v for k, v in attempts[0]["request_headers"].items()}
    body = received[0].body if received else attempts[0]["body"].encode("utf-8")
    if received:
        assert received[0].body == attempts[0]["body"].encode("utf-8"), "the log shows the exact bytes sent"
        assert received[0].header("X-Interview-Signature") == headers["x-interview-signature"]
    assert headers["content-type"].split(";")[0] == "application/json"
    assert headers["x-interview-request-id"] == f"api_{made['id']}"
    signature = headers["x-interview-signature"]
    assert re.fullmatch(r"t=[0-9]+,v1=[0-9a-f]{64}", signature), signature
    assert signature.split(",")[0] == f"t={headers['x-interview-signature-timestamp']}"
    # HOOK-8: against a receiver's real clock (at arrival, or now when only the log was read)
    assert_no_problems(verify_signature(signature, body, secret, now=received[0].at if received else time.time()))
    event = json.loads(body)
    assert_no_problems(webhook_problems(contract, event))
    assert json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8") == body, \
        "the body is compact JSON"
    assert (event["event"], event["error_code"], event["id"], event["candidate_ref"]) == (
        "interview.session.failed", "LINK_EXPIRED", made["id"], "ct-hook")
    assert token_of(made) not in body.decode("utf-8")


@covers("HOOK-5", "A3")
@pytest.mark.parametrize("statuses, expected", [
    ((503, 503, 503), 3), ((500, 200), 2), ((429, 200), 2), ((400,), 1),
], ids=["5xx-exhausted", "5xx-then-ok", "429-then-ok", "4xx-permanent"])
def test_callbacks_are_retried_on_5xx_and_429_at_most_three_times(api, ops, target, provision, delivery_log,
                                                                 credit_guard, time_machine, statuses, expected):
    if not (target.capabilities or {}).get("allowLocalWebhooks"):
        pytest.skip("programmed receiver answers need a target that calls local receivers")
    credit_guard.allow("creating an Interview session")
    tenant, client, persona = hooked_tenant(api, ops, provision, "interview-retry")
    with WebhookReceiver(statuses=statuses) as receiver:
        started = time.monotonic()
        made = expire_with_callback(client, ops, persona["id"], receiver.url, time_machine)
        let_retries_fall_due(time_machine)
        received = receiver.wait_for(expected, timeout=5)
        took = time.monotonic() - started
    _, attempts = callback_attempts(delivery_log, tenant.client_id, made["id"])
    assert len(received) == len(attempts) == expected, \
        f"receiver answers {statuses}: {len(received)} received, {len(attempts)} logged, {expected} expected"
    assert len({r.body for r in received}) == 1, "every attempt carries the same body"
    assert_documented_waits(attempts, slack=time_machine.drift(took))


@covers("HOOK-5", "A3")
def test_a_callback_that_cannot_connect_is_tried_three_times(api, ops, provision, delivery_log, credit_guard,
                                                            time_machine):
    credit_guard.allow("creating an Interview session")
    tenant, client, persona = hooked_tenant(api, ops, provision, "interview-unreachable")
    started = time.monotonic()
    made = expire_with_callback(client, ops, persona["id"], UNRESOLVABLE_HOOK, time_machine)
    let_retries_fall_due(time_machine)
    _, attempts = callback_attempts(delivery_log, tenant.client_id, made["id"])
    assert len(attempts) == 3, f"a network error is retried, 3 attempts in all: {len(attempts)} made"
    assert_documented_waits(attempts, slack=time_machine.drift(time.monotonic() - started))
