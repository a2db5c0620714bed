"""The credits ledger (CRED-1..6): one balance per client shared by every module.

Money moves in four ways, each a transaction visible on `GET /api/v1/credits`:
- ``hold``: reserve credits for an in-flight run (lowers *available*, not the balance);
- ``charge``: deduct (a held amount or a direct charge) — settled at the run's finish time;
- ``release``: free a hold without charging (failed runs);
- ``topup``/``adjustment``: control-API changes.

Runs know their finish time at submit, so settlements are scheduled with a virtual time
and applied lazily (`settle`) before any read or new hold: the ledger is derived from time
and needs no background work. The check-and-hold is one atomic store update.

Cost independent of history (issue 14): the account document holds running totals only
(balance, held, usage by module); each run's hold sits on its own `hold` document, so an
account update copies a few numbers however many runs are in flight. Due settlements are
found through a per-client heap ordered by (time, sequence), rebuilt from the store on a
client's first use after a start (`--state`) and checked against the store when popped, so
resets and concurrent settles are honoured. The recent transactions are read newest first
from the per-client index, a bounded window whatever the history; when that window is
known to be in time order already (the usual case: transactions are recorded as virtual
time moves forward), only the `limit` newest are read.

Shared store (several processes, issue #15): neither cache can be trusted, as other
processes hold and settle too. Then settlements due are found from the store (the client's
pending ones, a bounded set: runs in flight), each applied by the one process whose
`store.take` removes it; check-and-hold with its hold document, and each settlement, run
under `store.lock("ledger|<client>")` (so a client's transactions are recorded in one order
across processes); the recent transactions are always the newest window re-sorted by time.

Failure midway (the store unreachable): a hold writes its `hold` document first and then
the account, so an account never holds credits without their document; `cancel_hold` undoes
a hold whose run could not be stored (a release transaction, as for a failed run). A settlement is taken (removed) before it is applied:
if the store fails between the two, that one run's hold stays held (reported, never charged
twice).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import threading
from dataclasses import dataclass
from typing import Callable

from ..clock import iso
from ..store.memory import MemoryStore

MODULES = ("speech", "cvdeepmatch", "cvdeepsearch", "interview")
ACCOUNT = "account"
TXN = "txn"
SETTLEMENT = "settlement"
HOLD = "hold"
RECENT_WINDOW = 200  # newest transactions (by recording order) re-sorted by time for the summary

log = logging.getLogger("zenhire_mock")


@dataclass(frozen=True)
class HoldRefused:
    available: int
    cost: int


def _usual_description(kind: str, module: str | None) -> str:
    return {"hold": f"Hold for {module} run", "charge": f"Charge for {module} run",
            "release": f"Hold released for {module} run", "topup": "Top-up",
            "adjustment": "Balance set through the control API"}.get(kind, "")


def shown_transaction(txn: dict) -> dict:
    """A stored transaction as `recentTransactions` lists it."""
    return {"id": txn["id"], "type": txn["type"], "amount": txn["amount"], "balanceAfter": txn["balanceAfter"],
            "module": txn["module"], "runId": txn["runId"],
            "description": txn["description"] if "description" in txn else _usual_description(txn["type"], txn["module"]),
            "createdAt": txn.get("createdAt") or iso(txn["at"])}


def _txn_id(now: float) -> str:
    return f"txn_{int(now * 1000):013d}_{os.urandom(5).hex()}"


class Ledger:
    def __init__(self, store: MemoryStore, initial_credits: Callable[[str], int],
                 new_txn_id: Callable[[float], str] = _txn_id) -> None:
        self.store = store
        self._new_txn_id = new_txn_id
        self.initial_credits = initial_credits
        self._due: dict[str, list[tuple[float, int, str]]] = {}  # client -> heap of (at, seq, run id)
        self._due_lock = threading.Lock()
        # client -> (length of the newest run of transactions in time order, newest time)
        self._ordered: dict[str, tuple[int, float]] = {}
        self._order_lock = threading.Lock()

    # -- accounts -------------------------------------------------------------------------
    def _fresh(self, client_id: str) -> dict:
        return {"client": client_id, "balance": int(self.initial_credits(client_id)), "held": 0,
                "usage": {m: 0 for m in MODULES}}

    def _hold_key(self, client_id: str, run_id: str) -> str:
        return f"{client_id}|{run_id}"

    def account(self, client_id: str) -> dict:
        doc = self.store.get(ACCOUNT, client_id)
        if doc is None:
            doc = self.store.update(ACCOUNT, client_id, lambda cur: cur or self._fresh(client_id),
                                    owner=client_id)
        return doc

    def _record(self, client_id: str, kind: str, amount: int, balance_after: int, at: float,
                module: str | None, run_id: str | None, description: str) -> None:
        # `createdAt` is iso(at) and the usual description follows from type and module:
        # both are derived on read (a stored transaction is about a third smaller).
        txn = {"id": self._new_txn_id(at), "type": kind, "amount": amount, "balanceAfter": balance_after,
               "module": module, "runId": run_id, "at": at}
        if description != _usual_description(kind, module):
            txn["description"] = description
        if self.store.shared:  # other processes record too: no local view of the order
            self.store.put(TXN, txn["id"], txn, owner=client_id)
            return
        with self._order_lock:
            depth, last_at = self._ordered_tail(client_id)
            self.store.put(TXN, txn["id"], txn, owner=client_id)
            self._ordered[client_id] = (depth + 1 if at >= last_at else 1, at)

    def _ordered_tail(self, client_id: str) -> tuple[int, float]:
        """(how many of the client's newest transactions, by recording order, are also in
        time order; the newest one's time). Found from the store on first use, then kept up
        to date by ``_record``. Call with ``_order_lock`` held."""
        known = self._ordered.get(client_id)
        if known is None:
            depth, last_at, previous = 0, float("-inf"), None
            for txn in itertools.islice(self.store.scan(TXN, owner=client_id, newest_first=True), RECENT_WINDOW):
                if previous is not None and txn["at"] > previous:
                    break
                if previous is None:
                    last_at = txn["at"]
                previous = txn["at"]
                depth += 1
            known = self._ordered[client_id] = (depth, last_at)
        return known

    # -- holds and settlements -------------------------------------------------------------
    def _client_lock(self, client_id: str):
        """Exclusion of the client's ledger across processes (a shared store), else none
        beyond the local locks below."""
        if self.store.shared:
            return self.store.lock(f"ledger|{client_id}")
        return contextlib.nullcontext()

    def hold(self, client_id: str, run_id: str, amount: int, module: str, now: float) -> HoldRefused | None:
        """Atomically reserve ``amount`` if available (balance − held) covers it."""
        self.settle(client_id, now)
        if self.store.shared:
            return self._shared_hold(client_id, run_id, amount, module, now)
        refused: list[HoldRefused] = []

        def apply(cur: dict | None) -> dict:
            cur = cur or self._fresh(client_id)
            available = cur["balance"] - cur["held"]
            if amount > available:
                refused.append(HoldRefused(available=max(available, 0), cost=amount))
                return cur
            cur["held"] += amount
            return cur

        with self._due_lock:  # check-and-hold and the run's hold document move together
            doc = self.store.update(ACCOUNT, client_id, apply, owner=client_id)
            if refused:
                return refused[0]
            self.store.put(HOLD, self._hold_key(client_id, run_id), {"amount": amount, "module": module},
                           owner=client_id)
        self._record(client_id, "hold", amount, doc["balance"], now, module, run_id,
                     f"Hold for {module} run")
        return None

    def _shared_hold(self, client_id: str, run_id: str, amount: int, module: str, now: float) -> HoldRefused | None:
        key = self._hold_key(client_id, run_id)
        with self._client_lock(client_id):
            account = self.account(client_id)
            available = account["balance"] - account["held"]
            if amount > available:
                return HoldRefused(available=max(available, 0), cost=amount)
            # the hold document first: an account never holds credits no document explains
            self.store.put(HOLD, key, {"amount": amount, "module": module}, owner=client_id)
            try:
                doc = self.store.update(ACCOUNT, client_id, lambda cur: dict(cur or self._fresh(client_id),
                                                                             held=(cur or {}).get("held", 0) + amount),
                                        owner=client_id)
            except Exception:
                with contextlib.suppress(Exception):
                    self.store.delete(HOLD, key)
                raise
            self._record(client_id, "hold", amount, doc["balance"], now, module, run_id,
                         f"Hold for {module} run")
        return None

    def cancel_hold(self, client_id: str, run_id: str, now: float) -> None:
        """Undo a hold whose run could not be stored (the store failed midway through a
        submit): the held credits are free again, recorded as a release (as for a failed run)."""
        with self._client_lock(client_id):
            held = self.store.take(HOLD, self._hold_key(client_id, run_id))
            if held is None:
                return
            self.store.delete(SETTLEMENT, self._hold_key(client_id, run_id))
            amount = int(held["amount"])
            doc = self.store.update(ACCOUNT, client_id,
                                    lambda cur: dict(cur or self._fresh(client_id),
                                                     held=max((cur or {}).get("held", 0) - amount, 0)),
                                    owner=client_id)
            module = held.get("module")
            self._record(client_id, "release", amount, doc["balance"], now, module, run_id,
                         f"Hold released for {module} run")

    def schedule(self, client_id: str, run_id: str, at: float, action: str, module: str,
                 amount: int | None = None) -> None:
        """Settle ``run_id``'s hold at virtual time ``at``: ``charge`` it or ``release`` it."""
        entry = self.store.put_entry(SETTLEMENT, f"{client_id}|{run_id}",
                             {"client": client_id, "runId": run_id, "at": at, "action": action,
                              "module": module, "amount": amount}, owner=client_id)
        if self.store.shared:  # found from the store when due
            return
        with self._due_lock:
            heap = self._due_heap(client_id)
            heapq.heappush(heap, (at, entry.seq, run_id))

    def _due_heap(self, client_id: str) -> list[tuple[float, int, str]]:
        """The client's pending settlements by (time, sequence); built from the store on first
        use (after a restart with --state). Call with ``_due_lock`` held."""
        heap = self._due.get(client_id)
        if heap is None:
            heap = [(e.doc["at"], e.seq, e.doc["runId"]) for e in self.store.scan_entries(SETTLEMENT, owner=client_id)]
            heapq.heapify(heap)
            self._due[client_id] = heap
        return heap

    def settle(self, client_id: str, now: float) -> None:
        """Apply every settlement of ``client_id`` due at or before ``now``, in time order."""
        if self.store.shared:
            self._shared_settle(client_id, now)
            return
        while True:
            with self._due_lock:
                heap = self._due_heap(client_id)
                if not heap or heap[0][0] > now:
                    return
                at, seq, run_id = heapq.heappop(heap)
                key = f"{client_id}|{run_id}"
                entry = self.store.get_entry(SETTLEMENT, key)
                if entry is None or entry.seq != seq:
                    continue  # settled concurrently, or purged by a reset
                self.store.delete(SETTLEMENT, key)
                self._settle_one(client_id, entry.doc)

    def _shared_settle(self, client_id: str, now: float) -> None:
        """Settlements due found from the store; each applied by the process that takes it."""
        due = sorted((e.doc["at"], e.seq, e.doc["runId"]) for e in self.store.scan_entries(SETTLEMENT, owner=client_id)
                     if e.doc["at"] <= now)
        if not due:
            return
        with self._client_lock(client_id):
            for _at, _seq, run_id in due:
                item = self.store.take(SETTLEMENT, f"{client_id}|{run_id}")
                if item is None:
                    continue  # another process settled it
                held = self.store.take(HOLD, self._hold_key(client_id, run_id))
                self._settle_one(client_id, item, int(held["amount"]) if held else 0)

    def _take_hold(self, client_id: str, run_id: str, cur: dict) -> int:
        """The run's held amount, removed from where it is kept (a `hold` document, or the
        `holds` map of an account written by an earlier version of the mock)."""
        legacy = cur.get("holds")
        if legacy and run_id in legacy:
            return legacy.pop(run_id)
        key = self._hold_key(client_id, run_id)
        doc = self.store.get(HOLD, key)
        if doc is None:
            return 0
        self.store.delete(HOLD, key)
        return int(doc["amount"])

    def _settle_one(self, client_id: str, item: dict, taken: int | None = None) -> None:
        """Apply one settlement; ``taken`` is the run's held amount when the caller already
        removed its hold document (shared store: the update below may be retried, so it must
        not remove documents itself)."""
        result: dict = {}

        def apply(cur: dict | None) -> dict:
            cur = cur or self._fresh(client_id)
            if taken is None:
                held = self._take_hold(client_id, item["runId"], cur)
            else:
                legacy = cur.get("holds")
                held = legacy.pop(item["runId"]) if legacy and item["runId"] in legacy else taken
            cur["held"] -= held
            if item["action"] == "charge":
                amount = item["amount"] if item["amount"] is not None else held
                amount = min(amount, cur["balance"])
                cur["balance"] -= amount
                cur["usage"][item["module"]] = cur["usage"].get(item["module"], 0) + amount
                result["amount"] = amount
            else:
                result["amount"] = held
            return cur

        doc = self.store.update(ACCOUNT, client_id, apply, owner=client_id)
        if item["action"] == "charge":
            self._record(client_id, "charge", -result["amount"], doc["balance"], item["at"],
                         item["module"], item["runId"], f"Charge for {item['module']} run")
        elif result["amount"]:
            self._record(client_id, "release", result["amount"], doc["balance"], item["at"],
                         item["module"], item["runId"], f"Hold released for {item['module']} run")

    # -- control ---------------------------------------------------------------------------
    def adjust(self, client_id: str, *, now: float, delta: int | None = None,
               balance: int | None = None) -> dict:
        self.settle(client_id, now)
        with self._client_lock(client_id):
            return self._adjust(client_id, now, delta, balance)

    def _adjust(self, client_id: str, now: float, delta: int | None, balance: int | None) -> dict:
        change: dict = {}

        def apply(cur: dict | None) -> dict:
            cur = cur or self._fresh(client_id)
            target = balance if balance is not None else cur["balance"] + (delta or 0)
            target = max(target, 0)
            change["delta"] = target - cur["balance"]
            cur["balance"] = target
            return cur

        doc = self.store.update(ACCOUNT, client_id, apply, owner=client_id)
        kind = "topup" if balance is None and change["delta"] >= 0 else "adjustment"
        self._record(client_id, kind, change["delta"], doc["balance"], now, None, None,
                     "Top-up" if kind == "topup" else "Balance set through the control API")
        return doc

    # -- reading ---------------------------------------------------------------------------
    def summary(self, client_id: str, now: float, limit: int = 20) -> dict:
        self.settle(client_id, now)
        doc = self.account(client_id)
        # Settlements are recorded in time order per run but may interleave across runs:
        # the newest few hundred by insertion, re-sorted by time, hold the newest `limit`.
        window = max(limit * 10, RECENT_WINDOW) if limit else 0
        if window and not self.store.shared:
            with self._order_lock:
                depth, _last = self._ordered_tail(client_id)
            if depth >= min(window, self.store.count(TXN, owner=client_id)):
                window = limit  # the whole window is in time order: its newest `limit` are the answer
        recent = itertools.islice(self.store.scan_entries(TXN, owner=client_id, newest_first=True), window)
        txns = [e.doc for e in sorted(recent, key=lambda e: (e.doc["at"], e.seq), reverse=True)[:limit]]
        return {
            "creditBalance": doc["balance"],
            "heldCredits": doc["held"],
            "availableCredits": max(doc["balance"] - doc["held"], 0),
            "currency": "credits",
            "usage": {"totalCharged": sum(doc["usage"].values()),
                      "byModule": {m: doc["usage"].get(m, 0) for m in MODULES}},
            "recentTransactions": [shown_transaction(t) for t in txns],
        }
