"""The delivery log and the pending queue on the platform's ``Store``, with the leases that
let several processes sharing one store (``serve --workers N``, replicas on one Redis,
issue #15) make every attempt once.

What is kept (kinds, keys):
- ``webhook_delivery`` / delivery id, owner = client id: the delivery record (its format is
  in ``engine``). A client's log is an owner-scoped scan (oldest or newest first) whose cost
  does not depend on other clients; only the whole-log reads of the control API scan every
  client.
- ``webhook_pending`` / delivery id, owner = client id: one small entry per delivery not
  finished yet, ``{id, due, lease}``: ``due`` the virtual epoch of its next attempt (None
  while only a resend of a finished delivery holds it), ``lease`` None or
  ``{holder, token, until, n}``. The entry goes when the delivery is delivered or failed,
  so "what is due" costs the number of unfinished deliveries, never the history.
- counter ``webhook_pending_version``: bumped after every change of a pending entry. Each
  process keeps a view of the pending entries and reads them again only when the counter
  moved by more than its own changes (one process alone never re-reads them).
- ``webhook_meta`` / ``queue``: marks a store whose pending entries exist; a state file
  written before the queue existed gets them from its records once.

Leases. An attempt is made only by the process that leased it: ``take`` sets ``lease`` on
the entry — the holder (this process), a fresh token, the attempt number ``n`` it is for
and ``until``, a REAL epoch (``real_time`` + ``lease_seconds``) — when the entry is due and
not leased, or its lease has expired (its holder stopped mid-attempt; the attempt is made
again: at-least-once at the transport, once while processes live). ``complete`` writes the
attempted record and the entry's next state (next due time, or gone) and drops the lease,
only while the lease is still this one's; ``release`` drops it without a result. Each of
these runs under the store lock of the delivery's stripe (``webhooks:<0..63>``), so
checking the lease and writing the entry and the record are one step for every process.
A holder that stopped between writing the record and the entry is caught up on takeover:
when the record already holds attempt ``n``, the entry follows the record and no attempt
is made. Lease times are compared on real clocks: processes on several hosts need their
clocks within the lease margin of each other (NTP).
"""

from __future__ import annotations

import bisect
import logging
import threading
import uuid
import zlib
from dataclasses import dataclass
from typing import Callable, Iterator

from ..store.base import Store

log = logging.getLogger("zenhire_mock")

RECORD_KIND = "webhook_delivery"
PENDING_KIND = "webhook_pending"
META_KIND = "webhook_meta"
VERSION_COUNTER = "webhook_pending_version"
LOCK_STRIPES = 64
PENDING = "pending"


class DeliveryBusy(RuntimeError):
    """Another attempt of this delivery holds its lease (here or in another process)."""


@dataclass
class Lease:
    """The right to make attempt ``n`` of a delivery, and the record as it was when taken."""

    delivery_id: str
    token: str
    n: int
    record: dict


class _View:
    """This process's view of the pending entries: id -> (due, lease until), and the
    (due, id) pairs in order, so "what is due by now" reads only the due prefix."""

    def __init__(self, entries: dict[str, tuple[float | None, float | None]] | None = None) -> None:
        self.entries = entries or {}
        self.order = sorted((due, i) for i, (due, _until) in self.entries.items() if due is not None)

    def set(self, delivery_id: str, value: tuple[float | None, float | None] | None) -> None:
        old = self.entries.pop(delivery_id, None)
        if old is not None and old[0] is not None:
            pos = bisect.bisect_left(self.order, (old[0], delivery_id))
            if pos < len(self.order) and self.order[pos] == (old[0], delivery_id):
                del self.order[pos]
        if value is not None:
            self.entries[delivery_id] = value
            if value[0] is not None:
                bisect.insort(self.order, (value[0], delivery_id))

    def first(self, free_at: float | None) -> float | None:
        """Earliest due time (of an entry no lease live at real ``free_at`` holds, unless None)."""
        for due, delivery_id in self.order:
            until = self.entries[delivery_id][1]
            if free_at is None or until is None or until <= free_at:
                return due
        return None

    def due_by(self, now: float) -> list[tuple[str, float | None]]:
        """(id, lease until) of the entries due by ``now``, earliest first."""
        end = bisect.bisect_right(self.order, (now, "\uffff"))
        return [(i, self.entries[i][1]) for _due, i in self.order[:end]]


class DeliveryStore:
    """Records, pending entries and leases of the webhook engine on one ``Store``."""

    def __init__(self, store: Store, *, holder: str, lease_seconds: float,
                 real_time: Callable[[], float]) -> None:
        self.store = store
        self.holder = holder
        self.lease_seconds = lease_seconds
        self.real_time = real_time
        self._view = _View()
        self._version: int | None = None  # counter value the view reflects (None: read again)
        self._view_lock = threading.RLock()  # the view is this process's; callers may be threads
        self._prepare()

    # -- the log -------------------------------------------------------------------------
    def add(self, record: dict) -> None:
        """A new delivery: its record and its pending entry."""
        self.store.put(RECORD_KIND, record["id"], record, owner=record["client_id"])
        entry = {"id": record["id"], "due": record["due_epoch"], "lease": None}
        self.store.put(PENDING_KIND, record["id"], entry, owner=record["client_id"])
        self._changed(record["id"], entry)

    def record(self, delivery_id: str) -> dict | None:
        return self.store.get(RECORD_KIND, delivery_id)

    def records(self, client_id: str | None = None, *, newest_first: bool = False) -> Iterator[dict]:
        """The log (one client's, or everyone's), oldest first unless ``newest_first``; lazy."""
        return iter(self.store.scan(RECORD_KIND, owner=client_id, newest_first=newest_first))

    # -- what is due ---------------------------------------------------------------------
    def next_due(self, *, include_leased: bool = False) -> float | None:
        """Earliest due time of a pending attempt no live lease holds (or of any, with
        ``include_leased``)."""
        free_at = None if include_leased else self.real_time()
        with self._view_lock:
            return self._entries().first(free_at)

    def due(self, now: float) -> list[str]:
        """Ids of the attempts due at virtual ``now`` that no live lease holds, earliest first."""
        real = self.real_time()
        with self._view_lock:
            due = self._entries().due_by(now)
        return [i for i, until in due if until is None or until <= real]

    def leased(self, up_to: float) -> list[str]:
        """Ids whose attempt due by ``up_to`` is under a live lease (in flight somewhere)."""
        real = self.real_time()
        with self._view_lock:
            due = self._entries().due_by(up_to)
        return [i for i, until in due if until is not None and until > real]

    # -- leases --------------------------------------------------------------------------
    def take(self, delivery_id: str, now: float) -> Lease | None:
        """Lease the attempt of ``delivery_id`` due at virtual ``now``; None when it is not
        due, finished, or leased by someone else."""
        with self._locked(delivery_id):
            entry, record = self._current(delivery_id)
            if entry is None or record is None or record["state"] != PENDING:
                return None
            due = entry["due"]
            if due is None or due > now or self._live(entry):
                return None
            return self._lease(entry, record)

    def take_for_resend(self, delivery_id: str) -> Lease | None:
        """Lease a delivery for a manual resend, whatever its state; None for an unknown id,
        ``DeliveryBusy`` while another attempt of it holds the lease."""
        with self._locked(delivery_id):
            entry, record = self._current(delivery_id)
            if record is None:
                return None
            if entry is not None and self._live(entry):
                raise DeliveryBusy("an attempt of this delivery is in flight")
            if entry is None:  # finished: a transient entry carries the lease, with no due time
                entry = {"id": delivery_id, "due": record["due_epoch"] if record["state"] == PENDING else None,
                         "lease": None}
            return self._lease(entry, record)

    def complete(self, lease: Lease, record: dict) -> bool:
        """Write the record with its new attempt and the entry's next state, dropping the
        lease; False (nothing written) when the lease was taken over meanwhile."""
        with self._locked(lease.delivery_id):
            entry = self.store.get(PENDING_KIND, lease.delivery_id)
            if not self._holds(entry, lease):
                log.warning("webhook delivery %s: attempt %d was made but its lease was taken over; "
                            "the new holder's attempt is the one recorded", lease.delivery_id, lease.n)
                return False
            self.store.put(RECORD_KIND, record["id"], record, owner=record["client_id"])
            self._follow(record)
            return True

    def release(self, lease: Lease) -> None:
        """Drop the lease without a result (the attempt failed before it was made)."""
        with self._locked(lease.delivery_id):
            entry = self.store.get(PENDING_KIND, lease.delivery_id)
            if not self._holds(entry, lease):
                return
            record = self.store.get(RECORD_KIND, lease.delivery_id)
            if record is None:
                self._drop(lease.delivery_id)
            else:
                self._follow(record)

    # -- internals -----------------------------------------------------------------------
    def _locked(self, delivery_id: str):
        stripe = zlib.crc32(delivery_id.encode("utf-8")) % LOCK_STRIPES
        return self.store.lock(f"webhooks:{stripe}", timeout=max(self.lease_seconds, 30.0))

    def _current(self, delivery_id: str) -> tuple[dict | None, dict | None]:
        """(entry, record) under the lock. The record is the truth: unless a live lease
        holds the entry, the entry is made to follow it — a holder that stopped after
        recording its attempt (or a restart between the two writes) is caught up here."""
        entry = self.store.get(PENDING_KIND, delivery_id)
        record = self.store.get(RECORD_KIND, delivery_id)
        if entry is None:
            with self._view_lock:
                self._view.set(delivery_id, None)  # gone elsewhere (finished, or a reset purged it)
            return None, record
        if record is None:  # the record was purged (control API reset): the entry goes too
            self._drop(delivery_id)
            return None, None
        if not self._live(entry):
            lease = entry["lease"]
            if lease is not None and len(record["attempts"]) >= lease["n"]:
                log.info("webhook delivery %s: attempt %d was recorded by %s, which stopped before "
                         "updating the queue", delivery_id, lease["n"], lease["holder"])
            expected = record["due_epoch"] if record["state"] == PENDING else None
            if lease is not None or record["state"] != PENDING or entry["due"] != expected:
                return self._follow(record), record
        with self._view_lock:
            self._view.set(delivery_id, self._viewed(entry))  # at least as fresh as our view
        return entry, record

    def _lease(self, entry: dict, record: dict) -> Lease:
        token = uuid.uuid4().hex
        n = len(record["attempts"]) + 1
        entry = dict(entry, lease={"holder": self.holder, "token": token, "n": n,
                                   "until": self.real_time() + self.lease_seconds})
        self.store.put(PENDING_KIND, entry["id"], entry, owner=record["client_id"])
        self._changed(entry["id"], entry)
        return Lease(entry["id"], token, n, record)  # a fresh copy: the store decodes one per read

    def _follow(self, record: dict) -> dict | None:
        """Make the entry say what the record says: due again, or gone once finished."""
        if record["state"] != PENDING:
            self._drop(record["id"])
            return None
        entry = {"id": record["id"], "due": record["due_epoch"], "lease": None}
        self.store.put(PENDING_KIND, record["id"], entry, owner=record["client_id"])
        self._changed(record["id"], entry)
        return entry

    def _drop(self, delivery_id: str) -> None:
        self.store.delete(PENDING_KIND, delivery_id)
        self._changed(delivery_id, None)

    def _live(self, entry: dict) -> bool:
        lease = entry.get("lease")
        return lease is not None and lease["until"] > self.real_time()

    @staticmethod
    def _holds(entry: dict | None, lease: Lease) -> bool:
        return entry is not None and entry.get("lease") is not None and entry["lease"]["token"] == lease.token

    @staticmethod
    def _viewed(entry: dict) -> tuple[float | None, float | None]:
        lease = entry.get("lease")
        return entry["due"], None if lease is None else lease["until"]

    def _changed(self, delivery_id: str, entry: dict | None) -> None:
        """After writing an entry: count the change, and keep the view without re-reading
        when no other process changed an entry since the view was read."""
        version = self.store.incr(VERSION_COUNTER)
        with self._view_lock:
            self._view.set(delivery_id, None if entry is None else self._viewed(entry))
            self._version = version if self._version is not None and version == self._version + 1 else None

    def _entries(self) -> _View:
        version = self.store.incr(VERSION_COUNTER, 0)
        if version != self._version:
            self._view = _View({doc["id"]: self._viewed(doc) for doc in self.store.scan(PENDING_KIND)})
            self._version = version
        return self._view

    def _prepare(self) -> None:
        """At start: pending entries for a store written before they existed, and — when no
        other process shares the store — no lease survives (their holder was this process
        before a restart: the attempt it cut off is made again at once)."""
        with self.store.lock("webhooks:prepare", timeout=max(self.lease_seconds, 30.0)):
            if self.store.get(META_KIND, "queue") is None:
                for record in self.records():
                    if record["state"] == PENDING and self.store.get(PENDING_KIND, record["id"]) is None:
                        entry = {"id": record["id"], "due": record["due_epoch"], "lease": None}
                        self.store.put(PENDING_KIND, record["id"], entry, owner=record["client_id"])
                        self.store.incr(VERSION_COUNTER)
                self.store.put(META_KIND, "queue", {"pending_entries": 1})
            if not self.store.shared:
                for doc in list(self.store.scan(PENDING_KIND)):
                    if doc.get("lease") is not None:
                        self.store.put(PENDING_KIND, doc["id"], dict(doc, lease=None))  # keeps its owner
                        self.store.incr(VERSION_COUNTER)
