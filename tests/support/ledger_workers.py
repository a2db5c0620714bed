"""What one OS process does in the cross-process ledger tests: a `Ledger` on its own
`RedisStore`, started at a shared barrier. Module-level functions, so a spawned process can
import and run them."""

from __future__ import annotations

from mockserver.platform.credits import Ledger
from mockserver.store.redis_store import RedisStore

CLIENT = "acme"
INITIAL = 100_000


def _ledger(url: str) -> tuple[RedisStore, Ledger]:
    store = RedisStore(url)
    return store, Ledger(store, lambda _client: INITIAL)


def hold_and_settle(url: str, barrier, done, runs: int, amount: int) -> int:
    """Hold, schedule and settle ``runs`` runs one after another (run i held at virtual time
    i + 1, charged at i + 1.5, settled at i + 2); sets ``done`` at the end."""
    store, ledger = _ledger(url)
    try:
        barrier.wait(timeout=30)
        for i in range(runs):
            assert ledger.hold(CLIENT, f"run{i}", amount, "speech", float(i + 1)) is None
            ledger.schedule(CLIENT, f"run{i}", i + 1.5, "charge", "speech")
            ledger.settle(CLIENT, float(i + 2))
        return runs
    finally:
        done.set()
        store.close()


def read_summaries(url: str, barrier, done, limit: int) -> list[tuple[int, int, list[tuple[str, int]]]]:
    """Read the summary (at virtual time 0: nothing is ever due then, so this process only
    reads) until ``done``; every distinct (balance, held, transactions) seen."""
    store, ledger = _ledger(url)
    seen: dict = {}
    try:
        barrier.wait(timeout=30)
        while True:
            finished = done.is_set()
            view = ledger.summary(CLIENT, 0.0, limit=limit)
            state = (view["creditBalance"], view["heldCredits"],
                     [(t["type"], t["amount"]) for t in view["recentTransactions"]])
            seen[repr(state)] = state
            if finished:
                return list(seen.values())
    finally:
        store.close()
