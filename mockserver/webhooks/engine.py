"""The webhook delivery engine: queue, sign, attempt, retry, and the delivery log (HOOK-2..5, HOOK-8).

A delivery is one callback for one run. Its body is serialised once (compact JSON) and the
same bytes go out on every attempt. Each attempt is signed when it is made, with the
client's secret at that moment (rotation applies from the next attempt, documented) and
``t`` = the REAL (wall-clock) unix time of the HTTP attempt, in every clock mode (HOOK-8):
receivers reject a ``t`` more than 5 minutes from their own clock, so ``t`` is a transport
fact like a Date header, while the payload's timestamps stay virtual. The wall time comes
from the injected ``wall_time`` source (default: the clock's ``wall_now``). Results are
classified by ``policy``; retries are scheduled on the virtual clock.

The engine never sleeps and starts no tasks. Whoever drives it (a scheduler on real or
scaled clocks, the control API after advancing a manual clock, a test) calls ``run_due``
once ``next_due()`` is reached; ``drain`` repeats that until nothing is due now.
``subscribe`` tells a scheduler when ``next_due()`` may have changed.

Delivery record (JSON-compatible; the log returned by ``deliveries`` and what is persisted):
``{id, kind, client_id, run_id, url, state: pending|delivered|failed, created_at,
next_attempt_at, due_epoch, body, attempts: [{n, at, signed_at, signature_timestamp, url,
request_headers, body, status, error, error_detail, response_body_excerpt, duration_ms,
outcome: delivered|retry|permanent|exhausted, next_attempt_at}]}``. Times are ISO 8601 on
the virtual clock (``at`` = the attempt's virtual time), except ``signed_at``: the real time
the attempt was signed and sent, whose whole seconds are ``signature_timestamp`` (the ``t=``).
``due_epoch`` is the virtual epoch of the next attempt (None when done).
On construction every persisted record is loaded; pending ones resume at their due time
(at once when that has passed). An attempt cut off by a restart is made again.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from typing import Awaitable, Callable

from ..clock import Clock
from .admission import Resolver
from .persistence import DeliveryPersistence, InMemoryDeliveryStore
from .policy import classify, retry_delay
from .signing import HEADER_SCHEMES, compact_json, signed_headers
from .transport import DEFAULT_TIMEOUT_SECONDS, AttemptResult, HttpxTransport, Transport

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def new_delivery_id() -> str:
    return "whd_" + uuid.uuid4().hex


class WebhookEngine:
    """Signed, retried webhook deliveries for every product that calls back."""

    def __init__(self, clock: Clock, *, resolver: Resolver | None = None, allow_local: bool = False,
                 secret_for: Callable[[str], str], persistence: DeliveryPersistence | None = None,
                 timeout: float = DEFAULT_TIMEOUT_SECONDS, transport: Transport | None = None,
                 new_id: Callable[[], str] = new_delivery_id,
                 wall_time: Callable[[], float] | None = None) -> None:
        self.clock = clock
        self.wall_time: Callable[[], float] = wall_time if wall_time is not None else clock.wall_now
        self.secret_for = secret_for
        self.persistence: DeliveryPersistence = persistence if persistence is not None else InMemoryDeliveryStore()
        self.transport: Transport = transport if transport is not None else HttpxTransport(
            resolver=resolver, allow_local=allow_local, timeout=timeout)
        self._new_id = new_id
        self._deliveries: dict[str, dict] = {}
        self._bodies: dict[str, bytes] = {}
        self._in_flight: set[str] = set()
        self._listeners: list[Callable[[], None]] = []
        # Awaited after an attempt is delivered: (record, attempt) — client grading's receiver probes.
        self.after_delivered: list[Callable[[dict, dict], Awaitable[None]]] = []
        for record in sorted(self.persistence.load_all(), key=lambda r: r["created_at"]):
            self._deliveries[record["id"]] = record

    # -- queueing ------------------------------------------------------------------------
    def enqueue(self, *, kind: str, client_id: str, run_id: str, url: str, payload: dict,
                due_at: float | None = None) -> str:
        """Queue one callback; its first attempt is due at ``due_at`` (virtual epoch; default
        now — a run's callback is queued at submit, due when the run finishes).
        Returns the delivery id."""
        if kind not in HEADER_SCHEMES:
            raise ValueError(f"unknown webhook kind {kind!r}; expected one of {sorted(HEADER_SCHEMES)}")
        body = compact_json(payload)
        now = self.clock.now()
        first = now if due_at is None else max(due_at, now)
        delivery_id = self._new_id()
        record = {
            "id": delivery_id,
            "kind": kind,
            "client_id": client_id,
            "run_id": run_id,
            "url": url,
            "state": PENDING,
            "created_at": self.clock.iso(now),
            "next_attempt_at": self.clock.iso(first),
            "due_epoch": first,
            "body": body.decode("utf-8"),
            "attempts": [],
        }
        self._deliveries[delivery_id] = record
        self._bodies[delivery_id] = body
        self.persistence.save(record)
        self._notify()
        return delivery_id

    def subscribe(self, listener: Callable[[], None]) -> None:
        """``listener`` is called whenever ``next_due()`` may have changed."""
        self._listeners.append(listener)

    # -- running -------------------------------------------------------------------------
    def next_due(self) -> float | None:
        """Virtual epoch of the earliest pending attempt, or None when nothing is pending."""
        due = [r["due_epoch"] for r in self._waiting()]
        return min(due) if due else None

    async def run_due(self) -> int:
        """Make every attempt due at ``clock.now()`` (concurrently); returns how many."""
        now = self.clock.now()
        due = sorted((r for r in self._waiting() if r["due_epoch"] <= now), key=lambda r: r["due_epoch"])
        if not due:
            return 0
        for record in due:  # claimed before any await, so a concurrent run_due skips them
            self._in_flight.add(record["id"])
        outcomes = await asyncio.gather(*(self._attempt(record) for record in due), return_exceptions=True)
        self._notify()
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # e.g. secret_for failed: a bug in the caller, not a delivery result
        return len(due)

    async def drain(self, max_rounds: int = 10) -> int:
        """Run due attempts until none is due now (at most ``max_rounds`` rounds)."""
        total = 0
        for _ in range(max_rounds):
            made = await self.run_due()
            total += made
            if made == 0:
                break
        return total

    async def resend(self, delivery_id: str) -> dict | None:
        """A manual resend (the console's button): one new attempt now, signed anew exactly as
        any attempt, appended with ``resend: true``. It never changes the retry schedule; a
        success marks the delivery delivered (no retry left to make). Returns the updated
        record (a copy), None for an unknown id; ``RuntimeError`` while an attempt is in flight."""
        record = self._deliveries.get(delivery_id)
        if record is None:
            return None
        if delivery_id in self._in_flight:
            raise RuntimeError("an attempt of this delivery is in flight")
        self._in_flight.add(delivery_id)
        scratch = copy.deepcopy(record)  # _attempt signs, sends and records on the scratch copy
        await self._attempt(scratch)
        attempt = dict(scratch["attempts"][-1], n=len(record["attempts"]) + 1, resend=True, next_attempt_at=None)
        attempt["outcome"] = "delivered" if attempt["outcome"] == "delivered" else "failed"
        record["attempts"].append(attempt)
        if attempt["outcome"] == "delivered":
            record.update(state=DELIVERED, due_epoch=None, next_attempt_at=None)
        self.persistence.save(record)
        self._notify()
        return copy.deepcopy(record)

    # -- reading -------------------------------------------------------------------------
    def deliveries(self, client_id: str | None = None) -> list[dict]:
        """The delivery log, oldest first, optionally for one client (copies)."""
        return [copy.deepcopy(r) for r in self._deliveries.values()
                if client_id is None or r["client_id"] == client_id]

    def delivery(self, delivery_id: str) -> dict | None:
        record = self._deliveries.get(delivery_id)
        return copy.deepcopy(record) if record is not None else None

    # -- internals -----------------------------------------------------------------------
    def _waiting(self) -> list[dict]:
        return [r for r in self._deliveries.values()
                if r["state"] == PENDING and r["id"] not in self._in_flight]

    def _body(self, record: dict) -> bytes:
        body = self._bodies.get(record["id"])
        if body is None:  # a record loaded from persistence: the stored text is the same bytes
            body = self._bodies[record["id"]] = record["body"].encode("utf-8")
        return body

    async def _attempt(self, record: dict) -> None:
        delivery_id = record["id"]
        try:
            attempted_at = self.clock.now()
            signed_at = self.wall_time()  # HOOK-8: t= is real time, whatever the clock mode
            body = self._body(record)
            headers = signed_headers(record["kind"], run_id=record["run_id"], body=body,
                                     secret=self.secret_for(record["client_id"]), timestamp=int(signed_at))
            result = await self.transport.deliver(record["url"], headers, body)
            self._record(record, attempted_at, signed_at, headers, result)
            if record["state"] == DELIVERED:
                for hook in self.after_delivered:
                    await hook(copy.deepcopy(record), copy.deepcopy(record["attempts"][-1]))
        finally:
            self._in_flight.discard(delivery_id)

    def _record(self, record: dict, attempted_at: float, signed_at: float, headers: dict[str, str],
                result: AttemptResult) -> None:
        number = len(record["attempts"]) + 1
        classification = classify(result.status_code, result.error)
        due: float | None = None
        if classification == "delivered":
            state, outcome = DELIVERED, "delivered"
        elif classification == "retry":
            delay = retry_delay(record["id"], number)
            if delay is None:
                state, outcome = FAILED, "exhausted"
            else:
                state, outcome, due = PENDING, "retry", self.clock.now() + delay
        else:
            state, outcome = FAILED, "permanent"
        next_at = self.clock.iso(due) if due is not None else None
        record["attempts"].append({
            "n": number,
            "at": self.clock.iso(attempted_at),
            "signed_at": self.clock.iso(signed_at),
            "signature_timestamp": int(signed_at),
            "url": record["url"],
            "request_headers": dict(headers),
            "body": record["body"],
            "status": result.status_code,
            "error": result.error,
            "error_detail": result.error_detail,
            "response_body_excerpt": result.response_body_excerpt,
            "duration_ms": result.duration_ms,
            "outcome": outcome,
            "next_attempt_at": next_at,
        })
        record["state"] = state
        record["due_epoch"] = due
        record["next_attempt_at"] = next_at
        self.persistence.save(record)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()
