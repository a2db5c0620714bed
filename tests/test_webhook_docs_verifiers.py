"""HOOK-8: the docs' own Python and Node.js verifiers, unchanged, accept every genuine callback
from a mock whose virtual clock is far from real time.

The mock is served over real HTTP (uvicorn on 127.0.0.1) with ``--allow-local-webhooks``; its
callbacks go over real HTTP to a receiver on 127.0.0.1. Two clocks, each at least an hour
ahead of real time when the callback is sent: (1) scaled ×60 starting an hour ahead, (2)
manual after a 1-hour advance. Each mock sends a CV DeepMatch callback and a CV DeepSearch
completion callback (CVDS-12). Payload times stay virtual; ``t=`` is the real time of the
attempt, so the verifiers (which compare ``t`` with the receiver's real clock, 5-minute
tolerance) accept. A body changed by one byte is rejected by both, so the checks can fail.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from conftest import FULL
from cvds_contract_helpers import SEARCH_SECONDS, candidate, ingest, search
from mockserver.clock import parse_iso
from test_cvdeepmatch_submit import accepted_id, submit
from tests.defects.serving import mock_app, serve
from tests.support.docs_verifier import docs_verifier, node_binary, node_verifier_answers
from tests.support.webhook_receiver import WebhookReceiver

ACME_SECRET = "whsec_acme_mock_signing_secret_0001"
FAST = {"X-Mock-Scenario": "cvdm-fast"}  # the match finishes 5 virtual seconds after submit
HOUR = 3600.0
WAIT_POLLS = 200          # bounded real wait on the scaled clock: 200 × 50 ms
WAIT_POLL_SECONDS = 0.05


class HttpApi:
    """The ``call`` surface the submit helpers use, over real HTTP."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, trust_env=False, timeout=10.0)

    def call(self, method: str, path: str, key: str | None = FULL, **kw) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if key is not None:
            headers["X-API-Key"] = key
        return self.client.request(method, path, headers=headers, **kw)

    def advance(self, seconds: float) -> None:
        response = self.client.post("/__mock/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text

    def deliveries(self) -> list[dict]:
        return self.client.get("/__mock/webhooks/deliveries", params={"client": "acme"}).json()["deliveries"]


def scaled_mock():
    return mock_app(clock="scaled", time_scale=60, clock_start=time.time() + HOUR, allow_local_webhooks=True)


def manual_mock():
    return mock_app(clock="manual", allow_local_webhooks=True)


def wait_for_requests(receiver: WebhookReceiver, count: int) -> list:
    for _ in range(WAIT_POLLS):
        if len(receiver.requests) >= count:
            break
        time.sleep(WAIT_POLL_SECONDS)
    return receiver.requests


def callbacks_from(clock_mode: str, receiver: WebhookReceiver) -> tuple[list, list[dict]]:
    """Serve a mock on ``clock_mode``; get a CV DeepMatch and a CV DeepSearch callback sent
    while its clock is at least an hour ahead of real time. The received requests (in order
    of arrival) and the delivery log."""
    app = scaled_mock() if clock_mode == "scaled" else manual_mock()
    with serve(app) as base_url:
        api = HttpApi(base_url)
        if clock_mode == "manual":
            api.advance(HOUR)
        assert ingest(api, [candidate("c1")]).status_code == 200
        accepted_id(submit(api, webhook_url=receiver.url, headers=FAST))
        assert search(api, body={"webhook_url": receiver.url}).status_code == 200
        if clock_mode == "manual":
            api.advance(SEARCH_SECONDS + 1)
        received = wait_for_requests(receiver, 2)
        log = wait_for_recorded_attempts(api, len(received))
    return received, log


def wait_for_recorded_attempts(api: HttpApi, count: int) -> list[dict]:
    """The log once ``count`` attempts are recorded: the receiver sees a request before the
    mock has read the answer and recorded the attempt (bounded real wait, as above)."""
    for _ in range(WAIT_POLLS):
        log = api.deliveries()
        if sum(len(record["attempts"]) for record in log) >= count:
            break
        time.sleep(WAIT_POLL_SECONDS)
    return log


@pytest.mark.parametrize("clock_mode", ["scaled", "manual"])
def test_the_docs_python_and_node_verifiers_accept_every_callback(clock_mode):
    with WebhookReceiver() as receiver:
        received, log = callbacks_from(clock_mode, receiver)
    assert len(received) == 2, f"a CV DeepMatch and a CV DeepSearch callback expected, got {len(received)}"
    assert {json.loads(r.body).get("event", "cvdm") for r in received} == {"cvdm", "cvdeepsearch.completed"}
    assert [len(record["attempts"]) for record in log] == [1, 1], "one attempt each"
    attempts = {"api_" + record["run_id"]: record["attempts"][0] for record in log}

    verify_webhook = docs_verifier()
    checks: list[tuple[str, bytes, str]] = []
    expected: list[bool] = []
    for request in received:
        header = request.header("X-CVDM-Signature")
        t = int(request.header("X-CVDM-Signature-Timestamp"))
        attempt = attempts[request.header("X-CVDM-Request-Id")]
        assert attempt["signature_timestamp"] == t
        assert parse_iso(attempt["at"]) - t > HOUR - 60, "the attempt's virtual time is an hour ahead of t"
        assert abs(time.time() - t) < 60, "t is the real time of the attempt"
        assert int(parse_iso(attempt["signed_at"])) == t
        tampered = request.body.replace(b'"status":"', b'"status":"X')
        assert tampered != request.body
        assert verify_webhook(header, request.body, ACME_SECRET) is True
        assert verify_webhook(header, tampered, ACME_SECRET) is False
        checks += [(header, request.body, ACME_SECRET), (header, tampered, ACME_SECRET),
                   (header, request.body, "whsec_wrong")]
        expected += [True, False, False]
    if node_binary() is None:
        pytest.skip("node is not installed: the docs' Node.js verifier cannot run (Python verifier passed)")
    assert node_verifier_answers(checks) == expected
