"""Scenario-scripted candidates (scenarios/interview.yaml) played on the virtual clock — the
session's state is derived from time at read, planned joins meet the live cap (INTV-5,
INTV-6) — and the signed completion callbacks (A4, HOOK-3/4) for ends caused by actions, by
time alone (timeout, expiry) and after a re-invite (INTV-9)."""

from __future__ import annotations

import io
import json
import wave

import pytest

from conftest import CAP2, FULL, Api, make_app
from mockserver.scenarios import ScenarioError
from mockserver.webhooks import verify_signature
from support.webhook_receiver import WebhookReceiver
from test_interview_lifecycle import assert_conforms
from test_interview_support import (
    SESSIONS, act, act_ok, get_session, make_persona, make_session, token_of,
)

ACME_SECRET = "whsec_acme_mock_signing_secret_0001"


def scripted(api, scenario: str, key: str = FULL, **body) -> dict:
    persona = make_persona(api, key=key)
    return make_session(api, persona["id"], key=key, scenario=scenario, **body)


def status_of(api, created: dict, key: str = FULL) -> dict:
    return get_session(api, created["id"], key=key)


# -- named outcomes, derived from time -----------------------------------------------------
def test_candidate_joins_after_two_hours_and_finishes_after_25_minutes(api):
    created = scripted(api, "interview-completes", consent_mode="explicit")
    api.advance(7199)
    session = status_of(api, created)
    assert session["status"] == "initiated" and session["opened_at"] is None
    api.advance(1)
    session = status_of(api, created)
    assert session["status"] == "in_progress"
    assert session["opened_at"] == session["consent_given_at"] == session["started_at"]
    api.advance(1499)
    assert status_of(api, created)["status"] == "in_progress"
    api.advance(1)
    session = status_of(api, created)
    assert session["status"] == "completed" and session["duration_seconds"] == 1500
    recording = api.call("GET", f"{SESSIONS}/{created['id']}/recording").content
    with wave.open(io.BytesIO(recording)) as wav:
        assert wav.getnframes() / wav.getframerate() == 1500


def test_a_long_clock_jump_plays_the_whole_timeline_at_once(api):
    created = scripted(api, "interview-completes")
    api.advance(86400)
    session = status_of(api, created)
    assert session["status"] == "completed"
    assert session["completed_at"] > session["started_at"] > session["created_at"]


@pytest.mark.parametrize("scenario,after,error_code,has_result", [
    ("interview-timeout", 600 + 2700, "SESSION_TIMEOUT", False),
    ("interview-drop", 300 + 180, "CANDIDATE_DROPPED", False),
    ("interview-drop-partial", 300 + 600, "CANDIDATE_DROPPED", True),
    ("interview-platform-error", 120 + 480, "INTERNAL_ERROR", False),
])
def test_scripted_candidates_end_in_the_documented_failures(api, scenario, after, error_code, has_result):
    created = scripted(api, scenario)
    api.advance(after - 1)
    assert status_of(api, created)["status"] == "in_progress"
    api.advance(1)
    session = status_of(api, created)
    assert (session["status"], session["error_code"], session["has_recording"]) == ("failed", error_code, has_result)
    reinvite = api.post(f"/__mock/interview/sessions/{created['id']}/reinvite", json={})
    assert reinvite.status_code == (409 if has_result else 200)


def test_a_candidate_who_declines_consent_never_goes_live_and_the_link_expires(api):
    created = scripted(api, "interview-declines-consent", consent_mode="explicit", expires_in=86400)
    api.advance(3600)
    session = status_of(api, created)
    assert session["opened_at"] is not None and session["consent_given_at"] is None
    api.advance(7200)
    assert status_of(api, created)["status"] == "initiated"
    api.advance(86400)
    assert status_of(api, created)["error_code"] == "LINK_EXPIRED"


def test_a_scripted_join_after_the_link_expired_starts_nothing(api):
    created = scripted(api, "interview-completes", expires_in=3600)
    api.advance(7200 + 1500)
    session = status_of(api, created)
    assert (session["status"], session["error_code"], session["started_at"]) == ("failed", "LINK_EXPIRED", None)


def test_a_human_on_the_link_takes_over_from_the_script(api):
    created = scripted(api, "interview-completes")
    api.advance(10)
    act_ok(api, "start", token_of(created))
    api.advance(7200 + 1500 - 10 - 1)  # past the scripted end, inside no budget: it timed out
    session = status_of(api, created)
    assert session["error_code"] == "SESSION_TIMEOUT"  # the script did not finish it


def test_interview_fault_answers_500_internal_error(api):
    persona = make_persona(api)
    r = api.call("GET", f"{SESSIONS}", headers={"X-Mock-Scenario": "interview-internal-error"})
    assert r.status_code == 500 and r.json()["error"]["code"] == "INTERNAL_ERROR"
    r = api.call("POST", f"/api/v1/interview/personas/{persona['id']}/sessions",
                 headers={"X-Mock-Scenario": "interview-internal-error"}, json={"consent_mode": "integrator"})
    assert r.status_code == 500


# -- rules of your own ---------------------------------------------------------------------
WAVE_RULES = """\
version: 1
rules:
  - name: wave
    when: {operation: createInterviewSession, tags: [wave]}
    then:
      candidate: {joinAfterSeconds: 100, finishAfterSeconds: 300}
  - name: by-candidate-ref
    when: {module: interview, externalId: "late-*", language: es}
    then:
      candidate: {joinAfterSeconds: 5000, finishAfterSeconds: 60}
"""


@pytest.fixture
def custom(tmp_path):
    path = tmp_path / "interview-rules.yaml"
    path.write_text(WAVE_RULES)
    with Api(make_app(scenarios=[str(path)])) as client:
        yield client


def test_scripted_joins_meet_the_live_cap_and_start_when_a_slot_frees(custom):
    api = custom
    persona = make_persona(api, key=CAP2)
    made = [make_session(api, persona["id"], key=CAP2, tags=["wave"]) for _ in range(3)]
    api.advance(100)
    states = [status_of(api, created, key=CAP2) for created in made]
    assert [s["status"] for s in states] == ["in_progress", "in_progress", "initiated"]
    assert states[2]["opened_at"] is not None  # the third candidate is waiting at the door
    api.advance(300)  # the first two finish at 400: the third goes live that very moment
    third = status_of(api, made[2], key=CAP2)
    assert third["status"] == "in_progress"
    assert third["started_at"] == status_of(api, made[0], key=CAP2)["completed_at"]
    api.advance(300)
    assert status_of(api, made[2], key=CAP2)["status"] == "completed"


def test_rules_can_match_the_candidate_ref_and_the_persona_language(custom):
    api = custom
    persona = make_persona(api, language="es", role_name="Analista")
    late = make_session(api, persona["id"], candidate_ref="late-7")
    other = make_session(api, persona["id"], candidate_ref="early-1")
    api.advance(5060)
    assert status_of(api, late)["status"] == "completed"
    assert status_of(api, other)["status"] == "initiated"


def test_a_malformed_candidate_script_stops_the_mock_at_start(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nrules:\n  - name: broken\n    when: {module: interview}\n"
                    "    then: {candidate: {finishAfterSeconds: 10}}\n")
    with pytest.raises(ScenarioError, match="broken.*joinAfterSeconds"):
        make_app(scenarios=[str(path)])


# -- completion callbacks (A4, HOOK-3, HOOK-4) -----------------------------------------------
@pytest.fixture
def hooked():
    with WebhookReceiver() as receiver:
        with Api(make_app(allow_local_webhooks=True)) as client:
            yield client, receiver


def check_callback(api, request, session_id: str) -> dict:
    assert request.header("X-Interview-Request-Id") == f"api_{session_id}"
    signature = request.header("X-Interview-Signature")
    assert signature.startswith(f"t={request.header('X-Interview-Signature-Timestamp')},v1=")
    assert verify_signature(signature, request.body, ACME_SECRET)  # the receiver's real clock (HOOK-8)
    assert b" " not in request.body
    body = json.loads(request.body)
    assert_conforms("InterviewWebhookEvent", body)
    return body


def test_a_scripted_completion_calls_back_once_signed_when_the_clock_reaches_it(hooked):
    api, receiver = hooked
    created = scripted(api, "interview-quick", webhook_url=receiver.url, candidate_ref="ats-5")
    api.advance(60 + 299)
    assert receiver.requests == []
    api.advance(1)
    [request] = receiver.requests
    body = check_callback(api, request, created["id"])
    session = status_of(api, created)
    assert body == {"event": "interview.session.completed", "persona_id": created["persona_id"],
                    "candidate_ref": "ats-5", "has_recording": True, "has_transcript": True,
                    "completed_at": session["completed_at"], "id": created["id"], "status": "completed"}
    assert request.body.endswith(b',"id":"' + created["id"].encode() + b'","status":"completed"}')
    api.advance(3600)
    status_of(api, created)
    assert len(receiver.requests) == 1


def test_a_timeout_calls_back_when_the_clock_passes_the_budget_without_any_polling(hooked):
    api, receiver = hooked
    persona = make_persona(api)
    created = make_session(api, persona["id"], webhook_url=receiver.url)
    act_ok(api, "start", token_of(created))
    api.advance(2699)
    assert receiver.requests == []
    api.advance(1)
    [request] = receiver.requests
    body = check_callback(api, request, created["id"])
    assert (body["event"], body["error_code"], body["has_recording"]) == ("interview.session.failed", "SESSION_TIMEOUT", False)


def test_an_unused_link_calls_back_link_expired_and_a_reinvited_session_calls_back_again(hooked):
    api, receiver = hooked
    persona = make_persona(api)
    created = make_session(api, persona["id"], webhook_url=receiver.url, expires_in=600)
    api.advance(600)
    [expired] = receiver.requests
    assert check_callback(api, expired, created["id"])["error_code"] == "LINK_EXPIRED"
    again = api.post(f"/__mock/interview/sessions/{created['id']}/reinvite",
                     json={"candidate": {"joinAfterSeconds": 30, "finishAfterSeconds": 90}})
    assert again.status_code == 200
    api.advance(120)
    assert len(receiver.requests) == 2
    body = check_callback(api, receiver.requests[1], created["id"])
    assert body["status"] == "completed"


def test_an_action_that_ends_the_session_queues_its_callback_at_once(hooked):
    api, receiver = hooked
    persona = make_persona(api)
    created = make_session(api, persona["id"], webhook_url=receiver.url)
    act_ok(api, "start", token_of(created))
    act_ok(api, "drop", token_of(created))
    deliveries = api.get("/__mock/webhooks/deliveries").json()["deliveries"]
    [delivery] = [d for d in deliveries if d["run_id"] == created["id"]]
    assert delivery["kind"] == "interview" and delivery["url"] == receiver.url
    assert json.loads(delivery["body"])["error_code"] == "CANDIDATE_DROPPED"
    assert act(api, "start", token_of(created)).status_code == 409
    assert len([d for d in api.get("/__mock/webhooks/deliveries").json()["deliveries"]
                if d["run_id"] == created["id"]]) == 1


@pytest.mark.parametrize("spec,problem", [
    ({"joinAfterSeconds": 10, "teleport": True}, "unknown candidate key"),
    ({"joinAfterSeconds": 10, "finishAfterSeconds": 5, "dropAfterSeconds": 5}, "at most one"),
    ({"openAfterSeconds": 20, "joinAfterSeconds": 10}, "must not be after"),
    ({"joinAfterSeconds": -1}, "≥ 0"),
    ({"joinAfterSeconds": 10, "consent": "yes"}, "true or false"),
    ([1, 2], "mapping"),
])
def test_candidate_scripts_are_checked(spec, problem):
    from mockserver.modules.interview.plan import PlanError, check_plan_spec
    with pytest.raises(PlanError, match=problem):
        check_plan_spec(spec, "r")
