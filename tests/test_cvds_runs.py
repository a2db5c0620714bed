"""CV DeepSearch search runs (CVDS-6, CVDS-7, CVDS-9, CVDS-11, HOOK-7): request rules,
run ids, the pending → completed | failed timeline, poll bodies with the preview off and
on, the preview results pages, and the completion event — each checked against the
contract fragment."""

from __future__ import annotations

import random
import re

import pytest

from cvds_contract_helpers import assert_valid, component, request_validator, response_validator
from mockserver.errors import ApiError
from mockserver.modules.cvdeepsearch.candidates import CandidateRecord
from mockserver.modules.cvdeepsearch.ingest import canonical_hash
from mockserver.modules.cvdeepsearch.runs import (
    CORPUS_EMPTY_ERROR,
    SEARCH_SECONDS,
    TOP_N_CAP,
    TOP_N_DEFAULT,
    clamp_top_n,
    completion_event,
    corpus_error,
    new_run_id,
    parse_search,
    results_page,
    revived,
    run_body,
    search_response,
    settle_run,
    start_run,
)

NOW = 1_781_000_000.0
DONE = NOW + SEARCH_SECONDS
POSITION = {"name": "Backend", "requirements": {"skills": {"importance": 5, "skills_config": {
    "hard_skills": [{"name": "Go", "importance": 5}, {"name": "SQL", "importance": 3}]}}}}


def body(**extra) -> dict:
    return {"corpus_id": "pool", "position_id": "eng-backend-2026", "position_metadata": POSITION, **extra}


def record(external_id: str, skills: list[str], *, corpus_id: str = "pool", ready_at: float = NOW,
           outcome: str = "embedded") -> tuple[CandidateRecord, dict]:
    """A stored candidate and its CV, as a search reads them."""
    parsed = {"name": external_id, "skills": skills}
    stored = CandidateRecord(corpus_id=corpus_id, external_id=external_id,
                             content_hash=canonical_hash(parsed), tags=(), seq=1, created_at=NOW,
                             updated_at=NOW, embed_ready_at=ready_at, embed_outcome=outcome)
    return stored, parsed


def new_run(planned_error: dict | None = None, **extra):
    request = parse_search(body(**extra))
    return start_run(request, run_id=new_run_id(random.Random(1)), now=NOW, planned_error=planned_error)


def test_run_ids_have_the_documented_shape_and_differ():
    rng = random.Random(42)
    first, second = new_run_id(rng), new_run_id(rng)
    assert re.fullmatch(r"cvds_[0-9A-Za-z]{22}", first) and first != second


@pytest.mark.parametrize("corpus", ["", None, "absent"])
def test_search_without_corpus_is_missing_corpus_id(corpus):
    request = body(corpus_id=corpus)
    if corpus == "absent":
        del request["corpus_id"]
    with pytest.raises(ApiError) as caught:
        parse_search(request)
    assert (caught.value.status, caught.value.code) == (400, "MISSING_CORPUS_ID")


def test_contract_does_not_require_corpus_id_so_the_handler_can_answer_it():
    request = body()
    del request["corpus_id"]
    assert_valid(request_validator("submitCvdsSearch"), request)


def test_contract_rejects_empty_position_metadata():
    assert list(request_validator("submitCvdsSearch").iter_errors(body(position_metadata={})))


def test_top_n_defaults_and_clamps():
    assert clamp_top_n(None) == TOP_N_DEFAULT == 100
    assert clamp_top_n(5000) == TOP_N_CAP == 1000
    assert clamp_top_n(7) == 7
    assert parse_search(body(top_n=2500)).top_n == 1000


def test_job_updated_defaults_to_false_and_is_echoed():
    assert run_body(new_run(), NOW)["is_job_updated"] is False
    assert run_body(new_run(job_updated=True), NOW)["is_job_updated"] is True


def test_trigger_response_is_pending_and_validates():
    run = new_run()
    assert search_response(run, NOW) == {"id": run.id, "status": "pending"}
    assert_valid(response_validator("submitCvdsSearch", "200"), search_response(run, NOW))


def test_replay_reports_the_runs_current_status():
    run = settle_run(new_run(), [record("a", ["Go"])])
    replay = search_response(run, DONE, replay=True)
    assert replay == {"idempotent_replay": True, "id": run.id, "status": "completed"}
    assert list(replay)[-2:] == ["id", "status"]  # JSON-1
    assert_valid(response_validator("submitCvdsSearch", "200"), replay)


def test_pending_poll_matches_the_documented_example_shape():
    run = new_run(top_n=50)
    poll = run_body(run, NOW)
    assert poll == {
        "id": run.id, "status": "pending", "corpus_id": "pool", "position_id": "eng-backend-2026",
        "is_job_updated": False, "top_n": 50, "source": "requests",
        "created_at": "2026-06-09T10:13:20.000Z", "results": None, "results_pending": True,
    }
    assert_valid(response_validator("getCvdsRun", "200"), poll)


def test_run_stays_pending_until_due_then_must_be_settled():
    run = new_run()
    assert run.status(DONE - 0.001) == "pending" and not run.needs_settling(DONE - 0.001)
    assert run.needs_settling(DONE)
    with pytest.raises(ValueError):
        run.status(DONE)


def test_completed_run_keeps_results_pending_without_preview():
    run = settle_run(new_run(), [record("a", ["Go"])])
    poll = run_body(run, DONE)
    assert (poll["status"], poll["results"], poll["results_pending"]) == ("completed", None, True)
    assert poll["completed_at"] == "2026-06-09T10:15:20.000Z"
    assert_valid(response_validator("getCvdsRun", "200"), poll)


def test_completed_run_with_preview_carries_the_best_first_list():
    candidates = [record("one", ["Go"]), record("both", ["Go", "SQL"]), record("none", ["Cobol"])]
    run = settle_run(new_run(), candidates)
    poll = run_body(run, DONE, preview=True)
    assert [row["external_id"] for row in poll["results"]] == ["both", "one", "none"]
    assert poll["results_pending"] is False
    assert_valid(response_validator("getCvdsRun", "200"), poll)
    assert_valid(component("CvdsRunCompletedWithResults"), poll)


def test_search_reads_only_embedded_candidates_of_the_named_corpus():
    candidates = [
        record("mine", ["Go"]),
        record("other-corpus", ["Go", "SQL"], corpus_id="elsewhere"),
        record("late", ["Go", "SQL"], ready_at=DONE + 1),
        record("broken", ["Go", "SQL"], outcome="failed"),
    ]
    run = settle_run(new_run(), candidates)
    assert [row["external_id"] for row in run.outcome.results] == ["mine"]


def test_top_n_limits_the_ranking():
    candidates = [record(f"c{i}", ["Go"]) for i in range(8)]
    run = settle_run(new_run(top_n=3), candidates)
    assert len(run.outcome.results) == 3


def test_corpus_error_is_corpus_empty_unless_a_candidate_is_embedded_by_the_finish():
    late, _ = record("late", ["Go"], ready_at=DONE + 1)
    broken, _ = record("broken", ["Go"], outcome="failed")
    elsewhere, _ = record("elsewhere", ["Go"], corpus_id="other")
    assert corpus_error([late, broken, elsewhere], "pool", DONE) == CORPUS_EMPTY_ERROR
    just_in_time, _ = record("ok", ["Go"], ready_at=DONE)
    assert corpus_error([late, just_in_time], "pool", DONE) is None


def test_run_planned_to_fail_settles_failed_and_sends_no_completion_event():
    run = settle_run(new_run(planned_error=CORPUS_EMPTY_ERROR), [record("a", ["Go"])])
    poll = run_body(run, DONE)
    assert (poll["status"], poll["error"]["code"]) == ("failed", "CORPUS_EMPTY")
    assert poll["results"] is None and poll["results_pending"] is True
    assert run_body(run, DONE, preview=True)["results_pending"] is False
    assert_valid(response_validator("getCvdsRun", "200"), poll)
    assert_valid(response_validator("getCvdsRun", "200"), run_body(run, DONE, preview=True))


def test_forced_error_fails_the_run_with_that_error():
    run = settle_run(new_run(planned_error={"code": "SEARCH_FAILED", "message": "Injected."}), [record("a", ["Go"])])
    assert run_body(run, DONE)["error"] == {"code": "SEARCH_FAILED", "message": "Injected."}


def test_completing_run_over_no_embedded_candidates_has_an_empty_ranking():
    run = settle_run(new_run(), [record("late", ["Go"], ready_at=DONE + 1)])
    assert (run.outcome.status, run.outcome.results) == ("completed", ())


def test_poll_body_keeps_id_and_status_free_of_later_nested_keys():
    run = settle_run(new_run(), [record("a", ["Go"])])
    text = str(run_body(run, DONE, preview=True))
    tail = text[text.index("'status'"):]
    assert "'id'" not in tail and tail.count("'status'") == 1  # JSON-1


def test_results_pages_walk_the_whole_ranking():
    run = settle_run(new_run(), [record(f"c{i:02d}", ["Go"] if i % 3 else ["Go", "SQL"]) for i in range(7)])
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = results_page(run, DONE, cursor=cursor, limit=3)
        assert_valid(response_validator("getCvdsRunResults", "200"), page)
        seen += [row["external_id"] for row in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [row["external_id"] for row in run.outcome.results] and len(seen) == 7


def test_results_of_pending_or_failed_runs_are_409():
    with pytest.raises(ApiError) as pending:
        results_page(new_run(), NOW)
    failed_run = settle_run(new_run(planned_error=CORPUS_EMPTY_ERROR), [])
    with pytest.raises(ApiError) as failed:
        results_page(failed_run, DONE)
    assert (pending.value.status, pending.value.code) == (409, "RESULTS_NOT_READY")
    assert (failed.value.status, failed.value.code) == (409, "RUN_FAILED")


def test_completion_event_matches_the_provisional_payload():
    run = settle_run(new_run(), [record("a", ["Go"])])
    event = completion_event(run)
    assert event == {"event": "cvdeepsearch.completed", "id": run.id, "corpus_id": "pool",
                     "position_id": "eng-backend-2026", "status": "completed",
                     "completed_at": "2026-06-09T10:15:20.000Z"}
    assert_valid(component("CvdsCompletionEvent"), event)
    with pytest.raises(ValueError):
        completion_event(new_run(planned_error=CORPUS_EMPTY_ERROR))


def test_a_planned_corpus_empty_failure_is_revived_by_a_candidate_embedded_in_time():
    run = new_run(planned_error=CORPUS_EMPTY_ERROR)
    in_time, _ = record("a", ["Go"], ready_at=DONE - 1)
    too_late, _ = record("b", ["Go"], ready_at=DONE + 1)
    assert revived(run, [too_late], NOW + 10) is None
    saved = revived(run, [in_time], NOW + 10)
    assert saved is not None and saved.will_complete
    assert revived(run, [in_time], DONE) is None  # past its finish: the outcome stands


def test_a_scenario_forced_failure_is_never_revived():
    request = parse_search(body())
    forced = start_run(request, run_id="cvds_" + "A" * 22, now=NOW, planned_error=CORPUS_EMPTY_ERROR,
                       ending_forced=True)
    assert revived(forced, [record("a", ["Go"])[0]], NOW + 1) is None
