"""The request journal: one line per HTTP request (method, path, status, client, time),
filterable through the control API. Bodies, query strings and keys are never recorded, so
secrets such as candidate tokens cannot leak into it (INTV-3). Entries pushed out by the cap
are counted per client (`dropped`), so a report built on the journal can say what it missed."""

from __future__ import annotations

from collections import deque
from typing import Any


class Journal:
    def __init__(self, capacity: int = 20000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self.dropped: dict[str | None, int] = {}

    def record(self, entry: dict[str, Any]) -> None:
        if len(self._entries) == self._entries.maxlen:
            gone = self._entries[0].get("client")
            self.dropped[gone] = self.dropped.get(gone, 0) + 1
        self._entries.append(entry)

    def entries(self, client: str) -> list[dict]:
        """Every kept entry of ``client``, oldest first."""
        return [entry for entry in self._entries if entry.get("client") == client]

    def query(self, *, client: str | None = None, status: int | None = None,
              method: str | None = None, operation: str | None = None,
              path_prefix: str | None = None, limit: int = 100) -> list[dict]:
        out = []
        for entry in reversed(self._entries):
            if client is not None and entry.get("client") != client:
                continue
            if status is not None and entry.get("status") != status:
                continue
            if method is not None and entry.get("method") != method.upper():
                continue
            if operation is not None and entry.get("operation") != operation:
                continue
            if path_prefix is not None and not entry.get("path", "").startswith(path_prefix):
                continue
            out.append(entry)
            if len(out) >= limit:
                break
        return out

    def clear(self, client: str | None = None) -> None:
        if client is None:
            self._entries.clear()
            self.dropped.clear()
        else:
            self.dropped.pop(client, None)
            kept = [e for e in self._entries if e.get("client") != client]
            self._entries.clear()
            self._entries.extend(kept)
