"""When a delivery attempt counts as delivered, is retried, or is given up (HOOK-5, A3).

Documented: "up to 3 attempts (1 initial + 2 retries) with exponential backoff
(1 s → 4 s → 16 s, with a small jitter). We retry on 5xx, 429, and network errors. 4xx
responses other than 429 are treated as a permanent contract failure and not retried."

Reading taken (CATALOG A3): 3 attempts, waiting 1 s before the second and 4 s before the
third; the listed 16 s would only matter for a fourth attempt, which never happens.
Inferred: the jitter is ±10 %, derived from the delivery id and attempt number so a run
is reproducible; redirects are not followed and count as permanent (like "other" 4xx,
the receiver answered but not with success); timeouts and DNS failures are network
errors; a URL refused at attempt time (DNS rebinding to a private address) is permanent.
"""

from __future__ import annotations

import hashlib
from typing import Literal

Classification = Literal["delivered", "retry", "permanent"]

MAX_ATTEMPTS = 3
BACKOFF_SECONDS: tuple[float, ...] = (1.0, 4.0)  # wait after attempt 1, after attempt 2
JITTER_FRACTION = 0.10

# Attempt error codes (``AttemptResult.error``).
ERROR_TIMEOUT = "timeout"
ERROR_CONNECT = "connection_error"
ERROR_NETWORK = "network_error"
ERROR_DNS = "dns_unresolvable"
ERROR_URL_REFUSED = "url_refused"

PERMANENT_ERRORS = frozenset({ERROR_URL_REFUSED})


def classify(status_code: int | None, error: str | None) -> Classification:
    """What one attempt's result means for the delivery."""
    if error is not None or status_code is None:
        return "permanent" if error in PERMANENT_ERRORS else "retry"
    if 200 <= status_code < 300:
        return "delivered"
    if status_code >= 500 or status_code == 429:
        return "retry"
    return "permanent"


def retry_delay(delivery_id: str, attempt_number: int) -> float | None:
    """Seconds to wait after failed attempt ``attempt_number`` (1-based) before the next one,
    or None when no attempt is left."""
    if attempt_number < 1 or attempt_number >= MAX_ATTEMPTS:
        return None
    base = BACKOFF_SECONDS[attempt_number - 1]
    return base * (1.0 + jitter(delivery_id, attempt_number))


def jitter(delivery_id: str, attempt_number: int) -> float:
    """A fraction in [-JITTER_FRACTION, +JITTER_FRACTION], fixed by id and attempt number."""
    digest = hashlib.sha256(f"{delivery_id}:{attempt_number}".encode("utf-8")).digest()
    unit = int.from_bytes(digest[:8], "big") / float(2**64)  # [0, 1)
    return (unit * 2.0 - 1.0) * JITTER_FRACTION
