"""Detectors for the request rules: each reads one client's journal (oldest first) and returns
the entries that broke its rule, each with a short `why`.

Time: every interval is measured as the client lived it. Journal entries carry the virtual
epoch of the request; dividing by the clock's scale gives the client's real seconds in a
scaled clock, and in a manual clock the virtual seconds a test moved between two calls stand
for the seconds its client waited — the same conversion the mock applies when it advertises
`Retry-After` / `pollIntervalSeconds` (README "Clock", CLOCK-2). The 10-second poll minimum is
the mock's own throttle (virtual time), so its evidence is the 429 POLL_RATE_LIMITED answers.

Each request is judged by at most one of the timing rules: a request after a 429/503 by
RETRY_AFTER_IGNORED, a poll answered 429 by POLL_TOO_FAST, any other poll by
POLL_INTERVAL_IGNORED.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .rules import RuleBook

POLL_THROTTLE_CODES = frozenset({"POLL_RATE_LIMITED", "RATE_LIMITED"})
RATE_LIMIT_CODE = "RATE_LIMIT_EXCEEDED"


@dataclass
class Trail:
    """What the detectors read about one client."""

    entries: list[dict[str, Any]]          # journal entries, oldest first, each with "_t", "_i"
    book: RuleBook
    submit_ops: frozenset[str]             # operations marked x-submit in the contract
    credit_changes: list[float] = field(default_factory=list)    # virtual epochs that raised available credits
    told_terminal: dict[str, float] = field(default_factory=dict)  # run → virtual epoch a webhook delivered it
    deliveries: list[dict] = field(default_factory=list)
    probes: list[dict] = field(default_factory=list)
    webhook_timeout: float = 10.0

    def ops(self, group: str) -> frozenset[str]:
        return self.book.operations[group]

    @property
    def tol(self) -> float:
        return self.book.thresholds["tolerance_seconds"]

    def terminal(self, entry: dict) -> bool:
        return entry.get("status", 0) < 300 and entry.get("runStatus") in self.book.terminal_statuses


Violation = tuple[dict, str]  # (journal entry or webhook attempt, why)
DETECTORS: dict[str, Callable[[Trail], list[Violation]]] = {}


def detector(fn: Callable[[Trail], list[Violation]]) -> Callable[[Trail], list[Violation]]:
    DETECTORS[fn.__name__] = fn
    return fn


def _secs(seconds: float) -> str:
    return f"{seconds:.2f}".rstrip("0").rstrip(".") + " s"


# -- the timing rules ------------------------------------------------------------------------

def _next_in_scope(trail: Trail, at: int) -> dict | None:
    """The request after entries[at] that its Retry-After governs."""
    first = trail.entries[at]
    op = first.get("operation")
    polls = trail.ops("poll")
    for entry in trail.entries[at + 1:]:
        if op in polls:
            if entry.get("operation") == op and entry.get("run") == first.get("run"):
                return entry
        elif first.get("code") == RATE_LIMIT_CODE and op in trail.submit_ops:
            if entry.get("operation") in trail.submit_ops:
                return entry
        elif entry.get("operation") == op:
            return entry
    return None


def _retry_after_breaches(trail: Trail) -> list[Violation]:
    out = []
    for i, entry in enumerate(trail.entries):
        given = entry.get("retryAfter")
        if given is None or entry.get("status") not in (429, 503):
            continue
        nxt = _next_in_scope(trail, i)
        if nxt is None:
            continue
        waited = nxt["_t"] - entry["_t"]
        if waited < given - trail.tol:
            out.append((nxt, f"{_secs(waited)} after a {entry['status']} {entry.get('code', '')} "
                             f"that said Retry-After: {given}"))
    return out


@detector
def retry_after_ignored(trail: Trail) -> list[Violation]:
    return _retry_after_breaches(trail)


@detector
def poll_too_fast(trail: Trail) -> list[Violation]:
    judged = {id(e) for e, _ in _retry_after_breaches(trail)}
    polls = trail.ops("poll")
    return [(e, f"poll of {e.get('run')} answered 429 {e['code']}") for e in trail.entries
            if e.get("operation") in polls and e.get("status") == 429
            and e.get("code") in POLL_THROTTLE_CODES and id(e) not in judged]


def _by_run(trail: Trail) -> dict[str, list[dict]]:
    """Per run: the submit that created it and every poll of it, oldest first."""
    polls, submits = trail.ops("poll"), trail.ops("run_submit")
    runs: dict[str, list[dict]] = {}
    for e in trail.entries:
        run = e.get("run")
        if run is None:
            continue
        if e.get("operation") in polls or (e.get("operation") in submits and e.get("status", 0) < 300):
            runs.setdefault(run, []).append(e)
    return runs


@detector
def poll_interval_ignored(trail: Trail) -> list[Violation]:
    polls = trail.ops("poll")
    out = []
    for seq in _by_run(trail).values():
        for prev, cur in zip(seq, seq[1:]):
            if cur.get("operation") not in polls or cur.get("status") == 429:
                continue
            if prev.get("status", 0) >= 300 or trail.terminal(prev):
                continue
            advertised = prev.get("pollInterval") or prev.get("retryAfter")
            if advertised is None:
                continue
            waited = cur["_t"] - prev["_t"]
            if waited < advertised - trail.tol:
                out.append((cur, f"polled {_secs(waited)} after an answer with pollIntervalSeconds {advertised}"))
    return out


@detector
def submit_backoff_missing(trail: Trail) -> list[Violation]:
    factor = trail.book.thresholds["backoff_factor"]
    streak_needed = int(trail.book.thresholds["backoff_streak"])
    attempts: dict[str, list[dict]] = {}
    for e in trail.entries:
        if e.get("operation") in trail.submit_ops and e.get("fp"):
            attempts.setdefault(e["fp"], []).append(e)
    out = []
    for seq in attempts.values():
        streak = 0
        for j, entry in enumerate(seq):
            if streak >= streak_needed - 1:
                before, last = seq[j - 2], seq[j - 1]
                waited, previous = entry["_t"] - last["_t"], last["_t"] - before["_t"]
                if waited < factor * previous - trail.tol or waited <= trail.tol:
                    out.append((entry, f"waited {_secs(waited)} after {streak} RATE_LIMIT_EXCEEDED in a row "
                                       f"(the wait before was {_secs(previous)})"))
            rejected = entry.get("status") == 429 and entry.get("code") == RATE_LIMIT_CODE
            streak = streak + 1 if rejected else 0
    return out


# -- retrying what will fail the same way ----------------------------------------------------

def _repeats_after(trail: Trail, status: int, identity: Callable[[dict], Any],
                   counts: Callable[[dict, dict], bool]) -> list[Violation]:
    """Entries whose ``identity`` matches an earlier one answered ``status`` (one pass)."""
    out: list[Violation] = []
    failed: dict[Any, dict] = {}
    for e in trail.entries:
        ident = identity(e)
        if ident is None:
            continue
        first = failed.get(ident)
        if first is not None and counts(first, e):
            out.append((e, f"sent again after {status} {first.get('code', '')} at {first['time']}"))
        if e.get("status") == status:
            failed[ident] = e
    return out


@detector
def retry_400(trail: Trail) -> list[Violation]:
    return _repeats_after(trail, 400, lambda e: e.get("fp"), lambda a, b: True)


@detector
def retry_401(trail: Trail) -> list[Violation]:
    return _repeats_after(trail, 401, lambda e: e.get("keyId"), lambda a, b: b.get("status") == 401)


@detector
def retry_403(trail: Trail) -> list[Violation]:
    return _repeats_after(trail, 403, lambda e: (e["fp"], e.get("keyId")) if e.get("fp") else None,
                          lambda a, b: b.get("status") == 403)


@detector
def retry_402(trail: Trail) -> list[Violation]:
    def no_credit_change(a: dict, b: dict) -> bool:
        # inclusive: a top-up in the same instant as the 402 gets the benefit of the doubt
        return not any(a["epoch"] <= at <= b["epoch"] for at in trail.credit_changes)
    return _repeats_after(trail, 402, lambda e: e.get("fp"), no_credit_change)


# -- submitting again instead of polling -----------------------------------------------------

@dataclass(frozen=True)
class Repeat:
    """A submit of the same input as an earlier attempt (same operation and fingerprint)."""

    prev: dict        # the attempt just before it
    entry: dict       # the repeat
    pending: bool     # an earlier run of this input was not known terminal to the client yet
    failed: bool      # the attempt just before it was answered 5xx
    new_run: bool     # the repeat started another run


def _repeat_submits(trail: Trail) -> list[Repeat]:
    submits = trail.ops("run_submit")
    seen_terminal: dict[str, float] = dict(trail.told_terminal)
    for e in trail.entries:
        if e.get("run") and trail.terminal(e):
            seen_terminal.setdefault(e["run"], e["epoch"])
    groups: dict[tuple, list[dict]] = {}
    created: set[str] = set()
    out = []
    for e in trail.entries:
        if e.get("operation") not in submits or not e.get("fp"):
            continue
        group = groups.setdefault((e["operation"], e["fp"]), [])
        new_run = bool(e.get("status", 0) < 300 and e.get("run") and not e.get("replay") and e["run"] not in created)
        if group:
            pending = any(p.get("status", 0) < 300 and p.get("run")
                          and seen_terminal.get(p["run"], float("inf")) > e["epoch"] for p in group)
            out.append(Repeat(group[-1], e, pending, group[-1].get("status", 0) >= 500, new_run))
        if new_run:
            created.add(e["run"])
        group.append(e)
    return out


@detector
def resubmit_while_pending(trail: Trail) -> list[Violation]:
    keyed = trail.ops("keyed_submit")
    return [(r.entry, f"same input as the submit at {r.prev['time']}, whose run was still pending; "
                      f"another run {r.entry.get('run')} was started")
            for r in _repeat_submits(trail)
            if r.pending and r.new_run and r.entry["operation"] not in keyed]


@detector
def idempotency_key_missing(trail: Trail) -> list[Violation]:
    keyed = trail.ops("keyed_submit")
    return [(r.entry, f"same input as the submit at {r.prev['time']} ({r.prev['status']}), "
                      f"sent without an idempotency_key")
            for r in _repeat_submits(trail)
            if r.entry["operation"] in keyed and not r.prev.get("idem")
            and ((r.pending and r.new_run) or (r.failed and not r.entry.get("idem")))]


@detector
def idempotency_key_not_reused(trail: Trail) -> list[Violation]:
    keyed = trail.ops("keyed_submit")
    return [(r.entry, f"retry of the submit at {r.prev['time']} ({r.prev['status']} {r.prev.get('code', '')}) "
                      f"with {'another' if r.entry.get('idem') else 'no'} idempotency_key")
            for r in _repeat_submits(trail)
            if r.entry["operation"] in keyed and (r.pending or r.failed)
            and r.prev.get("idem") and r.entry.get("idem") != r.prev.get("idem")]


# -- reading runs ----------------------------------------------------------------------------

@detector
def poll_after_terminal(trail: Trail) -> list[Violation]:
    polls = trail.ops("poll")
    limit = int(trail.book.thresholds["terminal_repolls"])
    out = []
    for run, seq in _by_run(trail).items():
        extra, done = [], False
        for e in seq:
            if done and e.get("operation") in polls:
                extra.append(e)
            done = done or trail.terminal(e)
        if len(extra) >= limit:
            out.extend((e, f"poll #{n} of {run} after it was terminal") for n, e in enumerate(extra, 1))
    return out


@detector
def run_never_read(trail: Trail) -> list[Violation]:
    submits, reads = trail.ops("run_submit"), trail.ops("run_read")
    read = {e["run"] for e in trail.entries if e.get("operation") in reads and e.get("run")}
    return [(e, f"run {e['run']} was submitted and never polled (nor delivered by webhook)")
            for e in trail.entries
            if e.get("operation") in submits and e.get("status", 0) < 300 and e.get("run")
            and not e.get("replay") and e["run"] not in read and e["run"] not in trail.told_terminal]
