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

The log and the queue live on the platform's ``Store`` (``persistence``): records by client,
and a small set of pending entries (only unfinished deliveries) from which ``next_due`` and
"what is due now" are read, so their cost is the number of unfinished deliveries, not the
history. Records and entries survive a restart with ``--state``: pending deliveries resume at
their due time (at once when that has passed), and an attempt cut off by a restart is made again.

Several processes may share the store (issue #15). Every attempt — scheduled or a resend — is
made only under a lease on its delivery (``persistence``: holder, token, a REAL-time expiry of
``lease_seconds``, by default twice the transport timeout plus a margin); other processes skip
it while the lease lives, and take it over once it expired (its holder stopped mid-attempt:
the attempt is made again). The attempt is recorded and the lease dropped in one step with the
state change, so each attempt is made once while processes live, wherever it was enqueued, and
a retry's due time is computed, as always, from the virtual time its failed attempt ended.
``lease_time`` (default: the clock's ``wall_now``) is the real-time source leases are judged
by; tests inject one to expire a lease without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import socket
import uuid
from typing import Awaitable, Callable

from ..clock import Clock
from ..store.base import Store
from ..store.memory import MemoryStore
from .admission import Resolver
from .persistence import DeliveryBusy, DeliveryStore, Lease
from .policy import classify, retry_delay
from .signing import HEADER_SCHEMES, compact_json, signed_headers
from .transport import DEFAULT_TIMEOUT_SECONDS, AttemptResult, HttpxTransport, Transport

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
LEASE_MARGIN_SECONDS = 5.0


def new_delivery_id() -> str:
    return "whd_" + uuid.uuid4().hex


def process_holder() -> str:
    """Who holds a lease: host, process and a random part (two engines in one process differ)."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


class WebhookEngine:
    """Signed, retried webhook deliveries for every product that calls back."""

    def __init__(self, clock: Clock, *, store: Store | None = None, resolver: Resolver | None = None,
                 allow_local: bool = False, secret_for: Callable[[str], str],
                 timeout: float = DEFAULT_TIMEOUT_SECONDS, transport: Transport | None = None,
                 new_id: Callable[[], str] = new_delivery_id,
                 wall_time: Callable[[], float] | None = None,
                 lease_time: Callable[[], float] | None = None, lease_seconds: float | None = None,
                 holder: str | None = None) -> None:
        self.clock = clock
        self.wall_time: Callable[[], float] = wall_time if wall_time is not None else clock.wall_now
        self.secret_for = secret_for
        self.transport: Transport = transport if transport is not None else HttpxTransport(
            resolver=resolver, allow_local=allow_local, timeout=timeout)
        self._new_id = new_id
        # connect, send and read are each bounded by the timeout; the margin covers DNS and the store
        self.lease_seconds = lease_seconds if lease_seconds is not None else 2 * timeout + LEASE_MARGIN_SECONDS
        self.queue = DeliveryStore(store if store is not None else MemoryStore(), holder=holder or process_holder(),
                                   lease_seconds=self.lease_seconds,
                                   real_time=lease_time if lease_time is not None else clock.wall_now)
        self._listeners: list[Callable[[], None]] = []
        # Awaited after an attempt is delivered: (record, attempt) — client grading's receiver probes.
        self.after_delivered: list[Callable[[dict, dict], Awaitable[None]]] = []

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
        self.queue.add({
            "id": delivery_id,
            "kind": kind,
            "client_id": client_id,
            "run_id": run_id,
            "url": url,
            "state": PENDING,
            "created_at": self.clock.iso(now),
            "next_attempt_at": self.clock.iso(first),
            "due_epoch": first,
            "body": body.decode("utf-8"),  # UTF-8 both ways: every attempt sends these exact bytes
            "attempts": [],
        })
        self._notify()
        return delivery_id

    def subscribe(self, listener: Callable[[], None]) -> None:
        """``listener`` is called whenever ``next_due()`` may have changed (by this process)."""
        self._listeners.append(listener)

    # -- running -------------------------------------------------------------------------
    def next_due(self, *, include_leased: bool = False) -> float | None:
        """Virtual epoch of the earliest pending attempt no process is making now (with
        ``include_leased``, of any pending attempt), or None when nothing is pending."""
        return self.queue.next_due(include_leased=include_leased)

    def in_flight(self, up_to: float) -> list[str]:
        """Deliveries whose attempt due by ``up_to`` a live lease holds (being made, here or
        in another process)."""
        return self.queue.leased(up_to)

    async def run_due(self) -> int:
        """Make every attempt due at ``clock.now()`` that this process leases (concurrently);
        returns how many."""
        now = self.clock.now()
        leases: list[Lease] = []  # leased before any await: a concurrent run_due (any process) skips them
        try:
            for delivery_id in self.queue.due(now):
                lease = self.queue.take(delivery_id, now)
                if lease is not None:
                    leases.append(lease)
        except BaseException:  # the store failed midway: what was leased is given back
            for lease in leases:
                with contextlib.suppress(Exception):
                    self.queue.release(lease)
            raise
        if not leases:
            return 0
        outcomes = await asyncio.gather(*(self._attempt(lease) for lease in leases), return_exceptions=True)
        self._notify()
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # e.g. secret_for failed: a bug in the caller, not a delivery result
        return len(leases)

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
        record (a copy), None for an unknown id; ``RuntimeError`` while an attempt is in flight
        (in any process: a resend leases the delivery like any attempt)."""
        try:
            lease = self.queue.take_for_resend(delivery_id)
        except DeliveryBusy as exc:
            raise RuntimeError(str(exc)) from None
        if lease is None:
            return None
        record = lease.record
        committed = False
        try:
            attempted_at, signed_at, headers, result = await self._send(record)
            delivered = classify(result.status_code, result.error) == "delivered"
            attempt = self._attempt_entry(record, lease.n, attempted_at, signed_at, headers, result,
                                          "delivered" if delivered else "failed", None)
            attempt["resend"] = True
            record["attempts"].append(attempt)
            if delivered:
                record.update(state=DELIVERED, due_epoch=None, next_attempt_at=None)
            committed = self.queue.complete(lease, record)
        finally:
            if not committed:
                self.queue.release(lease)
        self._notify()
        if not committed:
            raise RuntimeError("the resend was made, but another process took this delivery over meanwhile")
        await self._after(record)
        return copy.deepcopy(record)

    # -- reading -------------------------------------------------------------------------
    def deliveries(self, client_id: str | None = None, *, newest_first: bool = False) -> list[dict]:
        """The delivery log, oldest first (or newest first), optionally for one client."""
        return list(self.queue.records(client_id, newest_first=newest_first))

    def delivery(self, delivery_id: str) -> dict | None:
        return self.queue.record(delivery_id)

    # -- internals -----------------------------------------------------------------------
    async def _send(self, record: dict) -> tuple[float, float, dict[str, str], AttemptResult]:
        attempted_at = self.clock.now()
        signed_at = self.wall_time()  # HOOK-8: t= is real time, whatever the clock mode
        body = record["body"].encode("utf-8")
        headers = signed_headers(record["kind"], run_id=record["run_id"], body=body,
                                 secret=self.secret_for(record["client_id"]), timestamp=int(signed_at))
        result = await self.transport.deliver(record["url"], headers, body)
        return attempted_at, signed_at, headers, result

    async def _attempt(self, lease: Lease) -> None:
        record = lease.record
        committed = False
        try:
            attempted_at, signed_at, headers, result = await self._send(record)
            self._record(record, lease.n, attempted_at, signed_at, headers, result)
            committed = self.queue.complete(lease, record)
        finally:
            if not committed:
                self.queue.release(lease)
        if committed:
            await self._after(record)

    async def _after(self, record: dict) -> None:
        if record["attempts"][-1]["outcome"] == "delivered":
            for hook in self.after_delivered:
                await hook(copy.deepcopy(record), copy.deepcopy(record["attempts"][-1]))

    def _record(self, record: dict, number: int, attempted_at: float, signed_at: float,
                headers: dict[str, str], result: AttemptResult) -> None:
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
        record["attempts"].append(self._attempt_entry(record, number, attempted_at, signed_at, headers, result,
                                                      outcome, next_at))
        record["state"] = state
        record["due_epoch"] = due
        record["next_attempt_at"] = next_at

    def _attempt_entry(self, record: dict, number: int, attempted_at: float, signed_at: float,
                       headers: dict[str, str], result: AttemptResult, outcome: str, next_at: str | None) -> dict:
        return {
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
        }

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()
