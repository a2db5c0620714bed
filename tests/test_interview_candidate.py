"""The candidate's side of an Interview, driven through the control API on the virtual clock:
consent gate, going live, reloads, ending, link expiry, the maximum duration (INTV-4, INTV-5),
the live-interview cap (INTV-6) and the console re-invite (INTV-9)."""

from __future__ import annotations

import pytest

from conftest import CAP2, FULL
from tests.support.candidate_links import token_from_link
from test_interview_support import (
    SESSIONS, act, act_ok, get_session, make_persona, make_session, token_of,
)


@pytest.fixture
def persona(api):
    return make_persona(api)


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    return response.json()


# -- consent and going live (INTV-5) -------------------------------------------------------
def test_explicit_mode_session_cannot_go_live_without_consent(api, persona):
    created = make_session(api, persona["id"], consent_mode="explicit")
    token = token_of(created)
    view = act_ok(api, "open", token)
    assert view["consent_required"] is True and view["consent_given"] is False
    refused(act(api, "start", token), 409, "CONSENT_REQUIRED")
    session = get_session(api, created["id"])
    assert session["status"] == "initiated" and session["opened_at"] is not None
    assert session["consent_given_at"] is None
    api.advance(30)
    assert act_ok(api, "consent", token)["consent_given"] is True
    assert act_ok(api, "start", token)["status"] == "in_progress"
    session = get_session(api, created["id"])
    assert session["status"] == "in_progress" and session["consent_given_at"] is not None
    assert session["max_duration_seconds"] == 2700


def test_integrator_mode_session_goes_live_without_a_consent_gate(api, persona):
    created = make_session(api, persona["id"], consent_mode="integrator")
    view = act_ok(api, "start", token_of(created))
    assert view["status"] == "in_progress" and view["consent_required"] is False
    assert get_session(api, created["id"])["consent_given_at"] is None


def test_candidate_completes_the_interview_with_a_result_of_its_length(api, persona):
    created = make_session(api, persona["id"], consent_mode="explicit")
    token = token_of(created)
    act_ok(api, "open", token)
    act_ok(api, "consent", token)
    act_ok(api, "start", token)
    api.advance(1234.5)
    assert act_ok(api, "finish", token)["status"] == "completed"
    session = get_session(api, created["id"])
    assert session["status"] == "completed"
    assert session["duration_seconds"] == 1234.5
    assert session["has_recording"] is True and session["has_transcript"] is True


def test_reloads_and_reconnects_while_live_are_tolerated(api, persona):
    created = make_session(api, persona["id"])
    token = token_of(created)
    started = act_ok(api, "start", token)
    api.advance(120)
    assert act_ok(api, "open", token)["started_at"] == started["started_at"]
    assert act_ok(api, "start", token)["started_at"] == started["started_at"]
    assert get_session(api, created["id"])["status"] == "in_progress"


def test_finishing_an_interview_that_is_not_live_is_refused(api, persona):
    created = make_session(api, persona["id"])
    refused(act(api, "finish", token_of(created)), 409, "NOT_LIVE")


# -- what a link may start (INTV-4) ----------------------------------------------------------
def test_a_terminal_sessions_link_starts_nothing(api, persona):
    created = make_session(api, persona["id"])
    token = token_of(created)
    act_ok(api, "start", token)
    act_ok(api, "finish", token)
    for action in ("open", "consent", "start"):
        refused(act(api, action, token), 409, "SESSION_ENDED")
    assert get_session(api, created["id"])["status"] == "completed"


def test_an_expired_unused_link_starts_nothing_and_the_session_fails_link_expired(api, persona):
    created = make_session(api, persona["id"], expires_in=3600)
    token = token_of(created)
    api.advance(3599)
    assert act_ok(api, "open", token)["status"] == "initiated"
    api.advance(1)
    refused(act(api, "start", token), 410, "LINK_EXPIRED")
    session = get_session(api, created["id"])
    assert session["status"] == "failed" and session["error_code"] == "LINK_EXPIRED"
    assert session["started_at"] is None and session["failed_at"] == created["expires_at"]


def test_the_default_link_lives_seven_days(api, persona):
    created = make_session(api, persona["id"])
    api.advance(604799)
    assert act_ok(api, "start", token_of(created))["status"] == "in_progress"


def test_an_unknown_token_is_refused_and_a_malformed_request_is_400(api, persona):
    make_session(api, persona["id"])
    refused(act(api, "open", "A" * 43), 404, "INVALID_TOKEN")
    refused(api.post("/__mock/interview/candidate/open", json={}), 400, "INVALID_INPUT")
    refused(api.post("/__mock/interview/candidate/open", content=b"[1]"), 400, "INVALID_INPUT")
    refused(api.post("/__mock/interview/candidate/teleport", json={"token": "x"}), 404, "NOT_FOUND")


# -- the maximum duration (INTV-5) -----------------------------------------------------------
def test_a_live_interview_past_the_budget_fails_session_timeout_without_a_result(api, persona):
    created = make_session(api, persona["id"])
    token = token_of(created)
    act_ok(api, "start", token)
    api.advance(2699)
    assert get_session(api, created["id"])["status"] == "in_progress"
    api.advance(1)
    session = get_session(api, created["id"])
    assert session["status"] == "failed" and session["error_code"] == "SESSION_TIMEOUT"
    assert session["has_recording"] is False and session["duration_seconds"] is None
    refused(act(api, "finish", token), 409, "SESSION_ENDED")


def test_the_time_budget_is_a_setting_per_client(api, persona):
    api.platform.registry.clients["acme"].settings = {"interview": {"maxInterviewSeconds": 600}}
    created = make_session(api, persona["id"])
    assert act_ok(api, "open", token_of(created))["max_duration_seconds"] == 600
    act_ok(api, "start", token_of(created))
    api.advance(600)
    assert get_session(api, created["id"])["error_code"] == "SESSION_TIMEOUT"


# -- the live-interview cap (INTV-6) ---------------------------------------------------------
def test_the_cap_counts_live_interviews_and_is_enforced_when_a_candidate_starts(api):
    persona = make_persona(api, key=CAP2)
    first, second, third = (make_session(api, persona["id"], key=CAP2) for _ in range(3))
    act_ok(api, "start", token_of(first))
    act_ok(api, "start", token_of(second))
    act_ok(api, "open", token_of(third))  # opening the link holds no slot
    r = refused(act(api, "start", token_of(third)), 429, "CONCURRENCY_LIMIT")
    assert r["error"]["message"].startswith("Too many interviews")
    assert int(act(api, "start", token_of(third)).headers["Retry-After"]) >= 1
    assert get_session(api, third["id"], key=CAP2)["status"] == "initiated"
    act_ok(api, "finish", token_of(first))
    assert act_ok(api, "start", token_of(third))["status"] == "in_progress"


def test_a_timed_out_interview_frees_its_slot(api):
    persona = make_persona(api, key=CAP2)
    sessions = [make_session(api, persona["id"], key=CAP2) for _ in range(3)]
    act_ok(api, "start", token_of(sessions[0]))
    api.advance(100)
    act_ok(api, "start", token_of(sessions[1]))
    r = refused(act(api, "start", token_of(sessions[2])), 429, "CONCURRENCY_LIMIT")
    assert r and act(api, "start", token_of(sessions[2])).headers["Retry-After"] == "60"
    api.advance(2600)  # the first interview reaches its 2700 s budget
    assert act_ok(api, "start", token_of(sessions[2]))["status"] == "in_progress"
    assert get_session(api, sessions[0]["id"], key=CAP2)["error_code"] == "SESSION_TIMEOUT"


def test_the_cap_is_per_client_and_the_full_access_key_uses_the_clients_cap(api):
    persona = make_persona(api, key=FULL)
    sessions = [make_session(api, persona["id"], key=FULL) for _ in range(9)]
    for created in sessions[:8]:
        act_ok(api, "start", token_of(created))
    refused(act(api, "start", token_of(sessions[8])), 429, "CONCURRENCY_LIMIT")


# -- dropping -----------------------------------------------------------------------------
def test_a_candidate_who_leaves_fails_candidate_dropped_with_or_without_a_partial_result(api, persona):
    plain, partial = make_session(api, persona["id"]), make_session(api, persona["id"])
    for created in (plain, partial):
        act_ok(api, "start", token_of(created))
    api.advance(90)
    act_ok(api, "drop", token_of(plain))
    act_ok(api, "drop", token_of(partial), keep_recording=True)
    first, second = get_session(api, plain["id"]), get_session(api, partial["id"])
    assert (first["error_code"], first["has_recording"], first["duration_seconds"]) == ("CANDIDATE_DROPPED", False, None)
    assert (second["error_code"], second["has_recording"], second["duration_seconds"]) == ("CANDIDATE_DROPPED", True, 90)


# -- re-invite (INTV-9) ----------------------------------------------------------------------
def reinvite(api, session_id: str, **body):
    return api.post(f"/__mock/interview/sessions/{session_id}/reinvite", json=body)


def test_reinvite_after_a_timeout_resets_the_session_with_a_fresh_link_and_keeps_its_fields(api):
    persona = make_persona(api)
    created = make_session(api, persona["id"], key=FULL, candidate_ref="ats-9", tags=["t1"],
                           metadata={"round": 3}, expires_in=7200)
    old_token = token_of(created)
    act_ok(api, "start", old_token)
    api.advance(2700)
    assert get_session(api, created["id"])["error_code"] == "SESSION_TIMEOUT"
    r = reinvite(api, created["id"])
    assert r.status_code == 200, r.text
    again = r.json()
    assert again["id"] == created["id"] and again["status"] == "initiated" and again["invite_count"] == 2
    new_token = token_from_link(again["candidate_link"])
    assert new_token != old_token and again["expires_in"] == 7200
    session = get_session(api, created["id"])
    assert session["status"] == "initiated" and "error_code" not in session
    for name in ("persona_id", "candidate_ref", "project", "tags", "metadata", "consent_mode"):
        assert session[name] == created[name]
    assert session["opened_at"] is None and session["expires_at"] == again["expires_at"]
    refused(act(api, "open", old_token), 404, "INVALID_TOKEN")
    act_ok(api, "start", new_token)
    api.advance(60)
    act_ok(api, "finish", new_token)
    assert get_session(api, created["id"])["status"] == "completed"


def test_sessions_that_ended_without_a_result_can_be_reinvited(api, persona):
    expired = make_session(api, persona["id"], expires_in=60)
    dropped = make_session(api, persona["id"])
    act_ok(api, "start", token_of(dropped))
    act_ok(api, "drop", token_of(dropped))
    api.advance(60)
    for created in (expired, dropped):
        assert reinvite(api, created["id"]).json()["status"] == "initiated"


def test_a_session_with_a_result_or_still_open_cannot_be_reinvited(api, persona):
    completed, partial, waiting = (make_session(api, persona["id"]) for _ in range(3))
    for created in (completed, partial):
        act_ok(api, "start", token_of(created))
    api.advance(30)
    act_ok(api, "finish", token_of(completed))
    act_ok(api, "drop", token_of(partial), keep_recording=True)
    for created in (completed, partial, waiting):
        refused(reinvite(api, created["id"]), 409, "NOT_REINVITABLE")
    refused(reinvite(api, "00000000-0000-4000-8000-000000000000"), 404, "NOT_FOUND")


def test_candidate_actions_keep_the_token_out_of_the_request_journal(api, persona):
    created = make_session(api, persona["id"])
    token = token_of(created)
    act_ok(api, "start", token)
    journal = api.get("/__mock/journal", params={"limit": 1000})
    assert token not in journal.text
    assert any(entry["path"] == f"{SESSIONS}/{created['id']}" or entry["operation"] == "createInterviewSession"
               for entry in journal.json()["entries"])


def test_sessions_links_and_live_interviews_survive_a_restart_with_state(tmp_path):
    from conftest import Api, make_app
    state = str(tmp_path / "state.sqlite")
    with Api(make_app(state=state)) as first:
        persona = make_persona(first)
        waiting = make_session(first, persona["id"], consent_mode="explicit")
        live = make_session(first, persona["id"], scenario="interview-quick")
        act_ok(first, "consent", token_of(waiting))
        first.advance(120)
        assert get_session(first, live["id"])["status"] == "in_progress"
    with Api(make_app(state=state)) as second:
        assert act_ok(second, "start", token_of(waiting))["status"] == "in_progress"
        second.advance(300)
        assert get_session(second, live["id"])["status"] == "completed"
        assert second.call("GET", f"{SESSIONS}/{live['id']}/recording").status_code == 200
