"""A CV DeepMatch match on the clock over HTTP: the accepted submit (CVDM-1, META-4), polling
(POLL-1..6), the match finishing with scores (CVDM-4, CFG-8) or failing at no cost and
without a callback (CRED-4, HOOK-6), the ten-minute watchdog (CVDM-6), tenancy (AUTH-6) and
the list row of a match (LIST-4, CVDM-5). One shared match (``matched``) serves the read
tests. Shared helpers: ``cvdeepmatch_helpers``.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import assert_error, parse_timestamp
from contract_tests.cvdeepmatch_helpers import (DOCS_CONFIG, TERMINAL, UNRESOLVABLE_HOOK, WATCHDOG_SECONDS, accepted,
                                                credits_of, cvdm_tenant, deliveries_of, edited, follow, listed,
                                                listed_ids, poll, read_poll, submit, with_education)
from contract_tests.cvdeepmatch_helpers import ops, scenarios  # noqa: F401  (fixtures)

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def matched(api, ops, target, time_machine):
    """One poll-only match with correlation fields, polled right after submit, polled again at
    once, then followed to its end (shared by the read tests)."""
    target.credits.allow("a CV DeepMatch submit (3 credits)")
    metadata = {"candidateId": "ct-cand-42", "round": 2, "remote": True}
    tags = ["ct-cvdm", f"ct-run-{secrets.token_hex(4)}"]
    resp = submit(api, position_id="ct-cvdm-main", metadata=json.dumps(metadata), tags=json.dumps(tags))
    body = accepted(resp, ops)
    watch = time_machine.stopwatch()
    first = poll(api, body["id"])
    second = poll(api, body["id"])
    between = watch.elapsed()  # target time, at most, between the two polls
    reopened = None
    if second.status_code == 429:
        time_machine.wait_advertised(int(second.headers["Retry-After"]), "the poll window to reopen")
        reopened = poll(api, body["id"])
    result = follow(api, body["id"], time_machine, ops)
    return {"submit": body, "submit_text": resp.text, "first": first, "second": second, "between": between,
            "reopened": reopened,
            "result": result, "metadata": metadata, "tags": tags}


# --------------------------------------------------------------------------- accepted submits (spend credits)

@covers("CVDM-1", "META-4", "JSON-1")
def test_a_submit_is_202_with_a_uuid_id_processing_a_message_and_an_estimate(matched):
    body, text = matched["submit"], matched["submit_text"]
    assert UUID.match(body["id"]) and body["status"] == "processing", body
    assert body["message"].strip() and body["estimated_time"].strip(), body
    assert not {"request_id", "external_request_id", "requestId"} & set(body), body
    assert re.match(r'.*"id":"([^"]*)".*', text).group(1) == body["id"]
    assert re.match(r'.*"status":"([^"]*)".*', text).group(1) == "processing"


# --------------------------------------------------------------------------- the match on the clock

@covers("POLL-6", "POLL-3", "META-2")
def test_the_first_poll_may_come_right_after_submit(matched, ops):
    body = read_poll(matched["first"], ops)
    if body["status"] in TERMINAL:
        pytest.skip(f"the match was already {body['status']} at its first poll (a fast-running clock: "
                    f"{matched['between']:.0f} s of the target's time around two polls)")
    assert body["id"] == matched["submit"]["id"] and body["status"] == "processing", body
    assert int(matched["first"].headers.get("Retry-After", "0")) >= 1, "a processing poll carries Retry-After"
    assert "cv2jd_result" not in body and "cv_parser_result" not in body
    assert body["metadata"] == matched["metadata"] and body["tags"] == matched["tags"]


@covers("POLL-1", "CLOCK-2", "ERR-3")
def test_a_second_poll_within_ten_seconds_is_429_rate_limited_until_retry_after(matched, ops):
    if matched["second"].status_code != 429 and matched["between"] >= 10:
        pytest.skip(f"{matched['between']:.1f} s of the target's time passed between two back-to-back polls "
                    "(a fast-running clock): the 10 s window cannot be observed")
    err = assert_error(matched["second"], 429, "RATE_LIMITED", ops.poll)
    assert 1 <= err["retryAfterSeconds"] <= 10, err
    assert matched["second"].headers["Retry-After"] == str(err["retryAfterSeconds"])
    reopened = matched["reopened"]
    assert reopened is not None and reopened.status_code == 200, "the poll after Retry-After must be answered"


@covers("CVDM-4", "CVDM-6", "META-2", "META-4", "JSON-1")
def test_a_match_finishes_with_scores_and_the_parsed_cv_within_ten_minutes(matched):
    result = matched["result"]
    assert result["id"] == matched["submit"]["id"] and result["status"] == "finished", result
    scores = result["cv2jd_result"]
    assert 0 <= scores["overall_score"] <= 1
    assert set(scores["breakdown"]) == {"workExperience", "skills"}, "no education score without an education block"
    assert all(0 <= value <= 1 for value in scores["breakdown"].values()), scores
    assert isinstance(result["cv_parser_result"], dict) and result["cv_parser_result"]
    took = parse_timestamp(result["finished_at"]) - parse_timestamp(result["created_at"])
    assert 0 < took <= WATCHDOG_SECONDS, f"the match took {took:.0f} s"
    assert result["metadata"] == matched["metadata"] and result["tags"] == matched["tags"]
    assert not {"request_id", "external_request_id", "requestId"} & set(result)


@covers("CFG-8")
def test_the_poll_shows_the_config_with_omitted_structures_auto_filled(matched):
    config = matched["result"]["config"]
    requirements = config["requirements"]
    assert config["name"] == DOCS_CONFIG["name"]
    experience = requirements["workExperience"]
    for name, value in DOCS_CONFIG["requirements"]["workExperience"].items():
        assert experience[name] == value, f"the submitted workExperience.{name} was changed"
    assert {"time_importance", "transferable_skills", "minimum_job_experience_duration",
            "threshold_for_one_exp_relevance", "relevant_roles", "relevant_companies"} <= set(experience), experience
    languages = requirements["skills"]["language_skills_config"]
    assert isinstance(languages["required_languages"], list) and isinstance(languages["prefered_languages"], list)
    education = requirements["education"]
    assert education["is_enabled"] is False, "an omitted education block is filled disabled"
    assert {"importance", "academic", "non_academic"} <= set(education), education


@covers("POLL-2")
def test_a_terminal_match_is_re_fetched_freely(api, ops, matched):
    for _ in range(3):
        body = read_poll(poll(api, matched["result"]["id"]), ops)
        assert body["status"] == matched["result"]["status"]


@covers("POLL-4")
def test_a_match_id_never_expires(api, ops, matched, time_machine):
    time_machine.pass_time(30 * 3600, "a day and more after the match")
    body = read_poll(poll(api, matched["result"]["id"]), ops)
    assert body["cv2jd_result"] == matched["result"]["cv2jd_result"]


@covers("POLL-5")
@pytest.mark.parametrize("match_id", [str(uuid.uuid4()), "not-a-match-id"], ids=["unknown-uuid", "malformed"])
def test_an_id_that_is_not_a_match_of_yours_is_404_request_not_found(api, ops, match_id):
    assert_error(poll(api, match_id), 404, "REQUEST_NOT_FOUND", ops.poll)


@covers("POLL-5", "AUTH-6")
def test_another_tenant_cannot_see_the_match(second_api, ops, matched):
    assert_error(poll(second_api, matched["result"]["id"]), 404, "REQUEST_NOT_FOUND", ops.poll)
    assert matched["result"]["id"] not in listed_ids(second_api, ops)


@covers("LIST-4", "CVDM-5", "META-2")
def test_the_list_row_is_a_compact_summary_of_the_match(api, ops, matched):
    rows = listed(api, ops, tags=matched["tags"][1])["requests"]
    assert [row["id"] for row in rows] == [matched["result"]["id"]], rows
    row = rows[0]
    assert not {"cv_parser_result", "cv2jd_result", "config", "webhook_url"} & set(row), row
    assert row["status"] == "finished" and row["overall_score"] == matched["result"]["cv2jd_result"]["overall_score"]
    assert row["metadata"] == matched["metadata"] and row["tags"] == matched["tags"]


@covers("META-2")
def test_a_match_without_correlation_fields_echoes_empty_ones(api, ops, credit_guard):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    body = read_poll(poll(api, accepted(submit(api), ops)["id"]), ops)
    assert body["metadata"] == {} and body["tags"] == [], body


@covers("CVDM-4")
def test_education_is_scored_only_when_the_config_enables_it(api, ops, credit_guard, time_machine):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    config = edited(with_education(), (("requirements", "education", "is_enabled"), True))
    result = follow(api, accepted(submit(api, config=config), ops)["id"], time_machine, ops)
    assert result["status"] == "finished", result
    assert set(result["cv2jd_result"]["breakdown"]) == {"workExperience", "skills", "education"}, result


@covers("CVDM-4", "CRED-4", "HOOK-6")
def test_a_failed_match_carries_an_error_costs_nothing_and_sends_no_callback(api, ops, provision, control, scenarios,
                                                                         credit_guard, time_machine):
    credit_guard.allow("a CV DeepMatch submit (3 credits, released when it fails)")
    tenant = cvdm_tenant(provision, "cvdm-failed", credits=10)
    client = api.with_key(tenant.key)
    match = accepted(submit(client, webhook_url=UNRESOLVABLE_HOOK, headers=scenarios("cvdm-matching-failed")), ops)
    result = follow(client, match["id"], time_machine, ops)
    if result["status"] != "failed":
        pytest.skip("the target does not inject the cvdm-matching-failed scenario")
    assert result["error"]["code"] and result["error"]["message"], result
    assert "cv2jd_result" not in result and "cv_parser_result" not in result
    time_machine.pass_time(60, "any callback to be attempted")
    after = credits_of(client)
    assert (after["creditBalance"], after["heldCredits"]) == (10, 0), after
    assert deliveries_of(control, tenant.client_id, match["id"]) == [], "a failed match sends no callback"


@covers("CVDM-6")
def test_a_stuck_match_is_failed_by_the_ten_minute_watchdog(api, ops, scenarios, credit_guard, time_machine):
    credit_guard.allow("a CV DeepMatch submit (3 credits, released when it fails)")
    match = accepted(submit(api, headers=scenarios("cvdm-stuck")), ops)
    result = follow(api, match["id"], time_machine, ops)
    took = parse_timestamp(result["finished_at"]) - parse_timestamp(result["created_at"])
    if result["status"] == "finished":
        pytest.skip("the target does not inject the cvdm-stuck scenario")
    assert result["status"] == "failed" and took <= WATCHDOG_SECONDS + 1, (took, result)
    assert result["error"]["code"] == "STUCK_TIMEOUT", result
