"""Interview sessions: tokens and links, the lifecycle on virtual time, and the views the
handlers return, checked against the Interview contract fragment merged with the base
(INTV-2..INTV-10, CRED-5, HOOK-3, META-4, JSON-1)."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import asdict
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.support import contract_document
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from mockserver.clock import iso
from mockserver.modules.interview import lifecycle as lc
from mockserver.modules.interview.media import build_transcript, transcript_body
from mockserver.modules.interview.prompts import resolve_system_prompt
from mockserver.platform.ids import Ids
from tests.support.candidate_links import token_from_link
from mockserver.modules.interview.tokens import (
    DEFAULT_CANDIDATE_BASE_URL,
    candidate_link,
    hash_token,
    mint_token,
    token_matches,
)

def count_live(sessions, now: float) -> int:
    return sum(1 for session in sessions if lc.is_live(session, now))


def can_reinvite(session, now: float) -> bool:
    """What INTV-9 allows: a terminal session that produced no result."""
    current = lc.settle(session, now)
    return current.status in lc.TERMINAL_STATUSES and not current.has_result


IDS = Ids()  # unseeded: tokens from the operating system's source, as in serve
T0 = 1_779_184_800.0  # 2026-05-19T10:00:00Z
SESSION_ID = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
PERSONA_ID = "3f2b8c1e-6d4a-4e7b-9a21-5c8d0f1e2a3b"


# -- contract helpers -----------------------------------------------------------------------
@lru_cache(maxsize=1)
def merged_spec() -> dict[str, Any]:
    """The contract (openapi.yaml)."""
    return contract_document()


def schema_validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(dict(schema, components=merged_spec()["components"]),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_conforms(schema_name: str, instance: Any) -> None:
    validator = schema_validator({"$ref": f"#/components/schemas/{schema_name}"})
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
    assert not errors, errors


def fragment_operations() -> list[tuple[str, dict[str, Any]]]:
    """The Interview operations and webhooks of the contract."""
    spec = merged_spec()
    found = []
    for where, item in spec["paths"].items():
        if where.startswith("/api/v1/interview/"):
            found += [(f"{method.upper()} {where}", op) for method, op in item.items()]
    for where, item in spec.get("webhooks", {}).items():
        if where.startswith("interview"):
            found += [(f"{method.upper()} {where}", op) for method, op in item.items()]
    return found


def _resolve(node: Any) -> Any:
    for _ in range(10):
        if not (isinstance(node, dict) and "$ref" in node):
            return node
        target: Any = merged_spec()
        for part in node["$ref"].split("/")[1:]:
            target = target[part]
        node = target
    raise AssertionError("reference chain too deep")


# -- building sessions ----------------------------------------------------------------------
def new_session(consent_mode: str = lc.CONSENT_INTEGRATOR, **overrides: Any) -> tuple[lc.Session, str]:
    token = mint_token(IDS)
    fields: dict[str, Any] = dict(
        session_id=SESSION_ID, client_id="client-a", persona_id=PERSONA_ID,
        consent_mode=consent_mode, token_hash=hash_token(token), now=T0,
        candidate_ref="ats-cand-8812", project="hiring-eu",
        metadata={"candidateId": "cand-42", "status": "shortlisted"}, tags=["backend"])
    fields.update(overrides)
    return lc.create_session(**fields), token


def started(consent_mode: str = lc.CONSENT_INTEGRATOR, at: float = T0 + 60,
            expires_in: int = lc.DEFAULT_EXPIRES_IN, **kw: Any) -> tuple[lc.Session, str]:
    session, token = new_session(consent_mode, expires_in=expires_in)
    if consent_mode == lc.CONSENT_EXPLICIT:
        session = lc.give_consent(session, token, at - 5)
    return lc.start(session, token, at, live_sessions=0, max_concurrent=4, **kw), token


# -- tokens and links -----------------------------------------------------------------------
def test_minted_tokens_are_long_url_safe_and_distinct():
    tokens = {mint_token(IDS) for _ in range(50)}
    assert len(tokens) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", token) for token in tokens)


def test_token_hash_round_trip():
    token = mint_token(IDS)
    digest = hash_token(token)
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and digest == hash_token(token)
    assert token_matches(token, digest)
    assert not token_matches(mint_token(IDS), digest)


def test_candidate_link_carries_the_token_only_in_the_fragment():
    token = mint_token(IDS)
    link = candidate_link(None, token)
    parts = urlsplit(link)
    assert link.startswith(DEFAULT_CANDIDATE_BASE_URL + "/#t=")
    assert parts.scheme == "https" and parts.path == "/" and parts.query == ""
    assert parts.fragment == f"t={token}"
    assert token not in link.split("#", 1)[0]
    assert token_from_link(link) == token


def test_candidate_link_uses_a_configured_base_and_matches_the_contract_pattern():
    token = mint_token(IDS)
    pattern = merged_spec()["components"]["schemas"]["InterviewSessionCreated"]["properties"][
        "candidate_link"]["pattern"]
    for base in (None, "https://candidates.example.test", "https://example.test/interview/"):
        link = candidate_link(base, token)
        assert re.search(pattern, link), link
    assert candidate_link("https://example.test/interview/", token) == \
        f"https://example.test/interview/#t={token}"


@pytest.mark.parametrize("base", ["http://interview.example.test", "https://x.test/#frag", "ftp://x"])
def test_candidate_link_refuses_a_non_https_base(base):
    with pytest.raises(ValueError):
        candidate_link(base, mint_token(IDS))


def test_a_session_stores_only_the_token_hash():
    session, token = new_session()
    assert token not in json.dumps(asdict(session), default=str)
    assert session.token_hash == hash_token(token)


# -- creation -------------------------------------------------------------------------------
def test_new_session_is_initiated_and_expires_after_expires_in():
    session, _ = new_session(expires_in=3600)
    assert session.status == lc.STATUS_INITIATED
    assert session.expires_at == T0 + 3600
    default, _ = new_session()
    assert default.expires_in == lc.DEFAULT_EXPIRES_IN == 604_800


@pytest.mark.parametrize("overrides", [{"consent_mode": "implicit"}, {"expires_in": 59},
                                       {"expires_in": 604_801}])
def test_creation_refuses_values_outside_the_contract(overrides):
    with pytest.raises(ValueError):
        new_session(**overrides)


# -- consent, start, reload -----------------------------------------------------------------
def test_explicit_mode_cannot_go_live_without_consent():
    session, token = new_session(lc.CONSENT_EXPLICIT)
    with pytest.raises(lc.InterviewRefused) as refused:
        lc.start(session, token, T0 + 10, live_sessions=0, max_concurrent=None)
    assert refused.value.reason == lc.CONSENT_REQUIRED
    consented = lc.give_consent(session, token, T0 + 20)
    assert consented.consent_given_at == T0 + 20 and consented.status == lc.STATUS_INITIATED
    live = lc.start(consented, token, T0 + 30, live_sessions=0, max_concurrent=None)
    assert live.status == lc.STATUS_IN_PROGRESS and live.started_at == T0 + 30


def test_integrator_mode_starts_without_a_consent_gate():
    session, token = new_session(lc.CONSENT_INTEGRATOR)
    live = lc.start(session, token, T0 + 5, live_sessions=0, max_concurrent=None)
    assert live.status == lc.STATUS_IN_PROGRESS
    assert live.consent_given_at is None
    assert lc.give_consent(live, token, T0 + 6) == live


def test_opening_the_link_records_the_first_open_only():
    session, token = new_session()
    opened = lc.open_link(session, token, T0 + 10)
    assert opened.opened_at == T0 + 10 and opened.status == lc.STATUS_INITIATED
    assert lc.open_link(opened, token, T0 + 99).opened_at == T0 + 10


def test_reloads_and_reconnects_while_live_change_nothing():
    live, token = started()
    assert lc.open_link(live, token, T0 + 120) == live
    assert lc.start(live, token, T0 + 130, live_sessions=99, max_concurrent=1) == live


def test_a_wrong_or_superseded_token_starts_nothing():
    session, _ = new_session()
    with pytest.raises(lc.InterviewRefused) as refused:
        lc.open_link(session, mint_token(IDS), T0 + 1)
    assert refused.value.reason == lc.INVALID_TOKEN


def test_an_expired_unused_token_starts_nothing_and_the_session_fails_at_read_time():
    session, token = new_session(expires_in=3600)
    just_before = lc.start(session, token, T0 + 3599, live_sessions=0, max_concurrent=None)
    assert just_before.status == lc.STATUS_IN_PROGRESS
    with pytest.raises(lc.InterviewRefused) as refused:
        lc.start(session, token, T0 + 3600, live_sessions=0, max_concurrent=None)
    assert refused.value.reason == lc.LINK_EXPIRED
    expired = lc.settle(session, T0 + 3600)
    assert (expired.status, expired.error_code, expired.ended_at) == \
        (lc.STATUS_FAILED, lc.LINK_EXPIRED, T0 + 3600)
    assert session.status == lc.STATUS_INITIATED, "the stored record is untouched"


def test_a_live_interview_does_not_expire_with_its_link():
    live, _ = started(at=T0 + 3500, expires_in=3600)
    unused, _ = new_session(expires_in=3600)
    assert lc.effective_status(live, T0 + 3700) == lc.STATUS_IN_PROGRESS
    assert lc.effective_status(unused, T0 + 3700) == lc.STATUS_FAILED


@pytest.mark.parametrize("end", ["finish", "drop", "timeout"])
def test_a_terminal_link_starts_nothing(end):
    live, token = started()
    if end == "finish":
        ended, at = lc.finish(live, T0 + 600), T0 + 601
    elif end == "drop":
        ended, at = lc.drop(live, T0 + 600), T0 + 601
    else:
        ended, at = live, T0 + 60 + lc.MAX_INTERVIEW_SECONDS
    for attempt in (lc.open_link, lc.give_consent):
        with pytest.raises(lc.InterviewRefused) as refused:
            attempt(ended, token, at)
        assert refused.value.reason == lc.SESSION_ENDED
    with pytest.raises(lc.InterviewRefused):
        lc.start(ended, token, at, live_sessions=0, max_concurrent=None)


# -- concurrency cap ------------------------------------------------------------------------
def test_start_is_refused_at_the_live_interview_cap():
    session, token = new_session()
    with pytest.raises(lc.InterviewRefused) as refused:
        lc.start(session, token, T0 + 1, live_sessions=2, max_concurrent=2)
    assert refused.value.reason == lc.CONCURRENCY_LIMIT
    assert lc.start(session, token, T0 + 1, live_sessions=1, max_concurrent=2).status == \
        lc.STATUS_IN_PROGRESS
    assert lc.start(session, token, T0 + 1, live_sessions=500, max_concurrent=None).status == \
        lc.STATUS_IN_PROGRESS


def test_only_live_sessions_count_against_the_cap_and_a_timeout_frees_the_slot():
    live, _ = started(at=T0 + 60)
    waiting, _ = new_session()
    done = lc.finish(started(at=T0 + 60)[0], T0 + 120)
    sessions = [live, waiting, done]
    assert count_live(sessions, T0 + 200) == 1
    assert count_live(sessions, T0 + 60 + lc.MAX_INTERVIEW_SECONDS) == 0


# -- ending ---------------------------------------------------------------------------------
def test_finish_completes_with_a_result_and_the_elapsed_duration():
    live, _ = started(at=T0 + 60)
    done = lc.finish(live, T0 + 60 + 1291.5)
    assert done.status == lc.STATUS_COMPLETED
    assert done.duration_seconds == 1291.5
    assert done.has_recording and done.has_transcript and done.error_code is None


def test_timeout_is_derived_at_read_time_without_a_result():
    live, _ = started(at=T0 + 60)
    deadline = T0 + 60 + lc.MAX_INTERVIEW_SECONDS
    assert lc.effective_status(live, deadline - 1) == lc.STATUS_IN_PROGRESS
    timed_out = lc.settle(live, deadline + 500)
    assert (timed_out.status, timed_out.error_code) == (lc.STATUS_FAILED, lc.SESSION_TIMEOUT)
    assert timed_out.ended_at == deadline
    assert not timed_out.has_result and timed_out.duration_seconds is None
    with pytest.raises(lc.InterviewRefused) as refused:
        lc.finish(live, deadline + 1)
    assert refused.value.reason == lc.SESSION_ENDED


def test_the_time_budget_is_tunable_per_start():
    live, _ = started(at=T0, max_interview_seconds=300)
    assert live.max_duration_seconds == 300
    assert lc.effective_status(live, T0 + 299) == lc.STATUS_IN_PROGRESS
    assert lc.effective_status(live, T0 + 300) == lc.STATUS_FAILED


def test_finishing_or_dropping_requires_a_live_interview():
    session, _ = new_session()
    for end in (lc.finish, lc.drop):
        with pytest.raises(lc.InterviewRefused) as refused:
            end(session, T0 + 1)
        assert refused.value.reason == lc.NOT_LIVE


def test_drop_fails_without_a_result_unless_the_recording_is_kept():
    live, _ = started(at=T0 + 60)
    dropped = lc.drop(live, T0 + 360)
    assert (dropped.status, dropped.error_code, dropped.has_result) == \
        (lc.STATUS_FAILED, lc.CANDIDATE_DROPPED, False)
    partial = lc.drop(live, T0 + 360, keep_recording=True)
    assert partial.has_recording and partial.has_transcript and partial.duration_seconds == 300


def test_fail_accepts_only_known_failure_codes():
    live, _ = started()
    assert lc.fail(live, T0 + 100, lc.INTERNAL_ERROR).error_code == lc.INTERNAL_ERROR
    with pytest.raises(ValueError):
        lc.fail(live, T0 + 100, "SOMETHING_ELSE")


# -- re-invite ------------------------------------------------------------------------------
def test_reinvite_after_a_timeout_resets_to_initiated_with_a_fresh_link():
    live, old_token = started(at=T0 + 60)
    later = T0 + 60 + lc.MAX_INTERVIEW_SECONDS + 3600
    assert can_reinvite(live, later)
    new_token = mint_token(IDS)
    again = lc.reinvite(live, later, hash_token(new_token))
    assert again.status == lc.STATUS_INITIATED and again.error_code is None
    assert again.started_at is None and again.ended_at is None and again.opened_at is None
    assert again.expires_at == later + again.expires_in
    assert again.invite_count == 2
    for kept in ("id", "persona_id", "candidate_ref", "project", "tags", "metadata",
                 "consent_mode", "created_at"):
        assert getattr(again, kept) == getattr(live, kept)
    with pytest.raises(lc.InterviewRefused) as refused:
        lc.open_link(again, old_token, later + 1)
    assert refused.value.reason == lc.INVALID_TOKEN
    restarted = lc.start(again, new_token, later + 10, live_sessions=0, max_concurrent=None)
    assert restarted.status == lc.STATUS_IN_PROGRESS


def test_reinvite_after_an_expired_link_or_a_drop_without_result():
    session, _ = new_session(expires_in=60)
    assert lc.reinvite(session, T0 + 61, hash_token(mint_token(IDS))).status == lc.STATUS_INITIATED
    dropped = lc.drop(started()[0], T0 + 200)
    assert lc.reinvite(dropped, T0 + 300, hash_token(mint_token(IDS))).status == lc.STATUS_INITIATED


@pytest.mark.parametrize("state", ["initiated", "in_progress", "completed", "failed_with_recording"])
def test_reinvite_is_refused_unless_the_session_ended_without_a_result(state):
    if state == "initiated":
        session = new_session()[0]
    elif state == "in_progress":
        session = started()[0]
    elif state == "completed":
        session = lc.finish(started()[0], T0 + 600)
    else:
        session = lc.drop(started()[0], T0 + 600, keep_recording=True)
    assert not can_reinvite(session, T0 + 700)
    with pytest.raises(lc.InterviewRefused) as refused:
        lc.reinvite(session, T0 + 700, hash_token(mint_token(IDS)))
    assert refused.value.reason == lc.NOT_REINVITABLE


# -- result availability ----------------------------------------------------------------------
def test_recording_and_transcript_are_served_only_once_there_is_a_result():
    session, _ = new_session()
    live, _ = started()
    done = lc.finish(live, T0 + 600)
    dropped = lc.drop(live, T0 + 600)
    for part in ("recording", "transcript"):
        assert lc.result_unavailable_code(session, T0 + 1, part) == lc.RESULT_NOT_READY
        assert lc.result_unavailable_code(live, T0 + 100, part) == lc.RESULT_NOT_READY
        assert lc.result_unavailable_code(done, T0 + 700, part) is None
        assert lc.result_unavailable_code(dropped, T0 + 700, part) == lc.NO_RESULT
        assert lc.result_unavailable_code(live, T0 + 60 + lc.MAX_INTERVIEW_SECONDS, part) == lc.NO_RESULT


# -- views against the contract -------------------------------------------------------------
def _all_states() -> dict[str, tuple[lc.Session, float]]:
    initiated, token = new_session(lc.CONSENT_EXPLICIT)
    opened = lc.give_consent(initiated, token, T0 + 30)
    live = lc.start(opened, token, T0 + 60, live_sessions=0, max_concurrent=None)
    return {
        "initiated": (initiated, T0 + 1),
        "opened_and_consented": (opened, T0 + 31),
        "in_progress": (live, T0 + 120),
        "completed": (lc.finish(live, T0 + 1351.5), T0 + 1400),
        "timed_out": (live, T0 + 60 + lc.MAX_INTERVIEW_SECONDS + 1),
        "link_expired": (initiated, T0 + lc.DEFAULT_EXPIRES_IN),
        "dropped_with_recording": (lc.drop(live, T0 + 400, keep_recording=True), T0 + 500),
    }


@pytest.mark.parametrize("state", list(_all_states()))
def test_session_view_conforms_to_its_status_branch(state):
    session, now = _all_states()[state]
    view = lc.session_view(session, now)
    assert_conforms("InterviewSession", view)
    branch = {"initiated": "InterviewSessionInitiated", "in_progress": "InterviewSessionInProgress",
              "completed": "InterviewSessionCompleted", "failed": "InterviewSessionFailed"}
    assert_conforms(branch[view["status"]], view)
    assert_conforms("InterviewSessionSummary", lc.summary_row(session, now))


@pytest.mark.parametrize("state", list(_all_states()))
def test_views_never_carry_the_token_or_the_link(state):
    session, now = _all_states()[state]
    text = json.dumps([lc.session_view(session, now), lc.summary_row(session, now)])
    assert session.token_hash not in text and "#t=" not in text and "candidate_link" not in text
    assert "session_id" not in text and "request_id" not in text


def test_top_level_id_and_status_are_the_last_such_keys_in_the_compact_json():
    session, now = _all_states()["completed"]
    for body in (lc.session_view(session, now), lc.summary_row(session, now),
                 lc.created_view(new_session()[0], candidate_link(None, mint_token(IDS)))):
        text = json.dumps(body, separators=(",", ":"))
        assert list(body)[-2:] == ["id", "status"]
        assert re.findall(r'"status":"([^"]*)"', text)[-1] == body["status"]
        assert re.findall(r'"id":"([^"]*)"', text)[-1] == body["id"]


def test_created_view_conforms_and_is_the_only_view_with_the_link():
    session, token = new_session()
    link = candidate_link(None, token)
    view = lc.created_view(session, link)
    assert_conforms("InterviewSessionCreated", view)
    assert view["candidate_link"] == link and view["status"] == "initiated"
    assert view["expires_at"] == iso(T0 + lc.DEFAULT_EXPIRES_IN)


@pytest.mark.parametrize("state", ["completed", "timed_out", "link_expired", "dropped_with_recording"])
def test_webhook_event_conforms_and_carries_no_token_or_transcript(state):
    session, now = _all_states()[state]
    event = lc.webhook_event(session, now)
    assert_conforms("InterviewWebhookEvent", event)
    assert event["event"] == f"interview.session.{event['status']}"
    assert "turns" not in event and session.token_hash not in json.dumps(event)


def test_webhook_event_refuses_a_non_terminal_session():
    with pytest.raises(ValueError):
        lc.webhook_event(started()[0], T0 + 100)


def test_transcript_and_persona_bodies_conform():
    transcript = build_transcript("Backend Engineer", "ja", 300.0, SESSION_ID)
    assert_conforms("InterviewTranscript", transcript_body(SESSION_ID, "ja", 300.0, transcript))
    prompt, source = resolve_system_prompt("Backend Engineer", "ja", None)
    persona = {"role_name": "Backend Engineer", "language": "ja", "system_prompt": prompt,
               "system_prompt_source": source, "base_prompt_override": None,
               "created_at": iso(T0), "id": PERSONA_ID}
    assert_conforms("InterviewPersona", persona)


def test_lifecycle_vocabulary_matches_the_contract_enums():
    schemas = merged_spec()["components"]["schemas"]
    assert list(lc.STATUSES) == schemas["InterviewSessionStatus"]["enum"]
    assert list(lc.FAILURE_CODES) == schemas["InterviewFailureCode"]["enum"]
    assert list(lc.CONSENT_MODES) == schemas["InterviewConsentMode"]["enum"]
    expires_in = schemas["InterviewSessionCreateRequest"]["properties"]["expires_in"]
    assert (expires_in["minimum"], expires_in["maximum"], expires_in["default"]) == \
        (lc.MIN_EXPIRES_IN, lc.MAX_EXPIRES_IN, lc.DEFAULT_EXPIRES_IN)
    codes = _resolve(merged_spec()["components"]["responses"]["InterviewResultUnavailable"])
    assert {lc.RESULT_NOT_READY, lc.NO_RESULT} <= set(json.dumps(codes).split('"'))


# -- the fragment itself ----------------------------------------------------------------------
def test_fragment_merged_with_the_base_is_a_valid_openapi_document():
    validate_openapi(copy.deepcopy(merged_spec()))


@pytest.mark.parametrize("where,op", fragment_operations(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_operation_carries_the_contract_extensions(where, op):
    for key in ("operationId", "tags", "summary", "description", "x-provenance", "x-behaviours",
                "x-permission"):
        assert key in op, f"{where} lacks {key}"
    assert op["tags"] == ["Interview"] and op["x-permission"] == "interview"
    assert op["x-provenance"]["source"] in ("documented", "inferred")


def _examples() -> list[tuple[str, dict[str, Any], Any]]:
    found: list[tuple[str, dict[str, Any], Any]] = []

    def collect(media: dict[str, Any], where: str) -> None:
        if "schema" not in media:
            return
        if "example" in media:
            found.append((where, media["schema"], media["example"]))
        for name, example in media.get("examples", {}).items():
            found.append((f"{where}#{name}", media["schema"], example["value"]))

    for where, op in fragment_operations():
        if "requestBody" in op:
            for media in _resolve(op["requestBody"])["content"].values():
                collect(media, f"{where} request")
        for status, response in op.get("responses", {}).items():
            for media_type, media in _resolve(response).get("content", {}).items():
                if media_type == "application/json":
                    collect(media, f"{where} {status}")
    return found


@pytest.mark.parametrize("where,schema,example", _examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_example_validates_against_its_schema(where, schema, example):
    errors = [e.message for e in schema_validator(schema).iter_errors(example)]
    assert not errors, f"{where}: {errors}"


def test_every_fragment_schema_has_provenance():
    missing = [name for name, schema in merged_spec()["components"]["schemas"].items()
               if name.startswith("Interview") and "x-provenance" not in schema]
    assert not missing


def test_session_creation_is_a_submit_without_a_concurrency_429():
    spec = merged_spec()
    create = spec["paths"]["/api/v1/interview/personas/{personaId}/sessions"]["post"]
    assert create["x-submit"] is True
    limited = _resolve(create["responses"]["429"])
    assert "CONCURRENCY_LIMIT" not in json.dumps(limited)
    assert "RATE_LIMIT_EXCEEDED" in json.dumps(limited)
