"""State behind one small interface (`Store`): in memory by default, optionally persisted
to SQLite (`--state FILE`) so ids survive a restart (POLL-4), or in Redis
(`--store redis://HOST:PORT/DB`) so several workers and replicas share one platform.

The operations that must be atomic across concurrent requests — idempotency claims,
rate-limit windows, poll gates, concurrency slots, ledger holds — are methods of the
store, never read-modify-write sequences in handlers; the Redis store makes them atomic
across processes (Lua scripts, compare-and-set).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .base import Claim, Entry, Store, StoreUnavailable
from .memory import MemoryStore
from .sqlite import SqlitePersistence

_REDIS_SCHEMES = ("redis", "rediss", "unix")


def open_store(state_path: str | None = None, url: str | None = None) -> Store:
    """The store the server runs on: ``url`` ``redis://HOST:PORT/DB`` (or ``rediss://``,
    ``unix://``) → Redis; None or ``"memory"`` → in memory, persisted to ``state_path`` when
    given. Any other URL is a ValueError with a one-line message."""
    if url and url != "memory":
        scheme = urlsplit(url).scheme.lower()
        if scheme not in _REDIS_SCHEMES:
            raise ValueError(f"unknown store {url!r}: use memory or redis://HOST:PORT/DB "
                             "(also rediss://, unix://PATH)")
        if state_path:
            raise ValueError("--state FILE is for the in-memory store; a Redis store keeps its own state")
        from .redis_store import RedisStore  # only a Redis deployment imports the client

        return RedisStore(url)
    if state_path:
        return MemoryStore(persistence=SqlitePersistence(state_path))
    return MemoryStore()


__all__ = ["Store", "Claim", "Entry", "StoreUnavailable", "MemoryStore", "SqlitePersistence", "open_store"]
