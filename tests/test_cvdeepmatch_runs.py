"""CV DeepMatch runs over HTTP on the manual clock: the lifecycle and its results (CVDM-4,
CVDM-6), scenario outcomes, polling (POLL-1..6, JSON-1), credits (CRED-4), idempotency
(IDEM-1, IDEM-3, IDEM-4), the requests list (CVDM-5, LIST-1, LIST-3, LIST-4, META-2) and the
cross-module `api_run` summaries."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import httpx
import pytest

from conftest import FULL, LOW, NO_PERMS, PROJECT_ALPHA, SECOND, Api, make_app
from mockserver.modules.cvdeepmatch.runs import API_RUN_KIND, RUN_KIND
from mockserver.scenarios import ScenarioError
from test_cvdeepmatch_submit import (
    SUBMIT, accepted_id, blank_cv, config_text, fields_of, poll, strong_cv, submit, weak_cv,
)
from test_cvdm_config import FULL_EDUCATION, _set, minimal

LIST = "/api/v1/cvdeepmatch/requests"
DAY = 24 * 3600


def credits(api, key: str = FULL) -> dict:
    return api.call("GET", "/api/v1/credits", key=key).json()


def listed(api, key: str = FULL, **params) -> dict:
    response = api.call("GET", LIST, key=key, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def finished_body(api, run_id: str, after: float = 200) -> dict:
    api.advance(after)
    body = poll(api, run_id).json()
    assert body["status"] == "finished", body
    return body


# -- CVDM-4: processing → finished | failed, results from the inputs ---------------------

def test_a_match_is_processing_for_1_to_3_minutes_then_finished(api):
    run_ids = [accepted_id(submit(api)) for _ in range(5)]
    api.advance(59)
    assert {poll(api, run_id).json()["status"] for run_id in run_ids} == {"processing"}
    api.advance(122)  # 181 s after submit
    bodies = [poll(api, run_id).json() for run_id in run_ids]
    assert {body["status"] for body in bodies} == {"finished"}


def test_a_finished_match_carries_cv2jd_result_cv_parser_result_and_finished_at(api):
    run_id = accepted_id(submit(api))
    body = finished_body(api, run_id)
    result = body["cv2jd_result"]
    assert 0 <= result["overall_score"] <= 1
    assert set(result["breakdown"]) == {"workExperience", "skills"}
    parsed = body["cv_parser_result"]
    assert parsed["name"] == "Jane Doe" and parsed["email"] == "jane.doe@example.com"
    assert {"Node.js", "TypeScript", "PostgreSQL"} <= set(parsed["skills"])
    assert body["finished_at"] > body["created_at"]
    assert not {"request_id", "external_request_id", "requestId"} & set(body)  # META-4: one canonical id


def test_a_processing_poll_echoes_the_request_without_results(api):
    run_id = accepted_id(submit(api, metadata='{"candidateId":"cand-42"}', tags="batch-1"))
    body = poll(api, run_id).json()
    assert body["status"] == "processing"
    assert not {"cv2jd_result", "cv_parser_result", "error", "finished_at"} & set(body)
    assert body["metadata"] == {"candidateId": "cand-42"} and body["tags"] == ["batch-1"]
    assert body["position_id"] == "eng-backend-2026" and body["project"] is None


def test_results_respond_to_the_cv_a_matching_cv_scores_higher(api):
    strong = accepted_id(submit(api, pdf=strong_cv()))
    weak = accepted_id(submit(api, pdf=weak_cv()))
    api.advance(200)
    strong_result = poll(api, strong).json()["cv2jd_result"]
    weak_result = poll(api, weak).json()["cv2jd_result"]
    assert strong_result["breakdown"]["skills"] > weak_result["breakdown"]["skills"]
    assert strong_result["breakdown"]["workExperience"] > weak_result["breakdown"]["workExperience"]
    assert strong_result["overall_score"] > weak_result["overall_score"]


def test_the_same_inputs_give_the_same_result(api):
    first, second = accepted_id(submit(api)), accepted_id(submit(api))
    api.advance(200)
    a, b = poll(api, first).json(), poll(api, second).json()
    assert a["cv2jd_result"] == b["cv2jd_result"]
    assert a["cv_parser_result"] == b["cv_parser_result"]


def test_the_education_score_appears_only_when_the_config_enables_education(api):
    enabled = accepted_id(submit(api, config=config_text(_set(minimal(), "requirements.education", FULL_EDUCATION))))
    disabled = accepted_id(submit(api))
    api.advance(200)
    assert "education" in poll(api, enabled).json()["cv2jd_result"]["breakdown"]
    assert "education" not in poll(api, disabled).json()["cv2jd_result"]["breakdown"]


def test_a_pdf_without_extractable_text_ends_failed_with_cv_parse_failed(api):
    run_id = accepted_id(submit(api, pdf=blank_cv()))
    api.advance(200)
    body = poll(api, run_id).json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "CV_PARSE_FAILED"
    assert "cv2jd_result" not in body and "cv_parser_result" not in body
    assert "finished_at" in body


# -- scenario outcomes ------------------------------------------------------------------

@pytest.mark.parametrize("scenario,code", [("cvdm-cv-parse-failed", "CV_PARSE_FAILED"),
                                           ("cvdm-matching-failed", "MATCHING_FAILED")])
def test_a_scenario_header_makes_the_match_fail_with_its_code(api, scenario, code):
    run_id = accepted_id(submit(api, headers={"X-Mock-Scenario": scenario}))
    api.advance(200)
    body = poll(api, run_id).json()
    assert (body["status"], body["error"]["code"]) == ("failed", code)


def test_a_position_id_starting_cvdm_fail_makes_the_match_fail_without_a_header(api):
    run_id = accepted_id(submit(api, position_id="cvdm-fail-42"))
    api.advance(200)
    assert poll(api, run_id).json()["error"]["code"] == "MATCHING_FAILED"


def test_the_finished_scenario_scores_even_a_textless_pdf(api):
    run_id = accepted_id(submit(api, pdf=blank_cv(), headers={"X-Mock-Scenario": "cvdm-finished"}))
    body = finished_body(api, run_id)
    assert body["cv_parser_result"]["skills"] == []


def test_the_fast_scenario_finishes_after_5_seconds(api):
    run_id = accepted_id(submit(api, headers={"X-Mock-Scenario": "cvdm-fast"}))
    api.advance(4.9)
    assert poll(api, run_id).json()["status"] == "processing"
    api.advance(10)
    assert poll(api, run_id).json()["status"] == "finished"


@pytest.mark.parametrize("scenario", ["cvdm-internal-error", "internal-error"])
def test_the_internal_error_faults_answer_500_on_every_cvdeepmatch_call(api, scenario):
    run_id = accepted_id(submit(api))
    headers = {"X-Mock-Scenario": scenario}
    for response in (submit(api, headers=headers), api.call("GET", f"/api/v1/cvdeepmatch/{run_id}", headers=headers),
                     api.call("GET", LIST, headers=headers)):
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "INTERNAL_ERROR"


def test_a_rule_this_module_cannot_honour_stops_the_server_at_startup(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - name: typo\n    when: {module: cvdeepmatch}\n"
                   "    then: {outcome: exploded}\n")
    with pytest.raises(ScenarioError, match="typo"):
        make_app(scenarios=[str(bad)])


# -- CVDM-6: never processing past 10 minutes -------------------------------------------

def test_a_stuck_match_fails_with_stuck_timeout_at_the_10_minute_watchdog(api):
    run_id = accepted_id(submit(api, headers={"X-Mock-Scenario": "cvdm-stuck"}))
    api.advance(599)
    assert poll(api, run_id).json()["status"] == "processing"
    api.advance(1)
    body = poll(api, run_id).json()
    assert (body["status"], body["error"]["code"]) == ("failed", "STUCK_TIMEOUT")


def test_the_slow_scenario_still_finishes_inside_10_minutes(api):
    run_id = accepted_id(submit(api, headers={"X-Mock-Scenario": "cvdm-slow"}))
    api.advance(539)
    assert poll(api, run_id).json()["status"] == "processing"
    api.advance(1)
    assert poll(api, run_id).json()["status"] == "finished"


def test_a_processing_time_setting_past_10_minutes_is_cut_by_the_watchdog(tmp_path):
    slow = tmp_path / "slow.yaml"
    slow.write_text("version: 1\nsettings:\n  cvdeepmatch:\n    processingSeconds: [900, 1200]\n")
    with Api(make_app(scenarios=[str(slow)])) as api:
        run_id = accepted_id(submit(api))
        api.advance(600)
        assert poll(api, run_id).json()["error"]["code"] == "STUCK_TIMEOUT"


# -- POLL-1..6, JSON-1 ------------------------------------------------------------------

def test_the_first_poll_may_come_right_after_submit(api):
    run_id = accepted_id(submit(api))
    assert poll(api, run_id).status_code == 200


def test_a_second_poll_within_10_seconds_is_429_rate_limited_with_retry_after(api):
    run_id = accepted_id(submit(api))
    assert poll(api, run_id).status_code == 200
    api.advance(4)
    limited = poll(api, run_id)
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert limited.headers["Retry-After"] == str(error["retryAfterSeconds"]) == "6"
    api.advance(6)
    assert poll(api, run_id).status_code == 200


def test_the_poll_throttle_is_per_id(api):
    first, second = accepted_id(submit(api)), accepted_id(submit(api))
    assert poll(api, first).status_code == 200
    assert poll(api, second).status_code == 200


def test_a_processing_poll_carries_retry_after_and_a_terminal_one_does_not(api):
    run_id = accepted_id(submit(api))
    assert poll(api, run_id).headers["Retry-After"] == "10"
    api.advance(200)
    assert "Retry-After" not in poll(api, run_id).headers


def test_a_terminal_match_can_be_re_fetched_freely(api):
    run_id = accepted_id(submit(api))
    api.advance(200)
    responses = [poll(api, run_id) for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert len({r.text for r in responses}) == 1


def test_a_match_id_never_expires(api):
    run_id = accepted_id(submit(api))
    api.advance(200)
    body = poll(api, run_id).json()
    api.advance(90 * DAY)
    assert poll(api, run_id).json() == body


def test_a_match_survives_a_restart_with_a_state_file(tmp_path):
    state = str(tmp_path / "state.sqlite")
    with Api(make_app(state=state)) as first:
        run_id = accepted_id(submit(first))
        first.advance(200)
        before = poll(first, run_id).json()
    with Api(make_app(state=state)) as second:
        assert poll(second, run_id).json() == before


@pytest.mark.parametrize("key", [FULL, SECOND])
def test_unknown_and_other_clients_ids_are_404_request_not_found(api, key):
    run_id = accepted_id(submit(api))
    target = str(uuid.uuid4()) if key == FULL else run_id
    response = poll(api, target, key=key)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "REQUEST_NOT_FOUND"


def test_a_malformed_id_is_404_request_not_found(api):
    response = api.call("GET", "/api/v1/cvdeepmatch/not-a-uuid")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "REQUEST_NOT_FOUND")


def test_an_uppercase_id_finds_the_same_match(api):
    run_id = accepted_id(submit(api))
    assert poll(api, run_id.upper()).json()["id"] == run_id


def test_the_docs_greedy_sed_reads_the_runs_own_id_and_status(api):
    """JSON-1: `sed 's/.*"status":"\\([^"]*\\)".*/\\1/'` must find the top-level values."""
    config = minimal()
    config["requirements"]["workExperience"]["notes"] = {"status": "draft", "id": "x-1"}
    run_id = accepted_id(submit(api, config=config_text(config)))
    text = finished_body(api, run_id) and poll(api, run_id).text
    assert re.sub(r'.*"status":"([^"]*)".*', r"\1", text, flags=re.S) == "finished"
    assert re.sub(r'.*"id":"([^"]*)".*', r"\1", text, flags=re.S) == run_id


# -- CRED-4: 3 credits, held at acceptance, charged when finished ------------------------

def test_a_match_holds_3_credits_and_charges_them_when_it_finishes(api):
    before = credits(api)
    run_id = accepted_id(submit(api))
    during = credits(api)
    assert during["creditBalance"] == before["creditBalance"]
    assert during["availableCredits"] == before["availableCredits"] - 3
    api.advance(200)
    after = credits(api)
    assert after["creditBalance"] == before["creditBalance"] - 3 and after["heldCredits"] == 0
    charge = after["recentTransactions"][0]
    assert (charge["type"], charge["amount"], charge["runId"], charge["module"]) == ("charge", -3, run_id, "cvdeepmatch")


def test_a_failed_match_costs_nothing(api):
    before = credits(api)
    run_id = accepted_id(submit(api, pdf=blank_cv()))
    api.advance(200)
    after = credits(api)
    assert after["creditBalance"] == before["creditBalance"] and after["heldCredits"] == 0
    assert after["recentTransactions"][0]["type"] == "release"
    assert after["recentTransactions"][0]["runId"] == run_id


def test_a_balance_below_3_credits_is_402_insufficient_credits_with_the_gap(api):
    response = submit(api, key=LOW)
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "INSUFFICIENT_CREDITS"
    assert error["details"] == {"required": 3, "available": 2, "shortfall": 1}
    assert listed(api, key=LOW)["requests"] == []


def test_held_credits_count_against_the_next_submit(api):
    api.post("/__mock/clients/acme/credits", json={"balance": 5})
    accepted_id(submit(api))
    refused = submit(api)
    assert refused.status_code == 402
    assert refused.json()["error"]["details"] == {"required": 3, "available": 2, "shortfall": 1}


# -- IDEM-1, IDEM-3, IDEM-4 -------------------------------------------------------------

def test_a_repeated_idempotency_key_replays_the_original_id_with_200(api):
    original = accepted_id(submit(api, idempotency_key="demo-2026-05-19-001"))
    replay = submit(api, idempotency_key="demo-2026-05-19-001")
    assert replay.status_code == 200
    body = replay.json()
    assert body["idempotent_replay"] is True
    assert (body["id"], body["status"]) == (original, "processing")
    api.advance(200)
    assert submit(api, idempotency_key="demo-2026-05-19-001").json()["status"] == "finished"


def test_a_replay_starts_no_second_match_and_charges_nothing_more(api):
    before = credits(api)["creditBalance"]
    for _ in range(3):
        submit(api, idempotency_key="once")
    assert credits(api)["heldCredits"] == 3
    api.advance(200)
    assert credits(api)["creditBalance"] == before - 3
    assert len(listed(api)["requests"]) == 1


def test_an_idempotency_key_starts_a_new_match_after_24_hours(api):
    original = accepted_id(submit(api, idempotency_key="daily"))
    api.advance(DAY - 1)
    assert submit(api, idempotency_key="daily").json()["id"] == original
    api.advance(1)
    assert accepted_id(submit(api, idempotency_key="daily")) != original


def test_idempotency_keys_are_per_client(api):
    mine = accepted_id(submit(api, idempotency_key="shared-key"))
    theirs = accepted_id(submit(api, key=SECOND, idempotency_key="shared-key"))
    assert mine != theirs


def test_concurrent_submits_with_one_key_create_exactly_one_match_and_one_hold():
    app = make_app()
    platform = app.state.platform
    form = {"position_id": "eng-backend-2026", "job_description": "Node.js", "config": config_text(),
            "idempotency_key": "concurrent-1"}

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            return await asyncio.gather(*(
                client.post(SUBMIT, headers={"X-API-Key": FULL}, data=form,
                            files={"cv_file": ("cv.pdf", strong_cv(), "application/pdf")})
                for _ in range(8)))

    responses = asyncio.run(burst())
    assert sorted(r.status_code for r in responses) == [200] * 7 + [202]
    assert len({r.json()["id"] for r in responses}) == 1
    assert platform.store.count(RUN_KIND, owner="acme") == 1
    holds = [t for t in platform.ledger.summary("acme", platform.clock.now())["recentTransactions"]
             if t["type"] == "hold"]
    assert len(holds) == 1


def test_step_functions_failed_is_502_and_the_same_key_can_be_retried(api):
    before = credits(api)
    failed = submit(api, idempotency_key="retry-me", headers={"X-Mock-Scenario": "cvdm-step-functions-failed"})
    assert failed.status_code == 502
    assert failed.json()["error"]["code"] == "STEP_FUNCTIONS_FAILED"
    assert listed(api)["requests"] == []
    assert credits(api)["availableCredits"] == before["availableCredits"]
    retried = submit(api, idempotency_key="retry-me")
    run_id = accepted_id(retried)
    assert submit(api, idempotency_key="retry-me").json()["id"] == run_id


def test_the_flaky_start_fails_once_per_key_then_the_retry_starts_the_match(api):
    headers = {"X-Mock-Scenario": "cvdm-step-functions-flaky"}
    assert submit(api, idempotency_key="flaky-1", headers=headers).status_code == 502
    run_id = accepted_id(submit(api, idempotency_key="flaky-1", headers=headers))
    assert submit(api, idempotency_key="flaky-1", headers=headers).json()["id"] == run_id
    assert submit(api, idempotency_key="flaky-2", headers=headers).status_code == 502


def test_a_402_leaves_the_idempotency_key_free(api):
    api.post("/__mock/clients/acme/credits", json={"balance": 2})
    assert submit(api, idempotency_key="after-topup").status_code == 402
    api.post("/__mock/clients/acme/credits", json={"delta": 10})
    accepted_id(submit(api, idempotency_key="after-topup"))


# -- CVDM-5, LIST-1, LIST-3, LIST-4 -----------------------------------------------------

def test_the_list_is_newest_first_in_cursor_pages(api):
    run_ids = [accepted_id(submit(api)) for _ in range(5)]
    seen, cursor, pages = [], None, 0
    for _ in range(10):
        page = listed(api, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [row["id"] for row in page["requests"]]
        pages += 1
        assert page["has_more"] is (page["next_cursor"] is not None)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == run_ids[::-1] and pages == 3


def test_pages_never_repeat_or_skip_a_row_while_new_matches_arrive(api):
    old = [accepted_id(submit(api)) for _ in range(4)]
    first = listed(api, limit=2)
    accepted_id(submit(api))
    accepted_id(submit(api))
    rest = listed(api, limit=10, cursor=first["next_cursor"])
    assert [row["id"] for row in first["requests"] + rest["requests"]] == old[::-1]


def test_list_rows_are_compact_summaries(api):
    run_id = accepted_id(submit(api, metadata='{"candidateId":"cand-42"}', tags="batch-1"))
    processing = listed(api)["requests"][0]
    assert set(processing) == {"id", "status", "position_id", "project", "metadata", "tags", "created_at",
                               "finished_at", "overall_score"}
    assert (processing["status"], processing["finished_at"], processing["overall_score"]) == ("processing", None, None)
    finished = finished_body(api, run_id)
    row = listed(api)["requests"][0]
    assert row["overall_score"] == finished["cv2jd_result"]["overall_score"]
    assert row["finished_at"] == finished["finished_at"]


def test_the_list_filters_by_project_including_none(api):
    alpha = accepted_id(submit(api, key=PROJECT_ALPHA))
    plain = accepted_id(submit(api))
    assert [r["id"] for r in listed(api, project="alpha")["requests"]] == [alpha]
    assert [r["id"] for r in listed(api, project="none")["requests"]] == [plain]
    assert poll(api, alpha).json()["project"] == "alpha"


def test_the_list_filters_by_tags_contains_all_and_by_metadata(api):
    both = accepted_id(submit(api, tags="q2,eu", metadata='{"candidateId":"c-1","round":3}'))
    accepted_id(submit(api, tags="q2", metadata='{"candidateId":"c-2"}'))
    assert [r["id"] for r in listed(api, tags="eu,q2")["requests"]] == [both]
    assert len(listed(api, tags="q2")["requests"]) == 2
    assert [r["id"] for r in listed(api, metadata_key="candidateId", metadata_value="c-1")["requests"]] == [both]
    assert [r["id"] for r in listed(api, metadata_key="round", metadata_value="3")["requests"]] == [both]
    assert len(listed(api, metadata_key="candidateId")["requests"]) == 2


def test_the_list_filters_by_status_at_the_time_of_the_read(api):
    done = accepted_id(submit(api, headers={"X-Mock-Scenario": "cvdm-fast"}))
    api.advance(10)
    running = accepted_id(submit(api))
    assert [r["id"] for r in listed(api, status="finished")["requests"]] == [done]
    assert [r["id"] for r in listed(api, status="processing")["requests"]] == [running]
    assert listed(api, status="failed")["requests"] == []


@pytest.mark.parametrize("params,field", [({"status": "queued"}, "status"), ({"limit": 0}, "limit"),
                                          ({"limit": 101}, "limit"), ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
                                          ({"metadata_value": "x"}, "metadata_value")])
def test_bad_list_parameters_are_invalid_input(api, params, field):
    assert field in fields_of(api.call("GET", LIST, params=params))


def test_the_list_shows_only_the_callers_own_matches(api):
    accepted_id(submit(api))
    assert listed(api, key=SECOND)["requests"] == []
    assert api.call("GET", LIST, key=NO_PERMS).status_code == 403


# -- the cross-module run summary -------------------------------------------------------

def test_each_match_is_registered_as_an_api_run_summary(api):
    run_id = accepted_id(submit(api, key=PROJECT_ALPHA, metadata='{"k":"v"}', tags="t1"))
    entry = api.platform.store.get_entry(API_RUN_KIND, run_id)
    assert entry.owner == "acme" and api.platform.store.get(API_RUN_KIND, run_id, owner="acme") == entry.doc
    doc = entry.doc
    assert {k: doc[k] for k in ("id", "serviceType", "externalId", "project", "metadata", "tags", "outcome")} == {
        "id": run_id, "serviceType": "cv_deepmatch", "externalId": None, "project": "alpha",
        "metadata": {"k": "v"}, "tags": ["t1"], "outcome": "finished"}
    assert 60 <= doc["finish_at"] - doc["created_at"] <= 180
    row = api.call("GET", "/api/v1/speech/runs", key=PROJECT_ALPHA, params={"serviceType": "cv_deepmatch"}).json()
    assert [r["createdAt"] for r in row["runs"] if r["id"] == run_id] == [poll(api, run_id).json()["created_at"]]


def test_the_api_run_summary_of_a_failed_match_says_failed(api):
    run_id = accepted_id(submit(api, pdf=blank_cv()))
    assert api.platform.store.get(API_RUN_KIND, run_id)["outcome"] == "failed"


def test_no_run_document_is_left_by_a_refused_submit(api):
    submit(api, key=LOW)
    submit(api, headers={"X-Mock-Scenario": "cvdm-step-functions-failed"})
    assert api.platform.store.count(RUN_KIND) == 0 and api.platform.store.count(API_RUN_KIND) == 0
    assert json.loads(api.call("GET", LIST).text)["requests"] == []


def test_matches_appear_in_the_speech_runs_list_as_cv_deepmatch_rows(api):
    run_id = accepted_id(submit(api, metadata='{"k":"v"}', tags="t1"))
    rows = api.call("GET", "/api/v1/speech/runs", params={"serviceType": "cv_deepmatch"}).json()["runs"]
    assert [(r["id"], r["status"], r["externalId"], r["completedAt"]) for r in rows] == [(run_id, "processing", None, None)]
    finished = finished_body(api, run_id)
    row = api.call("GET", "/api/v1/speech/runs", params={"serviceType": "cv_deepmatch", "status": "finished"}).json()["runs"][0]
    assert (row["id"], row["completedAt"], row["metadata"], row["tags"]) == (run_id, finished["finished_at"], {"k": "v"}, ["t1"])
