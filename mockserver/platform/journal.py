"""The request journal: one line per HTTP request (method, path, status, client, time, and the
fields client grading and the console read), filterable through the control API. A line may
carry, under ``_detail``, the raw material of the console's request view; it is masked when
read (`platform.journal_fields.render_detail`), so no key, candidate token or webhook secret
is ever readable from the journal (INTV-3). Entries pushed out by the cap are counted per
client (`dropped`), so a report built on the journal can say what it missed.

Footprint: the journal holds up to ``capacity`` lines, so it is the one store that grows
with traffic until it is full. A line is kept as a tuple of its values in a fixed field
order (≈ 3x smaller than a dict of the same line) and turned back into a dict when read;
a line with fields outside that order is kept as the dict it came as.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterator

FIELDS = ("time", "method", "path", "status", "operation", "client", "key", "requestId", "durationMs")
_FIELD_SET = frozenset(FIELDS)
_CLIENT = FIELDS.index("client")


def _pack(entry: dict[str, Any]) -> tuple | dict:
    if entry.keys() <= _FIELD_SET:
        names = tuple(entry)
        return tuple(entry.get(name) for name in FIELDS) + (names != FIELDS and names,)
    return entry  # the caller's fresh dict, kept as is


def _unpack(row: tuple | dict) -> dict[str, Any]:
    if isinstance(row, dict):
        return dict(row)
    present = row[-1]
    if present:  # not the usual fields in the usual order: give back exactly what was given
        return {name: row[FIELDS.index(name)] for name in present}
    return dict(zip(FIELDS, row))


def _client_of(row: tuple | dict) -> Any:
    return row.get("client") if isinstance(row, dict) else row[_CLIENT]


class Journal:
    def __init__(self, capacity: int = 20000) -> None:
        self._rows: deque[tuple | dict] = deque(maxlen=capacity)
        self.dropped: dict[str | None, int] = {}

    def _make_room(self) -> None:
        if len(self._rows) == self._rows.maxlen:
            gone = _client_of(self._rows[0])
            self.dropped[gone] = self.dropped.get(gone, 0) + 1

    def record(self, entry: dict[str, Any]) -> None:
        self._make_room()
        self._rows.append(_pack(entry))

    def __len__(self) -> int:
        return len(self._rows)

    def entries(self, client: str | None = None, *, newest_first: bool = False) -> Iterator[dict[str, Any]]:
        """Every kept line (of ``client`` when given) as a dict, oldest first (or newest first)."""
        rows = list(reversed(self._rows)) if newest_first else list(self._rows)
        if client is not None:
            rows = [row for row in rows if _client_of(row) == client]
        return map(_unpack, rows)

    def query(self, *, client: str | None = None, status: int | None = None,
              method: str | None = None, operation: str | None = None,
              path_prefix: str | None = None, limit: int = 100) -> list[dict]:
        out = []
        for entry in self.entries(newest_first=True):
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
            self._rows.clear()
            self.dropped.clear()
        else:
            self.dropped.pop(client, None)
            kept = [row for row in self._rows if _client_of(row) != client]
            self._rows.clear()
            self._rows.extend(kept)
