"""Rendered answers about documents of a shared store (Redis), kept by this process under the
store's stamp of the document (`StampedViews`): the shared-store counterpart of `kept_views`.

With several processes writing one store, no write hook here hears of another process's
writes. So a kept view is used only after one small read confirms the document is as it was
when the view was built: `store.stamp` of the one document (its sequence and version, a plain
``HMGET``), compared with the stamp read *before* the document was read for the view — a
write landing between the two makes the stamps differ and the next request builds afresh.
A finished run's poll then costs that one small read instead of reading the run (≈ 2 KB),
decoding it and writing its JSON again.

The same calls as `KeptViews` (`get`, `token`, `keep`). No stamp is read for a document with
no view kept, so a run still processing costs no extra round trip: its first terminal poll
keeps the answer *tentatively* (no stamp was read before the run was), the next one reads the
stamp, then the run, and keeps it under that stamp; from then on a poll is the stamp alone. A
tentative view is never answered. Handlers run on the event loop's thread, one at a time
between awaits, and make the three calls without an await between them; the stamp `get` read
is kept per thread anyway.
"""

from __future__ import annotations

import threading
from typing import Any

CAPACITY = 256  # views kept at most, the oldest kept dropped first (as `kept_views`)


class StampedViews:
    """Rendered bodies by ``(kind, key)``: (owner, the instant it holds from, stamp, body)."""

    def __init__(self, store: Any, capacity: int = CAPACITY) -> None:
        self.store = store
        self.capacity = capacity
        self._views: dict[tuple[str, str], tuple[str | None, float, tuple, Any]] = {}
        self._read = threading.local()  # the stamp `get` read last in this thread, for `token`

    def get(self, kind: str, key: str, owner: str | None, now: float) -> Any:
        """The kept view when the document is unchanged in the store (one small read), else
        None. Reads the stamp only when a view (even a tentative one) is kept for the
        document; that stamp is what `token` returns next."""
        view = self._views.get((kind, key))
        if view is None:
            self._read.last = None
            return None
        stamp = self.store.stamp([(kind, key)], [])
        self._read.last = (kind, key, stamp)
        if view[2] is None or view[2] != stamp or view[0] != owner or now < view[1]:
            return None
        return view[3]

    def token(self, kind: str, key: str) -> tuple | None:
        """The stamp `get` just read for this document (before the document is read), or
        None when it read none."""
        last = getattr(self._read, "last", None)
        if last is None or last[0] != kind or last[1] != key:
            return None
        return last[2]

    def keep(self, kind: str, key: str, owner: str | None, valid_from: float, value: Any,
             token: tuple | None) -> Any:
        """Keep ``value`` under the stamp read before the document was (``token``), or
        tentatively without one (never answered; the next `get` reads a stamp); returns
        ``value``."""
        views = self._views
        if len(views) >= self.capacity and (kind, key) not in views:
            views.pop(next(iter(views), None), None)
        views[(kind, key)] = (owner, valid_from, token, value)
        return value

    def __len__(self) -> int:
        return len(self._views)
