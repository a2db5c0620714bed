"""CVDS-12, HOOK-7: a CV DeepSearch search with a `webhook_url` gets the signed completion
callback when the run finishes, by default — the Search guide: "If you supplied a webhook_url,
we POST a signed callback when the run finishes". Only the results stay behind the
`cvds-results` preview (CVDS-9): the poll keeps `results: null, results_pending: true`.

The mock runs with allow_local_webhooks and calls a real receiver on 127.0.0.1.
"""

from __future__ import annotations

import json

import pytest

from conftest import Api, make_app
from cvds_contract_helpers import SEARCH_SECONDS, candidate, ingest, run_path, search
from mockserver.webhooks import verify_signature
from tests.support.docs_verifier import docs_verifier
from tests.support.webhook_receiver import WebhookReceiver

ACME_SECRET = "whsec_acme_mock_signing_secret_0001"


@pytest.fixture
def default_mock():
    """No preview switched on: the documented surface only."""
    with WebhookReceiver() as receiver:
        with Api(make_app(allow_local_webhooks=True)) as api:
            assert not api.platform.preview_enabled("cvds-results")
            yield api, receiver


def test_a_completed_search_calls_back_once_without_any_preview(default_mock):
    api, receiver = default_mock
    ingest(api, [candidate("c1")])
    run_id = search(api, body={"webhook_url": receiver.url}).json()["id"]
    api.advance(SEARCH_SECONDS - 1)
    assert receiver.requests == []
    api.advance(1)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    run = api.call("GET", run_path(run_id)).json()
    assert run["status"] == "completed"
    assert json.loads(request.body) == {"event": "cvdeepsearch.completed", "id": run_id, "corpus_id": "pool",
                                        "position_id": "eng-backend-2026", "status": "completed",
                                        "completed_at": run["completed_at"]}
    assert request.header("X-CVDM-Request-Id") == f"api_{run_id}"
    assert docs_verifier()(request.header("X-CVDM-Signature"), request.body, ACME_SECRET)
    assert verify_signature(request.header("X-CVDM-Signature"), request.body, ACME_SECRET)
    api.advance(600)
    assert len(receiver.requests) == 1


def test_the_results_stay_behind_the_preview_when_the_callback_is_sent(default_mock):
    api, receiver = default_mock
    ingest(api, [candidate("c1")])
    run_id = search(api, body={"webhook_url": receiver.url}).json()["id"]
    api.advance(SEARCH_SECONDS)
    assert len(receiver.requests) == 1
    run = api.call("GET", run_path(run_id)).json()
    assert run["results"] is None and run["results_pending"] is True
    assert api.call("GET", run_path(run_id) + "/results").status_code != 200


def test_a_failed_search_sends_no_callback(default_mock):
    api, receiver = default_mock
    search(api, body={"webhook_url": receiver.url})  # empty corpus → failed
    api.advance(SEARCH_SECONDS + 30)
    assert receiver.requests == []
    assert api.get("/__mock/webhooks/deliveries").json()["deliveries"] == []
