"""State behind one small interface (`Store`): in memory by default, optionally persisted
to SQLite (`--state FILE`) so ids survive a restart (POLL-4).

The operations that must be atomic across concurrent requests — idempotency claims,
rate-limit windows, poll gates, concurrency slots, ledger holds — are methods of the
store, never read-modify-write sequences in handlers. A shared network store for several
workers would implement the same methods (e.g. with Redis scripts).
"""

from .base import Store, Claim
from .memory import MemoryStore
from .sqlite import SqlitePersistence, open_store

__all__ = ["Store", "Claim", "MemoryStore", "SqlitePersistence", "open_store"]
