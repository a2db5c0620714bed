"""A finished CV DeepSearch run over HTTP (CVDS-7, CVDS-11, POLL-4, POLL-5, AUTH-6) and —
when the target serves the provisional results surface — the best-first ranking (CVDS-9).
One search of the ranked corpus, followed to its end (``finished_run``), serves the read tests.

The results surface (ranking, `GET /runs/{id}/results`) is a forward reference in the docs.
Whether the target serves it is observed, never assumed: a finished run with
`results_pending: false` means it does; otherwise those tests skip with the reason. Shared
helpers: ``cvdeepsearch_helpers``.
"""

from __future__ import annotations

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import assert_error, assert_no_problems
from contract_tests.contract import schema_problems
from contract_tests.cvdeepsearch_helpers import (MAX_PAGES, SCENARIO_HEADER, SKILLS, candidate, cv, ingest, ingested,
                                                 poll, search, triggered, unique, wait_until_terminal)
from contract_tests.cvdeepsearch_helpers import (ingest_op, module_credit_guard, ranked_corpus, results_op, run_op,
                                                 search_op)  # noqa: F401  (fixtures)
from contract_tests.examples import fill_path


# --------------------------------------------------------------------------- requests

def ranked_ids(run: dict) -> list[str]:
    return [row["external_id"] for row in run["results"]]


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def finished_run(api, ranked_corpus, search_op, run_op, module_credit_guard, time_machine):
    """One search of `ranked_corpus` for SKILLS, followed to its end (shared by the read tests)."""
    module_credit_guard.allow("a CV DeepSearch search (starts a run)")
    position_id = unique("finished")
    submitted = triggered(search(api, ranked_corpus, position_id=position_id), search_op)
    result = wait_until_terminal(api, submitted["id"], time_machine, run_op)
    return {"submit": submitted, "result": result, "corpus_id": ranked_corpus, "position_id": position_id}


@pytest.fixture(scope="module")
def preview_on(finished_run) -> bool:
    """Whether the target serves the provisional results: a finished run says so itself."""
    return finished_run["result"]["results_pending"] is False


@pytest.fixture()
def needs_preview(preview_on):
    if not preview_on:
        pytest.skip("the target does not serve the provisional CV DeepSearch results "
                    "(a finished run still has results_pending: true)")


# --------------------------------------------------------------------------- search: trigger and poll

@covers("CVDS-11", "CVDS-7", "A8")
def test_a_search_of_an_embedded_corpus_completes(finished_run):
    submitted, run = finished_run["submit"], finished_run["result"]
    assert run["id"] == submitted["id"] and run["status"] == "completed", run
    assert (run["corpus_id"], run["position_id"], run["source"]) == \
        (finished_run["corpus_id"], finished_run["position_id"], "requests")
    assert run["completed_at"] >= run["created_at"], run
    assert "error" not in run, run


@covers("CVDS-11", "CVDS-9")
def test_without_the_preview_results_stay_pending_and_have_no_endpoint(api, finished_run, preview_on, operation):
    if preview_on:
        pytest.skip("the target serves the provisional results (checked by the preview tests)")
    run = finished_run["result"]
    assert (run["results"], run["results_pending"]) == (None, True), run
    results_op = operation("getCvdsRunResults")
    resp = api.get(fill_path(results_op, {"id": run["id"]}))
    assert_error(resp, 404, "NOT_FOUND", results_op)


@covers("POLL-4")
def test_a_run_id_can_be_polled_hours_later(api, finished_run, time_machine):
    time_machine.pass_time(3 * 3600, "a run id polled three hours later")
    resp = poll(api, finished_run["result"]["id"])
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["status"] == finished_run["result"]["status"]


@covers("POLL-5", "AUTH-6")
def test_unknown_and_other_tenants_run_ids_are_404(api, second_api, finished_run, run_op):
    assert_error(poll(api, "cvds_" + "A" * 22), 404, "NOT_FOUND", run_op)
    assert_error(poll(second_api, finished_run["result"]["id"]), 404, "NOT_FOUND", run_op)


# --------------------------------------------------------------------------- the results preview

@covers("CVDS-9", "CVDS-6")
def test_the_preview_ranks_best_first_and_cuts_at_top_n(api, finished_run, needs_preview, ranked_corpus,
                                                        search_op, run_op, credit_guard, time_machine):
    run = finished_run["result"]
    ranking = ranked_ids(run)
    assert [row["rank"] for row in run["results"]] == list(range(1, len(ranking) + 1)), run["results"]
    scores = [row["score"] for row in run["results"]]
    assert scores == sorted(scores, reverse=True), f"results are best-first by score: {scores}"
    assert len(set(ranking)) == len(ranking) and set(ranking) <= {"all-three", "just-go", "none"}, ranking
    assert ranking[0] == "all-three", f"the CV with every required skill ranks first: {ranking}"
    if "none" in ranking:
        assert ranking.index("just-go") < ranking.index("none"), ranking
    credit_guard.allow("a CV DeepSearch search (starts a run)")
    cut = wait_until_terminal(api, triggered(search(api, ranked_corpus, top_n=2), search_op)["id"], time_machine, run_op)
    assert cut["status"] == "completed" and len(cut["results"]) <= 2 and cut["top_n"] == 2, cut


@covers("CVDS-9", "LIST-3")
def test_the_results_endpoint_pages_the_same_ranking(api, finished_run, needs_preview, results_op):
    run = finished_run["result"]
    walked: list[str] = []
    cursor = None
    for _ in range(MAX_PAGES):
        params = {"limit": 1} if cursor is None else {"limit": 1, "cursor": cursor}
        resp = api.get(fill_path(results_op, {"id": run["id"]}), params=params)
        assert resp.status_code == 200, resp.text[:300]
        page = resp.json()
        assert_no_problems(schema_problems(results_op, 200, page))
        assert page["id"] == run["id"] and len(page["results"]) <= 1
        walked += [row["external_id"] for row in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    else:
        pytest.fail(f"the results walk did not end within {MAX_PAGES} pages")
    assert walked == ranked_ids(run)


@covers("CVDS-9", "AUTH-6")
def test_results_of_a_pending_or_failed_run_are_409(api, second_api, needs_preview, search_op, run_op, results_op,
                                                    credit_guard, time_machine):
    credit_guard.allow("a CV DeepSearch search (starts a run)")
    run_id = triggered(search(api, unique("empty")), search_op)["id"]
    path = fill_path(results_op, {"id": run_id})
    assert_error(api.get(path), 409, "RESULTS_NOT_READY", results_op)
    run = wait_until_terminal(api, run_id, time_machine, run_op)
    assert run["status"] == "failed", run  # nothing was ingested into the corpus
    assert_error(api.get(path), 409, "RUN_FAILED", results_op)
    assert_error(second_api.get(path), 404, "NOT_FOUND", results_op)


@covers("CVDS-9", "CVDS-4")
def test_the_preview_never_ranks_a_candidate_that_is_not_embedded(api, control, needs_preview, ingest_op, search_op,
                                                                  run_op, credit_guard, time_machine):
    credit_guard.allow("CV DeepSearch ingests and a search")
    corpus_id = unique("notready")
    ingested(ingest(api, [cv("ready", "Go")], corpus_id), ingest_op)
    slow = ingested(ingest(api, [cv("still-pending", *SKILLS)], corpus_id,
                           headers={SCENARIO_HEADER: "cvds-embedding-slow"}), ingest_op)
    broken = ingested(ingest(api, [cv("broken", *SKILLS)], corpus_id,
                             headers={SCENARIO_HEADER: "cvds-embedding-failed"}), ingest_op)
    if (slow["results"][0]["embedding_status"], broken["results"][0]["embedding_status"]) != ("pending", "failed"):
        pytest.skip("the target does not inject the cvds-embedding-slow / cvds-embedding-failed scenarios")
    run = wait_until_terminal(api, triggered(search(api, corpus_id), search_op)["id"], time_machine, run_op)
    if candidate(api, "still-pending", corpus_id).json()["embedding_status"] != "pending":
        pytest.skip("the slow candidate embedded before the run finished")
    assert run["status"] == "completed" and ranked_ids(run) == ["ready"], run
