"""CV DeepSearch search trigger and run poll over HTTP (in-process, manual clock, strict
contract checks): the trigger (CVDS-6, CFG-10), the documented poll (CVDS-7), the lifecycle
(CVDS-11), corpus scoping (CVDS-8), STEP_FUNCTIONS_FAILED (CVDS-10), idempotency (IDEM-2..4),
webhook URL admission (HOOK-1) and polling rules (POLL-1..6). Each test's docstring names the
catalog IDs it checks."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from conftest import FULL, SECOND, SLOW_SUBMIT, Api
from cvds_contract_helpers import RUN_ID_PATTERN, SEARCH, SEARCH_SECONDS, candidate, ingest, position, run_path, search
from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.webhooks.admission import StaticResolver

DOCS_BODY = {
    "corpus_id": "acme-eng-pool",
    "position_id": "eng-backend-2026",
    "position_metadata": {
        "name": "Senior Backend Engineer",
        "requirements": {
            "workExperience": {"from": 5, "to": 10, "importance": 5, "relevant_industries": ["SaaS"],
                               "industries_config": [{"name": "SaaS", "importance": 5}]},
            "skills": {"importance": 5, "skills_config": {
                "hard_skills": [{"name": "Node.js", "importance": 5}],
                "requirements": {"minimal_qualifications": True, "preferable_qualifications": True}}},
        },
    },
    "top_n": 50,
}


@pytest.fixture
def corpus(api):
    """The `pool` corpus of the default client, with one embedded candidate."""
    assert ingest(api, [candidate("c1")]).status_code == 200
    return api


def poll(api, run_id: str, **kw):
    return api.call("GET", run_path(run_id), **kw)


# -- CVDS-6: trigger -------------------------------------------------------------------------

def test_documented_search_returns_a_pending_cvds_run_id(api):
    """CVDS-6, JSON-1: 200 {id: cvds_<22 base62>, status: pending}, compact, id/status last."""
    ingest(api, [candidate("c1", "Node.js")], corpus_id="acme-eng-pool")
    response = api.call("POST", SEARCH, json=DOCS_BODY)
    assert response.status_code == 200
    body = response.json()
    assert re.fullmatch(RUN_ID_PATTERN, body["id"]) and body["status"] == "pending"
    assert response.text == f'{{"id":"{body["id"]}","status":"pending"}}'


@pytest.mark.parametrize("corpus_id", [None, ""])
def test_search_without_corpus_id_is_missing_corpus_id(corpus, corpus_id):
    """CVDS-6: corpus_id is mandatory (fail-closed) — absent or empty → 400 MISSING_CORPUS_ID."""
    response = search(corpus, corpus_id=corpus_id)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]["fields"]) == ("MISSING_CORPUS_ID", {"corpus_id": ["corpus_id is required."]})


@pytest.mark.parametrize("metadata", [{}, [], "Backend", None])
def test_position_metadata_must_be_a_non_empty_object(corpus, metadata):
    """CFG-10: only a non-empty object is required of position_metadata."""
    body = {"corpus_id": "pool", "position_id": "p1", "position_metadata": metadata}
    response = corpus.call("POST", SEARCH, json=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_INPUT"
    assert "position_metadata" in response.json()["error"]["details"]["fields"]


def test_position_metadata_inner_shape_is_not_validated(corpus):
    """CFG-10: any non-empty object is accepted at this layer."""
    assert search(corpus, metadata={"anything": [1, 2, 3]}).status_code == 200


def test_top_n_defaults_to_100_and_is_clamped_at_1000(corpus):
    """CVDS-6: top_n default 100; above the cap → clamped (echoed), not rejected."""
    default = search(corpus).json()["id"]
    clamped = search(corpus, body={"top_n": 5000}).json()["id"]
    kept = search(corpus, body={"top_n": 7}).json()["id"]
    assert [poll(corpus, run_id).json()["top_n"] for run_id in (default, clamped, kept)] == [100, 1000, 7]
    assert search(corpus, body={"top_n": 0}).json()["error"]["code"] == "INVALID_INPUT"


def test_job_updated_defaults_to_false_and_is_echoed_as_is_job_updated(corpus):
    """CVDS-6: job_updated → is_job_updated."""
    plain = search(corpus).json()["id"]
    updated = search(corpus, body={"job_updated": True}).json()["id"]
    assert poll(corpus, plain).json()["is_job_updated"] is False
    assert poll(corpus, updated).json()["is_job_updated"] is True


# -- CVDS-7, CVDS-11: poll and lifecycle -----------------------------------------------------------

def test_pending_poll_has_the_documented_shape_and_retry_after(api):
    """CVDS-7, POLL-3: exactly the documented fields, results null, results_pending true."""
    ingest(api, [candidate("c1", "Node.js")], corpus_id="acme-eng-pool")
    run_id = api.call("POST", SEARCH, json=DOCS_BODY).json()["id"]
    response = poll(api, run_id)
    assert response.status_code == 200
    body = response.json()
    created_at = body.pop("created_at")
    assert body == {"id": run_id, "status": "pending", "corpus_id": "acme-eng-pool",
                    "position_id": "eng-backend-2026", "is_job_updated": False, "top_n": 50,
                    "source": "requests", "results": None, "results_pending": True}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created_at)
    assert response.headers["Retry-After"] == "10"
    assert response.text.endswith(f'"id":"{run_id}","status":"pending"}}')


def test_run_completes_after_the_search_time_and_still_has_no_results(corpus):
    """CVDS-11, CVDS-7: pending → completed; results stay null/pending without the preview."""
    run_id = search(corpus).json()["id"]
    corpus.advance(SEARCH_SECONDS - 1)
    assert poll(corpus, run_id).json()["status"] == "pending"
    corpus.advance(1)
    response = poll(corpus, run_id)
    body = response.json()
    assert (body["status"], body["results"], body["results_pending"]) == ("completed", None, True)
    assert body["completed_at"] > body["created_at"] and "Retry-After" not in response.headers


def test_run_over_a_corpus_without_embedded_candidates_fails_corpus_empty(api):
    """CVDS-11: a search of a corpus with nothing embedded ends failed (CORPUS_EMPTY)."""
    ingest(api, [candidate("embed-fail-1")])
    run_id = search(api).json()["id"]
    api.advance(SEARCH_SECONDS)
    body = poll(api, run_id).json()
    assert (body["status"], body["error"]["code"], body["results"]) == ("failed", "CORPUS_EMPTY", None)


def test_candidates_embedded_before_the_finish_count_for_the_run(api):
    """CVDS-4, CVDS-11: a pending candidate that embeds before the run's finish makes it complete."""
    ingest(api, [candidate(f"c{i}") for i in range(30)])  # background batch: embedded 2 s later
    run_id = search(api).json()["id"]
    api.advance(SEARCH_SECONDS)
    assert poll(api, run_id).json()["status"] == "completed"


def test_scenario_fails_the_run_at_its_finish(corpus):
    """CVDS-11: X-Mock-Scenario: cvds-search-failed → pending, then failed with SEARCH_FAILED."""
    run_id = search(corpus, headers={"X-Mock-Scenario": "cvds-search-failed"}).json()["id"]
    assert poll(corpus, run_id).json()["status"] == "pending"
    corpus.advance(SEARCH_SECONDS)
    body = poll(corpus, run_id).json()
    assert (body["status"], body["error"]["code"]) == ("failed", "SEARCH_FAILED")


def test_scenario_can_complete_a_search_of_an_empty_corpus(api):
    """CVDS-11: X-Mock-Scenario: cvds-search-completed → completed even with nothing embedded."""
    run_id = search(api, corpus_id="nothing-here", headers={"X-Mock-Scenario": "cvds-search-completed"}).json()["id"]
    api.advance(SEARCH_SECONDS)
    assert poll(api, run_id).json()["status"] == "completed"


def test_slow_search_scenario_keeps_the_run_pending_longer(corpus):
    """CVDS-11: X-Mock-Scenario: cvds-search-slow → pending for 900 s."""
    run_id = search(corpus, headers={"X-Mock-Scenario": "cvds-search-slow"}).json()["id"]
    corpus.advance(899)
    assert poll(corpus, run_id).json()["status"] == "pending"
    corpus.advance(1)
    assert poll(corpus, run_id).json()["status"] == "completed"


# -- POLL ------------------------------------------------------------------------------------------

def test_polls_under_10_s_apart_are_429_rate_limited_until_terminal(corpus):
    """POLL-1, POLL-6, POLL-2: the first poll may follow the submit at once; the next within 10 s
    → 429 RATE_LIMITED with Retry-After; once terminal, no throttle."""
    run_id = search(corpus).json()["id"]
    assert poll(corpus, run_id).status_code == 200
    corpus.advance(4)
    throttled = poll(corpus, run_id)
    assert throttled.status_code == 429
    error = throttled.json()["error"]
    assert error["code"] == "RATE_LIMITED" and error["retryAfterSeconds"] == int(throttled.headers["Retry-After"]) == 6
    corpus.advance(6)
    assert poll(corpus, run_id).status_code == 200
    corpus.advance(SEARCH_SECONDS)
    assert [poll(corpus, run_id).status_code for _ in range(3)] == [200, 200, 200]


def test_run_id_can_be_polled_hours_later(corpus):
    """POLL-4: ids never expire."""
    run_id = search(corpus).json()["id"]
    corpus.advance(72 * 3600)
    assert poll(corpus, run_id).json()["status"] == "completed"


def test_unknown_and_other_tenants_run_ids_are_404_not_found(corpus):
    """POLL-5, AUTH-6: no existence leak across tenants."""
    run_id = search(corpus).json()["id"]
    for response in (poll(corpus, run_id, key=SECOND), poll(corpus, "cvds_AAAAAAAAAAAAAAAAAAAAAA"),
                     poll(corpus, "not-a-run-id")):
        error = response.json()["error"]
        assert (response.status_code, error["code"], error["message"]) == (
            404, "NOT_FOUND", "No run with that id for your client.")


# -- CVDS-8 ----------------------------------------------------------------------------------------

def test_search_does_not_see_another_tenants_corpus_of_the_same_name(api):
    """CVDS-8: only the caller's corpus is read — another client's `pool` leaves ours empty."""
    ingest(api, [candidate("theirs")], key=SECOND)
    run_id = search(api).json()["id"]
    api.advance(SEARCH_SECONDS)
    assert poll(api, run_id).json()["error"]["code"] == "CORPUS_EMPTY"


def test_search_does_not_see_the_callers_other_corpora(api):
    """CVDS-8: only the named corpus is read."""
    ingest(api, [candidate("elsewhere")], corpus_id="other")
    run_id = search(api, corpus_id="pool").json()["id"]
    api.advance(SEARCH_SECONDS)
    assert poll(api, run_id).json()["error"]["code"] == "CORPUS_EMPTY"


# -- IDEM, CVDS-10 ----------------------------------------------------------------------------------

def test_same_idempotency_key_replays_the_existing_run(corpus):
    """IDEM-2: the same key from the same client → the original id, no new run."""
    first = search(corpus, body={"idempotency_key": "k-1"}).json()
    replay = search(corpus, body={"idempotency_key": "k-1", "top_n": 5})
    assert replay.status_code == 200
    assert replay.json() == {"idempotent_replay": True, "id": first["id"], "status": "pending"}
    assert poll(corpus, first["id"]).json()["top_n"] == 100  # the replay started nothing
    corpus.advance(SEARCH_SECONDS)
    assert search(corpus, body={"idempotency_key": "k-1"}).json()["status"] == "completed"
    assert search(corpus, body={"idempotency_key": "k-2"}).json()["id"] != first["id"]


def test_idempotency_keys_are_per_client_and_expire_after_24_hours(corpus):
    """IDEM-2, AUTH-6: another tenant's identical key starts its own run; after 24 h a new run."""
    ours = search(corpus, body={"idempotency_key": "shared"}).json()["id"]
    theirs = search(corpus, key=SECOND, body={"idempotency_key": "shared"}).json()
    assert theirs["id"] != ours and "idempotent_replay" not in theirs
    corpus.advance(24 * 3600)
    later = search(corpus, body={"idempotency_key": "shared"}).json()
    assert later["id"] != ours and later["status"] == "pending"


def test_concurrent_searches_with_one_key_create_exactly_one_run(mock_app):
    """IDEM-3: simultaneous triggers with the same key → one run; the rest replay it."""
    body = {"corpus_id": "pool", "position_id": "p1", "position_metadata": position("Go"),
            "idempotency_key": "race-1"}

    async def race():
        transport = httpx.ASGITransport(app=mock_app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://mock",
                                     headers={"X-API-Key": FULL}) as client:
            return await asyncio.gather(*(client.post(SEARCH, json=body) for _ in range(12)))

    responses = asyncio.run(race())
    assert {response.status_code for response in responses} == {200}
    assert len({response.json()["id"] for response in responses}) == 1
    assert sum("idempotent_replay" not in response.json() for response in responses) == 1


def test_step_functions_failed_is_502_and_retry_safe_with_the_same_key(corpus):
    """CVDS-10, IDEM-4: 502 STEP_FUNCTIONS_FAILED starts nothing and leaves the key free."""
    failed = search(corpus, body={"idempotency_key": "retry-me"},
                    headers={"X-Mock-Scenario": "cvds-step-functions-failed"})
    assert failed.status_code == 502
    assert failed.json()["error"]["code"] == "STEP_FUNCTIONS_FAILED"
    retried = search(corpus, body={"idempotency_key": "retry-me"})
    assert retried.status_code == 200 and "idempotent_replay" not in retried.json()
    replay = search(corpus, body={"idempotency_key": "retry-me"}).json()
    assert replay["id"] == retried.json()["id"] and replay["idempotent_replay"] is True


def test_flaky_start_fails_the_first_attempt_and_the_same_request_then_succeeds(corpus):
    """CVDS-10, IDEM-4: an unmodified retry loop (same headers, same key) gets through."""
    headers = {"X-Mock-Scenario": "cvds-step-functions-flaky"}
    first = search(corpus, body={"idempotency_key": "flaky-1"}, headers=headers)
    second = search(corpus, body={"idempotency_key": "flaky-1"}, headers=headers)
    assert (first.status_code, second.status_code) == (502, 200)
    assert poll(corpus, second.json()["id"]).json()["status"] == "pending"


def test_injected_internal_error_uses_the_envelope(corpus):
    """ERR-6: X-Mock-Scenario: cvds-internal-error → 500 INTERNAL_ERROR on CVDS operations."""
    response = search(corpus, headers={"X-Mock-Scenario": "cvds-internal-error"})
    assert response.status_code == 500 and response.json()["error"]["code"] == "INTERNAL_ERROR"


# -- HOOK-1 ----------------------------------------------------------------------------------------

@pytest.fixture
def offline_api():
    """A mock whose resolver knows the docs' example host as a public address (no DNS)."""
    resolver = StaticResolver({"example.com": ["93.184.215.14"], "intranet.example": ["10.1.2.3"]})
    with Api(create_app(Settings(clock="manual", strict=True), resolver=resolver)) as client:
        ingest(client, [candidate("c1")])
        yield client


@pytest.mark.parametrize("url,code", [
    ("http://example.com/cvds/callback", "INSECURE_WEBHOOK_URL"),
    ("https://10.0.0.7/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://127.0.0.1/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://intranet.example/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://169.254.169.254/latest", "PRIVATE_WEBHOOK_URL"),
])
def test_webhook_url_must_be_https_and_public(offline_api, url, code):
    """HOOK-1: http:// → INSECURE_WEBHOOK_URL; private/loopback/link-local → PRIVATE_WEBHOOK_URL."""
    response = search(offline_api, body={"webhook_url": url, "idempotency_key": "hook-key"})
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert "idempotent_replay" not in search(offline_api, body={"idempotency_key": "hook-key"}).json()


def test_docs_example_webhook_is_accepted_and_its_callback_queued_for_the_finish(offline_api):
    """HOOK-1, CVDS-12: the docs' https://example.com URL is admitted and, without any preview,
    the completion callback is queued, due when the run finishes. (The clock is not moved past
    the finish: the example host's address is public and must never be called from a test;
    tests/test_cvdeepsearch_webhook.py delivers to a local receiver.)"""
    response = search(offline_api, body={"webhook_url": "https://example.com/cvds/callback"})
    assert response.status_code == 200
    run_id = response.json()["id"]
    [delivery] = offline_api.get("/__mock/webhooks/deliveries").json()["deliveries"]
    assert (delivery["run_id"], delivery["kind"], delivery["state"]) == (run_id, "cvds", "pending")
    assert delivery["url"] == "https://example.com/cvds/callback" and delivery["attempts"] == []
    assert delivery["due_epoch"] == pytest.approx(offline_api.platform.clock.now() + SEARCH_SECONDS)


# -- RATE-1 ----------------------------------------------------------------------------------------

def test_search_counts_against_the_submit_rate_limit(api):
    """RATE-1: the search trigger is a submit endpoint (429 RATE_LIMIT_EXCEEDED past the key's limit)."""
    codes = [search(api, key=SLOW_SUBMIT).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_candidate_ingested_while_the_run_is_pending_saves_it_from_corpus_empty(api):
    """CVDS-11, CVDS-4: the corpus is read at the run's finish, not at the trigger."""
    run_id = search(api).json()["id"]
    api.advance(SEARCH_SECONDS / 2)
    ingest(api, [candidate("late-but-in-time")])
    api.advance(SEARCH_SECONDS / 2)
    assert poll(api, run_id).json()["status"] == "completed"
