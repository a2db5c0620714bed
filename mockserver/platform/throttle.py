"""Submit rate limit (RATE-1) and per-id poll throttling (POLL-1, POLL-2, POLL-6).

Both run on virtual time; the delay advertised to the client (Retry-After and
retryAfterSeconds, equal values — ERR-3) is in the client's real seconds (CLOCK-2).
"""

from __future__ import annotations

from ..clock import Clock
from ..errors import ApiError
from ..store.memory import MemoryStore

SUBMIT_WINDOW_SECONDS = 60.0
POLL_MIN_INTERVAL_SECONDS = 10.0


def check_submit_rate(store: MemoryStore, clock: Clock, client_id: str, limit: int, now: float) -> None:
    wait = store.hit_window(f"{client_id}|submit", now, SUBMIT_WINDOW_SECONDS, limit)
    if wait is not None:
        seconds = clock.advertise(wait)
        raise ApiError(429, "RATE_LIMIT_EXCEEDED", retry_after=seconds,
                       details={"limitPerMinute": limit})


def check_poll(store: MemoryStore, clock: Clock, client_id: str, run_id: str, code: str,
               now: float, min_interval: float = POLL_MIN_INTERVAL_SECONDS) -> None:
    """Raise 429 ``code`` if ``run_id`` was polled less than ``min_interval`` ago.
    Call only while the run is non-terminal (terminal ids re-fetch freely)."""
    wait = store.poll_gate(f"{client_id}|poll|{run_id}", now, min_interval)
    if wait is not None:
        raise ApiError(429, code, retry_after=clock.advertise(wait))
