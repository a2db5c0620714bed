"""CV DeepSearch search runs: trigger, lifecycle, poll body, preview results, completion event
(CVDS-6, CVDS-7, CVDS-9, CVDS-11, HOOK-7).

A run is a timeline, not a state machine: it is `pending` until `finishes_at` (virtual
time), then `completed` or `failed` (A8). Whether it fails is known before it finishes
(`planned_error`: a scenario's injected failure, fixed at trigger time, or CORPUS_EMPTY when
no candidate of the named corpus will be embedded by `finishes_at` — re-checked when an
ingest lands before the finish), so a completion webhook can be queued ahead for exactly the
runs that complete. The ranking is computed once, by
`settle_run`, from the corpus as it stood at `finishes_at` (only `embedded` candidates of the
named corpus of the calling client are searched — the caller passes that client's
candidates), and kept on the run so later re-ingests do not rewrite a finished ranking.

`position_metadata` on a run is the plan it searched with: the position's cached plan
unless the trigger set `job_updated` (see `cvds_store.CvdsStore.plan_for`).

The poll body keeps `results: null, results_pending: true` unless the preview switch is on
(then a completed run carries its best-first list inline, and `results_page` pages it).
Idempotency, poll throttling, webhook URL checks and delivery live in the platform layer.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, replace
from typing import Any, Iterable

from mockserver.clock import iso
from mockserver.errors import validation_error
from mockserver.modules.cvdeepsearch.candidates import CandidateRecord
from mockserver.modules.cvdeepsearch.errors import require_corpus_id, results_not_ready, run_failed
from mockserver.modules.cvdeepsearch.ranking import rank_candidates
from mockserver.platform.listing import decode_cursor, encode_cursor

RUN_ID_PREFIX = "cvds_"
RUN_ID_LENGTH = 22
RUN_ID_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
TOP_N_DEFAULT = 100
TOP_N_CAP = 1000
SEARCH_SECONDS = 120.0  # the docs' example run: created 10:00:00, completed 10:02:00
RUN_SOURCE = "requests"
TERMINAL_STATUSES = ("completed", "failed")
RESULTS_LIMIT_DEFAULT = 20
RESULTS_LIMIT_MAX = 100
CORPUS_EMPTY_ERROR = {"code": "CORPUS_EMPTY", "message": "The corpus has no embedded candidates to search."}
SEARCH_FAILED_ERROR = {"code": "SEARCH_FAILED", "message": "The search pipeline failed while running."}


def new_run_id(rng: random.Random) -> str:
    """`cvds_` + 22 base62 characters (the docs' one example id has this shape)."""
    return RUN_ID_PREFIX + "".join(rng.choice(RUN_ID_ALPHABET) for _ in range(RUN_ID_LENGTH))


def clamp_top_n(value: int | None) -> int:
    """`top_n` default 100; values above the server cap (1000) are clamped, not rejected."""
    if value is None:
        return TOP_N_DEFAULT
    return min(int(value), TOP_N_CAP)


def is_terminal(status: str) -> bool:
    return status in TERMINAL_STATUSES


@dataclass(frozen=True)
class SearchRequest:
    """A contract-valid search body with the server-side rules applied."""

    corpus_id: str
    position_id: str
    position_metadata: dict[str, Any]
    top_n: int
    is_job_updated: bool
    webhook_url: str | None
    idempotency_key: str | None


def parse_search(body: dict[str, Any]) -> SearchRequest:
    """Apply the rules JSON Schema cannot: `corpus_id` fail-closed (MISSING_CORPUS_ID),
    `top_n` default and clamp, `job_updated` default false."""
    corpus_id = require_corpus_id(body.get("corpus_id"))
    position_metadata = body.get("position_metadata")
    if not isinstance(position_metadata, dict) or not position_metadata:
        raise validation_error("INVALID_INPUT", {"position_metadata": ["position_metadata must be a non-empty object."]})
    return SearchRequest(
        corpus_id=corpus_id,
        position_id=body["position_id"],
        position_metadata=position_metadata,
        top_n=clamp_top_n(body.get("top_n")),
        is_job_updated=bool(body.get("job_updated", False)),
        webhook_url=body.get("webhook_url"),
        idempotency_key=body.get("idempotency_key"),
    )


@dataclass(frozen=True)
class RunOutcome:
    status: str  # "completed" | "failed"
    results: tuple[dict[str, Any], ...] | None = None
    error: dict[str, str] | None = None


@dataclass(frozen=True)
class SearchRun:
    """One search run as stored (scoped to its client by the store)."""

    id: str
    corpus_id: str
    position_id: str
    position_metadata: dict[str, Any]
    is_job_updated: bool
    top_n: int
    webhook_url: str | None
    idempotency_key: str | None
    created_at: float
    finishes_at: float
    planned_error: dict[str, str] | None = None
    ending_forced: bool = False  # a scenario chose the ending; the corpus check does not apply
    outcome: RunOutcome | None = None

    @property
    def will_complete(self) -> bool:
        """True when the run ends `completed` (decided at trigger time)."""
        return self.planned_error is None

    def needs_settling(self, now: float) -> bool:
        """True once the run is due but its outcome has not been computed yet."""
        return self.outcome is None and now >= self.finishes_at

    def status(self, now: float) -> str:
        if now < self.finishes_at:
            return "pending"
        if self.outcome is None:
            raise ValueError(f"run {self.id} is due at {self.finishes_at} but was not settled")
        return self.outcome.status


def corpus_error(records: Iterable[CandidateRecord], corpus_id: str, at: float) -> dict[str, str] | None:
    """CORPUS_EMPTY when no candidate of `corpus_id` among `records` (the calling client's)
    will be searchable at `at`, as far as the store knows now; else None."""
    if any(record.corpus_id == corpus_id and record.is_searchable(at) for record in records):
        return None
    return dict(CORPUS_EMPTY_ERROR)


def start_run(request: SearchRequest, *, run_id: str, now: float, duration: float = SEARCH_SECONDS,
              plan: dict[str, Any] | None = None, planned_error: dict[str, str] | None = None,
              ending_forced: bool = False) -> SearchRun:
    """A new pending run for `request`, due `duration` virtual seconds from `now`, searching
    with `plan` (default: the request's own position_metadata) and ending `failed` with
    `planned_error` when one is given (`ending_forced`: by a scenario, for good)."""
    return SearchRun(
        id=run_id,
        corpus_id=request.corpus_id,
        position_id=request.position_id,
        position_metadata=plan if plan is not None else request.position_metadata,
        is_job_updated=request.is_job_updated,
        top_n=request.top_n,
        webhook_url=request.webhook_url,
        idempotency_key=request.idempotency_key,
        created_at=now,
        finishes_at=now + duration,
        planned_error=dict(planned_error) if planned_error is not None else None,
        ending_forced=ending_forced,
    )


def revived(run: SearchRun, records: Iterable[CandidateRecord], now: float) -> SearchRun | None:
    """The run, now due to complete, when it was due to fail CORPUS_EMPTY and its corpus has
    since gained a candidate embedded by its finish; else None (nothing changes)."""
    if run.ending_forced or run.planned_error is None or run.outcome is not None or now >= run.finishes_at:
        return None
    if corpus_error(records, run.corpus_id, run.finishes_at) is not None:
        return None
    return replace(run, planned_error=None)


def settle_run(run: SearchRun, candidates: Iterable[tuple[CandidateRecord, dict[str, Any]]]) -> SearchRun:
    """The run with its outcome: `failed` with its planned error, else `completed` with the
    best-first ranking of the candidates of its corpus that were `embedded` at `finishes_at`.
    `candidates` are the calling client's (record, parsed_cv) pairs; others are ignored."""
    if run.planned_error is not None:
        return replace(run, outcome=RunOutcome("failed", error=dict(run.planned_error)))
    searchable = [(record.external_id, parsed_cv) for record, parsed_cv in candidates
                  if record.corpus_id == run.corpus_id and record.is_searchable(run.finishes_at)]
    ranking = rank_candidates(run.position_metadata, searchable, run.top_n, now=run.created_at)
    return replace(run, outcome=RunOutcome("completed", results=tuple(ranking)))


def search_response(run: SearchRun, now: float, *, replay: bool = False) -> dict[str, Any]:
    """The trigger's 200 body; on an idempotent replay, the run's current status.
    `id`/`status` come last so no nested key follows them (JSON-1)."""
    if not replay:
        return {"id": run.id, "status": "pending"}
    return {"idempotent_replay": True, "id": run.id, "status": run.status(now)}


def run_body(run: SearchRun, now: float, *, preview: bool = False) -> dict[str, Any]:
    """The poll body (CvdsRun) at `now`."""
    status = run.status(now)
    body: dict[str, Any] = {
        "id": run.id,
        "status": status,
        "corpus_id": run.corpus_id,
        "position_id": run.position_id,
        "is_job_updated": run.is_job_updated,
        "top_n": run.top_n,
        "source": RUN_SOURCE,
        "created_at": iso(run.created_at),
    }
    if is_terminal(status):
        body["completed_at"] = iso(run.finishes_at)
    body["results"] = None
    body["results_pending"] = True
    if preview and status == "completed":
        body["results"] = [dict(item) for item in run.outcome.results]
        body["results_pending"] = False
    elif preview and status == "failed":
        body["results_pending"] = False
    if status == "failed":
        body["error"] = dict(run.outcome.error)
    return body


def results_page(run: SearchRun, now: float, *, cursor: str | None = None,
                 limit: int = RESULTS_LIMIT_DEFAULT) -> dict[str, Any]:
    """One page of a completed run's ranking (CvdsRunResultsPage, preview).
    Pending → 409 RESULTS_NOT_READY; failed → 409 RUN_FAILED. The ranking is a fixed
    snapshot, so the cursor carries an offset into it (platform cursor format)."""
    status = run.status(now)
    if status == "pending":
        raise results_not_ready()
    if status == "failed":
        raise run_failed()
    if not 1 <= limit <= RESULTS_LIMIT_MAX:
        raise validation_error("INVALID_INPUT", {"limit": [f"Must be between 1 and {RESULTS_LIMIT_MAX}."]})
    offset = decode_cursor(cursor, "INVALID_INPUT") if cursor else 0
    results = run.outcome.results
    page = results[offset:offset + limit]
    next_offset = offset + len(page)
    return {
        "results": [dict(item) for item in page],
        "next_cursor": encode_cursor(next_offset) if next_offset < len(results) else None,
        "id": run.id,
        "status": "completed",
    }


def completion_event(run: SearchRun) -> dict[str, Any]:
    """The provisional `cvdeepsearch.completed` webhook body (HOOK-7), for a run that
    completes (known at trigger time, so it can be queued then, due at `finishes_at`)."""
    if not run.will_complete:
        raise ValueError(f"run {run.id} ends failed; no completion event")
    return {
        "event": "cvdeepsearch.completed",
        "id": run.id,
        "corpus_id": run.corpus_id,
        "position_id": run.position_id,
        "status": "completed",
        "completed_at": iso(run.finishes_at),
    }
