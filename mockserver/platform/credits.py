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
Every account change is written together with its transaction (`store.update_and_put`), and
a summary reads the account, its pending settlements and its newest transactions as one
view (`store.read_view`, one Redis round trip): a read racing another process's settlement
never sees a half-settled account, and a read with nothing due takes no lock. What a summary
built is kept per (client, limit) under the store's marked stamp of the account and the
client's settlement and transaction indexes, read before the view, and until the first
pending settlement falls due: a repeated read costs no round trip while nothing changed in any
process (every write to them is told to this process before its writer answers:
`store/redis_marks`).

Failure midway (the store unreachable): a hold writes its `hold` document first and then
the account (on a shared store both in one atomic write, with the transaction), so an
account never holds credits without their document; `cancel_hold` undoes
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
from typing import Any, Callable

from ..clock import iso
from ..json_writer import freeze, rendered
from ..store.base import Entry
from ..store.memory import MemoryStore
from .kept_views import kept_views

MODULES = ("speech", "cvdeepmatch", "cvdeepsearch", "interview")
ACCOUNT = "account"
TXN = "txn"
SETTLEMENT = "settlement"
HOLD = "hold"
RECENT_WINDOW = 200  # newest transactions (by recording order) re-sorted by time for the summary
API_LIMIT = 20  # recent transactions `GET /api/v1/credits` shows: its view is kept between reads

log = logging.getLogger("zenhire_mock")


class _Refused(Exception):
    """Raised inside a check-and-hold to write nothing: the hold was refused (``refusal``)."""

    def __init__(self, refusal: "HoldRefused") -> None:
        super().__init__(refusal)
        self.refusal = refusal


@dataclass(frozen=True)
class HoldRefused:
    available: int
    cost: int


def _describe(kind: str, module: str | None) -> str:
    return {"hold": f"Hold for {module} run", "charge": f"Charge for {module} run",
            "release": f"Hold released for {module} run", "topup": "Top-up",
            "adjustment": "Balance set through the control API"}.get(kind, "")


_DESCRIPTIONS: dict[tuple[str, str | None], str] = {}  # (type, module) -> text: read on every credits view


def _usual_description(kind: str, module: str | None) -> str:
    text = _DESCRIPTIONS.get((kind, module))
    if text is None:
        text = _describe(kind, module)
        if len(_DESCRIPTIONS) < 256:  # types x modules; a stray value is described, not kept
            _DESCRIPTIONS[(kind, module)] = text
    return text


def shown_transaction(txn: dict) -> dict:
    """A stored transaction as `recentTransactions` lists it."""
    return {"id": txn["id"], "type": txn["type"], "amount": txn["amount"], "balanceAfter": txn["balanceAfter"],
            "module": txn["module"], "runId": txn["runId"],
            "description": txn["description"] if "description" in txn else _usual_description(txn["type"], txn["module"]),
            "createdAt": txn.get("createdAt") or iso(txn["at"])}


def _view(account: dict, shown: list) -> dict:
    """`GET /api/v1/credits` of an account and its rendered recent transactions."""
    return {
        "creditBalance": account["balance"],
        "heldCredits": account["held"],
        "availableCredits": max(account["balance"] - account["held"], 0),
        "currency": "credits",
        "usage": {"totalCharged": sum(account["usage"].values()),
                  "byModule": {m: account["usage"].get(m, 0) for m in MODULES}},
        "recentTransactions": shown,
    }


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
        # The credits view's rendered recentTransactions, per (client, limit), with the token
        # they were rendered at (`_recent_cached`); in this process only (not on a shared store).
        self._txn_gen: dict[str, int] = {}
        self._recent: dict[tuple[str, int], tuple[tuple[int, int], list]] = {}
        # Shared store: per (client, limit), (the marked stamp read before the view, the virtual
        # time its first pending settlement falls due, the rendered view — None while the client
        # has no account: then built from its initial credits at each read —, its transactions,
        # the ticket of the marked stamp that last confirmed it).
        self._shared_views: dict[tuple[str, int], tuple[tuple, float, dict | None, list, Any]] = {}

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

    def _txn_doc(self, kind: str, amount: int, balance_after: int, at: float,
                 module: str | None, run_id: str | None, description: str) -> dict:
        # `createdAt` is iso(at) and the usual description follows from type and module:
        # both are derived on read (a stored transaction is about a third smaller).
        txn = {"id": self._new_txn_id(at), "type": kind, "amount": amount, "balanceAfter": balance_after,
               "module": module, "runId": run_id, "at": at}
        if description != _usual_description(kind, module):
            txn["description"] = description
        return txn

    def _record(self, client_id: str, kind: str, amount: int, balance_after: int, at: float,
                module: str | None, run_id: str | None, description: str) -> None:
        txn = self._txn_doc(kind, amount, balance_after, at, module, run_id, description)
        if self.store.shared:  # other processes record too: no local view of the order
            self.store.put(TXN, txn["id"], txn, owner=client_id)
            return
        with self._order_lock:
            depth, last_at = self._ordered_tail(client_id)
            self.store.put(TXN, txn["id"], txn, owner=client_id)
            self._ordered[client_id] = (depth + 1 if at >= last_at else 1, at)
            self._txn_gen[client_id] = self._txn_gen.get(client_id, 0) + 1  # after the put: see _recent_cached

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

    def _change(self, client_id: str, apply: Callable[[dict | None], dict],
                txn: Callable[[dict], tuple | None]) -> dict:
        """Update the account with ``apply`` and record the transaction ``txn(new account)``
        describes (``_record``'s arguments, or None for none). On a shared store both are one
        atomic write (`update_and_put`): a reader in any process sees the new balance with the
        transaction that explains it, or neither."""
        if not self.store.shared:
            doc = self.store.update(ACCOUNT, client_id, apply, owner=client_id)
            described = txn(doc)
            if described is not None:
                self._record(client_id, *described)
            return doc

        def extra(doc: dict) -> list:
            described = txn(doc)
            if described is None:
                return []
            made = self._txn_doc(*described)
            return [(TXN, made["id"], made, client_id)]

        return self.store.update_and_put(ACCOUNT, client_id, apply, extra, owner=client_id)

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
        with self._due_lock:  # check-and-hold and the run's hold document move together
            try:
                doc = self.store.update(ACCOUNT, client_id, self._holding(client_id, amount), owner=client_id)
            except _Refused as refused:
                return refused.refusal
            self.store.put(HOLD, self._hold_key(client_id, run_id), {"amount": amount, "module": module},
                           owner=client_id)
        self._record(client_id, "hold", amount, doc["balance"], now, module, run_id,
                     f"Hold for {module} run")
        return None

    def _holding(self, client_id: str, amount: int) -> Callable[[dict | None], dict]:
        """The account update of a hold: ``held`` grows by ``amount``, or `_Refused` (nothing
        written) when the available credits do not cover it. Pure: a store may call it again."""
        def apply(cur: dict | None) -> dict:
            cur = cur or self._fresh(client_id)
            available = cur["balance"] - cur["held"]
            if amount > available:
                raise _Refused(HoldRefused(available=max(available, 0), cost=amount))
            return dict(cur, held=cur["held"] + amount)
        return apply

    def _shared_hold(self, client_id: str, run_id: str, amount: int, module: str, now: float) -> HoldRefused | None:
        """Check-and-hold on a shared store: the account's new ``held``, the run's `hold`
        document and the hold transaction written in one atomic step (`update_and_put`), after
        one read of the account; a refusal writes nothing."""
        def extra(doc: dict) -> list:
            txn = self._txn_doc("hold", amount, doc["balance"], now, module, run_id, f"Hold for {module} run")
            return [(HOLD, self._hold_key(client_id, run_id), {"amount": amount, "module": module}, client_id),
                    (TXN, txn["id"], txn, client_id)]

        with self._client_lock(client_id):
            try:
                self.store.update_and_put(ACCOUNT, client_id, self._holding(client_id, amount), extra, owner=client_id)
            except _Refused as refused:
                return refused.refusal
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
            module = held.get("module")
            self._change(client_id, lambda cur: dict(cur or self._fresh(client_id),
                                                     held=max((cur or {}).get("held", 0) - amount, 0)),
                         lambda doc: ("release", amount, doc["balance"], now, module, run_id,
                                      f"Hold released for {module} run"))

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

    def _shared_settle(self, client_id: str, now: float, pending: list[Entry] | None = None) -> None:
        """Settlements due found from the store (``pending``: the client's settlement entries,
        when the caller read them already); each applied by the process that takes it. Nothing
        due: one read, no lock."""
        if pending is None:
            pending = self.store.read_view([], [(SETTLEMENT, client_id, False, 0)])[1][0]
        due = sorted((e.doc["at"], e.seq, e.doc["runId"]) for e in pending if e.doc["at"] <= now)
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

        def txn(doc: dict) -> tuple | None:
            if item["action"] == "charge":
                return ("charge", -result["amount"], doc["balance"], item["at"],
                        item["module"], item["runId"], f"Charge for {item['module']} run")
            if result["amount"]:
                return ("release", result["amount"], doc["balance"], item["at"],
                        item["module"], item["runId"], f"Hold released for {item['module']} run")
            return None

        self._change(client_id, apply, txn)

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

        def txn(doc: dict) -> tuple:
            kind = "topup" if balance is None and change["delta"] >= 0 else "adjustment"
            return (kind, change["delta"], doc["balance"], now, None, None,
                    "Top-up" if kind == "topup" else "Balance set through the control API")

        return self._change(client_id, apply, txn)

    # -- reading ---------------------------------------------------------------------------
    def summary(self, client_id: str, now: float, limit: int = API_LIMIT) -> dict:
        if self.store.shared:
            return self._shared_summary(client_id, now, limit)
        self.settle(client_id, now)
        views = kept_views(self.store) if limit == API_LIMIT else None
        if views is None:
            return self._summary(client_id, limit)
        # The API's view, rendered once (`kept_views`): kept on the account document, so any
        # write of the account (a hold, a settlement, a top-up) or a purge drops it; kept with
        # the transactions' token, so a transaction recorded without one drops it too.
        kept_since = views.token()
        txn_token = self._txn_token(client_id)
        kept = views.get(ACCOUNT, client_id, client_id, now)
        if kept is not None and kept[0] == txn_token:
            return kept[1]
        view = rendered(self._summary(client_id, limit))
        views.keep(ACCOUNT, client_id, client_id, float("-inf"), (txn_token, view), kept_since)
        return view

    def _txn_token(self, client_id: str) -> tuple[int, int]:
        """Changes with every transaction of the client this ledger records and with a purge
        (see `_recent_cached`)."""
        return self._txn_gen.get(client_id, 0), self.store.count(TXN, owner=client_id)

    def _summary(self, client_id: str, limit: int) -> dict:
        """The view of `summary`, read and rendered (settlements due applied already)."""
        doc = self.account(client_id)
        token, cached = self._recent_cached(client_id, limit)
        # Settlements are recorded in time order per run but may interleave across runs:
        # the newest few hundred by insertion, re-sorted by time, hold the newest `limit`.
        window = max(limit * 10, RECENT_WINDOW) if limit and cached is None else 0
        if window and not self.store.shared:
            with self._order_lock:
                depth, _last = self._ordered_tail(client_id)
            if depth >= min(window, self.store.count(TXN, owner=client_id)):
                window = limit  # the whole window is in time order: its newest `limit` are the answer
        if cached is not None:  # the list kept at this token: nothing to read
            return _view(doc, cached)
        recent = itertools.islice(self.store.scan_entries(TXN, owner=client_id, newest_first=True), window)
        txns = [e.doc for e in sorted(recent, key=lambda e: (e.doc["at"], e.seq), reverse=True)[:limit]]
        return _view(doc, self._recent_keep(client_id, limit, token, txns))

    def _recent_cached(self, client_id: str, limit: int) -> tuple[tuple[int, int] | None, list | None]:
        """(the token of the client's transactions now, the view's list rendered at that token
        if kept). The token — how many transactions the client has, and how many this ledger
        recorded for it (bumped after each put) — changes with every write of a transaction
        (only `_record` writes them) and with a purge (the count drops): a list kept at a token
        is the list for as long as the token stays. Read before rendering, so a list is never
        kept under a token newer than what it shows."""
        if not limit or self.store.shared:
            return None, None
        token = self._txn_token(client_id)
        kept = self._recent.get((client_id, limit))
        return token, (kept[1] if kept is not None and kept[0] == token else None)

    def _recent_keep(self, client_id: str, limit: int, token: tuple[int, int] | None, txns: list) -> list:
        """The rendered list, kept under ``token``: frozen, so its JSON is also written once
        and spliced into every view (`json_writer.freeze`; nobody changes it)."""
        shown = [shown_transaction(t) for t in txns]
        if token is None:
            return shown
        shown = freeze(shown)
        if len(self._recent) >= 4096:  # one entry per (client, limit): a bound, not an eviction policy
            self._recent.clear()
        self._recent[(client_id, limit)] = (token, shown)
        return shown

    def _shared_summary(self, client_id: str, now: float, limit: int) -> dict:
        """`summary` on a shared store: the account and its newest transactions (by recording
        order; other processes record too, so the window is always re-sorted by time) in one
        consistent read (`read_view`), which also brings the client's pending settlements;
        only when one is due is it applied (`_shared_settle`, under the client's lock) and the
        view read again. Account changes are written with their transaction in one step
        (`_change`), so no read shows a half-settled account. A view kept is answered with no
        round trip while the ticket of its marked stamp holds (nothing it covers written since:
        `store/redis_marks`) and no settlement fell due; else one small read confirms it."""
        kept = self._shared_views.get((client_id, limit))
        if kept is not None and now < kept[1] and self.store.unchanged(kept[4]):
            return kept[2] if kept[2] is not None else _view(self._fresh(client_id), kept[3])
        stamp, ticket = self.store.marked_stamp([(ACCOUNT, client_id)],
                                                [(SETTLEMENT, client_id), (TXN, client_id)])
        if kept is not None and kept[0] == stamp and now < kept[1]:  # nothing written or due since
            self._shared_views[(client_id, limit)] = kept[:4] + (ticket,)
            return kept[2] if kept[2] is not None else _view(self._fresh(client_id), kept[3])
        window = max(limit * 10, RECENT_WINDOW) if limit else 0
        ranges = [(SETTLEMENT, client_id, False, 0)] + ([(TXN, client_id, True, window)] if window else [])
        settled = False
        for _ in range(2):
            (doc,), (pending, *recent) = self.store.read_view([(ACCOUNT, client_id)], ranges)
            if not any(e.doc["at"] <= now for e in pending):
                break
            self._shared_settle(client_id, now, pending)
            settled = True
        txns = [e.doc for e in sorted(recent[0] if recent else [], key=lambda e: (e.doc["at"], e.seq), reverse=True)[:limit]]
        shown = freeze([shown_transaction(t) for t in txns])
        if not settled:  # the view is the state the stamp was read at (or newer: kept under an older stamp)
            if len(self._shared_views) >= 4096:  # one entry per (client, limit): a bound, not an eviction policy
                self._shared_views.clear()
            due = min((e.doc["at"] for e in pending), default=float("inf"))
            view = None if doc is None else rendered(_view(doc, shown))  # its JSON written once
            self._shared_views[(client_id, limit)] = (stamp, due, view, shown, ticket)
            if view is not None:
                return view
        # no account yet in this view: what it starts as (from the registry now; reading the
        # account again could see a hold written after the view: half a view)
        return _view(doc or self._fresh(client_id), shown)
