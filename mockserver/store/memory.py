"""In-memory store: documents by kind/key with a per-owner insertion index, and the
atomic operations under one lock. Optionally writes every change through to a
persistence backend (SQLite) so a restart finds the same state.

Each document is kept as one pickled blob, not as live dicts: a stored run then costs
its encoded size (a CV DeepMatch run ≈ 1.7 KB instead of ≈ 8.8 KB of dicts, floats and
strings), and every read decodes a fresh copy (`pickle.loads` is faster than the
recursive copy it replaces), so callers may change what they read. Blobs never leave
this process; persistence writes JSON. A document's sequence and owner are kept beside its
blob (one record ``(seq, key, blob, owner)`` per document, shared by the key table and the
owner's index), never inside it: a tenant check reads no blob, and readers
get the pure document (`Entry` when they ask for the bookkeeping).
"""

from __future__ import annotations

import bisect
import contextlib
import heapq
import operator
import pickle
import sys
import threading
from collections import OrderedDict, deque
from typing import Any, Callable, Iterator

from .base import Claim, Entry

_IDEM = "_idempotency"
_SLOTS = "_slots"
_PROTOCOL = pickle.HIGHEST_PROTOCOL
_encode = pickle.dumps
_decode = pickle.loads
_MAX_SHAPES = 4096  # distinct top-level key lists kept; documents of other shapes pickle whole
_SHARED_MIN_BYTES = 256  # a top-level value at least this big (pickled) is kept once for all
_RELEASED_KEPT_BYTES = 64 * 1024
_Record = tuple  # (seq, key, blob, owner): one stored document with its bookkeeping
_BLOB = operator.itemgetter(2)  # of a record


class _Codec:
    """Documents as pickled blobs, smaller than pickling each dict whole in two ways:

    - a document's top-level keys (its shape: documents of one kind share a few) are kept
      once in a table, and the blob holds only the values;
    - a large top-level dict or list value (a CV DeepMatch run's config and parsed CV, the
      same for every run of a batch) is kept once, by its pickled bytes, with a count of
      the blobs that use it; the blob holds its number. ``release`` is called for every
      blob the store drops or replaces, so unused values go.

    Decoding is as fast as unpickling a dict. Not thread-safe: the store calls encode and
    release under its lock (decode only reads tables that are appended to)."""

    def __init__(self) -> None:
        self._index: dict[tuple[str, ...], int] = {}
        self._keys: list[tuple[str, ...]] = []
        self._shared_ids: dict[bytes, int] = {}
        self._shared: dict[int, bytes] = {}
        self._uses: dict[int, int] = {}
        self._next_shared = 0
        # values released lately, for a reader still decoding a blob it took before the
        # write that replaced it (ids are never reused)
        self._released: OrderedDict[int, bytes] = OrderedDict()
        self._released_bytes = 0

    def encode(self, doc: dict) -> bytes:
        keys = tuple(doc)
        shape = self._index.get(keys)
        if shape is None:
            if len(self._keys) >= _MAX_SHAPES:
                return _encode(doc, _PROTOCOL)
            shape = self._index[keys] = len(self._keys)
            self._keys.append(keys)
        values = list(doc.values())
        shared = []
        for pos, value in enumerate(values):
            if type(value) in (dict, list) and value:
                pickled = _encode(value, _PROTOCOL)
                if len(pickled) >= _SHARED_MIN_BYTES:
                    values[pos] = self._share(pickled)
                    shared.append(pos)
        if shared:
            return _encode((shape, tuple(values), tuple(shared)), _PROTOCOL)
        return _encode((shape, tuple(values)), _PROTOCOL)

    def _share(self, pickled: bytes) -> int:
        ref = self._shared_ids.get(pickled)
        if ref is None:
            ref = self._shared_ids[pickled] = self._next_shared
            self._next_shared += 1
            self._shared[ref] = pickled
            self._uses[ref] = 0
        self._uses[ref] += 1
        return ref

    def decode(self, blob: bytes) -> dict:
        value = _decode(blob)
        if type(value) is not tuple:
            return value
        if len(value) == 2:
            return dict(zip(self._keys[value[0]], value[1]))
        values = list(value[1])
        for pos in value[2]:
            pickled = self._shared.get(values[pos])
            if pickled is None:
                pickled = self._released[values[pos]]
            values[pos] = _decode(pickled)
        return dict(zip(self._keys[value[0]], values))

    def release(self, blob: bytes) -> None:
        """``blob`` is no longer stored: its shared values lose a user."""
        value = _decode(blob)
        if type(value) is tuple and len(value) == 3:
            for pos in value[2]:
                ref = value[1][pos]
                self._uses[ref] -= 1
                if not self._uses[ref]:
                    del self._uses[ref]
                    pickled = self._shared.pop(ref)
                    del self._shared_ids[pickled]
                    self._released[ref] = pickled
                    self._released_bytes += len(pickled)
                    while self._released_bytes > _RELEASED_KEPT_BYTES:
                        self._released_bytes -= len(self._released.popitem(last=False)[1])


class MemoryStore:
    shared = False  # one process owns this state (a --state file is not shared either)

    def __init__(self, persistence: Any = None) -> None:
        self._lock = threading.RLock()
        self._named_locks: dict[str, threading.RLock] = {}
        self._counters: dict[str, int] = {}
        # kind -> key -> record (seq, key, pickled document, owner): the bookkeeping beside
        # the blob. The same record object sits in the owner's index below (one tuple per
        # document, not one per structure), replaced there when the document is rewritten.
        self._docs: dict[str, dict[str, _Record]] = {}
        # kind -> owner -> records sorted by (seq, key)
        self._index: dict[str, dict[str | None, list[_Record]]] = {}
        self._seq = 0
        self._windows: dict[str, deque] = {}
        self._gates: dict[str, float] = {}
        self._codec = _Codec()
        self._persistence = persistence
        if persistence is not None:
            for kind, key, seq, owner, doc in persistence.load_all():
                self._load(kind, key, seq, owner, doc)

    # -- internals ----------------------------------------------------------------------
    def _load(self, kind: str, key: str, seq: int, owner: str | None, doc: dict) -> None:
        if key in self._docs.get(kind, {}):
            self._drop(kind, key)
        owner = None if owner is None else sys.intern(owner)
        rec = (seq, key, self._codec.encode(doc), owner)
        self._docs.setdefault(kind, {})[key] = rec
        self._seq = max(self._seq, seq)
        bisect.insort(self._index.setdefault(kind, {}).setdefault(owner, []), rec)

    def _doc(self, kind: str, key: str) -> dict | None:
        rec = self._docs.get(kind, {}).get(key)
        return None if rec is None else self._codec.decode(rec[2])

    def _write(self, kind: str, key: str, doc: dict, owner: str | None) -> _Record:
        """Store ``doc`` under ``key``: a new key takes the next sequence and ``owner``, an
        existing one keeps its own. Returns the stored record."""
        docs = self._docs.setdefault(kind, {})
        old = docs.get(key)
        blob = self._codec.encode(doc)
        if old is None:
            self._seq += 1
            owner = None if owner is None else sys.intern(owner)  # one string per tenant
            rec = (self._seq, key, blob, owner)
            self._index.setdefault(kind, {}).setdefault(owner, []).append(rec)
        else:
            rec = (old[0], key, blob, old[3])
            entries = self._index[kind][old[3]]
            entries[bisect.bisect_left(entries, (old[0], key))] = rec
            self._codec.release(old[2])
        docs[key] = rec
        if self._persistence is not None:
            self._persistence.save(kind, key, rec[0], rec[3], doc)
        return rec

    def _drop(self, kind: str, key: str) -> None:
        """Forget ``key`` in memory (its blob, its index record)."""
        rec = self._docs.get(kind, {}).pop(key, None)
        if rec is None:
            return
        self._codec.release(rec[2])
        entries = self._index.get(kind, {}).get(rec[3], [])
        pos = bisect.bisect_left(entries, (rec[0], key))
        if pos < len(entries) and entries[pos][1] == key:
            entries.pop(pos)

    def _remove(self, kind: str, key: str) -> None:
        if key in self._docs.get(kind, {}):
            self._drop(kind, key)
            if self._persistence is not None:
                self._persistence.delete(kind, key)

    # -- documents ----------------------------------------------------------------------
    def put(self, kind: str, key: str, doc: dict[str, Any], *, owner: str | None = None) -> dict:
        return self.put_entry(kind, key, doc, owner=owner).doc

    def put_entry(self, kind: str, key: str, doc: dict[str, Any], *, owner: str | None = None) -> Entry:
        with self._lock:
            # The blob is a deep copy, so the caller's dict is left as it was; the caller gets
            # a fresh decoded one.
            rec = self._write(kind, key, doc, owner)
            return Entry(rec[0], rec[3], self._codec.decode(rec[2]))

    def get(self, kind: str, key: str, *, owner: str | None = None) -> dict | None:
        """The document, or None; with ``owner``, None also when another tenant owns it —
        tenant isolation as one rule, here, rather than an owner check per handler."""
        rec = self._docs.get(kind, {}).get(key)
        if rec is None or (owner is not None and rec[3] != owner):
            return None
        # Blobs are immutable and replaced on write: decoding outside the lock is safe.
        return self._codec.decode(rec[2])

    def get_entry(self, kind: str, key: str, *, owner: str | None = None) -> Entry | None:
        rec = self._docs.get(kind, {}).get(key)
        if rec is None or (owner is not None and rec[3] != owner):
            return None
        return Entry(rec[0], rec[3], self._codec.decode(rec[2]))

    def delete(self, kind: str, key: str) -> None:
        with self._lock:
            self._remove(kind, key)

    def update(self, kind: str, key: str, fn: Callable[[dict | None], dict | None], *,
               owner: str | None = None) -> dict | None:
        """Atomically replace a document with ``fn(current)`` (``None`` result deletes)."""
        with self._lock:
            new = fn(self._doc(kind, key))
            if new is None:
                self._remove(kind, key)
                return None
            # ``new`` was decoded for this call (or built by ``fn``): after encoding it is the
            # caller's own copy.
            self._write(kind, key, new, owner)
            return new

    def scan(self, kind: str, *, owner: str | None = None, newest_first: bool = False,
             before_seq: int | None = None, copy: bool = True) -> Iterator[dict]:
        """Documents of ``kind`` (for one owner, or all), in insertion order (or newest
        first). Lazy: each document is copied only when the caller takes it, so a caller
        that stops after a page pays for the page — for one owner, the index is also read
        a chunk at a time, so the cost does not grow with the owner's history.
        Every document is a fresh copy (``copy`` is kept for callers that said they only read)."""
        return map(self._codec.decode, map(_BLOB, self._records(kind, owner, newest_first, before_seq)))

    def scan_entries(self, kind: str, *, owner: str | None = None, newest_first: bool = False,
                     before_seq: int | None = None) -> Iterator[Entry]:
        """``scan`` with each document's `Entry` (seq, owner beside the document); decodes
        exactly what ``scan`` decodes."""
        decode = self._codec.decode
        return (Entry(rec[0], rec[3], decode(rec[2])) for rec in self._records(kind, owner, newest_first, before_seq))

    def scan_keys(self, kind: str, *, owner: str, newest_first: bool = False,
                  before_seq: int | None = None) -> Iterator[tuple[int, str]]:
        """``scan_entries`` of one owner as (seq, key) pairs: nothing decoded (a reader that
        keeps what it rendered of a document reads only the documents it lacks)."""
        return ((rec[0], rec[1]) for rec in self._records(kind, owner, newest_first, before_seq))

    def _records(self, kind: str, owner: str | None, newest_first: bool,
                 before_seq: int | None) -> Iterator[_Record]:
        if owner is None:
            with self._lock:
                records = sorted(rec for lst in self._index.get(kind, {}).values() for rec in lst)
            if newest_first:
                records.reverse()
            return iter(records) if before_seq is None else (rec for rec in records if rec[0] < before_seq)
        if before_seq is None:
            before_seq = self._seq + 1  # documents written after the call are not visited
        return self._owner_refs(kind, owner, newest_first, before_seq)

    def _owner_refs(self, kind: str, owner: str, newest_first: bool, before_seq: int | None,
                    chunk: int = 64) -> Iterator[_Record]:
        """One owner's records in sequence order, read from its sorted index a chunk at a
        time under the lock; the position is found again by sequence (bisect) each chunk, so
        writes between chunks neither repeat nor skip a document that existed throughout."""
        if newest_first:
            bound = before_seq  # next chunk: sequences strictly below this (None: all)
            while True:
                with self._lock:
                    entries = self._index.get(kind, {}).get(owner, [])
                    end = len(entries) if bound is None else bisect.bisect_left(entries, (bound,))
                    batch = entries[max(end - chunk, 0):end]
                if not batch:
                    return
                bound = batch[0][0]
                yield from reversed(batch)
        else:
            after = -1  # next chunk: sequences strictly above this
            while True:
                with self._lock:
                    entries = self._index.get(kind, {}).get(owner, [])
                    start = bisect.bisect_left(entries, (after + 1,))  # sequences are unique
                    stop = bisect.bisect_left(entries, (before_seq,))
                    batch = entries[start:min(start + chunk, stop)]
                if not batch:
                    return
                after = batch[-1][0]
                yield from batch

    def count(self, kind: str, *, owner: str | None = None) -> int:
        with self._lock:
            if owner is not None:
                return len(self._index.get(kind, {}).get(owner, []))
            return len(self._docs.get(kind, {}))

    def take(self, kind: str, key: str) -> dict | None:
        """Remove and return the document; of concurrent takers exactly one gets it."""
        with self._lock:
            doc = self._doc(kind, key)
            if doc is not None:
                self._remove(kind, key)
            return doc

    def read_view(self, docs: list[tuple[str, str]],
                  ranges: list[tuple[str, str | None, bool, int]]) -> tuple[list[dict | None], list[list[Entry]]]:
        """Documents and the entries of index ranges ``(kind, owner, newest_first, count)``
        (0: all) read as one consistent view (see `RedisStore.read_view`)."""
        with self._lock:
            got = [self.get(kind, key) for kind, key in docs]
            lists = []
            for kind, owner, newest_first, count in ranges:
                found = []
                for entry in self.scan_entries(kind, owner=owner, newest_first=newest_first):
                    found.append(entry)
                    if len(found) == count:
                        break
                lists.append(found)
        return got, lists

    def update_and_put(self, kind: str, key: str, fn: Callable[[dict | None], dict],
                       extra: Callable[[dict], list[tuple[str, str, dict, str | None]]], *,
                       owner: str | None = None) -> dict:
        """`update`, and the documents ``extra(new)`` put, as one step (see `RedisStore.update_and_put`)."""
        with self._lock:
            new = self.update(kind, key, fn, owner=owner)
            for other_kind, other_key, doc, other_owner in extra(new):
                self.put(other_kind, other_key, doc, owner=other_owner)
            return new

    @contextlib.contextmanager
    def lock(self, name: str, *, timeout: float = 30.0) -> Iterator[None]:
        """A named re-entrant lock (one process: a thread lock per name)."""
        with self._lock:
            named = self._named_locks.get(name)
            if named is None:
                named = self._named_locks[name] = threading.RLock()
        if not named.acquire(timeout=timeout):
            raise TimeoutError(f"store lock {name!r} not acquired within {timeout} s")
        try:
            yield
        finally:
            named.release()

    def incr(self, counter: str, by: int = 1) -> int:
        with self._lock:
            value = self._counters[counter] = self._counters.get(counter, 0) + by
            return value

    def purge_owner(self, owner: str) -> int:
        """Drop every document owned by ``owner`` (control API reset of one client)."""
        removed = 0
        with self._lock:
            for kind, by_owner in list(self._index.items()):
                for rec in list(by_owner.get(owner, [])):
                    self._remove(kind, rec[1])
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
            existing = self._doc(_IDEM, doc_key)
            if existing is not None and now - existing["at"] < ttl:
                return Claim(fresh=False, value=existing["value"])
            self._write(_IDEM, doc_key, {"value": value, "at": now}, scope.split("|")[0])
            return Claim(fresh=True, value=value)

    def release_idempotency(self, scope: str, key: str, value: str) -> None:
        """Forget a claim (e.g. the submit it guarded failed before creating a run: IDEM-4)."""
        doc_key = f"{scope}|{key}"
        with self._lock:
            existing = self._doc(_IDEM, doc_key)
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
            new, start, finish = self.reserve_slot(self._doc(_SLOTS, pool), capacity, now, duration)
            self._write(_SLOTS, pool, new, pool.split("|")[0])
            return start, finish

    @staticmethod
    def reserve_slot(doc: dict | None, capacity: int, now: float, duration: float) -> tuple[dict, float, float]:
        """The slot computation every backend shares: from the pool's document (or None), the
        new document and the job's (start, finish)."""
        frees: list[float] = list(doc["frees"]) if doc else []
        last_start = doc.get("last_start", 0.0) if doc else 0.0
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
        return {"frees": sorted(frees), "last_start": start}, start, finish
