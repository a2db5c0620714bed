"""Locks across every process sharing one Redis (`RedisStore.lock`): a lease per lock name,
``SET NX PX`` with a random token, released by a compare-and-delete script, re-entrant per
thread (threads of one process queue on a local lock; only the first takes the lease),
acquired with bounded backoff. A daemon thread extends the leases held, a third of a lease at
a time, so a long section keeps its lock while a holder killed with -9 loses it after the
lease (``lock_lease`` seconds)."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
from typing import Any, Callable, Iterator

import redis

from .base import StoreUnavailable

log = logging.getLogger("zenhire_mock.store")


class LeaseLocks:
    """Named leases under ``prefix`` on ``client``; ``up`` turns Redis failures into
    `StoreUnavailable` (the store's own context manager)."""

    def __init__(self, client: redis.Redis, prefix: str, lease_ms: int,
                 up: Callable[[], contextlib.AbstractContextManager[None]], unlock: Any, extend: Any) -> None:
        self._client = client
        self._prefix = prefix
        self._lease_ms = lease_ms
        self._up = up
        self._unlock_script, self._extend_script = unlock, extend
        self._local_locks: dict[str, threading.RLock] = {}
        self._depth: dict[str, int] = {}
        self._held: dict[str, bytes] = {}  # lock name -> our lease token (renewed while held)
        self._guard = threading.Lock()
        self._renewer: threading.Thread | None = None
        self._closed = threading.Event()

    def close(self) -> None:
        self._closed.set()

    @contextlib.contextmanager
    def hold(self, name: str, *, timeout: float = 30.0) -> Iterator[None]:
        """Mutual exclusion named ``name`` across every process sharing this Redis;
        re-entrant in one thread. ``TimeoutError`` when not acquired within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._guard:
            local = self._local_locks.get(name)
            if local is None:
                local = self._local_locks[name] = threading.RLock()
        # Threads of this process queue on a thread lock; only the first takes the lease.
        if not local.acquire(timeout=max(timeout, 0)):
            raise TimeoutError(f"store lock {name!r} not acquired within {timeout} s")
        try:
            depth = self._depth.get(name, 0)
            if depth == 0:
                token = self._acquire_lease(name, deadline, timeout)
                with self._guard:
                    self._held[name] = token
                self._start_renewer()
            self._depth[name] = depth + 1
            try:
                yield
            finally:
                self._depth[name] -= 1
                if self._depth[name] == 0:
                    del self._depth[name]
                    with self._guard:
                        token = self._held.pop(name)
                    try:
                        with self._up():
                            self._unlock_script(keys=[self._prefix + name], args=[token])
                    except StoreUnavailable as err:  # the lease expires by itself
                        log.warning("lock %r not released (%s); its lease expires in %.0f s",
                                    name, err, self._lease_ms / 1000)
        finally:
            local.release()

    def _acquire_lease(self, name: str, deadline: float, timeout: float) -> bytes:
        token = os.urandom(16).hex().encode()
        key = self._prefix + name
        pause = 0.001
        while True:
            with self._up():
                if self._client.set(key, token, nx=True, px=self._lease_ms):
                    return token
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"store lock {name!r} not acquired within {timeout} s")
            time.sleep(min(pause * (0.5 + random.random()), left))
            pause = min(pause * 2, 0.05)

    def _start_renewer(self) -> None:
        with self._guard:
            if self._renewer is not None and self._renewer.is_alive():
                return
            self._renewer = threading.Thread(target=self._renew_leases, name="zh-store-lease", daemon=True)
            self._renewer.start()

    def _renew_leases(self) -> None:
        """Extend every lease this store holds, a third of a lease at a time."""
        while not self._closed.wait(self._lease_ms / 3000):
            with self._guard:
                held = list(self._held.items())
            for name, token in held:
                try:
                    with self._up():
                        ok = self._extend_script(keys=[self._prefix + name], args=[token, self._lease_ms])
                    if not ok:
                        with self._guard:  # released since the copy was taken: nothing was lost
                            still_held = self._held.get(name) == token
                        if still_held:
                            log.warning("lock %r lease lost while held (expired before renewal)", name)
                except StoreUnavailable as err:
                    log.warning("lock %r lease not renewed: %s", name, err)
