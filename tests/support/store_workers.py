"""What one OS process does in the cross-process store tests: each function opens its own
`RedisStore` on the given URL, waits at a shared start line (a multiprocessing barrier, so the
processes really overlap), hammers one operation and returns what it saw. Module-level
functions, so a spawned process can import and run them."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from typing import Any, Callable

from mockserver.store.redis_store import RedisStore


def _store(url: str, **kw) -> RedisStore:
    return RedisStore(url, **kw)


def bump(url: str, barrier, rounds: int) -> int:
    """Increment a shared document's counter by compare-and-set update, ``rounds`` times."""
    store = _store(url)
    barrier.wait(timeout=30)
    for _ in range(rounds):
        store.update("counter", "one", lambda d: {"n": (d or {"n": 0})["n"] + 1}, owner="t")
    return rounds


def take_all(url: str, barrier, keys: int) -> list[str]:
    """Try to take every one of ``keys`` documents; the keys this process won."""
    store = _store(url)
    barrier.wait(timeout=30)
    won = []
    for i in range(keys):
        if store.take("prize", f"k{i}") is not None:
            won.append(f"k{i}")
    return won


def claim_all(url: str, barrier, keys: int, me: str) -> list[str]:
    """Claim every one of ``keys`` idempotency keys for ``me``; the keys claimed fresh."""
    store = _store(url)
    barrier.wait(timeout=30)
    return [f"k{i}" for i in range(keys)
            if store.claim_idempotency("t|submit", f"k{i}", f"{me}-{i}", 100.0, 3600.0).fresh]


def hit_many(url: str, barrier, hits: int) -> int:
    """Hit one window ``hits`` times at the same virtual instant; how many were let through."""
    store = _store(url)
    barrier.wait(timeout=30)
    return sum(store.hit_window("t|submit", 50.0, 60.0, 25) is None for _ in range(hits))


def locked_increments(url: str, barrier, rounds: int) -> int:
    """A deliberately non-atomic read-then-write under the named lock: only the lock keeps
    the count exact."""
    store = _store(url)
    barrier.wait(timeout=30)
    for _ in range(rounds):
        with store.lock("tally"):
            doc = store.get("tally", "one") or {"n": 0}
            store.put("tally", "one", {"n": doc["n"] + 1})
    return rounds


def hold_lock_and_die(url: str, ready, lease: float) -> None:
    """Take a lock, say so, then die by SIGKILL while holding it (nothing is released)."""
    store = _store(url, lock_lease=lease)
    with store.lock("abandoned"):
        ready.set()
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGKILL)


def run_into(results, index: int, target, *args) -> None:
    """Run ``target(*args)`` and put ``(index, result or the error's text)`` on ``results``."""
    try:
        results.put((index, True, target(*args)))
    except BaseException as err:  # reported to the test, which fails with it
        results.put((index, False, f"{type(err).__name__}: {err}"))


def run_together(n: int, jobs: Callable[[Any], list[tuple[Callable, tuple]]]) -> dict[int, tuple[bool, Any]]:
    """Run the ``n`` (target, args) pairs of ``jobs(barrier)`` — the args hold the shared start
    barrier where their targets take it — each in its own spawned process; returns
    ``{index: (ok, result or error text)}``. A process still alive after its result is killed
    (its own PID)."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=run_into, args=(results, i, target, *args))
             for i, (target, args) in enumerate(jobs(barrier))]
    [p.start() for p in procs]
    try:
        return {i: (ok, value) for i, ok, value in (results.get(timeout=120) for _ in procs)}
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
