"""The CV DeepSearch completion callback over HTTP: a search with a webhook_url gets one
signed callback when the run finishes, by default (CVDS-12, HOOK-3, HOOK-4, HOOK-7, HOOK-8),
retried only on 5xx and 429 (HOOK-5). Shared helpers: ``cvdeepsearch_helpers``.
"""

from __future__ import annotations

import json

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import Observed, assert_no_problems, compact_json_problems
from contract_tests.cvdeepsearch_helpers import (SESSION, SKILLS, cv, ingest, ingested, search, triggered, unique,
                                                 wait_until_terminal)
from contract_tests.cvdeepsearch_helpers import ingest_op, run_op, search_op  # noqa: F401  (fixtures)
from contract_tests.receiver import WebhookReceiver, verify_signature

WEBHOOK_SECRET = "whsec_contract_suite_cvds_" + SESSION


# --------------------------------------------------------------------------- the results preview

@covers("CVDS-12", "HOOK-7", "HOOK-3", "HOOK-4", "HOOK-8")
def test_a_search_with_a_webhook_url_gets_one_signed_completion_callback_by_default(
        api, provision, control, webhook_receiver, ingest_op, search_op, run_op, credit_guard, time_machine):
    """No preview switch needed: the Search guide says "If you supplied a webhook_url, we POST a
    signed callback when the run finishes" (CVDS-12); only the results stay provisional."""
    credit_guard.allow("a CV DeepSearch ingest and a search")
    tenant = provision.tenant("cvds-hook", permissions=["cvdeepsearch"])
    control.set_webhook_secret(tenant.client_id, WEBHOOK_SECRET)
    client = api.with_key(tenant.key)
    corpus_id, position_id = unique("hook"), unique("hook")
    ingested(ingest(client, [cv("hooked", *SKILLS)], corpus_id), ingest_op)
    run_id = triggered(search(client, corpus_id, position_id=position_id, webhook_url=webhook_receiver.url),
                       search_op)["id"]
    run = wait_until_terminal(client, run_id, time_machine, run_op)
    assert run["status"] == "completed", run
    received = webhook_receiver.wait_for(1, timeout=10)
    assert len(received) == 1, f"expected one completion callback, got {len(received)}"
    hook = received[0]
    assert json.loads(hook.body) == {"event": "cvdeepsearch.completed", "id": run_id, "corpus_id": corpus_id,
                                     "position_id": position_id, "status": "completed",
                                     "completed_at": run["completed_at"]}
    assert_no_problems(compact_json_problems(Observed(200, {"content-type": hook.header("content-type") or ""},
                                                      hook.body)))
    assert (hook.header("content-type") or "").startswith("application/json")
    assert hook.header("x-cvdm-request-id") == f"api_{run_id}"
    signature = hook.header("x-cvdm-signature") or ""
    assert signature.startswith(f"t={hook.header('x-cvdm-signature-timestamp')},v1="), signature
    # HOOK-8: checked against the receiver's real clock at arrival, as the docs' verifier does
    assert_no_problems(verify_signature(signature, hook.body, WEBHOOK_SECRET, now=hook.at))
    time_machine.pass_time(600, "a second completion callback, which must never come")
    assert len(webhook_receiver.received) == 1, "the completion callback is sent once"


@pytest.mark.parametrize("answers, attempts", [((503, 200), 2), ((429, 200), 2), ((500,), 3), ((400,), 1)],
                         ids=["503-then-200", "429-then-200", "always-500", "400-is-permanent"])
@covers("HOOK-5", "HOOK-7", "CVDS-12")
def test_a_completion_callback_is_retried_only_on_5xx_and_429(api, target, ingest_op, search_op,
                                                              run_op, credit_guard, time_machine, answers, attempts):
    if not (target.capabilities or {}).get("allowLocalWebhooks"):
        pytest.skip("the target does not deliver to local receivers")
    credit_guard.allow("a CV DeepSearch ingest and a search")
    corpus_id = unique("retry")
    ingested(ingest(api, [cv("retried", *SKILLS)], corpus_id), ingest_op)
    with WebhookReceiver(statuses=answers) as receiver:
        run_id = triggered(search(api, corpus_id, webhook_url=receiver.url), search_op)["id"]
        assert wait_until_terminal(api, run_id, time_machine, run_op)["status"] == "completed"
        time_machine.pass_time(60, "every retry of the completion callback (backoff waits of seconds)")
        within_a_minute = len(receiver.wait_for(attempts, timeout=5))
        time_machine.pass_time(600, "a retry beyond the documented attempts, which must never come")
        received = list(receiver.received)
    assert within_a_minute == attempts, \
        f"receiver answering {answers}: expected {attempts} attempt(s) within a minute, got {within_a_minute}"
    assert len(received) == attempts, f"receiver answering {answers}: {len(received)} attempts in all, not {attempts}"
    assert len({r.body for r in received}) == 1, "every attempt carries the same event"
    assert json.loads(received[0].body)["id"] == run_id
