"""The store interface every backend implements (memory, memory + SQLite file, Redis).

Several processes may share one store (Redis: `serve --workers N`, replicas on other hosts).
Code that keeps a process-local cache of store state must check ``shared`` and not trust the
cache then; a critical section over several documents takes ``lock(name)``, which excludes
every process sharing the store; a read-and-remove that must have one winner uses ``take``.
A backend that cannot be reached raises ``StoreUnavailable`` (the API answers 503).

Documents and their bookkeeping: a document is the domain dict its module wrote, nothing
more — ``get``, ``scan``, ``update``, ``put`` and ``take`` return (and ``fn`` of ``update``
receives) exactly the keys that were written. The store's bookkeeping — the sequence given at
creation (insertion order, list cursors) and the owning tenant — travels beside it, in an
`Entry`, from the ``_entry`` twins: ``get_entry``, ``scan_entries`` (same paging arguments as
``scan``) and ``put_entry``. Rewriting a document (``put``/``update`` of an existing key) keeps
its sequence and owner. The tenant rule is one place: ``get(kind, key, owner=X)`` (and
``get_entry``) return None for a document another tenant owns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Iterable, NamedTuple, Protocol


@dataclass(frozen=True)
class Claim:
    """Outcome of an idempotency claim: ``fresh`` when this caller now owns the key."""

    fresh: bool
    value: str


class Entry(NamedTuple):
    """A stored document with its bookkeeping beside it: ``seq`` (given at creation, unique
    and increasing across the store; the order of ``scan`` and the value of list cursors),
    ``owner`` (the tenant, or None) and ``doc`` (the domain document, the caller's copy).
    Immutable; a named tuple because a list page builds one per row (a frozen dataclass
    costs about twice as much to build)."""

    seq: int
    owner: str | None
    doc: dict[str, Any]


class StoreUnavailable(RuntimeError):
    """The store's backend cannot be reached (e.g. Redis is down); nothing was written."""


class Store(Protocol):
    # True when other processes may read and write the same state (Redis).
    shared: bool

    # -- documents ----------------------------------------------------------------------
    def put(self, kind: str, key: str, doc: dict[str, Any], *, owner: str | None = None) -> dict: ...
    def put_entry(self, kind: str, key: str, doc: dict[str, Any], *, owner: str | None = None) -> Entry:
        """``put``, returning the stored document with its sequence and owner (for a
        rewrite: the ones it had; ``owner`` is only taken at creation)."""
        ...
    def get(self, kind: str, key: str, *, owner: str | None = None) -> dict | None: ...
    def get_entry(self, kind: str, key: str, *, owner: str | None = None) -> Entry | None: ...
    def delete(self, kind: str, key: str) -> None: ...
    def scan(self, kind: str, *, owner: str | None = None, newest_first: bool = False,
             before_seq: int | None = None) -> Iterable[dict]: ...
    def scan_entries(self, kind: str, *, owner: str | None = None, newest_first: bool = False,
                     before_seq: int | None = None) -> Iterable[Entry]:
        """``scan`` with each document's `Entry` (a list page's cursor is its last ``seq``)."""
        ...
    def scan_keys(self, kind: str, *, owner: str, newest_first: bool = False,
                  before_seq: int | None = None) -> Iterable[tuple[int, str]]:
        """``scan_entries`` of one owner as (seq, key) pairs, no document decoded."""
        ...
    def update(self, kind: str, key: str, fn: Callable[[dict | None], dict | None], *,
               owner: str | None = None) -> dict | None: ...
    def count(self, kind: str, *, owner: str | None = None) -> int: ...
    def take(self, kind: str, key: str) -> dict | None:
        """Remove and return the document atomically: of concurrent takers (in any process
        sharing the store) exactly one gets it, the others None."""
        ...
    def read_view(self, docs: list[tuple[str, str]],
                  ranges: list[tuple[str, str | None, bool, int]]) -> tuple[list[dict | None], list[list[Entry]]]:
        """Documents ``(kind, key)`` (None when absent) and the entries of index ranges
        ``(kind, owner, newest_first, count)`` (count 0: all) read as one consistent view, in
        one round trip on a remote store: no write lands between its parts."""
        ...
    def update_and_put(self, kind: str, key: str, fn: Callable[[dict | None], dict],
                       extra: Callable[[dict], list[tuple[str, str, dict, str | None]]], *,
                       owner: str | None = None) -> dict:
        """`update`, whose write also puts the documents ``extra(new)`` ``(kind, key, doc,
        owner)``, atomically: a reader sees all of them or none. ``fn`` and ``extra`` may be
        called more than once."""
        ...
    def purge_owner(self, owner: str) -> int: ...

    # -- shared stores only (``shared`` True): what lets a process keep what it read --------
    # stamp(docs, indexes) -> a value that changes when one of the documents is written or
    #   one of the (kind, owner) indexes gains or loses a member (`RedisStore.stamp`);
    # marked_stamp(docs, indexes) -> (stamp, ticket); unchanged(ticket) -> True while no write
    #   to them can have happened since, answered with no round trip (`store/redis_marks`);
    # acks_at_end() -> a context around a request: what its writes owe is awaited once at its end;
    # watched(kind, key) -> a reader of a document of a broadcast kind (``_shared``) that
    #   goes to the store only after a change every process was told of (`RedisStore.watched`).
    def purge_all(self) -> None: ...

    # -- atomic operations ---------------------------------------------------------------
    def claim_idempotency(self, scope: str, key: str, value: str, now: float, ttl: float) -> Claim: ...
    def release_idempotency(self, scope: str, key: str, value: str) -> None: ...
    def hit_window(self, bucket: str, now: float, window: float, limit: int) -> float | None: ...
    def poll_gate(self, key: str, now: float, min_interval: float) -> float | None: ...
    def schedule_slot(self, pool: str, capacity: int, now: float, duration: float) -> tuple[float, float]: ...
    def lock(self, name: str, *, timeout: float = 30.0) -> ContextManager[None]:
        """Mutual exclusion named ``name`` across every process sharing the store; re-entrant
        in one thread. Raises ``TimeoutError`` when not acquired within ``timeout`` real seconds."""
        ...
    def incr(self, counter: str, by: int = 1) -> int:
        """Add ``by`` to a named counter (created at 0) and return the new value."""
        ...
