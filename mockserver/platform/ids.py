"""Every identifier and random draw the mock makes, from one injected source (`Ids`).

Formats: request ids and Speech run ids (`req_<13-digit ms>_<12 hex>`, ERR-2, A5 — same
format, distinct values), UUIDs (version 4) for CV DeepMatch runs and Interview objects,
candidate tokens, ledger transaction ids, webhook delivery ids (which also drive the
retry jitter), and CV DeepSearch run ids.

Unseeded (the default) the draws come from the operating system (`random.SystemRandom`);
with `serve --seed N` they come from `random.Random(N)`, so the same requests in the same
order give the same ids, tokens, jitter and outcome draws, run after run (snapshot tests).
Only `getrandbits` is used: its output for a seed is stable across Python releases.

Several processes on one shared store (issue #15) draw ids into one namespace. Each takes a
replica number at start (`store.incr("replicas")`: 1, 2, 3 … in start order). Unseeded, the
operating system's source already makes collisions as unlikely as in one process. Seeded,
replica 1 draws exactly the stream of `--seed N` alone (a single process is reproducible as
before) and replica k > 1 draws from `random.Random("N/replica-k")` — a string seed, hashed
with SHA-512 by `random`, so the streams are unrelated and stable across Python releases.
The whole set of processes is reproducible when the replicas start in the same order (and
each receives the same requests); ids never repeat between replicas because their streams
differ (as unlikely to meet as two unseeded draws).

Unseeded hex draws (a request id on every request) take their bytes from the operating
system a page at a time (`OsBytes`), not one system call each: the same source, ≈ 1.5 µs a
request less. A forked child drops the page it inherited, so parent and child never hand
out the same bytes.
"""

from __future__ import annotations

import base64
import os
import random
import threading
import uuid


class OsBytes:
    """Bytes of `os.urandom`, drawn ``page`` at a time and handed out once each (thread-safe)."""

    def __init__(self, page: int = 4096) -> None:
        self._page = page
        self._buffer = b""
        self._pos = 0
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        """Forget the bytes not handed out yet (a forked child must not reuse its parent's)."""
        self._lock = threading.Lock()  # the parent's may have been held by another thread
        self._buffer, self._pos = b"", 0

    def take(self, n: int) -> bytes:
        if n > self._page:
            return os.urandom(n)
        with self._lock:
            pos = self._pos
            end = pos + n
            if end > len(self._buffer):
                self._buffer, pos, end = os.urandom(self._page), 0, n
            self._pos = end
            return self._buffer[pos:end]


_OS_BYTES = OsBytes()


class Ids:
    def __init__(self, seed: int | None = None, replica: int = 1) -> None:
        self.seed = seed
        self.replica = replica
        if seed is None:
            self._source: random.Random = random.SystemRandom()
        else:
            self._source = random.Random(seed if replica == 1 else f"{seed}/replica-{replica}")
        self._lock = threading.Lock()  # draws stay in order when threads share the source

    def bits(self, n: int) -> int:
        with self._lock:
            return self._source.getrandbits(n)

    def hex(self, nbytes: int) -> str:
        if self.seed is None:  # the operating system's bytes, a page per system call (every request draws)
            return _OS_BYTES.take(nbytes).hex()
        return self.bits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def request_id(self, now: float) -> str:
        return f"req_{int(now * 1000) % 10**13:013d}_{self.hex(6)}"

    def speech_run_id(self, now: float) -> str:
        return self.request_id(now)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.bits(128), version=4))

    def token(self, nbytes: int) -> str:
        """URL-safe text of ``nbytes`` random bytes, like ``secrets.token_urlsafe``."""
        raw = self.bits(nbytes * 8).to_bytes(nbytes, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def txn_id(self, now: float) -> str:
        return f"txn_{int(now * 1000):013d}_{self.hex(5)}"

    def delivery_id(self) -> str:
        return "whd_" + self.hex(16)

    def child(self) -> random.Random:
        """A generator for a module's own draws (e.g. run ids of a given alphabet),
        seeded from this source so it is reproducible exactly when this one is."""
        return random.Random(self.bits(64)) if self.seed is not None else random.SystemRandom()
