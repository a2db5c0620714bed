"""The candidate's side of an Interview session (mock only): the lifecycle (INTV-4, INTV-5),
the live-interview cap and session timeout (INTV-6), recordings and transcripts (INTV-7) and
the console re-invite (INTV-9).

A session only moves when its candidate does, and the candidate side lives in the candidate's
browser: no API call can act as the candidate. The mock offers one through its control API
(``POST /__mock/interview/candidate/{open|consent|start|finish|drop}`` with the token in a JSON
body, and the console's ``POST /__mock/interview/sessions/{id}/reinvite``). These tests run only
when that capability is detected and skip with the reason otherwise. Shared helpers:
``interview_helpers``.
"""

from __future__ import annotations

import array
import io
import json
import wave

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import assert_error, assert_no_problems, parse_timestamp
from contract_tests.contract import schema_problems
from contract_tests.interview_helpers import (SESSIONS, create_persona, create_session, created, read_session,
                                              rows_by_id, token_of)
from contract_tests.interview_helpers import module_credits, ops  # noqa: F401  (fixtures)
from contract_tests.target import CONTROL_PREFIX

INTERVIEW_SECONDS = 90


# --------------------------------------------------------------------------- the candidate (mock only)

class Candidate:
    """Plays the candidate (and the console) through the mock's control API. The token always
    travels in the JSON body, never in a URL."""

    def __init__(self, control) -> None:
        self.control = control

    def act(self, action: str, token: str, **extra):
        return self.control.http.post(f"{CONTROL_PREFIX}/interview/candidate/{action}",
                                      json={"token": token, **extra}, headers=self.control.headers)

    def ok(self, action: str, token: str, **extra) -> dict:
        resp = self.act(action, token, **extra)
        assert resp.status_code == 200, f"candidate {action}: {resp.status_code} {resp.text[:300]}"
        return resp.json()

    def refused(self, action: str, token: str, status: int, code: str) -> dict:
        resp = self.act(action, token)
        assert resp.status_code == status, \
            f"candidate {action}: expected {status}, got {resp.status_code} {resp.text[:300]}"
        assert resp.json()["error"]["code"] == code, resp.text[:300]
        return resp.json()["error"]

    def reinvite(self, session_id: str, **body):
        return self.control.http.post(f"{CONTROL_PREFIX}/interview/sessions/{session_id}/reinvite",
                                      json=body, headers=self.control.headers)


@pytest.fixture(scope="module")
def candidate(control) -> Candidate:
    """The mock's candidate actions, detected by asking one with an empty body (a 400
    INVALID_INPUT proves the route exists); skips on any other target."""
    modules = control.capabilities.get("modules")
    if modules is not None and "interview" not in modules:
        pytest.skip("the target's control API does not simulate the Interview module")
    probe = control.http.post(f"{CONTROL_PREFIX}/interview/candidate/open", json={}, headers=control.headers)
    is_json = probe.headers.get("content-type", "").startswith("application/json")
    if probe.status_code != 400 or not is_json or probe.json().get("error", {}).get("code") != "INVALID_INPUT":
        pytest.skip("the candidate side runs in the candidate's browser; this target's control API has no "
                    f"/interview/candidate actions to play one (probe answered {probe.status_code})")
    return Candidate(control)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def interview_tenant(api, provision, module_credits):
    """A throwaway tenant holding only the `interview` permission (control API): its key and client."""
    module_credits.allow("an Interview tenant's personas and sessions")
    tenant = provision.tenant("interview", permissions=["interview"], credits=1000)
    return tenant, api.with_key(tenant.key)


@pytest.fixture(scope="module")
def tenant_persona(interview_tenant, ops) -> dict:
    return create_persona(interview_tenant[1], ops, role_name="Ingeniera de datos", language="es")


@pytest.fixture(scope="module")
def finished_interview(interview_tenant, tenant_persona, ops, candidate, time_machine) -> dict:
    """One `integrator` session whose candidate goes live at once and finishes 90 s later."""
    client = interview_tenant[1]
    made = created(create_session(client, tenant_persona["id"], consent_mode="integrator", candidate_ref="ct-ref-7",
                                  metadata={"suite": "contract"}, tags=["ct-finished"]), ops)
    token = token_of(made)
    candidate.ok("start", token)
    time_machine.pass_time(INTERVIEW_SECONDS, "a live interview to run")
    candidate.ok("finish", token)
    return {"created": made, "token": token, "session": read_session(client, ops, made["id"])}


# --------------------------------------------------------------------------- the candidate's side (mock only)

@covers("INTV-5", "INTV-4", "INTV-10", "POLL-3")
def test_an_explicit_session_goes_live_only_after_consent_and_completes(interview_tenant, tenant_persona, ops,
                                                                       candidate, time_machine):
    client = interview_tenant[1]
    made = created(create_session(client, tenant_persona["id"], consent_mode="explicit"), ops)
    token = token_of(made)
    candidate.ok("open", token)
    candidate.refused("start", token, 409, "CONSENT_REQUIRED")
    waiting = read_session(client, ops, made["id"])
    assert waiting["status"] == "initiated" and waiting["opened_at"] and waiting["consent_given_at"] is None
    candidate.ok("consent", token)
    watch = time_machine.stopwatch()
    candidate.ok("start", token)
    live = read_session(client, ops, made["id"])
    assert live["status"] == "in_progress" and live["consent_given_at"] and live["max_duration_seconds"] >= 1, live
    err = assert_error(client.get(f"{SESSIONS}/{made['id']}/transcript"), 409, "RESULT_NOT_READY", ops["transcript"])
    assert err["details"]["status"] == "in_progress"
    time_machine.pass_time(30, "a live interview to run")
    candidate.ok("open", token)  # a reload while live changes nothing
    candidate.ok("start", token)  # nor does a reconnect
    assert read_session(client, ops, made["id"])["started_at"] == live["started_at"]
    time_machine.pass_time(INTERVIEW_SECONDS - 30, "a live interview to run")
    candidate.ok("finish", token)
    done = read_session(client, ops, made["id"])
    assert done["status"] == "completed" and done["has_recording"] and done["has_transcript"], done
    assert done["duration_seconds"] == pytest.approx(
        parse_timestamp(done["completed_at"]) - parse_timestamp(done["started_at"]), abs=0.002)
    assert_lasted(done["duration_seconds"], INTERVIEW_SECONDS, watch)
    for action in ("open", "start"):  # once terminal the link starts nothing
        candidate.refused(action, token, 409, "SESSION_ENDED")
    assert read_session(client, ops, made["id"])["status"] == "completed"


@covers("INTV-7")
def test_the_recording_is_a_playable_wav_of_the_sessions_length(interview_tenant, finished_interview, ops):
    session = finished_interview["session"]
    resp = interview_tenant[1].get(f"{SESSIONS}/{session['id']}/recording")
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["content-type"].split(";")[0] == "audio/wav"
    assert int(resp.headers["content-length"]) == len(resp.content)
    with wave.open(io.BytesIO(resp.content)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth()) == (1, 2), "mono 16-bit PCM"
        seconds = audio.getnframes() / audio.getframerate()
        samples = array.array("h", audio.readframes(audio.getnframes()))
    assert seconds == pytest.approx(session["duration_seconds"], abs=0.05)
    assert any(samples), "the recording is not silence"


@covers("INTV-7", "META-4")
def test_the_transcript_is_json_turns_in_the_personas_language(interview_tenant, tenant_persona, finished_interview,
                                                               ops):
    session = finished_interview["session"]
    resp = interview_tenant[1].get(f"{SESSIONS}/{session['id']}/transcript")
    assert resp.status_code == 200, resp.text[:300]
    transcript = resp.json()
    assert_no_problems(schema_problems(ops["transcript"], 200, transcript))
    assert transcript["id"] == session["id"] and "session_id" not in transcript
    assert transcript["language"] == tenant_persona["language"]
    assert transcript["duration_seconds"] == pytest.approx(session["duration_seconds"], abs=0.05)
    turns = transcript["turns"]
    assert {turn["speaker"] for turn in turns} == {"interviewer", "candidate"}, turns[:3]
    assert [turn["start"] for turn in turns] == sorted(turn["start"] for turn in turns)
    assert all(0 <= turn["start"] < turn["end"] <= transcript["duration_seconds"] + 0.05 for turn in turns)


@covers("INTV-3", "INTV-5", "META-2")
def test_a_finished_session_keeps_its_fields_and_never_shows_the_token_again(interview_tenant, finished_interview,
                                                                            control):
    client = interview_tenant[1]
    session, token = finished_interview["session"], finished_interview["token"]
    assert session["status"] == "completed" and session["consent_given_at"] is None, "integrator mode has no gate"
    assert (session["candidate_ref"], session["metadata"], session["tags"]) == (
        "ct-ref-7", {"suite": "contract"}, ["ct-finished"])
    texts = [client.get(f"{SESSIONS}/{session['id']}").text, client.get(SESSIONS).text,
             client.get(f"{SESSIONS}/{session['id']}/transcript").text,
             client.get(f"{SESSIONS}/{session['id']}/recording").content.decode("latin-1"),
             json.dumps(control.journal(limit=1000)), json.dumps(control.deliveries())]
    leaked = [i for i, text in enumerate(texts) if token in text]
    assert not leaked, f"the token came back after creation (texts {leaked})"


@covers("INTV-5", "INTV-6", "INTV-7", "INTV-10", "LIST-1")
def test_a_live_interview_past_its_budget_fails_session_timeout_and_frees_its_slot(api, ops, provision, candidate,
                                                                                  credit_guard, time_machine):
    credit_guard.allow("creating Interview sessions")
    client = api.with_key(provision.tenant("interview-cap1", permissions=["interview"], maxConcurrentRequests=1).key)
    persona = create_persona(client, ops, role_name="Backend Engineer", language="en")
    first, second = (created(create_session(client, persona["id"], consent_mode="integrator"), ops) for _ in range(2))
    watch = time_machine.stopwatch()  # started before the first interview went live
    candidate.ok("start", token_of(first))
    candidate.ok("open", token_of(second))  # opening a link holds no slot
    refused = candidate.act("start", token_of(second))
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "CONCURRENCY_LIMIT", refused.text[:300]
    assert int(refused.headers["Retry-After"]) >= 1
    assert read_session(client, ops, second["id"])["status"] == "initiated"
    budget = read_session(client, ops, first["id"])["max_duration_seconds"]
    margin = boundary_margin(time_machine)
    time_machine.pass_time(budget - margin, "a live interview to near its time budget")
    status = read_session(client, ops, first["id"])["status"]
    assert status == "in_progress" or watch.elapsed() >= budget, \
        f"{status} before the {budget} s budget was up ({watch.elapsed():.1f} s at most of the target's time)"
    time_machine.pass_time(margin + 1, "a live interview to pass its time budget")
    timed_out = read_session(client, ops, first["id"])
    assert (timed_out["status"], timed_out["error_code"]) == ("failed", "SESSION_TIMEOUT"), timed_out
    assert (timed_out["has_recording"], timed_out["has_transcript"]) == (False, False), "a timeout leaves no result"
    assert timed_out["duration_seconds"] is None
    assert_error(client.get(f"{SESSIONS}/{first['id']}/recording"), 409, "NO_RESULT", ops["recording"])
    row = rows_by_id(client, status="failed")[first["id"]]
    assert row["error_code"] == "SESSION_TIMEOUT", "the list reports the status as of the request"
    assert candidate.ok("start", token_of(second))["status"] == "in_progress", "the timed-out slot is free again"
    candidate.ok("drop", token_of(second))


@covers("INTV-9", "INTV-4", "INTV-7", "INTV-10")
def test_a_session_that_ended_without_a_result_is_reinvited_with_a_fresh_link(interview_tenant, tenant_persona, ops,
                                                                             candidate, time_machine):
    client = interview_tenant[1]
    made = created(create_session(client, tenant_persona["id"], consent_mode="integrator", candidate_ref="ats-9",
                                  metadata={"round": 3}, tags=["ct-reinvite"], expires_in=7200), ops)
    old_token = token_of(made)
    candidate.ok("start", old_token)
    candidate.ok("drop", old_token)
    dropped = read_session(client, ops, made["id"])
    assert (dropped["status"], dropped["error_code"]) == ("failed", "CANDIDATE_DROPPED")
    assert dropped["has_recording"] is False, "a plain drop leaves no result"
    candidate.refused("start", old_token, 409, "SESSION_ENDED")
    resp = candidate.reinvite(made["id"])
    assert resp.status_code == 200, resp.text[:300]
    again = resp.json()
    assert (again["id"], again["status"]) == (made["id"], "initiated")
    new_token = token_of(again)
    assert new_token != old_token
    session = read_session(client, ops, made["id"])
    assert session["status"] == "initiated" and "error_code" not in session, "the failure reason is cleared"
    for name in ("persona_id", "candidate_ref", "project", "tags", "metadata", "consent_mode"):
        assert session[name] == made[name], f"{name} is kept by the re-invite"
    assert session["expires_at"] == again["expires_at"] and session["opened_at"] is None
    candidate.refused("open", old_token, 404, "INVALID_TOKEN")
    candidate.ok("start", new_token)
    time_machine.pass_time(30, "a re-invited interview to run")
    candidate.ok("finish", new_token)
    assert read_session(client, ops, made["id"])["status"] == "completed"
    refused = candidate.reinvite(made["id"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "NOT_REINVITABLE", refused.text[:300]


@covers("INTV-9", "INTV-7")
def test_a_failed_session_with_a_partial_result_keeps_it_and_cannot_be_reinvited(interview_tenant, tenant_persona,
                                                                                 ops, candidate, time_machine):
    client = interview_tenant[1]
    made = created(create_session(client, tenant_persona["id"], consent_mode="integrator"), ops)
    watch = time_machine.stopwatch()
    candidate.ok("start", token_of(made))
    time_machine.pass_time(40, "a live interview to run before the candidate leaves")
    candidate.ok("drop", token_of(made), keep_recording=True)
    session = read_session(client, ops, made["id"])
    assert (session["status"], session["error_code"], session["has_recording"]) == ("failed", "CANDIDATE_DROPPED", True)
    assert_lasted(session["duration_seconds"], 40, watch)
    resp = client.get(f"{SESSIONS}/{made['id']}/recording")
    assert resp.status_code == 200 and resp.headers["content-type"].split(";")[0] == "audio/wav", resp.text[:200]
    refused = candidate.reinvite(made["id"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "NOT_REINVITABLE", refused.text[:300]


@covers("INTV-4")
def test_an_expired_link_cannot_start_an_interview(interview_tenant, tenant_persona, ops, candidate, time_machine):
    client = interview_tenant[1]
    watch = time_machine.stopwatch()  # started before the link was made
    made = created(create_session(client, tenant_persona["id"], consent_mode="integrator", expires_in=60), ops)
    time_machine.pass_time(59, "a candidate link to near its expiry")
    opened = candidate.act("open", token_of(made))
    if watch.elapsed() < 60:  # the target's time at the open was certainly before the expiry
        assert opened.status_code == 200 and opened.json()["status"] == "initiated", opened.text[:300]
    else:  # a fast-running clock may have crossed the expiry on its own: either answer is right
        assert opened.status_code == 200 or (opened.status_code, opened.json()["error"]["code"]) == (
            410, "LINK_EXPIRED"), opened.text[:300]
    time_machine.pass_time(1, "a candidate link to expire")
    candidate.refused("start", token_of(made), 410, "LINK_EXPIRED")
    assert read_session(client, ops, made["id"])["error_code"] == "LINK_EXPIRED"


# --------------------------------------------------------------------------- timing helpers

def boundary_margin(time_machine) -> float:
    """How far before a deadline a test looks (target seconds): 1 s, or more on a clock that
    runs on its own fast enough to cross that in the half second a few requests may take."""
    return max(1.0, time_machine.drift(0.5))


def assert_lasted(duration: float, passed: float, watch) -> None:
    """A duration the target reports covers the ``passed`` seconds the test let pass, and no
    more than the target time the ``watch`` saw (both sides read from the target's clock)."""
    assert passed - 0.002 <= duration <= watch.elapsed() + 0.002, \
        f"duration {duration} s: {passed} s were passed, at most {watch.elapsed():.3f} s of the target's time elapsed"
