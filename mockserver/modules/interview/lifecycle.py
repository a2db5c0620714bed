"""Interview session state machine on virtual time (INTV-2..6, INTV-9, INTV-10) and its public views.

A ``Session`` is an immutable record; every transition is a pure function taking ``now``
(virtual epoch seconds) and returning a new ``Session`` or raising ``InterviewRefused``
with a reason code. Nothing here reads a clock, touches HTTP or storage.

Lifecycle (public statuses)::

    initiated ──start──▶ in_progress ──finish──▶ completed   (recording + transcript)
        │                    ├──drop / fail──▶ failed     (CANDIDATE_DROPPED / INTERNAL_ERROR,
        │                    │                              with or without a partial result)
        │                    └──past budget──▶ failed     (SESSION_TIMEOUT, no result; at read time)
        └──token unused past expires_at──▶ failed          (LINK_EXPIRED, at read time)
    failed without a result ──reinvite──▶ initiated (fresh token, new expires_at)

Time-derived transitions (expiry, timeout) are applied by ``settle`` whenever a session is
read, so a manual clock needs no background work. Opening the link and consenting do not
change the public status (the candidate is still pre-interview); in ``explicit`` consent mode
``start`` is refused until consent was given. Reloads/reconnects while live are tolerated.

The candidate-side transitions come in two forms: ``open_link`` / ``give_consent`` / ``start``
take the candidate's token and check it against the stored hash; ``mark_opened`` /
``mark_consented`` / ``go_live`` apply the same rules without a token, for a scenario-planned
candidate (``interview_plan``) whose session the platform drives itself. ``plan`` holds that
plan (opaque here), ``callback_round`` which invite round's completion callback was queued.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from mockserver.clock import iso
from mockserver.modules.interview.tokens import token_matches

# -- statuses and modes -------------------------------------------------------------------
STATUS_INITIATED = "initiated"
STATUS_IN_PROGRESS = "in_progress"
STATUS_COMPLETED = "completed"
STATUS_FAILED = "failed"
STATUSES: tuple[str, ...] = (STATUS_INITIATED, STATUS_IN_PROGRESS, STATUS_COMPLETED, STATUS_FAILED)
TERMINAL_STATUSES: frozenset[str] = frozenset({STATUS_COMPLETED, STATUS_FAILED})

CONSENT_EXPLICIT = "explicit"
CONSENT_INTEGRATOR = "integrator"
CONSENT_MODES: tuple[str, ...] = (CONSENT_EXPLICIT, CONSENT_INTEGRATOR)

# -- time budgets (virtual seconds) -------------------------------------------------------
DEFAULT_EXPIRES_IN = 604_800          # the documented 7-day pre-use TTL
MIN_EXPIRES_IN = 60                   # inferred lower bound for a client-chosen TTL
MAX_EXPIRES_IN = 604_800              # a client may shorten the TTL, never extend it (inferred)
MAX_INTERVIEW_SECONDS = 2_700         # live budget before SESSION_TIMEOUT: 45 min (inferred)
SUGGESTED_POLL_SECONDS = 10           # Retry-After hint on non-terminal session reads (POLL-1 cadence)

# Minimum balance checked before a session is created (CRED-5). The docs give no figure;
# 15 mirrors the retired flat Speech floor ("≥ 15 credits to submit anything") — inferred.
MIN_SESSION_CREDIT_BALANCE = 15

# -- failure codes carried by a failed session (`error_code`) -----------------------------
SESSION_TIMEOUT = "SESSION_TIMEOUT"       # documented
CANDIDATE_DROPPED = "CANDIDATE_DROPPED"   # inferred: candidate left and never came back
LINK_EXPIRED = "LINK_EXPIRED"             # inferred: the token expired unused
INTERNAL_ERROR = "INTERNAL_ERROR"         # inferred: platform fault during the live interview
FAILURE_CODES: tuple[str, ...] = (SESSION_TIMEOUT, CANDIDATE_DROPPED, LINK_EXPIRED, INTERNAL_ERROR)

# -- refusal reasons (candidate side and console actions) ---------------------------------
INVALID_TOKEN = "INVALID_TOKEN"
SESSION_ENDED = "SESSION_ENDED"
CONSENT_REQUIRED = "CONSENT_REQUIRED"
CONCURRENCY_LIMIT = "CONCURRENCY_LIMIT"
NOT_LIVE = "NOT_LIVE"
NOT_REINVITABLE = "NOT_REINVITABLE"

REFUSAL_MESSAGES: dict[str, str] = {
    INVALID_TOKEN: "This interview link is not valid.",
    LINK_EXPIRED: "This interview link has expired.",
    SESSION_ENDED: "This interview has already ended; the link cannot start a new one.",
    CONSENT_REQUIRED: "The candidate must give consent before the interview can start.",
    CONCURRENCY_LIMIT: "Too many interviews are running for this account right now. Try again shortly.",
    NOT_LIVE: "The interview is not in progress.",
    NOT_REINVITABLE: "Only a session that ended without a result can be re-invited.",
}

# Result-availability codes for the recording/transcript reads (INTV-7, inferred 409 codes).
RESULT_NOT_READY = "RESULT_NOT_READY"
NO_RESULT = "NO_RESULT"


class InterviewRefused(Exception):
    """A transition the lifecycle does not allow; ``reason`` is one of the refusal codes."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        self.message = message or REFUSAL_MESSAGES.get(reason, reason)
        super().__init__(f"{reason}: {self.message}")


@dataclass(frozen=True)
class Session:
    """One interview session. Only the token's hash is ever held (INTV-3)."""

    id: str
    client_id: str
    persona_id: str
    consent_mode: str
    token_hash: str
    created_at: float
    expires_in: int
    expires_at: float
    candidate_ref: str | None = None
    project: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    webhook_url: str | None = None
    status: str = STATUS_INITIATED
    opened_at: float | None = None
    consent_given_at: float | None = None
    started_at: float | None = None
    deadline_at: float | None = None
    max_duration_seconds: int | None = None
    ended_at: float | None = None
    error_code: str | None = None
    has_recording: bool = False
    has_transcript: bool = False
    duration_seconds: float | None = None
    invite_count: int = 1
    role_name: str = ""
    language: str = "en"
    plan: Any = None
    callback_round: int = 0

    @property
    def has_result(self) -> bool:
        return self.has_recording or self.has_transcript


# -- creation -----------------------------------------------------------------------------
def create_session(*, session_id: str, client_id: str, persona_id: str, consent_mode: str,
                   token_hash: str, now: float, expires_in: int = DEFAULT_EXPIRES_IN,
                   candidate_ref: str | None = None, project: str | None = None,
                   metadata: dict[str, Any] | None = None, tags: Iterable[str] | None = None,
                   webhook_url: str | None = None, role_name: str = "", language: str = "en",
                   plan: Any = None) -> Session:
    """A new ``initiated`` session whose token expires ``expires_in`` seconds from ``now``.
    ``role_name`` / ``language`` are the persona's (transcripts follow them); ``plan`` is a
    scenario-planned candidate, if any."""
    if consent_mode not in CONSENT_MODES:
        raise ValueError(f"consent_mode must be one of {CONSENT_MODES}, not {consent_mode!r}")
    if not (MIN_EXPIRES_IN <= expires_in <= MAX_EXPIRES_IN):
        raise ValueError(f"expires_in must be within {MIN_EXPIRES_IN}..{MAX_EXPIRES_IN}")
    return Session(
        id=session_id, client_id=client_id, persona_id=persona_id, consent_mode=consent_mode,
        token_hash=token_hash, created_at=now, expires_in=int(expires_in),
        expires_at=now + expires_in, candidate_ref=candidate_ref, project=project,
        metadata=dict(metadata or {}), tags=tuple(tags or ()), webhook_url=webhook_url,
        role_name=role_name, language=language, plan=plan,
    )


# -- time-derived state -------------------------------------------------------------------
def settle(session: Session, now: float) -> Session:
    """Apply the transitions time alone causes: unused-link expiry and the live-time budget."""
    if session.status == STATUS_INITIATED and now >= session.expires_at:
        return replace(session, status=STATUS_FAILED, error_code=LINK_EXPIRED,
                       ended_at=session.expires_at)
    if (session.status == STATUS_IN_PROGRESS and session.deadline_at is not None
            and now >= session.deadline_at):
        return replace(session, status=STATUS_FAILED, error_code=SESSION_TIMEOUT,
                       ended_at=session.deadline_at, has_recording=False, has_transcript=False,
                       duration_seconds=None)
    return session


def effective_status(session: Session, now: float) -> str:
    return settle(session, now).status


def is_live(session: Session, now: float) -> bool:
    """Whether the session holds a concurrent-interview slot at ``now`` (INTV-6)."""
    return effective_status(session, now) == STATUS_IN_PROGRESS


# -- candidate-side transitions -----------------------------------------------------------
def verify_token(session: Session, token: str) -> Session:
    """Refuse a token that is not this session's (only its hash is compared)."""
    if not token_matches(token, session.token_hash):
        raise InterviewRefused(INVALID_TOKEN)
    return session


def admissible(session: Session, now: float) -> Session:
    """Settle, and refuse a link that can no longer start anything (expired or ended)."""
    current = settle(session, now)
    if current.status == STATUS_FAILED and current.error_code == LINK_EXPIRED:
        raise InterviewRefused(LINK_EXPIRED)
    if current.status in TERMINAL_STATUSES:
        raise InterviewRefused(SESSION_ENDED)
    return current


def mark_opened(session: Session, now: float) -> Session:
    """The candidate opens the link. First open is recorded; reloads while live change nothing."""
    current = admissible(session, now)
    if current.status == STATUS_INITIATED and current.opened_at is None:
        return replace(current, opened_at=now)
    return current


def mark_consented(session: Session, now: float) -> Session:
    """The candidate accepts the consent gate (``explicit`` mode; a no-op in ``integrator`` mode)."""
    current = mark_opened(session, now)
    if (current.consent_mode == CONSENT_EXPLICIT and current.status == STATUS_INITIATED
            and current.consent_given_at is None):
        return replace(current, consent_given_at=now)
    return current


def go_live(session: Session, now: float, *, live_sessions: int, max_concurrent: int | None,
            max_interview_seconds: int = MAX_INTERVIEW_SECONDS) -> Session:
    """The candidate starts the live interview.

    ``live_sessions`` is how many of the client's other sessions are live at ``now``;
    ``max_concurrent`` the client's cap (None = no cap). A reconnect to an interview that is
    already live is tolerated and changes nothing (it already holds its slot).
    """
    current = mark_opened(session, now)
    if current.status == STATUS_IN_PROGRESS:
        return current
    if current.consent_mode == CONSENT_EXPLICIT and current.consent_given_at is None:
        raise InterviewRefused(CONSENT_REQUIRED)
    if max_concurrent is not None and live_sessions >= max_concurrent:
        raise InterviewRefused(CONCURRENCY_LIMIT)
    if max_interview_seconds <= 0:
        raise ValueError("max_interview_seconds must be positive")
    return replace(current, status=STATUS_IN_PROGRESS, started_at=now,
                   deadline_at=now + max_interview_seconds,
                   max_duration_seconds=int(max_interview_seconds))


def open_link(session: Session, token: str, now: float) -> Session:
    """``mark_opened`` for the holder of the link's token."""
    return mark_opened(verify_token(session, token), now)


def give_consent(session: Session, token: str, now: float) -> Session:
    """``mark_consented`` for the holder of the link's token."""
    return mark_consented(verify_token(session, token), now)


def start(session: Session, token: str, now: float, *, live_sessions: int,
          max_concurrent: int | None, max_interview_seconds: int = MAX_INTERVIEW_SECONDS) -> Session:
    """``go_live`` for the holder of the link's token."""
    return go_live(verify_token(session, token), now, live_sessions=live_sessions,
                   max_concurrent=max_concurrent, max_interview_seconds=max_interview_seconds)


def _live(session: Session, now: float) -> Session:
    current = settle(session, now)
    if current.status in TERMINAL_STATUSES:
        raise InterviewRefused(SESSION_ENDED)
    if current.status != STATUS_IN_PROGRESS:
        raise InterviewRefused(NOT_LIVE)
    return current


def _elapsed(current: Session, now: float) -> float:
    return round(max(0.0, now - (current.started_at or now)), 3)


def finish(session: Session, now: float) -> Session:
    """The interview ends normally: ``completed`` with a recording and a transcript."""
    current = _live(session, now)
    return replace(current, status=STATUS_COMPLETED, ended_at=now,
                   duration_seconds=_elapsed(current, now), has_recording=True,
                   has_transcript=True, error_code=None)


def fail(session: Session, now: float, error_code: str, *, keep_recording: bool = False) -> Session:
    """The live interview ends without completing. ``keep_recording`` keeps what was captured
    up to ``now`` as a (partial) result, which makes the session non-re-invitable."""
    if error_code not in FAILURE_CODES:
        raise ValueError(f"unknown interview failure code {error_code!r}")
    current = _live(session, now)
    return replace(current, status=STATUS_FAILED, ended_at=now, error_code=error_code,
                   has_recording=keep_recording, has_transcript=keep_recording,
                   duration_seconds=_elapsed(current, now) if keep_recording else None)


def drop(session: Session, now: float, *, keep_recording: bool = False) -> Session:
    """The candidate left the live interview and did not come back (``CANDIDATE_DROPPED``)."""
    return fail(session, now, CANDIDATE_DROPPED, keep_recording=keep_recording)


# -- console action -----------------------------------------------------------------------
def reinvite(session: Session, now: float, token_hash: str, *, plan: Any = None) -> Session:
    """Re-invite after an end without a result (INTV-9): back to ``initiated`` with a fresh
    token (its hash given here), a new expiry, the failure cleared; persona, candidate_ref,
    project, tags and metadata kept. ``plan`` replaces any scenario plan (None: none)."""
    current = settle(session, now)
    if current.status not in TERMINAL_STATUSES or current.has_result:
        raise InterviewRefused(NOT_REINVITABLE)
    return replace(current, status=STATUS_INITIATED, token_hash=token_hash,
                   expires_at=now + current.expires_in, opened_at=None, consent_given_at=None,
                   started_at=None, deadline_at=None, max_duration_seconds=None, ended_at=None,
                   error_code=None, has_recording=False, has_transcript=False,
                   duration_seconds=None, invite_count=current.invite_count + 1, plan=plan)


# -- result availability (recording / transcript reads) -----------------------------------
def result_unavailable_code(session: Session, now: float, part: str) -> str | None:
    """None when ``part`` (``recording`` | ``transcript``) can be served; else the 409 code:
    ``RESULT_NOT_READY`` while the session may still produce one, ``NO_RESULT`` once it ended
    without one."""
    if part not in ("recording", "transcript"):
        raise ValueError(f"unknown result part {part!r}")
    current = settle(session, now)
    available = current.has_recording if part == "recording" else current.has_transcript
    if available:
        return None
    return NO_RESULT if current.status in TERMINAL_STATUSES else RESULT_NOT_READY


# -- public views (key order: nested objects first, top-level id/status last — JSON-1) ----
def _iso_or_none(ts: float | None) -> str | None:
    return None if ts is None else iso(ts)


def created_view(session: Session, link: str) -> dict[str, Any]:
    """The 201 body of session creation — the only place the candidate link appears."""
    return {
        "candidate_link": link,
        "expires_in": session.expires_in,
        "expires_at": iso(session.expires_at),
        "consent_mode": session.consent_mode,
        "persona_id": session.persona_id,
        "candidate_ref": session.candidate_ref,
        "project": session.project,
        "metadata": dict(session.metadata),
        "tags": list(session.tags),
        "created_at": iso(session.created_at),
        "id": session.id,
        "status": STATUS_INITIATED,
    }


def session_view(session: Session, now: float) -> dict[str, Any]:
    """``GET /sessions/{id}``: the settled session; never the token or the link (INTV-3)."""
    current = settle(session, now)
    body: dict[str, Any] = {
        "persona_id": current.persona_id,
        "consent_mode": current.consent_mode,
        "candidate_ref": current.candidate_ref,
        "project": current.project,
        "metadata": dict(current.metadata),
        "tags": list(current.tags),
        "expires_at": iso(current.expires_at),
        "created_at": iso(current.created_at),
        "opened_at": _iso_or_none(current.opened_at),
        "consent_given_at": _iso_or_none(current.consent_given_at),
        "has_recording": current.has_recording,
        "has_transcript": current.has_transcript,
    }
    if current.status == STATUS_IN_PROGRESS:
        body["started_at"] = _iso_or_none(current.started_at)
        body["max_duration_seconds"] = current.max_duration_seconds
    elif current.status == STATUS_COMPLETED:
        body["started_at"] = _iso_or_none(current.started_at)
        body["completed_at"] = _iso_or_none(current.ended_at)
        body["duration_seconds"] = current.duration_seconds
    elif current.status == STATUS_FAILED:
        body["error_code"] = current.error_code
        body["started_at"] = _iso_or_none(current.started_at)
        body["failed_at"] = _iso_or_none(current.ended_at)
        body["duration_seconds"] = current.duration_seconds
    body["id"] = current.id
    body["status"] = current.status
    return body


def summary_row(session: Session, now: float) -> dict[str, Any]:
    """A compact list row (LIST-4)."""
    current = settle(session, now)
    return {
        "persona_id": current.persona_id,
        "consent_mode": current.consent_mode,
        "candidate_ref": current.candidate_ref,
        "project": current.project,
        "metadata": dict(current.metadata),
        "tags": list(current.tags),
        "error_code": current.error_code,
        "created_at": iso(current.created_at),
        "id": current.id,
        "status": current.status,
    }


def webhook_event(session: Session, now: float) -> dict[str, Any]:
    """The optional integrator callback body for a terminal session (A4): no token, no
    transcript text — the recording and transcript stay in-platform."""
    current = settle(session, now)
    if current.status not in TERMINAL_STATUSES:
        raise ValueError("only a terminal session has a completion event")
    body: dict[str, Any] = {
        "event": f"interview.session.{current.status}",
        "persona_id": current.persona_id,
        "candidate_ref": current.candidate_ref,
        "has_recording": current.has_recording,
        "has_transcript": current.has_transcript,
        "completed_at": _iso_or_none(current.ended_at),
    }
    if current.status == STATUS_FAILED:
        body["error_code"] = current.error_code
    body["id"] = current.id
    body["status"] = current.status
    return body
