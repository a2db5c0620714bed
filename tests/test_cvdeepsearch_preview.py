"""CV DeepSearch provisional results (CVDS-9, off by default): the best-first ranking inline
on the poll and on `GET /runs/{id}/results` with cursor pages, only embedded candidates of the
caller's named corpus (CVDS-4, CVDS-8), the per-position plan cache (`job_updated`, CVDS-6) and
the signed `cvdeepsearch.completed` webhook delivered to a real receiver on 127.0.0.1 (HOOK-7).
Each test's docstring names the catalog IDs it checks."""

from __future__ import annotations

import json

import pytest

from conftest import SECOND, Api, make_app
from cvds_contract_helpers import SEARCH_SECONDS, candidate, ingest, position, run_path, search
from mockserver.webhooks import verify_signature
from support.webhook_receiver import WebhookReceiver, status

ACME_SECRET = "whsec_acme_mock_signing_secret_0001"
FOUR_SKILLS = ("Go", "SQL", "Kubernetes", "Terraform")


@pytest.fixture
def preview():
    with Api(make_app(preview=["cvds-results"])) as client:
        yield client


def finished_run(api, **kw) -> dict:
    """Trigger a search, let it finish, and return the completed poll body."""
    response = search(api, **kw)
    assert response.status_code == 200, response.text
    api.advance(SEARCH_SECONDS)
    body = api.call("GET", run_path(response.json()["id"])).json()
    assert body["status"] == "completed", body
    return body


def ranked_ids(body: dict) -> list[str]:
    return [row["external_id"] for row in body["results"]]


# -- the switch ------------------------------------------------------------------------------------

def test_results_endpoint_is_404_and_poll_has_no_results_with_the_preview_off(api):
    """CVDS-9, CVDS-11: off by default — the poll keeps results null and /results is 404."""
    ingest(api, [candidate("c1")])
    run_id = search(api).json()["id"]
    api.advance(SEARCH_SECONDS)
    body = api.call("GET", run_path(run_id)).json()
    assert (body["status"], body["results"], body["results_pending"]) == ("completed", None, True)
    response = api.call("GET", run_path(run_id) + "/results")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


def test_a_scenario_file_can_switch_the_preview_on(tmp_path):
    """CVDS-9: `settings: {preview: {cvds-results: true}}` turns the provisional surface on."""
    path = tmp_path / "preview.yaml"
    path.write_text("version: 1\nsettings:\n  preview: {cvds-results: true}\n")
    with Api(make_app(scenarios=[str(path)])) as api:
        ingest(api, [candidate("c1")])
        body = finished_run(api)
        assert (ranked_ids(body), body["results_pending"]) == (["c1"], False)


# -- ranking ---------------------------------------------------------------------------------------

def test_ranking_is_best_first_by_required_skills(preview):
    """CVDS-9: a candidate with more of the required skills ranks higher; score is a sort key."""
    ingest(preview, [candidate(f"has{count}", *(FOUR_SKILLS[:count] or ("Cobol",))) for count in (1, 3, 0, 4, 2)])
    body = finished_run(preview, metadata=position(*FOUR_SKILLS))
    assert ranked_ids(body) == ["has4", "has3", "has2", "has1", "has0"]
    scores = [row["score"] for row in body["results"]]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 5
    assert [row["rank"] for row in body["results"]] == [1, 2, 3, 4, 5]
    assert body["results"][0]["matched_skills"] == list(FOUR_SKILLS)


def test_top_n_cuts_the_ranking(preview):
    """CVDS-6, CVDS-9: top_n caps how many ranked candidates come back."""
    ingest(preview, [candidate(f"c{i}") for i in range(6)])
    assert len(finished_run(preview, body={"top_n": 4})["results"]) == 4


def test_only_embedded_candidates_of_the_callers_named_corpus_are_ranked(preview):
    """CVDS-8, CVDS-4: other corpora, other tenants, failed and still-pending candidates never appear."""
    ingest(preview, [candidate("mine-weak", "Go")])
    ingest(preview, [candidate("other-corpus", *FOUR_SKILLS)], corpus_id="other")
    ingest(preview, [candidate("other-tenant", *FOUR_SKILLS)], key=SECOND)
    ingest(preview, [candidate("embed-fail-1", *FOUR_SKILLS)])
    ingest(preview, [candidate("still-pending", *FOUR_SKILLS)],
           headers={"X-Mock-Scenario": "cvds-embedding-slow"})  # embeds after the run finishes
    body = finished_run(preview, metadata=position(*FOUR_SKILLS))
    assert ranked_ids(body) == ["mine-weak"]


def test_ranking_is_the_corpus_as_it_stood_at_the_runs_finish(preview):
    """CVDS-11, CVDS-4: a candidate ingested during the run counts; one ingested after its finish
    does not, even when the run is first read later."""
    run_id = search(preview, metadata=position(*FOUR_SKILLS)).json()["id"]
    preview.advance(60)
    ingest(preview, [candidate("during", "Go")])
    preview.advance(SEARCH_SECONDS)
    ingest(preview, [candidate("after", *FOUR_SKILLS)])
    assert ranked_ids(preview.call("GET", run_path(run_id)).json()) == ["during"]


def test_results_endpoint_pages_the_same_ranking_with_a_cursor(preview):
    """CVDS-9, LIST-3: cursor pages walk the whole best-first list once."""
    ingest(preview, [candidate(f"c{i}", *FOUR_SKILLS[:i % 4 + 1]) for i in range(7)])
    body = finished_run(preview, metadata=position(*FOUR_SKILLS))
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = f"?limit=3&cursor={cursor}" if cursor else "?limit=3"
        page = preview.call("GET", run_path(body["id"]) + "/results" + query).json()
        assert len(page["results"]) <= 3 and page["id"] == body["id"]
        seen += [row["external_id"] for row in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ranked_ids(body) and len(seen) == 7


def test_results_of_a_pending_or_failed_run_are_409(preview):
    """CVDS-9: pending → 409 RESULTS_NOT_READY; failed → 409 RUN_FAILED; unknown → 404."""
    pending = search(preview).json()["id"]
    assert preview.call("GET", run_path(pending) + "/results").json()["error"]["code"] == "RESULTS_NOT_READY"
    preview.advance(SEARCH_SECONDS)
    failed = preview.call("GET", run_path(pending) + "/results")  # nothing was ingested: CORPUS_EMPTY
    assert (failed.status_code, failed.json()["error"]["code"]) == (409, "RUN_FAILED")
    assert preview.call("GET", run_path(pending) + "/results", key=SECOND).status_code == 404


# -- the plan cache --------------------------------------------------------------------------------

def test_plan_is_cached_per_position_until_job_updated(preview):
    """CVDS-6: job_updated false reuses the position's cached plan; true rebuilds it."""
    ingest(preview, [candidate("gopher", "Go"), candidate("rustacean", "Rust")])
    assert ranked_ids(finished_run(preview, metadata=position("Go")))[0] == "gopher"
    assert ranked_ids(finished_run(preview, metadata=position("Rust")))[0] == "gopher"  # cached plan
    assert ranked_ids(finished_run(preview, metadata=position("Rust"), body={"job_updated": True}))[0] == "rustacean"
    assert ranked_ids(finished_run(preview, metadata=position("Go")))[0] == "rustacean"  # the rebuilt plan
    assert ranked_ids(finished_run(preview, position_id="another-role", metadata=position("Go")))[0] == "gopher"


# -- HOOK-7 ----------------------------------------------------------------------------------------

@pytest.fixture
def hooked():
    with WebhookReceiver() as receiver:
        with Api(make_app(preview=["cvds-results"], allow_local_webhooks=True)) as api:
            yield api, receiver


def test_completion_webhook_is_signed_and_delivered_once_at_the_runs_finish(hooked):
    """HOOK-7, HOOK-3, HOOK-4: {event, id, corpus_id, position_id, status, completed_at},
    X-CVDM-* headers, a signature valid for the client's secret at the virtual time."""
    api, receiver = hooked
    ingest(api, [candidate("c1")])
    run_id = search(api, body={"webhook_url": receiver.url}).json()["id"]
    api.advance(SEARCH_SECONDS - 1)
    assert receiver.requests == []
    api.advance(1)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    poll = api.call("GET", run_path(run_id)).json()
    assert json.loads(request.body) == {"event": "cvdeepsearch.completed", "id": run_id, "corpus_id": "pool",
                                        "position_id": "eng-backend-2026", "status": "completed",
                                        "completed_at": poll["completed_at"]}
    assert b" " not in request.body  # compact JSON
    assert request.header("X-CVDM-Request-Id") == f"api_{run_id}"
    signature = request.header("X-CVDM-Signature")
    assert signature.startswith(f"t={request.header('X-CVDM-Signature-Timestamp')},v1=")
    assert verify_signature(signature, request.body, ACME_SECRET)  # the receiver's real clock (HOOK-8)
    api.advance(600)
    assert len(receiver.requests) == 1
    log = api.get("/__mock/webhooks/deliveries").json()["deliveries"]
    assert [(entry["run_id"], entry["state"]) for entry in log] == [(run_id, "delivered")]


def test_completion_webhook_is_retried_after_a_5xx(hooked):
    """HOOK-7, HOOK-5: the shared engine retries a 503 (1 s later)."""
    api, receiver = hooked
    receiver.program(status(503), status(200))
    ingest(api, [candidate("c1")])
    search(api, body={"webhook_url": receiver.url})
    api.advance(SEARCH_SECONDS)
    api.advance(2)
    assert len(receiver.requests) == 2
    assert api.get("/__mock/webhooks/deliveries").json()["deliveries"][0]["state"] == "delivered"


def test_run_saved_from_corpus_empty_by_an_ingest_calls_back(hooked):
    """HOOK-7, CVDS-11: an ingest landing before the finish makes the run complete — and call back."""
    api, receiver = hooked
    run_id = search(api, body={"webhook_url": receiver.url}).json()["id"]
    api.advance(30)
    ingest(api, [candidate("c1")])
    api.advance(SEARCH_SECONDS)
    assert [json.loads(request.body)["id"] for request in receiver.requests] == [run_id]


def test_failed_run_sends_no_completion_webhook(hooked):
    """HOOK-7: only completed runs call back."""
    api, receiver = hooked
    search(api, body={"webhook_url": receiver.url})  # empty corpus → failed
    api.advance(SEARCH_SECONDS + 30)
    assert receiver.requests == []
