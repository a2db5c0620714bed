"""Interview API (Interview API reference, Create a persona, Start a session, Get a persona,
Get recording, Changelog): the eight operations — create/list/get personas, start a session
(candidate link), list/get sessions, recording, transcript — simulating INTV-1..10 and CRED-5.

The candidate's side (open the link, consent, go live, finish, drop) and the console's
re-invite are not API operations: they are driven through the control API, scenario rules or
the mock's candidate web page (``interview_web``). The rules live in ``interview_*`` modules.
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from mockserver.errors import ApiError, validation_error
from mockserver.modules.interview import lifecycle as lc
from mockserver.media.speech_synth import wav_size
from mockserver.modules.interview.media import build_transcript, transcript_body, wav_stream
from mockserver.modules.interview.personas import (
    PERSONA_KIND, create_persona, find_persona, persona_row, persona_view, personas_newest_first,
)
from mockserver.modules.interview.plan import PlanError, check_plan_spec
from mockserver.modules.interview.tokens import check_candidate_base_url
from mockserver.modules.interview.sessions import SessionBook
from mockserver.modules.interview.web import book_of, candidate_routes, control_routes
from mockserver.platform.api_module import ApiModule
from mockserver.platform.context import Ctx, Reply
from mockserver.platform.listing import decode_cursor, paginate, shared_filter
from mockserver.platform.metadata import check_tags, metadata_problems
from mockserver.platform.webhook_urls import admit_webhook_url
from mockserver.scenarios import ScenarioError

MODULE = "interview"
VALIDATION_CODE = "INVALID_INPUT"


# -- personas -----------------------------------------------------------------------------
def _persona_for(ctx: Ctx, persona_id: str) -> dict:
    """The caller's persona: 404 when nobody has it, 403 FORBIDDEN when another client does (A10)."""
    doc = ctx.platform.store.get(PERSONA_KIND, persona_id, owner=ctx.client_id)
    if doc is not None:
        return doc
    if find_persona(ctx.platform.store, persona_id) is None:
        raise ApiError(404, "NOT_FOUND", "No persona with this id.")
    raise ApiError(403, "FORBIDDEN")


async def create_interview_persona(ctx: Ctx) -> Reply:
    doc = create_persona(ctx.platform.store, ctx.platform.ids, ctx.client_id, ctx.input.json, ctx.now)
    return Reply(201, persona_view(doc))


async def list_interview_personas(ctx: Ctx) -> Reply:
    query = ctx.input.query
    before = decode_cursor(query["cursor"], VALIDATION_CODE) if "cursor" in query else None
    rows = ((entry.seq, entry.doc) for entry in personas_newest_first(ctx.platform.store, ctx.client_id, before))
    page, cursor = paginate(rows, query.get("limit", 20), lambda doc: True)
    return Reply(200, {"personas": [persona_row(doc) for doc in page], "next_cursor": cursor,
                       "has_more": cursor is not None})


async def get_interview_persona(ctx: Ctx) -> Reply:
    return Reply(200, persona_view(_persona_for(ctx, ctx.input.path["personaId"])))


# -- sessions -----------------------------------------------------------------------------
def _check_correlation(body: dict) -> None:
    """What the schema cannot say about metadata (8 KB total) and tags (distinct)."""
    fields: dict[str, list[str]] = {}
    if "metadata" in body:
        problems = metadata_problems(body["metadata"])
        if problems:
            fields["metadata"] = problems
    if body.get("tags"):
        try:
            check_tags(list(body["tags"]))
        except ValueError as exc:
            fields["tags"] = [str(exc)]
    if fields:
        raise validation_error(VALIDATION_CODE, fields)


def _check_credits(ctx: Ctx) -> None:
    """CRED-5: the minimum balance to start a session (nothing is charged at creation)."""
    book = book_of(ctx.platform)
    required = int(book.setting(ctx.client_id, "minSessionCredits", lc.MIN_SESSION_CREDIT_BALANCE))
    available = int(ctx.platform.ledger.summary(ctx.client_id, ctx.now, limit=0)["availableCredits"])
    if available < required:
        raise ApiError(402, "INSUFFICIENT_CREDITS", details={
            "required": required, "available": available, "shortfall": required - available})


async def create_interview_session(ctx: Ctx) -> Reply:
    persona = _persona_for(ctx, ctx.input.path["personaId"])
    body = ctx.input.json
    _check_correlation(body)
    if body.get("webhook_url"):
        admit_webhook_url(ctx.platform, body["webhook_url"])
    _check_credits(ctx)
    outcome = ctx.platform.scenarios.outcome(ctx.facts(
        MODULE, external_id=body.get("candidate_ref"), tags=list(body.get("tags") or []),
        metadata=dict(body.get("metadata") or {}), language=persona["language"])) or {}
    try:
        session, link = book_of(ctx.platform).create(
            client_id=ctx.client_id, api_key=ctx.key.key, project=ctx.key.project, persona=persona,
            body=body, plan_spec=outcome.get("candidate"), rule=outcome.get("_rule", ""), now=ctx.now)
    except PlanError as exc:
        raise ApiError(500, "INTERNAL_ERROR", f"The mock's scenario rule is invalid: {exc}") from None
    return Reply(201, lc.created_view(session, link))


async def list_interview_sessions(ctx: Ctx) -> Reply:
    query = ctx.input.query  # a metadata_value without metadata_key filters nothing (shared_filter)
    before = decode_cursor(query["cursor"], VALIDATION_CODE) if "cursor" in query else None
    rows = book_of(ctx.platform).newest_first(ctx.client_id, ctx.now, before)
    summaries = ((seq, lc.summary_row(session, ctx.now)) for seq, session in rows)
    page, cursor = paginate(summaries, query.get("limit", 20), shared_filter(query))
    return Reply(200, {"sessions": page, "next_cursor": cursor, "has_more": cursor is not None})


def _session_for(ctx: Ctx) -> lc.Session:
    session = book_of(ctx.platform).get(ctx.client_id, ctx.input.path["sessionId"], ctx.now)
    if session is None:
        raise ApiError(404, "NOT_FOUND", "No session with this id.")
    return lc.settle(session, ctx.now)


async def get_interview_session(ctx: Ctx) -> Reply:
    session = _session_for(ctx)
    headers = {}
    if session.status not in lc.TERMINAL_STATUSES:
        headers["Retry-After"] = str(ctx.platform.clock.advertise(lc.SUGGESTED_POLL_SECONDS))
    return Reply(200, lc.session_view(session, ctx.now), headers)


def _result_session(ctx: Ctx, part: str) -> lc.Session:
    session = _session_for(ctx)
    code = lc.result_unavailable_code(session, ctx.now, part)
    if code is not None:
        raise ApiError(409, code, details={"status": session.status})
    return session


async def _chunks(duration: float, seed: str) -> AsyncIterator[bytes]:
    for chunk in wav_stream(duration, seed):
        yield chunk
        await asyncio.sleep(0)  # let other requests run between chunks


async def get_interview_recording(ctx: Ctx) -> Reply:
    session = _result_session(ctx, "recording")
    duration = session.duration_seconds or 0.0
    headers = {"Content-Length": str(wav_size(duration)),
               "Content-Disposition": f'attachment; filename="{session.id}.wav"'}
    return Reply(200, headers=headers, media_type="audio/wav", stream=_chunks(duration, session.id))


async def get_interview_transcript(ctx: Ctx) -> Reply:
    session = _result_session(ctx, "transcript")
    duration = session.duration_seconds or 0.0
    turns = build_transcript(session.role_name, session.language, duration, session.id,
                             ended_normally=session.status == lc.STATUS_COMPLETED)
    return Reply(200, transcript_body(session.id, session.language, duration, turns))


HANDLERS = {
    "createInterviewPersona": create_interview_persona,
    "listInterviewPersonas": list_interview_personas,
    "getInterviewPersona": get_interview_persona,
    "createInterviewSession": create_interview_session,
    "listInterviewSessions": list_interview_sessions,
    "getInterviewSession": get_interview_session,
    "getInterviewRecording": get_interview_recording,
    "getInterviewTranscript": get_interview_transcript,
}


def check_scenarios(scenarios) -> None:
    """Refuse (at start and on reload) a malformed scripted-candidate plan."""
    for rule in scenarios.rules:
        if "candidate" in rule["then"]:
            try:
                check_plan_spec(rule["then"]["candidate"], rule.get("name", ""))
            except PlanError as exc:
                raise ScenarioError(f"interview scenario: {exc}") from None


def startup(platform) -> None:
    """Refuse a bad candidate base URL at start; play the sessions forward (and queue their
    callbacks) whenever the virtual clock jumps."""
    check_candidate_base_url(platform.settings.candidate_base_url)
    platform.scheduler.on_tick(book_of(platform).sweep)


API_MODULE = ApiModule(name="interview", tag="Interview", handlers=HANDLERS, check_scenarios=check_scenarios,
                       control_routes=control_routes, public_routes=candidate_routes, startup=startup,
                       state=SessionBook)
