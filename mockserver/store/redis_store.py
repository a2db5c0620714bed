"""The Redis store: every piece of store state in one Redis, so several worker processes and
replicas on other hosts are one platform (`serve --store redis://HOST:PORT/DB`).

Layout (every key under ``{namespace}:``; `purge_all` deletes by that prefix, never FLUSHDB):

- ``seq`` — the global sequence (INCR), given to a document at creation;
- ``d:{kind}:{key}`` — a hash per document: ``b`` its JSON body, ``s`` its sequence, ``v`` a
  version bumped on every write, ``o`` its owner. Bookkeeping lives beside the body, never in
  it; reads return the body as written, and the ``_entry`` reads give (seq, owner) beside it
  (`Entry`), exactly as `MemoryStore` does;
- ``i:{kind}`` and ``o:{kind}:{owner}`` — sorted sets of keys scored by sequence: ordered,
  chunked scans (`scan`) and counts whose cost does not grow with history;
- ``kinds`` (the kinds in use), ``w:{bucket}`` (submit windows), ``g:{key}`` (poll gates),
  ``l:{name}`` (lock leases), ``c:{name}`` (counters), ``j:*`` (the request journal),
  ``bc`` (the broadcast channel), ``bc-ack:{nonce}`` (its acknowledgements) and ``m:{key}``
  (marks: a process keeps what it built from the document or index ``key``, `redis_marks`).

Documents are JSON, never pickle: a shared Redis must not be a way to run code in the mock.

Atomicity across processes: single-document writes, take, idempotency claims, windows, gates
and lock releases are Lua scripts (`redis_scripts`), one round trip each. ``update(fn)`` runs
``fn`` in Python, so it reads the document, calls ``fn`` and writes with a compare-and-set
script that fails when the document's (sequence, version) moved; it then retries, so **fn may
be called more than once** and must not have side effects beyond its result.
Chosen by measurement (bench/store_bench.py, loopback Redis 7.0, one client thread, the
project's 2-core machine under a load average of ≈ 6, alternating rounds, best round):

    update:     read + compare-and-set script 118 µs  vs  WATCH/GET/MULTI/EXEC 120 µs
    hit_window: one Lua script            54-118 µs  vs  WATCH/ZREMRANGE/ZCARD/MULTI 157-318 µs

so one script wherever the operation fits in Lua (claims, windows, gates, take, scan chunks:
one round trip); for ``update``, where Python must compute the new value, the two designs cost
the same and compare-and-set is taken: it pins no pooled connection across the caller's
``fn`` and keeps the index/sequence bookkeeping in the same script as the write.

What a process keeps between requests (so the request path waits for as few round trips as
possible, never for a stale answer): documents of `BROADCAST_KINDS` (the shared clock and
configuration) through `watched` — every write to them is broadcast and acknowledged by every
process before the writer goes on (`redis_broadcast`); anything else through `marked_stamp`,
a small read that tells a reader whether what it built from a view still stands and marks
what it covers, so that every later write to it is told to the reader before its writer
answers: while `unchanged(ticket)`, the view needs no read at all (`redis_marks`; the credits
view, a finished run's poll answer). Every write script checks the marks of what it touched.
The request path's reads go through `redis_lane` (a connection per thread, no pool layers).

Locks: leases with a random token, re-entrant per thread, renewed while held, lost by a holder
killed with -9 after ``lock_lease`` seconds (`redis_locks`).

Failures: any connection or timeout error becomes `StoreUnavailable` with a one-line message.
Sockets have short timeouts (connect 1 s, operation 2 s), so a dead Redis never hangs a
request; the connection pool reconnects by itself when Redis is back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from typing import Any, Callable, Iterator

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import redis_scripts as lua
from .base import Claim, Entry, StoreUnavailable
from .redis_broadcast import ANY, Broadcast, Watched, new_nonce
from .redis_marks import AcksAtEnd, Marks, Ticket, acks_owed, write_nonce
from .redis_lane import Lane
from .redis_locks import LeaseLocks
from .memory import _IDEM, _SLOTS, MemoryStore

log = logging.getLogger("zenhire_mock.store")

_FIRST_CHUNK = 24  # a list page (20, and one more to know there is a next page)
_CHUNK = 256
_DAY_MS = 86_400_000
_UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
_UNAVAILABLE_REPLIES = ("LOADING", "READONLY", "MASTERDOWN", "MISCONF", "OOM", "BUSY", "NOREPLICAS")


def _esc(part: str) -> str:
    """A kind in a key name: ``:`` escaped, so ``d:{kind}:{key}`` is unambiguous."""
    return part.replace("%", "%25").replace(":", "%3A")


def _glob(text: str) -> str:
    """``text`` literally inside a SCAN MATCH pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def _encode(doc: dict) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _entry(body: bytes, seq: Any, owner: bytes | None) -> Entry:
    return Entry(int(seq), None if owner is None else owner.decode(), json.loads(body))


BROADCAST_KINDS = frozenset({"_shared"})  # the platform's clock and configuration: rare writes, read per request




def _topic(kind: str, key: str) -> str:
    return f"doc:{_esc(kind)}:{key}"


def _one_line(err: BaseException) -> str:
    return " ".join(f"{type(err).__name__}: {err}".split())


class RedisStore:
    shared = True  # every process pointed at the same Redis sees the same state

    def __init__(self, url: str, namespace: str = "zh", *, connect_timeout: float = 1.0,
                 op_timeout: float = 2.0, lock_lease: float = 10.0) -> None:
        self.url = url
        self.namespace = namespace
        self._where = url.split("@")[-1]  # never a password in a message
        # One retry, at once: a pooled connection that Redis closed (restart) is replaced
        # transparently; a Redis that is down fails within the connect timeout.
        self._r = redis.Redis.from_url(
            url, socket_connect_timeout=connect_timeout, socket_timeout=op_timeout,
            retry=Retry(NoBackoff(), 1), retry_on_timeout=False, health_check_interval=30)
        p = namespace + ":"
        self._p = p
        self._seq_key = p + "seq"
        self._kinds_key = p + "kinds"
        self._write = self._r.register_script(lua.WRITE)
        self._remove = self._r.register_script(lua.REMOVE)
        self._claim = self._r.register_script(lua.CLAIM)
        self._release_claim = self._r.register_script(lua.RELEASE_CLAIM)
        self._hit = self._r.register_script(lua.HIT_WINDOW)
        self._gate = self._r.register_script(lua.POLL_GATE)
        self._scan_chunk = self._r.register_script(lua.SCAN_CHUNK)
        self._write_many = self._r.register_script(lua.WRITE_MANY)
        self._read_view = self._r.register_script(lua.READ_VIEW)
        self._stamp = self._r.register_script(lua.STAMP)
        self._stamp_args: dict[tuple, tuple[str, ...]] = {}  # the key names of each stamp asked for
        self._locks = LeaseLocks(self._r, p + "l:", int(lock_lease * 1000), self._up,
                                 self._r.register_script(lua.UNLOCK), self._r.register_script(lua.EXTEND))
        self._subscriber = subscriber = redis.Redis.from_url(  # the listener's: no retry (it must see a lost subscription)
            url, socket_connect_timeout=connect_timeout, socket_timeout=op_timeout, retry=Retry(NoBackoff(), 0))
        self.broadcast = Broadcast(self._r, namespace, op_timeout=op_timeout,
                                   subscriber=subscriber)  # its listener starts with a first watcher
        self._mark_prefix = p + "m:"
        self._marks: Marks | None = None  # made with the first marked stamp (`marked_stamp`)
        self._lane = Lane(self._r)  # the request path's reads: a connection per thread

    # -- plumbing -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _up(self) -> Iterator[None]:
        """Redis failures as `StoreUnavailable`, one line naming the server."""
        try:
            yield
        except _UNAVAILABLE as err:
            raise StoreUnavailable(f"Redis store at {self._where} unavailable: {_one_line(err)}") from None
        except redis.exceptions.ResponseError as err:
            if str(err).split(" ", 1)[0] in _UNAVAILABLE_REPLIES:
                raise StoreUnavailable(f"Redis store at {self._where} refused: {_one_line(err)}") from None
            raise

    def _doc_key(self, kind: str, key: str) -> str:
        return f"{self._p}d:{_esc(kind)}:{key}"

    def _doc_prefix(self, kind: str) -> str:
        return f"{self._p}d:{_esc(kind)}:"

    def _kind_index(self, kind: str) -> str:
        return f"{self._p}i:{_esc(kind)}"

    def _owner_prefix(self, kind: str) -> str:
        return f"{self._p}o:{_esc(kind)}:"

    def _owner_index(self, kind: str, owner: str | None) -> str:
        return self._owner_prefix(kind) + ("" if owner is None else owner)

    # -- for companions on the same Redis (the journal's rows) --------------------------------
    @property
    def client(self) -> redis.Redis:
        """The redis-py client (its connection pool) this store talks through."""
        return self._r

    def available(self) -> contextlib.AbstractContextManager[None]:
        """Redis failures inside the block as `StoreUnavailable` (one line naming the server)."""
        return self._up()

    def journal_rows(self, capacity: int):
        """The request journal's lines in this Redis, shared by every process (`Journal.for_store`)."""
        from .redis_journal import RedisRows

        return RedisRows(self, capacity)

    def close(self) -> None:
        self._locks.close()
        self.broadcast.close()
        self._subscriber.close()
        self._lane.close()
        self._r.close()

    # -- documents every process caches (kinds in BROADCAST_KINDS) ---------------------------
    def watched(self, kind: str, key: str, *, max_age: float = 1.0) -> "Watched":
        """A reader of one document of a kind in `BROADCAST_KINDS` that goes to Redis only
        when the document changed (every write to such a kind is broadcast and acknowledged
        by every process before the writer goes on), when notifications are down, or after
        ``max_age`` real seconds (a bound for what no notification could tell)."""
        if kind not in BROADCAST_KINDS:
            raise ValueError(f"documents of kind {kind!r} are not broadcast on change")
        watched = Watched(lambda: self.get(kind, key), self.broadcast, _topic(kind, key), max_age)
        self.broadcast.on(watched.changed)
        return watched

    def _changed(self, kind: str, key: str) -> None:
        if kind in BROADCAST_KINDS:
            with self._up():
                self.broadcast.send(_topic(kind, key))

    # -- documents ----------------------------------------------------------------------
    def _put_body(self, kind: str, key: str, body: str, owner: str | None,
                  expect: tuple[bytes, bytes] | None = None, cas: bool = False) -> tuple[int, str | None] | None:
        seq, version = expect or (b"", b"")
        nonce = write_nonce()  # the request's (awaited together, `acks_at_end`), else its own
        doc_key, owner_index = self._doc_key(kind, key), self._owner_index(kind, owner)
        res = self._write(
            keys=[doc_key, self._kind_index(kind), owner_index, self._seq_key, self._kinds_key],
            args=["cas" if cas else "put", seq, version, key, "0" if owner is None else "1",
                  owner or "", body, kind, self._mark_prefix, self.broadcast.channel, nonce])
        if res is None:
            return None
        self._told(nonce, res[2], [doc_key, self._kind_index(kind), owner_index], kind, key)
        return int(res[0]), (None if res[1] is None else res[1].decode())

    def _told(self, nonce: str, told: Any, names: list[str], kind: str, key: str) -> None:
        """A write script told ``told`` processes of marked keys among ``names`` (`redis_marks`):
        this process gives up its own tickets on them at once (even when nobody was told: its
        own subscription may be the one lost); the acknowledgements are awaited now, or —
        inside a request (`acks_at_end`) — once, before it answers."""
        if self._marks is not None:
            self._marks.written_here(names)
        if not told:
            return
        owed = acks_owed()
        if owed is not None and owed.nonce == nonce:
            owed.expected += int(told)
            return
        self.broadcast.wait_acks(nonce, int(told), f"a write of {kind}/{key}")

    def acks_at_end(self) -> AcksAtEnd:
        """Around a request: the acknowledgements its writes are owed by the processes told of
        them (marks) are awaited once, when the block ends — before the request answers, so
        no request that follows it, on any replica, sees what it changed as it was."""
        return AcksAtEnd(self._wait_owed)

    def _wait_owed(self, nonce: str, expected: int) -> None:
        with self._up():
            self.broadcast.wait_acks(nonce, expected, "a request's writes", ready=True)

    def put(self, kind: str, key: str, doc: dict[str, Any], *, owner: str | None = None) -> dict:
        return self.put_entry(kind, key, doc, owner=owner).doc

    def put_entry(self, kind: str, key: str, doc: dict[str, Any], *, owner: str | None = None) -> Entry:
        body = _encode(doc)
        with self._up():
            seq, stored_owner = self._put_body(kind, key, body, owner)
        self._changed(kind, key)
        return Entry(seq, stored_owner, json.loads(body))  # a fresh copy: the caller's dict is left as it was

    def get(self, kind: str, key: str, *, owner: str | None = None) -> dict | None:
        """The document, or None; with ``owner``, None also when another tenant owns it."""
        entry = self.get_entry(kind, key, owner=owner)
        return None if entry is None else entry.doc

    def get_entry(self, kind: str, key: str, *, owner: str | None = None) -> Entry | None:
        with self._up():
            body, seq, doc_owner = self._lane.call("HMGET", self._doc_key(kind, key), "b", "s", "o")
        if body is None:
            return None
        if owner is not None and (doc_owner is None or doc_owner.decode() != owner):
            return None
        return _entry(body, seq, doc_owner)

    def _remove_doc(self, kind: str, key: str, expect: tuple[bytes, bytes] | None = None):
        seq, version = expect or (b"", b"")
        nonce = write_nonce()
        names = [self._doc_key(kind, key), self._kind_index(kind)]
        res = self._remove(keys=names, args=[key, self._owner_prefix(kind), seq, version, self._mark_prefix,
                                             self.broadcast.channel, nonce])
        if res is not None:
            if res[2] is not None:
                names.append(self._owner_prefix(kind) + res[2].decode())
            self._told(nonce, res[3], names, kind, key)
        return res

    def delete(self, kind: str, key: str) -> None:
        with self._up():
            self._remove_doc(kind, key)
        self._changed(kind, key)

    def take(self, kind: str, key: str) -> dict | None:
        """Remove and return the document; of concurrent takers (any process) one gets it."""
        with self._up():
            res = self._remove_doc(kind, key)
        self._changed(kind, key)
        return None if res is None else json.loads(res[0])

    def update(self, kind: str, key: str, fn: Callable[[dict | None], dict | None], *,
               owner: str | None = None) -> dict | None:
        """Atomically replace a document with ``fn(current)`` (``None`` result deletes).
        Optimistic: read, compute, compare-and-set; on a concurrent change ``fn`` is called
        again with the new current document."""
        doc_key = self._doc_key(kind, key)
        for attempt in range(1000):
            with self._up():
                body, seq, version = self._r.hmget(doc_key, "b", "s", "v")
            current = None if body is None else json.loads(body)
            new = fn(current)
            expect = None if body is None else (seq, version)
            if new is None:
                if body is None:
                    return None
                with self._up():
                    if self._remove_doc(kind, key, expect) is not None:
                        self._changed(kind, key)
                        return None
            else:
                new_body = _encode(new)
                with self._up():
                    res = self._put_body(kind, key, new_body, owner, expect, cas=True)
                if res is not None:
                    self._changed(kind, key)
                    return new
            time.sleep(random.random() * min(attempt + 1, 20) / 2000)  # contention: back off
        raise RuntimeError(f"store update of {kind}/{key} did not settle after 1000 attempts")

    def scan(self, kind: str, *, owner: str | None = None, newest_first: bool = False,
             before_seq: int | None = None, copy: bool = True) -> Iterator[dict]:
        """Documents of ``kind`` (for one owner, or all) in insertion order (or newest first),
        read lazily a chunk at a time from the sorted index; the position is kept by sequence,
        so writes between chunks neither repeat nor skip a document that existed throughout,
        and documents written after the scan started are not visited."""
        return (entry.doc for entry in self.scan_entries(kind, owner=owner, newest_first=newest_first,
                                                         before_seq=before_seq))

    def scan_entries(self, kind: str, *, owner: str | None = None, newest_first: bool = False,
                     before_seq: int | None = None) -> Iterator[Entry]:
        """``scan`` with each document's `Entry` (the scan script returns seq and owner anyway)."""
        index = self._kind_index(kind) if owner is None else self._owner_index(kind, owner)
        return self._chunks(kind, index, newest_first, before_seq)

    def scan_keys(self, kind: str, *, owner: str, newest_first: bool = False,
                  before_seq: int | None = None) -> Iterator[tuple[int, str]]:
        """``scan_entries`` of one owner as (seq, key) pairs, read from the owner's index
        alone (no document bodies), a chunk at a time by sequence."""
        index = self._owner_index(kind, owner)
        low, high, size = "-inf", "+inf" if before_seq is None else f"({before_seq}", _FIRST_CHUNK
        while True:
            with self._up():
                if newest_first:
                    got = self._r.zrevrangebyscore(index, high, low, start=0, num=size, withscores=True)
                else:
                    got = self._r.zrangebyscore(index, low, high, start=0, num=size, withscores=True)
            if not got:
                return
            for member, score in got:
                yield int(score), member.decode()
            last = int(got[-1][1])
            if newest_first:
                high = f"({last}"
            else:
                low = f"({last}"
            size = min(size * 2, _CHUNK)

    def _chunks(self, kind: str, index: str, newest_first: bool, before_seq: int | None) -> Iterator[Entry]:
        prefix = self._doc_prefix(kind)
        if not newest_first and before_seq is None:
            with self._up():
                before_seq = int(self._r.get(self._seq_key) or 0) + 1
        low, high = 0, before_seq  # sequences strictly between (high None: no bound)
        size = _FIRST_CHUNK  # a first page is small; a longer walk reads bigger chunks
        while True:
            with self._up():
                flat = self._scan_chunk(keys=[index], args=[
                    prefix, "desc" if newest_first else "asc", low, "+inf" if high is None else high, size])
            if not flat:
                return
            for i in range(0, len(flat), 5):
                if flat[i + 2] is not None:
                    yield _entry(flat[i + 2], flat[i + 3], flat[i + 4])
            last = int(float(flat[-4]))
            if newest_first:
                high = last
            else:
                low = last
            size = min(size * 2, _CHUNK)

    def count(self, kind: str, *, owner: str | None = None) -> int:
        index = self._kind_index(kind) if owner is None else self._owner_index(kind, owner)
        with self._up():
            return self._r.zcard(index)

    def purge_owner(self, owner: str) -> int:
        """Drop every document owned by ``owner``, and its windows and gates."""
        removed = 0
        try:
            with self._up():
                for kind in self._r.smembers(self._kinds_key):
                    kind = kind.decode()
                    members = self._r.zrange(self._owner_index(kind, owner), 0, -1)
                    for start in range(0, len(members), 500):  # pipelined: one round trip per 500
                        pipe = self._r.pipeline(transaction=False)
                        for member in members[start:start + 500]:
                            key = member.decode()
                            self._remove(keys=[self._doc_key(kind, key), self._kind_index(kind)],
                                         args=[key, self._owner_prefix(kind), "", "", "", "", ""], client=pipe)
                        removed += sum(res is not None for res in pipe.execute())
                for pattern in (f"{self._p}w:{_glob(owner)}|*", f"{self._p}g:{_glob(owner)}|*"):
                    self._delete_matching(pattern)
        finally:  # marks were not checked per document: every kept view goes, even after a failure
            if self._marks is not None:
                self._marks.written_here_all()
            with self._up():
                self.broadcast.send(ANY)
        return removed

    def purge_all(self) -> None:
        """Drop every document, window and gate under this namespace (counters, the sequence,
        held locks and the journal stay, as in `MemoryStore`)."""
        with self._up():
            for part in ("d:", "i:", "o:", "w:", "g:"):  # not the marks: a write meanwhile still tells
                self._delete_matching(f"{_glob(self._p)}{part}*")
            self._r.delete(self._kinds_key)
            if self._marks is not None:
                self._marks.written_here_all()
            self.broadcast.send(ANY)  # every process: whatever it cached is gone

    def _delete_matching(self, pattern: str) -> None:
        batch = []
        for name in self._r.scan_iter(match=pattern, count=500):
            batch.append(name)
            if len(batch) >= 500:
                self._r.unlink(*batch)
                batch = []
        if batch:
            self._r.unlink(*batch)

    # -- atomic operations ---------------------------------------------------------------
    def claim_idempotency(self, scope: str, key: str, value: str, now: float, ttl: float) -> Claim:
        """Claim ``key`` in ``scope`` for ``value`` unless a live claim (younger than ``ttl``
        in virtual time) exists; the key also expires in real time, generously, after the TTL."""
        member = f"{scope}|{key}"
        owner = scope.split("|")[0]
        body = json.dumps({"value": value, "at": now}, separators=(",", ":"), ensure_ascii=False)
        expiry_ms = _DAY_MS + int(max(ttl, 0) * 2000)
        with self._up():
            fresh, held = self._claim(
                keys=[self._doc_key(_IDEM, member), self._kind_index(_IDEM), self._owner_index(_IDEM, owner),
                      self._seq_key, self._kinds_key],
                args=[member, owner, repr(float(now)), repr(float(ttl)), value, body, expiry_ms, _IDEM,
                      self._doc_prefix(_IDEM), self._owner_prefix(_IDEM)])
        return Claim(fresh=bool(fresh), value=held.decode() if isinstance(held, bytes) else held)

    def release_idempotency(self, scope: str, key: str, value: str) -> None:
        member = f"{scope}|{key}"
        with self._up():
            self._release_claim(keys=[self._doc_key(_IDEM, member), self._kind_index(_IDEM)],
                                args=[value, member, self._owner_prefix(_IDEM)])

    def hit_window(self, bucket: str, now: float, window: float, limit: int) -> float | None:
        """Sliding-window counter: record a hit and return None, or the seconds until a hit
        would be allowed (nothing recorded) when ``limit`` hits are already in the window."""
        now = float(now)
        member = f"{now!r}:{new_nonce()}"
        expiry_ms = _DAY_MS + int(max(window, 0) * 1000)
        with self._up():
            first = self._lane.script(self._hit, [f"{self._p}w:{bucket}"],
                                      [repr(now - window), int(limit), repr(now), member, expiry_ms])
        if first is None:
            return None
        return max(float(first) + window - now, 0.001)

    def poll_gate(self, key: str, now: float, min_interval: float) -> float | None:
        """Allow a poll when ``min_interval`` has passed since the last allowed one; else the
        seconds remaining."""
        now = float(now)
        expiry_ms = _DAY_MS + int(max(min_interval, 0) * 1000)
        with self._up():
            last = self._lane.script(self._gate, [f"{self._p}g:{key}"], [repr(now), repr(float(min_interval)), expiry_ms])
        if last is None:
            return None
        return min_interval - (now - float(last))

    def schedule_slot(self, pool: str, capacity: int, now: float, duration: float) -> tuple[float, float]:
        """FIFO concurrency slots (see `MemoryStore.schedule_slot`): the same computation, run
        as a compare-and-set update of the pool's document."""
        out: list[tuple[float, float]] = []

        def reserve(doc: dict | None) -> dict:
            out.clear()
            new, start, finish = MemoryStore.reserve_slot(doc, capacity, now, duration)
            out.append((start, finish))
            return new

        self.update(_SLOTS, pool, reserve, owner=pool.split("|")[0])
        return out[0]

    def incr(self, counter: str, by: int = 1) -> int:
        with self._up():
            return self._r.incrby(f"{self._p}c:{counter}", by)

    # -- several documents at once (shared stores only; the ledger's hot path) -----------------
    def read_view(self, docs: list[tuple[str, str]],
                  ranges: list[tuple[str, str | None, bool, int]]) -> tuple[list[dict | None], list[list[Entry]]]:
        """Documents ``(kind, key)`` and index ranges ``(kind, owner, newest_first, count)``
        (count 0: all) read in one round trip as one consistent view: no write lands between
        its parts. Returns (the documents or None, the entries of each range)."""
        args: list = [len(docs)] + [self._doc_key(kind, key) for kind, key in docs]
        for kind, owner, newest_first, count in ranges:
            index = self._kind_index(kind) if owner is None else self._owner_index(kind, owner)
            args += [index, self._doc_prefix(kind), "desc" if newest_first else "asc", int(count)]
        with self._up():
            flat = self._lane.script(self._read_view, [], args)
        got = [None if flat[i] is None else json.loads(flat[i]) for i in range(0, 3 * len(docs), 3)]
        at, lists = 3 * len(docs), []
        for _ in ranges:
            n = int(flat[at])
            lists.append([_entry(flat[j], flat[j + 1], flat[j + 2]) for j in range(at + 1, at + 1 + 3 * n, 3)])
            at += 1 + 3 * n
        return got, lists

    def stamp(self, docs: list[tuple[str, str]], indexes: list[tuple[str, str | None]]) -> tuple:
        """A value that changes whenever one of the documents ``(kind, key)`` is written,
        created or removed, or one of the indexes ``(kind, owner)`` gains or loses a member
        (sequences only grow: a member added raises the highest, one removed lowers the
        count); not when a member's document is rewritten in place. One small round trip: a
        reader keeps what it built from a view under the stamp read before the view."""
        if len(docs) == 1 and not indexes:  # one document: a plain HMGET, no script
            kind, key = docs[0]
            with self._up():
                return tuple(self._lane.call("HMGET", self._doc_key(kind, key), "s", "v"))
        names = self._stamp_names(docs, indexes)
        with self._up():
            return tuple(self._lane.script(self._stamp, [], ["", 0, len(docs), *names]))

    def marked_stamp(self, docs: list[tuple[str, str]],
                     indexes: list[tuple[str, str | None]]) -> tuple[tuple, Ticket]:
        """`stamp`, marking the documents and indexes in the same step (`redis_marks`), with
        the ticket to keep a view under: while `unchanged(ticket)`, nothing it covers was
        written since the stamp, and the view needs no round trip at all."""
        if any(kind == _IDEM for kind, _ in docs) or any(kind == _IDEM for kind, _ in indexes):
            raise ValueError("idempotency claims are written by scripts that do not check marks")
        marks = self._marks
        if marks is None:
            marks = self._marks = Marks(self.broadcast, self._mark_prefix)
        names = self._stamp_names(docs, indexes)
        ticket = marks.ticket(names)
        with self._up():
            stamp = tuple(self._lane.script(self._stamp, [], [marks.prefix, int(marks.lifetime * 1000),
                                                              len(docs), *names]))
        return stamp, ticket

    def unchanged(self, ticket: Ticket | None) -> bool:
        """No write to what ``ticket``'s marked stamp covered since it was read (no round trip)."""
        return self._marks is not None and self._marks.holds(ticket)

    def _stamp_names(self, docs: list[tuple[str, str]], indexes: list[tuple[str, str | None]]) -> tuple[str, ...]:
        key = (tuple(docs), tuple(indexes))
        names = self._stamp_args.get(key)
        if names is None:
            names = tuple([self._doc_key(kind, k) for kind, k in docs]
                          + [self._kind_index(kind) if owner is None else self._owner_index(kind, owner)
                             for kind, owner in indexes])
            if len(self._stamp_args) >= 4096:  # a bound (one entry per client), not an eviction policy
                self._stamp_args.clear()
            self._stamp_args[key] = names
        return names

    def update_and_put(self, kind: str, key: str, fn: Callable[[dict | None], dict],
                       extra: Callable[[dict], list[tuple[str, str, dict, str | None]]], *,
                       owner: str | None = None) -> dict:
        """`update` whose write also puts the documents ``extra(new)`` (``(kind, key, doc,
        owner)``; e.g. the transaction explaining an account's new balance), all in one atomic
        write: a reader sees the new document with them or the old one without. ``fn`` and
        ``extra`` may be called more than once (on a concurrent change)."""
        doc_key = self._doc_key(kind, key)
        for attempt in range(1000):
            with self._up():
                body, seq, version = self._r.hmget(doc_key, "b", "s", "v")
            new = fn(None if body is None else json.loads(body))
            writes = [(kind, key, new, owner)] + list(extra(new))
            keys, args = [self._seq_key, self._kinds_key], []
            for i, (k, member, doc, doc_owner_of) in enumerate(writes):
                keys += [self._doc_key(k, member), self._kind_index(k), self._owner_index(k, doc_owner_of)]
                cas = i == 0
                expect = (seq, version) if cas and body is not None else (b"", b"")
                args += ["cas" if cas else "put", expect[0], expect[1], member,
                         "0" if doc_owner_of is None else "1", doc_owner_of or "", _encode(doc), k]
            nonce = write_nonce()
            args += [self._mark_prefix, self.broadcast.channel, nonce]
            with self._up():
                res = self._write_many(keys=keys, args=args)
                if res is not None:
                    self._told(nonce, res[-1], keys[2:], kind, key)
            if res is not None:
                for k, member, _, _ in writes:
                    self._changed(k, member)
                return new
            time.sleep(random.random() * min(attempt + 1, 20) / 2000)  # contention: back off
        raise RuntimeError(f"store update of {kind}/{key} did not settle after 1000 attempts")

    # -- locks ---------------------------------------------------------------------------
    def lock(self, name: str, *, timeout: float = 30.0) -> contextlib.AbstractContextManager[None]:
        """Mutual exclusion named ``name`` across every process sharing this Redis;
        re-entrant in one thread. ``TimeoutError`` when not acquired within ``timeout`` s."""
        return self._locks.hold(name, timeout=timeout)
