"""Client grading, request rules: for every rule a deliberately misbehaving client (driven
in-process on the manual clock, time moved through the control API) is graded through
`GET /__mock/grades`, and exactly the rules it broke are reported, with the journal entries
that broke them as evidence. Well-behaved twins of the trickier clients grade clean.
"""

from __future__ import annotations

import pytest

from conftest import EXPIRED, FULL, LOW, NO_PERMS, REVOKED, Api, make_app
from mockserver.platform.journal import Journal
from cvds_contract_helpers import candidate, ingest, run_path, search
from test_cvdeepmatch_submit import poll as cvdm_poll
from test_cvdeepmatch_submit import submit as cvdm_submit
from tests.support.audio_fixtures import audio_file

SPEECH = "/api/v1/speech/analyze"
LONG_ENOUGH = 200  # seconds of audio: over the 3-minute minimum
RATE_LIMITED_FAULT = """version: 1
faults:
  - name: grading-rate-limited
    when: {operation: submitSpeechAnalysis, scenario: grading-rate-limited}
    then: {status: 429, code: RATE_LIMIT_EXCEEDED, retryAfterSeconds: 2}
"""


# -- helpers shared with the other grading tests ----------------------------------------------

def grade(api, client: str = "acme") -> dict:
    response = api.get("/__mock/grades", params={"client": client})
    assert response.status_code == 200, response.text
    return response.json()


def broken(report: dict) -> set[str]:
    return {f["rule"] for f in report["findings"]}


def finding(report: dict, rule: str) -> dict:
    return next(f for f in report["findings"] if f["rule"] == rule)


def speech_submit(api, *, variant: int = 0, seconds: float = LONG_ENOUGH, key: str = FULL,
                  headers: dict | None = None, **fields):
    data = {"language": "en"} | fields
    return api.call("POST", SPEECH, key=key, headers=headers or {},
                    files={"audio": ("interview.wav", audio_file("wav", seconds, variant=variant), "audio/wav")},
                    data=data)


def speech_poll(api, run_id: str, key: str = FULL):
    return api.call("GET", f"{SPEECH}/{run_id}", key=key)


def read_to_the_end(api, *run_ids: str, key: str = FULL) -> None:
    """What a good client finally does: wait long enough, read each run once, terminal."""
    api.advance(600)
    for run_id in run_ids:
        path = f"{SPEECH}/{run_id}" if run_id.startswith("req_") else f"/api/v1/cvdeepmatch/{run_id}"
        body = api.call("GET", path, key=key).json()
        assert body["status"] in ("success", "partial", "failed", "finished"), body


@pytest.fixture
def rate_limited_api(tmp_path):
    scenario = tmp_path / "rate-limited.yaml"
    scenario.write_text(RATE_LIMITED_FAULT)
    with Api(make_app(scenarios=[str(scenario)])) as client:
        yield client


# -- timing rules ------------------------------------------------------------------------------

def test_polling_every_5_seconds_breaks_poll_too_fast_only(api):
    run_id = speech_submit(api).json()["id"]
    api.advance(15)
    assert speech_poll(api, run_id).status_code == 200
    answers = []
    for _ in range(4):
        api.advance(5)
        answers.append(speech_poll(api, run_id).status_code)
    assert answers == [429, 200, 429, 200]
    read_to_the_end(api, run_id)
    report = grade(api)
    assert broken(report) == {"POLL_TOO_FAST"}
    found = finding(report, "POLL_TOO_FAST")
    assert found["severity"] == "error" and found["count"] == 2
    assert all(e["status"] == 429 and e["code"] == "POLL_RATE_LIMITED" and e["run"] == run_id
               for e in found["evidence"])
    assert "10 seconds" in found["doc"]["quote"]


def test_polling_every_12_seconds_against_a_15_second_interval_breaks_poll_interval_ignored_only(api):
    submitted = speech_submit(api).json()
    assert submitted["pollIntervalSeconds"] == 15
    api.advance(15)
    speech_poll(api, submitted["id"])
    for _ in range(3):
        api.advance(12)
        assert speech_poll(api, submitted["id"]).status_code == 200
    read_to_the_end(api, submitted["id"])
    report = grade(api)
    assert broken(report) == {"POLL_INTERVAL_IGNORED"}
    found = finding(report, "POLL_INTERVAL_IGNORED")
    assert found["severity"] == "warning" and found["count"] == 3
    assert "12 s" in found["evidence"][0]["why"] and "15" in found["evidence"][0]["why"]


def test_resubmitting_5_seconds_after_503_warming_up_with_retry_after_45_breaks_retry_after_ignored_only(api):
    warm = {"X-Mock-Scenario": "warming-up"}
    first = speech_submit(api, headers=warm)
    assert first.status_code == 503 and first.headers["Retry-After"] == "45"
    api.advance(5)
    assert speech_submit(api, headers=warm).status_code == 503
    api.advance(45)
    run_id = speech_submit(api).json()["id"]
    read_to_the_end(api, run_id)
    report = grade(api)
    assert broken(report) == {"RETRY_AFTER_IGNORED"}
    found = finding(report, "RETRY_AFTER_IGNORED")
    assert found["count"] == 1
    assert found["evidence"][0]["status"] == 503 and found["evidence"][0]["method"] == "POST"
    assert "Retry-After: 45" in found["evidence"][0]["why"] and found["evidence"][0]["why"].startswith("5 s")


def test_submitting_again_inside_the_retry_after_of_a_rate_limit_breaks_retry_after_ignored_only(api):
    created = api.post("/__mock/clients", json={"id": "tight", "rateLimitPerMinute": 1, "credits": 100000,
                                                "keys": [{"key": "zh_api_test_tight_grading_0001"}]})
    assert created.status_code == 201, created.text
    key = "zh_api_test_tight_grading_0001"
    first = speech_submit(api, key=key).json()["id"]
    limited = speech_submit(api, key=key, variant=1)
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    api.advance(10)
    assert speech_submit(api, key=key, variant=1).status_code == 429
    api.advance(60)
    second = speech_submit(api, key=key, variant=1).json()["id"]
    read_to_the_end(api, first, second, key=key)
    report = grade(api, "tight")
    assert broken(report) == {"RETRY_AFTER_IGNORED"}
    assert finding(report, "RETRY_AFTER_IGNORED")["evidence"][0]["why"].startswith("10 s after a 429 RATE_LIMIT_EXCEEDED")


def test_retrying_a_rate_limited_submit_every_retry_after_without_growing_breaks_submit_backoff_missing_only(
        rate_limited_api):
    api = rate_limited_api
    limited = {"X-Mock-Scenario": "grading-rate-limited"}
    for _ in range(5):
        response = speech_submit(api, headers=limited)
        assert response.status_code == 429 and response.headers["Retry-After"] == "2"
        api.advance(2)
    run_id = speech_submit(api).json()["id"]
    read_to_the_end(api, run_id)
    report = grade(api)
    assert broken(report) == {"SUBMIT_BACKOFF_MISSING"}
    found = finding(report, "SUBMIT_BACKOFF_MISSING")
    # the 3rd, 4th and 5th refused attempt came 2 s after 2 s (refused before its body was read,
    # an attempt is compared by method, path and size; the final, parsed one stands apart)
    assert found["count"] == 3
    assert "after 2 RATE_LIMIT_EXCEEDED in a row" in found["evidence"][0]["why"]


def test_retrying_a_rate_limited_submit_with_doubling_waits_grades_clean(rate_limited_api):
    api = rate_limited_api
    limited = {"X-Mock-Scenario": "grading-rate-limited"}
    for wait in (2, 4, 8, 16):
        assert speech_submit(api, headers=limited).status_code == 429
        api.advance(wait)
    run_id = speech_submit(api).json()["id"]
    read_to_the_end(api, run_id)
    assert grade(api)["findings"] == []


# -- retrying what fails the same way -----------------------------------------------------------

def test_sending_the_same_too_short_audio_again_after_a_400_breaks_retry_400_only(api):
    for _ in range(2):
        response = speech_submit(api, seconds=60)
        assert response.status_code == 400 and response.json()["error"]["code"] == "AUDIO_TOO_SHORT"
    fixed = speech_submit(api).json()["id"]  # a changed request is what the docs ask for
    read_to_the_end(api, fixed)
    report = grade(api)
    assert broken(report) == {"RETRY_400"}
    found = finding(report, "RETRY_400")
    assert found["count"] == 1 and found["evidence"][0]["code"] == "AUDIO_TOO_SHORT"


def test_repeating_a_query_refused_by_schema_validation_breaks_retry_400(api):
    for _ in range(3):
        assert api.call("GET", "/api/v1/speech/runs", params={"status": "bogus"}).status_code == 400
    assert api.call("GET", "/api/v1/speech/runs", params={"status": "success"}).status_code == 200
    report = grade(api)
    assert broken(report) == {"RETRY_400"}
    assert finding(report, "RETRY_400")["count"] == 2


def test_calling_again_with_an_expired_key_breaks_retry_401_only(api):
    for _ in range(3):
        response = api.call("GET", "/api/v1/credits", key=EXPIRED)
        assert response.status_code == 401 and response.json()["error"]["code"] == "API_KEY_EXPIRED"
    report = grade(api)
    assert report["requests_covered"] == 3  # a 401 counts for the client owning the key
    assert broken(report) == {"RETRY_401"}
    found = finding(report, "RETRY_401")
    assert found["count"] == 2 and found["evidence"][0]["key"].endswith("0001")
    assert EXPIRED not in str(report)  # keys are masked in the journal


def test_two_different_keys_each_refused_once_are_not_a_retry_even_when_their_masks_look_alike(api):
    assert api.call("GET", "/api/v1/credits", key=EXPIRED).status_code == 401
    assert api.call("GET", "/api/v1/credits", key=REVOKED).status_code == 401
    report = grade(api)
    assert report["requests_covered"] == 2 and report["findings"] == []


def test_one_401_then_a_valid_key_grades_clean(api):
    assert api.call("GET", "/api/v1/credits", key=EXPIRED).status_code == 401
    assert api.call("GET", "/api/v1/credits", key=FULL).status_code == 200
    assert grade(api)["findings"] == []


def test_repeating_a_request_refused_403_with_the_same_key_breaks_retry_403_only(api):
    for _ in range(2):
        assert api.call("GET", "/api/v1/speech/runs", key=NO_PERMS).status_code == 403
    report = grade(api, "initech")
    assert broken(report) == {"RETRY_403"}
    assert finding(report, "RETRY_403")["evidence"][0]["code"] == "MISSING_PERMISSION"


def test_resubmitting_after_402_without_a_top_up_breaks_retry_402_only(api):
    for _ in range(2):
        response = speech_submit(api, key=LOW)
        assert response.status_code == 402
        api.advance(5)
    assert api.post("/__mock/clients/lowfunds/credits", json={"delta": 1000}).status_code == 200
    api.advance(5)
    run_id = speech_submit(api, key=LOW).json()["id"]  # after a top-up: a fair retry
    read_to_the_end(api, run_id, key=LOW)
    report = grade(api, "lowfunds")
    assert broken(report) == {"RETRY_402"}
    found = finding(report, "RETRY_402")
    assert found["count"] == 1 and found["evidence"][0]["code"] == "INSUFFICIENT_CREDITS"


# -- submitting again instead of polling ---------------------------------------------------------

def test_resubmitting_the_same_audio_while_its_run_is_processing_breaks_resubmit_while_pending_only(api):
    first = speech_submit(api).json()["id"]
    api.advance(15)
    assert speech_poll(api, first).json()["status"] == "processing"
    second = speech_submit(api).json()["id"]
    assert second != first
    read_to_the_end(api, first, second)
    report = grade(api)
    assert broken(report) == {"RESUBMIT_WHILE_PENDING"}
    assert finding(report, "RESUBMIT_WHILE_PENDING")["evidence"][0]["run"] == second


def test_submitting_the_same_audio_again_after_its_run_finished_grades_clean(api):
    first = speech_submit(api).json()["id"]
    read_to_the_end(api, first)
    second = speech_submit(api).json()["id"]
    read_to_the_end(api, second)
    assert grade(api)["findings"] == []


def test_a_duplicate_cv_deepmatch_submit_without_idempotency_key_breaks_idempotency_key_missing_only(api):
    fast = {"X-Mock-Scenario": "cvdm-fast"}
    first = cvdm_submit(api, headers=fast).json()["id"]
    second = cvdm_submit(api, headers=fast).json()["id"]
    assert first != second
    read_to_the_end(api, first, second)
    report = grade(api)
    assert broken(report) == {"IDEMPOTENCY_KEY_MISSING"}
    assert finding(report, "IDEMPOTENCY_KEY_MISSING")["evidence"][0]["run"] == second


def test_a_duplicate_cv_deepsearch_search_without_idempotency_key_breaks_idempotency_key_missing_only(api):
    assert ingest(api, [candidate("c1")]).status_code == 200
    first = search(api).json()["id"]
    second = search(api).json()["id"]
    keyed = search(api, body={"idempotency_key": "search-7"}).json()["id"]
    assert search(api, body={"idempotency_key": "search-7"}).json()["id"] == keyed  # a replay: fine
    api.advance(600)
    for run_id in (first, second, keyed):
        assert api.call("GET", run_path(run_id)).json()["status"] == "completed"
    report = grade(api)
    assert broken(report) == {"IDEMPOTENCY_KEY_MISSING"}
    assert [e["run"] for e in finding(report, "IDEMPOTENCY_KEY_MISSING")["evidence"]] == [second, keyed]


def test_a_keyed_cv_deepmatch_retry_is_an_idempotent_replay_and_grades_clean(api):
    fast = {"X-Mock-Scenario": "cvdm-fast"}
    first = cvdm_submit(api, headers=fast, idempotency_key="grading-001").json()["id"]
    replay = cvdm_submit(api, headers=fast, idempotency_key="grading-001")
    assert replay.status_code == 200 and replay.json()["id"] == first
    read_to_the_end(api, first)
    assert grade(api)["findings"] == []


def test_a_retry_after_502_with_a_fresh_idempotency_key_breaks_idempotency_key_not_reused_only(api):
    flaky = {"X-Mock-Scenario": "cvdm-step-functions-flaky"}
    assert cvdm_submit(api, headers=flaky, idempotency_key="attempt-1").status_code == 502
    assert cvdm_submit(api, headers=flaky, idempotency_key="attempt-2").status_code == 502
    run_id = cvdm_submit(api, headers=flaky, idempotency_key="attempt-2").json()["id"]
    read_to_the_end(api, run_id)
    report = grade(api)
    assert broken(report) == {"IDEMPOTENCY_KEY_NOT_REUSED"}
    found = finding(report, "IDEMPOTENCY_KEY_NOT_REUSED")
    assert found["count"] == 1 and "STEP_FUNCTIONS_FAILED" in found["evidence"][0]["why"]


def test_a_retry_after_502_with_the_same_idempotency_key_grades_clean(api):
    flaky = {"X-Mock-Scenario": "cvdm-step-functions-flaky"}
    assert cvdm_submit(api, headers=flaky, idempotency_key="same-key").status_code == 502
    run_id = cvdm_submit(api, headers=flaky, idempotency_key="same-key").json()["id"]
    read_to_the_end(api, run_id)
    assert grade(api)["findings"] == []


def test_a_network_error_retry_that_mints_a_new_key_breaks_idempotency_key_not_reused(api):
    first = cvdm_submit(api, idempotency_key="order-17-try-1").json()["id"]  # the answer was "lost"
    second = cvdm_submit(api, idempotency_key="order-17-try-2").json()["id"]
    read_to_the_end(api, first, second)
    report = grade(api)
    assert broken(report) == {"IDEMPOTENCY_KEY_NOT_REUSED"}


# -- reading runs ----------------------------------------------------------------------------------

def test_polling_a_finished_run_again_and_again_breaks_poll_after_terminal_only(api):
    run_id = speech_submit(api).json()["id"]
    api.advance(600)
    bodies = [speech_poll(api, run_id).json() for _ in range(4)]
    assert all(b["status"] in ("success", "partial") for b in bodies)
    report = grade(api)
    assert broken(report) == {"POLL_AFTER_TERMINAL"}
    found = finding(report, "POLL_AFTER_TERMINAL")
    assert found["severity"] == "warning" and found["count"] == 3


def test_one_re_fetch_of_a_finished_run_grades_clean(api):
    run_id = speech_submit(api).json()["id"]
    api.advance(600)
    speech_poll(api, run_id)
    speech_poll(api, run_id)
    assert grade(api)["findings"] == []


def test_a_run_submitted_and_never_read_is_advice_run_never_read_only(api):
    run_id = speech_submit(api).json()["id"]
    api.advance(600)
    report = grade(api)
    assert broken(report) == {"RUN_NEVER_READ"}
    found = finding(report, "RUN_NEVER_READ")
    assert found["severity"] == "advice" and found["evidence"][0]["run"] == run_id


def test_cvdm_polls_on_the_docs_backoff_table_grade_clean(api):
    run_id = cvdm_submit(api).json()["id"]
    for wait in (10, 15, 30, 60, 60, 60):
        api.advance(wait)
        response = cvdm_poll(api, run_id)
        assert response.status_code == 200
        if response.json()["status"] in ("finished", "failed"):
            break
    assert response.json()["status"] == "finished"
    assert grade(api)["findings"] == []


# -- the report itself -------------------------------------------------------------------------------

def test_the_report_covers_the_kept_requests_and_counts_those_the_journal_cap_dropped(api):
    api.platform.journal = Journal(capacity=5)
    for _ in range(8):
        api.call("GET", "/api/v1/credits", key=EXPIRED)
    report = grade(api)
    assert report["requests_covered"] == 5 and report["journal_dropped"] == 3
    assert finding(report, "RETRY_401")["count"] == 4  # judged on what was kept
    assert report["window"]["from"] <= report["window"]["to"]


def test_every_rule_is_listed_as_checked_and_findings_have_the_documented_shape(api):
    speech_submit(api)
    report = grade(api)
    assert set(report) == {"client", "requests_covered", "journal_dropped", "window", "findings", "rules_checked"}
    assert len(report["rules_checked"]) >= 20 and "RECEIVER_ACCEPTS_STALE" in report["rules_checked"]
    (item,) = report["findings"]
    assert set(item) == {"rule", "severity", "count", "summary", "doc", "fix", "evidence"}
    assert set(item["doc"]) == {"page", "quote"}


def test_a_missing_or_unknown_client_is_a_400_in_the_control_envelope(api):
    for params in ({}, {"client": "no-such-client"}):
        response = api.get("/__mock/grades", params=params)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "INVALID_INPUT" and error["message"] and error["timestamp"]


def test_the_grades_route_honours_the_control_token():
    with Api(make_app(control_token="s3cret")) as api:
        assert api.get("/__mock/grades", params={"client": "acme"}).status_code == 401
        ok = api.get("/__mock/grades", params={"client": "acme"}, headers={"X-Mock-Control-Token": "s3cret"})
        assert ok.status_code == 200 and ok.json()["requests_covered"] == 0
