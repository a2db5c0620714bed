"""The store cannot be reached (`StoreUnavailable`): what a request answers and what the log
says, in one place for the API pipeline and the control API.

A request that meets an unreachable store answers 503 with the platform's error envelope,
code ``INTERNAL_ERROR`` (the documented code for a server-side failure, "retry after a
delay"), and ``Retry-After`` — never a 500 or a traceback. The log gets ONE line when an
outage starts (naming the store without its credentials) and one when the store answers
again, not a line per request.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger("zenhire_mock")

RETRY_AFTER_SECONDS = 5
MESSAGE = "The platform's storage is unavailable. Retry after the indicated delay."


def without_credentials(url: str | None) -> str:
    """``redis://user:secret@host:6379/0`` → ``redis://host:6379/0``."""
    if not url:
        return "(the configured store)"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(the configured store)"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class OutageLog:
    """Tracks whether the store is in an outage, logging its start and end once each."""

    def __init__(self, store_url: str | None) -> None:
        self.store_url = without_credentials(store_url)
        self._down = False
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self._down

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self._down:
                return
            self._down = True
        log.error("store %s unavailable (%s): answering 503 until it is back", self.store_url, exc)

    def succeeded(self) -> None:
        if not self._down:  # the usual case: no lock, one attribute read
            return
        with self._lock:
            if not self._down:
                return
            self._down = False
        log.warning("store %s reachable again", self.store_url)
