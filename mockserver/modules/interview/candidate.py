"""What the candidate's side of an Interview sees (INTV-4..6): the view its page renders and
how each refusal is answered. Shared by the control-API actions and the mock's candidate web
page; no HTTP here.

The candidate view never carries the token, the session id or the integrator's correlation
fields (candidate_ref, metadata, tags): the candidate only needs what the interview UI shows
— the role, the language, the consent gate and the duration budget ("the candidate UI shows
the duration budget up front", Changelog).
"""

from __future__ import annotations

from typing import Any

from mockserver.clock import iso
from mockserver.modules.interview import lifecycle as lc
from mockserver.modules.interview.media import PHRASES
from mockserver.modules.interview.prompts import LANGUAGE_NAMES, normalise_role_name

# Refusal reason → HTTP status of the candidate/control action (inferred: the candidate
# side of the platform is not documented).
REFUSAL_STATUS: dict[str, int] = {
    lc.INVALID_TOKEN: 404,
    lc.LINK_EXPIRED: 410,
    lc.SESSION_ENDED: 409,
    lc.CONSENT_REQUIRED: 409,
    lc.NOT_LIVE: 409,
    lc.NOT_REINVITABLE: 409,
    lc.CONCURRENCY_LIMIT: 429,
}


def _iso_or_none(ts: float | None) -> str | None:
    return None if ts is None else iso(ts)


def candidate_view(session: lc.Session, now: float, budget_seconds: int) -> dict[str, Any]:
    """The session as the candidate's interview page sees it at ``now``. ``budget_seconds`` is
    the live time budget an interview starting now would get (a started one keeps its own)."""
    current = lc.settle(session, now)
    role = normalise_role_name(current.role_name)
    phrases = PHRASES.get(current.language, PHRASES["en"])
    return {
        "role_name": role,
        "language": current.language,
        "language_name": LANGUAGE_NAMES.get(current.language, current.language),
        "consent_mode": current.consent_mode,
        "consent_required": current.consent_mode == lc.CONSENT_EXPLICIT,
        "consent_given": current.consent_given_at is not None,
        "max_duration_seconds": current.max_duration_seconds or int(budget_seconds),
        "expires_at": iso(current.expires_at),
        "started_at": _iso_or_none(current.started_at),
        "ends_by": _iso_or_none(current.deadline_at) if current.status == lc.STATUS_IN_PROGRESS else None,
        "ended_at": _iso_or_none(current.ended_at),
        "error_code": current.error_code,
        "interviewer_greeting": phrases["greeting"].format(role=role),
        "interviewer_closing": phrases["closing"].format(role=role),
        "status": current.status,
    }

