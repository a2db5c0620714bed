"""The request journal: one line per HTTP request (method, path, status, client, time, and the
fields client grading and the console read), filterable through the control API. A line may
carry, under ``_detail``, the raw material of the console's request view; it is masked when
read (`platform.journal_fields.render_detail`), so no key, candidate token or webhook secret
is ever readable from the journal (INTV-3). Entries pushed out by the cap are counted per
client (`dropped`), so a report built on the journal can say what it missed.

Footprint: the journal holds up to ``capacity`` lines (`serve --journal-size`), so it is the
one store that grows with traffic until it is full. An API request's line is recorded as the
values the pipeline had (`journal_line.RequestLine`, fields derivable from others derived when
read); in this process, every ``BLOCK_LINES`` such lines are compressed together into one
block (`LineBlock`: ≈ 1.6 KB a line → ≈ 50 bytes, the lines of one client share most of their
text), and the deque keeps per line only its block, its place there and its client (for
per-client reads and counts). Any other line is packed as a tuple (`FIELDS`).

Where the lines live is a rows backend: `MemoryRows` (this process), or, on a store shared by
several processes, the store's (`RedisStore.journal_rows`: a capped Redis list), chosen by
`Journal.for_store`. Each line's paging ``seq`` comes from the journal (`seqs`), so it is
unique across every process sharing it.
"""

from __future__ import annotations

import itertools
import logging
import marshal
import operator
import threading
import zlib
from collections import deque
from typing import Any, Iterator

from ..store.base import StoreUnavailable
from .journal_line import CLIENT as _LINE_CLIENT, RequestLine, expand, from_json, json_halves

log = logging.getLogger("zenhire_mock.journal")

# Every field a line may carry (the request line, client grading's facts, the console's run
# and detail), in a fixed order: a line is kept as a tuple of these values (≈ 4x smaller than
# a dict of the same line) plus the names it had, in its own order (one shared tuple per
# distinct set of names). A line with a field outside this list is kept as the dict it came as.
FIELDS = ("time", "method", "path", "status", "operation", "client", "key", "requestId", "durationMs",
          "epoch", "fp", "keyId", "idem", "run", "code", "retryAfter", "pollInterval", "runStatus", "replay",
          "seq", "module", "runId", "_detail")
_FIELD_SET = frozenset(FIELDS)
_INDEX = {name: i for i, name in enumerate(FIELDS)}
_CLIENT = _INDEX["client"]
_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}  # each distinct name tuple, kept once


def _pack(entry: dict[str, Any]) -> tuple | dict:
    if entry.keys() <= _FIELD_SET:
        names = tuple(entry)
        names = _NAMES.setdefault(names, names)
        return tuple(entry.get(name) for name in FIELDS) + (names,)
    return entry  # the caller's fresh dict, kept as is


BLOCK_LINES = 256  # request lines compressed together (≈ 2 us a line, once; ≈ 0.5 ms to read a block)


class LineBlock:
    """Up to ``BLOCK_LINES`` request lines: a list while it fills, then one zlib-compressed
    marshal of them (`seal`). Read back whole, the last block read kept (a walk over the
    journal reads each block once)."""

    __slots__ = ("items", "data")
    _last: tuple["LineBlock", list] | None = None  # (block, its lines): one read per block in a walk

    def __init__(self) -> None:
        self.items: list[tuple] | None = []
        self.data: bytes | None = None

    def add(self, values: tuple) -> int:
        items = self.items
        items.append(values)
        return len(items) - 1

    def seal(self) -> None:
        try:
            data = zlib.compress(marshal.dumps(self.items), 1)
        except ValueError:  # a value marshal cannot write: the block stays a list
            return
        self.data = data
        self.items = None

    def get(self, index: int) -> tuple:
        items = self.items
        if items is None:
            last = LineBlock._last
            if last is not None and last[0] is self:
                items = last[1]
            else:
                items = marshal.loads(zlib.decompress(self.data))
                LineBlock._last = (self, items)
        return items[index]


class KeptLine(tuple):
    """A request line in `MemoryRows`: (its `LineBlock`, its place there, its client)."""

    __slots__ = ()


def _unpack(row: tuple | dict) -> dict[str, Any]:
    if isinstance(row, KeptLine):
        return expand(row[0].get(row[1]))
    if isinstance(row, RequestLine):
        return expand(row)
    if isinstance(row, dict):
        return dict(row)
    return {name: row[_INDEX[name]] for name in row[-1]}


def _client_of(row: tuple | dict) -> Any:
    if isinstance(row, KeptLine):
        return row[2]
    if isinstance(row, RequestLine):
        return row[_LINE_CLIENT]
    return row.get("client") if isinstance(row, dict) else row[_CLIENT]


class MemoryRows:
    """The journal's lines in this process: a bounded deque of packed lines."""

    def __init__(self, capacity: int) -> None:
        self._rows: deque[tuple | dict] = deque(maxlen=capacity)
        self.dropped: dict[str | None, int] = {}
        self._seq = itertools.count(1)
        self._block = LineBlock()
        self._block_lock = threading.Lock()  # one filling block, whatever thread records

    def next_seq(self) -> int:
        return next(self._seq)

    def append(self, entry: dict[str, Any] | RequestLine) -> None:
        if len(self._rows) == self._rows.maxlen:
            gone = _client_of(self._rows[0])
            self.dropped[gone] = self.dropped.get(gone, 0) + 1
        if isinstance(entry, RequestLine):
            with self._block_lock:
                block = self._block
                index = block.add(tuple(entry))  # marshal writes plain tuples only
                if index + 1 >= BLOCK_LINES:
                    block.seal()
                    self._block = LineBlock()
            self._rows.append(KeptLine((block, index, entry[_LINE_CLIENT])))
        else:
            self._rows.append(_pack(entry))

    def __len__(self) -> int:
        return len(self._rows)

    def entries(self, client: str | None, newest_first: bool) -> Iterator[dict[str, Any]]:
        rows = list(reversed(self._rows)) if newest_first else list(self._rows)
        if client is not None:
            rows = [row for row in rows if _client_of(row) == client]
        return map(_unpack, rows)

    def clear(self, client: str | None) -> None:
        if client is None:
            self._rows.clear()
            self.dropped.clear()
        else:
            self.dropped.pop(client, None)
            kept = [row for row in self._rows if _client_of(row) != client]
            self._rows.clear()
            self._rows.extend(kept)


class Journal:
    """The journal's API over a rows backend: `MemoryRows` here, or, when the store is shared
    by several processes, the store's own (a capped Redis list: `Journal.for_store`)."""

    def __init__(self, capacity: int = 20000, rows: Any = None) -> None:
        self._rows = rows if rows is not None else MemoryRows(capacity)
        self._append_next = getattr(self._rows, "append_next", None)  # a cursor taken with the append
        if hasattr(self._rows, "request_lines"):  # a store's rows keep request lines as we do
            self._rows.request_lines = (operator.itemgetter(_LINE_CLIENT), json_halves,
                                        lambda values: expand(from_json(values)))

    @classmethod
    def for_store(cls, store: Any, capacity: int) -> "Journal":
        """The journal the server runs with: in this process, or in the store when other
        processes share it (every replica then reads and pages the same lines)."""
        make = getattr(store, "journal_rows", None)
        if getattr(store, "shared", False) and make is not None:
            return cls(capacity, rows=make(capacity))
        return cls(capacity)

    def next_seq(self) -> int:
        """A paging cursor for the next line, increasing and unique across every process
        sharing the journal (0 while a shared journal's store is unreachable: that line is
        not kept). Safe from any thread."""
        try:
            return self._rows.next_seq()
        except StoreUnavailable:
            return 0

    @property
    def dropped(self) -> dict[str | None, int]:
        """Lines pushed out by the cap, per client."""
        return self._rows.dropped if isinstance(self._rows, MemoryRows) else self._rows.dropped_counts()

    def record(self, entry: dict[str, Any]) -> None:
        """Keep a line. On a shared journal whose store is unreachable the line is lost, with
        a log line, rather than failing a response already made (the request itself answered
        503 if it needed the store)."""
        try:
            self._rows.append(entry)
        except StoreUnavailable as err:
            log.warning("request journal line not kept (%s %s): %s", entry.get("method"), entry.get("path"), err)

    def record_line(self, line: RequestLine) -> None:
        """Keep an API request's line (`journal_line.build`): as is in this process; a shared
        journal queues it (expanded when written, off the request path) and draws its cursor
        with the append (the line's ``seq`` is then 0, see `line_seq`)."""
        if isinstance(self._rows, MemoryRows):
            self._rows.append(line)
        else:
            self.record_next(line)

    def record_next(self, entry: dict[str, Any] | RequestLine) -> None:
        """Keep a line with the next paging cursor as its ``seq`` (`next_seq` and `record` in
        one step: on a shared journal taken when the line is written)."""
        if self._append_next is None:
            entry["seq"] = self._rows.next_seq()
            self._rows.append(entry)
            return
        try:
            self._append_next(entry)
        except StoreUnavailable as err:
            log.warning("request journal line not kept: %s", err)

    def line_seq(self) -> int:
        """The paging cursor to build an API request line with (`record_line`): drawn now in
        this process; a shared journal draws it inside the append, in the same round trip (0)."""
        return self._rows.next_seq() if self._append_next is None else 0

    def flush(self) -> None:
        """Write the lines a shared journal has queued (at shutdown); nothing in this process."""
        flush = getattr(self._rows, "flush", None)
        if flush is not None:
            try:
                flush()
            except StoreUnavailable as err:
                log.warning("request journal: queued lines not kept: %s", err)

    def __len__(self) -> int:
        return len(self._rows)

    def entries(self, client: str | None = None, *, newest_first: bool = False) -> Iterator[dict[str, Any]]:
        """Every kept line (of ``client`` when given) as a dict, oldest first (or newest first)."""
        return self._rows.entries(client, newest_first)

    def query(self, *, client: str | None = None, status: int | None = None,
              method: str | None = None, operation: str | None = None,
              path_prefix: str | None = None, limit: int = 100) -> list[dict]:
        out = []
        for entry in self.entries(client, newest_first=True):
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
        self._rows.clear(client)
