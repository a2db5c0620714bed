"""In-memory store: documents by kind/key with a per-owner insertion index, and the
atomic operations under one lock. Optionally writes every change through to a
persistence backend (SQLite) so a restart finds the same state."""

from __future__ import annotations

import bisect
import heapq
import threading
from collections import deque
from typing import Any, Callable, Iterator

from .base import Claim

_IDEM = "_idempotency"


def _clone(value: Any) -> Any:
    """A copy of a JSON-like document (dicts, lists, scalars): several times cheaper than
    ``copy.deepcopy`` on the hot read path."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value
_SLOTS = "_slots"


class MemoryStore:
    def __init__(self, persistence: Any = None) -> None:
        self._lock = threading.RLock()
        self._docs: dict[str, dict[str, dict]] = {}
        # kind -> owner -> sorted list of (seq, key)
        self._index: dict[str, dict[str | None, list[tuple[int, str]]]] = {}
        self._seq = 0
        self._windows: dict[str, deque] = {}
        self._gates: dict[str, float] = {}
        self._persistence = persistence
        if persistence is not None:
            for kind, key, doc in persistence.load_all():
                self._load(kind, key, doc)

    # -- internals ----------------------------------------------------------------------
    def _load(self, kind: str, key: str, doc: dict) -> None:
        self._docs.setdefault(kind, {})[key] = doc
        seq = doc.get("_seq", 0)
        self._seq = max(self._seq, seq)
        bisect.insort(self._index.setdefault(kind, {}).setdefault(doc.get("_owner"), []), (seq, key))

    def _write(self, kind: str, key: str, doc: dict, owner: str | None) -> dict:
        docs = self._docs.setdefault(kind, {})
        old = docs.get(key)
        if old is None:
            self._seq += 1
            doc["_seq"] = self._seq
            doc["_owner"] = owner
            self._index.setdefault(kind, {}).setdefault(owner, []).append((self._seq, key))
        else:
            doc["_seq"] = old["_seq"]
            doc["_owner"] = old.get("_owner")
        docs[key] = doc
        if self._persistence is not None:
            self._persistence.save(kind, key, doc)
        return doc

    def _remove(self, kind: str, key: str) -> None:
        doc = self._docs.get(kind, {}).pop(key, None)
        if doc is None:
            return
        entries = self._index.get(kind, {}).get(doc.get("_owner"), [])
        pos = bisect.bisect_left(entries, (doc["_seq"], key))
        if pos < len(entries) and entries[pos] == (doc["_seq"], key):
            entries.pop(pos)
        if self._persistence is not None:
            self._persistence.delete(kind, key)

    # -- documents ----------------------------------------------------------------------
    def put(self, kind: str, key: str, doc: dict[str, Any], *, owner: str | None = None) -> dict:
        with self._lock:
            return _clone(self._write(kind, key, _clone(doc), owner))

    def get(self, kind: str, key: str) -> dict | None:
        with self._lock:
            doc = self._docs.get(kind, {}).get(key)
        # Stored documents are replaced on write, never changed in place: copying outside
        # the lock is safe.
        return _clone(doc) if doc is not None else None

    def delete(self, kind: str, key: str) -> None:
        with self._lock:
            self._remove(kind, key)

    def update(self, kind: str, key: str, fn: Callable[[dict | None], dict | None], *,
               owner: str | None = None) -> dict | None:
        """Atomically replace a document with ``fn(current)`` (``None`` result deletes)."""
        with self._lock:
            current = self._docs.get(kind, {}).get(key)
            new = fn(_clone(current) if current is not None else None)
            if new is None:
                self._remove(kind, key)
                return None
            return _clone(self._write(kind, key, new, owner))

    def scan(self, kind: str, *, owner: str | None = None, newest_first: bool = False,
             before_seq: int | None = None) -> Iterator[dict]:
        """Documents of ``kind`` (for one owner, or all), in insertion order (or newest
        first). Lazy: each document is copied only when the caller takes it, so a caller
        that stops after a page pays for the page."""
        with self._lock:
            by_owner = self._index.get(kind, {})
            if owner is not None:
                entries = list(by_owner.get(owner, []))
            else:
                entries = sorted(e for lst in by_owner.values() for e in lst)
            docs = self._docs.get(kind, {})
            if newest_first:
                entries.reverse()
            refs = [docs.get(key) for seq, key in entries if before_seq is None or seq < before_seq]
        return (_clone(doc) for doc in refs if doc is not None)

    def count(self, kind: str, *, owner: str | None = None) -> int:
        with self._lock:
            if owner is not None:
                return len(self._index.get(kind, {}).get(owner, []))
            return len(self._docs.get(kind, {}))

    def purge_owner(self, owner: str) -> int:
        """Drop every document owned by ``owner`` (control API reset of one client)."""
        removed = 0
        with self._lock:
            for kind, by_owner in list(self._index.items()):
                for _seq, key in list(by_owner.get(owner, [])):
                    self._remove(kind, key)
                    removed += 1
            for bucket in [b for b in self._windows if b.startswith(owner + "|")]:
                del self._windows[bucket]
            for gate in [g for g in self._gates if g.startswith(owner + "|")]:
                del self._gates[gate]
        return removed

    def purge_all(self) -> None:
        with self._lock:
            for kind in list(self._docs):
                for key in list(self._docs[kind]):
                    self._remove(kind, key)
            self._windows.clear()
            self._gates.clear()

    # -- atomic operations ---------------------------------------------------------------
    def claim_idempotency(self, scope: str, key: str, value: str, now: float, ttl: float) -> Claim:
        """Claim ``key`` in ``scope`` for ``value`` unless a live claim (younger than ``ttl``) exists."""
        doc_key = f"{scope}|{key}"
        with self._lock:
            existing = self._docs.get(_IDEM, {}).get(doc_key)
            if existing is not None and now - existing["at"] < ttl:
                return Claim(fresh=False, value=existing["value"])
            self._write(_IDEM, doc_key, {"value": value, "at": now}, scope.split("|")[0])
            return Claim(fresh=True, value=value)

    def release_idempotency(self, scope: str, key: str, value: str) -> None:
        """Forget a claim (e.g. the submit it guarded failed before creating a run: IDEM-4)."""
        doc_key = f"{scope}|{key}"
        with self._lock:
            existing = self._docs.get(_IDEM, {}).get(doc_key)
            if existing is not None and existing["value"] == value:
                self._remove(_IDEM, doc_key)

    def hit_window(self, bucket: str, now: float, window: float, limit: int) -> float | None:
        """Sliding-window counter: record a hit and return None, or return the seconds until
        a hit would be allowed (nothing recorded) when ``limit`` hits are already in the window."""
        with self._lock:
            hits = self._windows.setdefault(bucket, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(hits[0] + window - now, 0.001)
            hits.append(now)
            return None

    def poll_gate(self, key: str, now: float, min_interval: float) -> float | None:
        """Allow a poll when ``min_interval`` has passed since the last allowed one (or none
        happened yet); else return the seconds remaining (POLL-1, POLL-6)."""
        with self._lock:
            last = self._gates.get(key)
            if last is not None and now - last < min_interval:
                return min_interval - (now - last)
            self._gates[key] = now
            return None

    def schedule_slot(self, pool: str, capacity: int, now: float, duration: float) -> tuple[float, float]:
        """FIFO concurrency: reserve the earliest of ``capacity`` slots in ``pool`` for a job
        of ``duration`` arriving at ``now``. Returns (start, finish). Jobs start in arrival order."""
        with self._lock:
            doc = self._docs.get(_SLOTS, {}).get(pool)
            frees: list[float] = list(doc["frees"]) if doc else []
            last_start = doc.get("last_start", 0.0) if doc else 0.0
            frees = [f for f in frees]
            heapq.heapify(frees)
            if len(frees) < capacity:
                start = now
            else:
                while len(frees) > capacity:  # capacity shrank: the earliest-freeing slots go
                    heapq.heappop(frees)
                start = max(now, heapq.heappop(frees))
            start = max(start, last_start)  # FIFO: never start before an earlier arrival
            finish = start + duration
            heapq.heappush(frees, finish)
            self._write(_SLOTS, pool, {"frees": sorted(frees), "last_start": start}, pool.split("|")[0])
            return start, finish
