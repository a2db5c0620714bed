"""Scenario-planned candidates for Interview sessions: what a rule's ``then.candidate`` means,
and which planned step of a session is due next.

A scenario rule matched at session creation can script the candidate, e.g. "joins after 2 h
and finishes after 25 min"::

    then:
      candidate:
        openAfterSeconds: 7000    # opens the link (default: when joining); omit both → never shows up
        consent: true             # explicit mode: accepts the consent gate on opening (false: declines)
        joinAfterSeconds: 7200    # starts the live interview, counted from session creation
        finishAfterSeconds: 1500  # completes, counted from the actual start
        dropAfterSeconds: 300     # or: leaves for good → failed CANDIDATE_DROPPED
        failAfterSeconds: 300     # or: a platform fault → failed INTERNAL_ERROR
        keepRecording: false      # drop/fail: keep what was captured as a partial result

Joined but no end given → the interview stays live until the time budget closes it
(SESSION_TIMEOUT). The plan is stored with the session and its steps are applied in time order
when the session's client is next looked at (``interview_sessions``), so nothing runs in the
background. A planned join refused by the live-interview cap is retried (``retry_join``). A
control or candidate action on the session replaces the plan: a human took over.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from mockserver.modules.interview.lifecycle import STATUS_INITIATED, STATUS_IN_PROGRESS, Session

OPEN, JOIN, END = "open", "join", "end"
FINISH, DROP, FAIL = "finish", "drop", "fail"
# Ends free slots before joins take them when both fall on the same instant.
_STEP_ORDER = {END: 0, OPEN: 1, JOIN: 2}
_END_KEYS = {"finishAfterSeconds": FINISH, "dropAfterSeconds": DROP, "failAfterSeconds": FAIL}
KNOWN_KEYS = frozenset({"openAfterSeconds", "consent", "joinAfterSeconds", "keepRecording", *_END_KEYS})


class PlanError(ValueError):
    """A scenario rule's ``candidate`` block is malformed."""


@dataclass(frozen=True)
class CandidatePlan:
    """Absolute virtual times for open/join; the end is relative to the actual start."""

    rule: str = ""
    open_at: float | None = None
    consent: bool = True
    join_at: float | None = None
    end: str | None = None
    end_after: float | None = None
    keep_recording: bool = False


def _seconds(spec: dict[str, Any], name: str, rule: str) -> float | None:
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise PlanError(f"rule {rule!r}: candidate.{name} must be a number of seconds ≥ 0")
    return float(value)


def parse_plan(spec: Any, created_at: float, rule: str = "") -> CandidatePlan:
    """The plan for a session created at ``created_at`` from a rule's ``then.candidate``."""
    if not isinstance(spec, dict):
        raise PlanError(f"rule {rule!r}: candidate must be a mapping")
    unknown = sorted(set(spec) - KNOWN_KEYS)
    if unknown:
        raise PlanError(f"rule {rule!r}: unknown candidate key(s) {', '.join(unknown)}; "
                        f"known: {', '.join(sorted(KNOWN_KEYS))}")
    for flag in ("consent", "keepRecording"):
        if flag in spec and not isinstance(spec[flag], bool):
            raise PlanError(f"rule {rule!r}: candidate.{flag} must be true or false")
    ends = [key for key in _END_KEYS if key in spec]
    if len(ends) > 1:
        raise PlanError(f"rule {rule!r}: give at most one of {', '.join(_END_KEYS)}")
    join = _seconds(spec, "joinAfterSeconds", rule)
    opened = _seconds(spec, "openAfterSeconds", rule)
    if ends and join is None:
        raise PlanError(f"rule {rule!r}: candidate.{ends[0]} needs joinAfterSeconds")
    if opened is not None and join is not None and opened > join:
        raise PlanError(f"rule {rule!r}: candidate.openAfterSeconds must not be after joinAfterSeconds")
    if opened is None:
        opened = join
    return CandidatePlan(
        rule=rule,
        open_at=None if opened is None else created_at + opened,
        consent=spec.get("consent", True),
        join_at=None if join is None else created_at + join,
        end=_END_KEYS[ends[0]] if ends else None,
        end_after=_seconds(spec, ends[0], rule) if ends else None,
        keep_recording=spec.get("keepRecording", False),
    )


def check_plan_spec(spec: Any, rule: str = "") -> None:
    """Raise ``PlanError`` if ``spec`` would not make a plan (used when scenarios load)."""
    parse_plan(spec, 0.0, rule)


def next_step(session: Session) -> tuple[float, str] | None:
    """``(at, step)`` of the session's next planned step, or None (no plan, or nothing left)."""
    plan = session.plan
    if not isinstance(plan, CandidatePlan):
        return None
    if session.status == STATUS_INITIATED:
        if plan.open_at is not None and session.opened_at is None:
            return plan.open_at, OPEN
        if plan.join_at is not None:
            return plan.join_at, JOIN
        return None
    if (session.status == STATUS_IN_PROGRESS and plan.end is not None
            and plan.end_after is not None and session.started_at is not None):
        return session.started_at + plan.end_after, END
    return None


def step_order(step: str) -> int:
    return _STEP_ORDER[step]


def planned_end_at(session: Session) -> float | None:
    """When a live planned session will end by its plan (None: only its time budget ends it)."""
    step = next_step(session)
    return step[0] if step is not None and step[1] == END else None


def retry_join(plan: CandidatePlan, at: float) -> CandidatePlan:
    return replace(plan, join_at=at)


def without_join(plan: CandidatePlan) -> CandidatePlan:
    """The candidate gave up joining (declined consent, or the link could not start)."""
    return replace(plan, join_at=None, end=None, end_after=None)


def plan_from_doc(doc: dict[str, Any] | None) -> CandidatePlan | None:
    return None if doc is None else CandidatePlan(**doc)
