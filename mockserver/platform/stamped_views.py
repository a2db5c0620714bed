"""Rendered answers about documents of a shared store (Redis), kept by this process under the
store's stamp of the document (`StampedViews`): the shared-store counterpart of `kept_views`.

With several processes writing one store, no write hook here hears of another process's
writes. A kept view is confirmed by `store.marked_stamp` of the one document (its sequence and
version), compared with the stamp read *before* the document was read for the view — a write
landing between the two makes the stamps differ and the next request builds afresh. The
marked stamp also marks the document in Redis, so any later write of it is told to this
process before its writer answers (`store/redis_marks`): while the ticket of that stamp holds
(`store.unchanged`), the view is answered with no round trip at all; after a write, an outage
of notifications or the ticket's end, one small read confirms it again. A finished run's poll
costs nothing in Redis instead of reading the run (≈ 2 KB), decoding it and writing its JSON.

The same calls as `KeptViews` (`get`, `token`, `keep`). No stamp is read for a document with
no view kept, so a run still processing costs no extra round trip: its first terminal poll
keeps the answer *tentatively* (no stamp was read before the run was), the next one reads the
stamp, then the run, and keeps it under that stamp; from then on a poll reads nothing. A
tentative view is never answered. Handlers run on the event loop's thread, one at a time
between awaits, and make the three calls without an await between them; the stamp `get` read
is kept per thread anyway.
"""

from __future__ import annotations

import threading
from typing import Any

CAPACITY = 256  # views kept at most, the oldest kept dropped first (as `kept_views`)


class StampedViews:
    """Rendered bodies by ``(kind, key)``: (owner, the instant it holds from, stamp, body,
    ticket of the marked stamp it was last confirmed with)."""

    def __init__(self, store: Any, capacity: int = CAPACITY) -> None:
        self.store = store
        self.capacity = capacity
        self._views: dict[tuple[str, str], tuple[str | None, float, tuple | None, Any, Any]] = {}
        self._read = threading.local()  # the marked stamp `get` read last in this thread, for `token`

    def get(self, kind: str, key: str, owner: str | None, now: float) -> Any:
        """The kept view when the document is unchanged in the store, else None: with no
        round trip while its ticket holds, else after one small read (a marked stamp, which
        also renews the ticket). Reads nothing for a document with no view kept (not even a
        tentative one); the stamp read is what `token` returns next."""
        view = self._views.get((kind, key))
        if view is None:
            self._read.last = None
            return None
        usable = view[0] == owner and now >= view[1] and view[2] is not None
        if usable and self.store.unchanged(view[4]):
            return view[3]
        stamp, ticket = self.store.marked_stamp([(kind, key)], [])
        self._read.last = (kind, key, stamp, ticket)
        if not usable or view[2] != stamp:
            return None
        self._views[(kind, key)] = view[:4] + (ticket,)  # unchanged: trusted again without reads
        return view[3]

    def token(self, kind: str, key: str) -> tuple | None:
        """The marked stamp `get` just read for this document (before the document is read)
        with its ticket, or None when it read none."""
        last = getattr(self._read, "last", None)
        if last is None or last[0] != kind or last[1] != key:
            return None
        return last[2], last[3]

    def keep(self, kind: str, key: str, owner: str | None, valid_from: float, value: Any,
             token: tuple | None) -> Any:
        """Keep ``value`` under the stamp read before the document was (``token``), or
        tentatively without one (never answered; the next `get` reads a stamp); returns
        ``value``."""
        views = self._views
        if len(views) >= self.capacity and (kind, key) not in views:
            views.pop(next(iter(views), None), None)
        stamp, ticket = token if token is not None else (None, None)
        views[(kind, key)] = (owner, valid_from, stamp, value, ticket)
        return value

    def __len__(self) -> int:
        return len(self._views)
