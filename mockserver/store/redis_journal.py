"""The request journal's lines in Redis, for a journal shared by several processes
(`Journal.for_store` on a `RedisStore`): a capped list ``{ns}:j:rows`` (append and trim in one
script, the clients of the lines pushed out counted in the hash ``{ns}:j:dropped``), a count of
every line ever appended ``{ns}:j:n`` (so a reader walks the list by absolute position while
others append and trim, neither repeating nor skipping a line), and the paging sequence
``{ns}:j:seq`` (INCR: unique across processes). The line's paging sequence is taken inside the
append script, so the lines' order in the list is their sequence order across processes.

Off the request path: a line is queued in this process and a writer thread appends what is
queued in one script call (`APPEND_MANY`), so a request waits for no journal round trip and a
busy process writes many lines per round trip. Lines are queued only while this process is
subscribed to the store's broadcasts (so every other process's read reaches its queue); until
then, and whenever the subscription is down, a line is written at once. Every read (by any process) first makes every
process write what it has queued — its own queue directly, the others' through the store's
`Broadcast` (topic ``journal``, acknowledged after the write) — so a line of a request that was
answered is always read, wherever it is read. What is lost: the lines of the last moments of a
process killed with -9 (never a document: the store's writes are made before the response),
and the lines queued while Redis is unreachable (one log line says how many).

A line is stored as ``<client as JSON> NUL <line as JSON>``: the script and the client filter
read the client without decoding the line. An API request's line is the JSON array of its
kept form (`journal_line.json_halves`, expanded to its entry when read, as the in-process
journal does); any other line is its entry as a JSON object, bytes encoded reversibly as
``{"\\u0000b": base64}`` (tuples come back as lists).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import weakref
from typing import Any, Callable, Iterator

from .base import StoreUnavailable
from .redis_broadcast import ANY

log = logging.getLogger("zenhire_mock.journal")

_BYTES = "\x00b"
_CHUNK = 256
_BATCH = 256  # lines per append script call
_GATHER = 0.005  # seconds the writer waits after a first line, so busy moments write batches
_QUEUE_LIMIT = 50_000  # lines queued at most while the writer cannot keep up (or Redis is down)

# Append lines, then trim to the capacity (the clients of the lines pushed out counted). A line
# with '1' gets its paging sequence here (the journal's sequence, moved once for the batch)
# spliced between its two halves. A batch is a few commands whatever its size: one INCRBY, one
# RPUSH per thousand lines, one LRANGE + LTRIM for what falls out, one HINCRBY per client.
# KEYS: rows, dropped, appended count, sequence
# ARGV: capacity, then per line: '1'|'0', head (ending in `"seq":` or its array's slot), tail
APPEND_MANY = """
local cap = tonumber(ARGV[1])
local numbered = 0
for i = 2, #ARGV, 3 do
  if ARGV[i] == '1' then numbered = numbered + 1 end
end
local seq = 0
if numbered > 0 then seq = redis.call('INCRBY', KEYS[4], numbered) - numbered end
local lines = {}
for i = 2, #ARGV, 3 do
  if ARGV[i] == '1' then
    seq = seq + 1
    lines[#lines + 1] = ARGV[i + 1] .. string.format('%d', seq) .. ARGV[i + 2]
  else
    lines[#lines + 1] = ARGV[i + 1]
  end
end
local n = redis.call('LLEN', KEYS[1])
for i = 1, #lines, 1000 do
  n = redis.call('RPUSH', KEYS[1], unpack(lines, i, math.min(i + 999, #lines)))
end
redis.call('INCRBY', KEYS[3], #lines)
if n > cap then
  local gone = redis.call('LRANGE', KEYS[1], 0, n - cap - 1)
  redis.call('LTRIM', KEYS[1], n - cap, -1)
  local by = {}
  for _, line in ipairs(gone) do
    local client = string.sub(line, 1, string.find(line, '\\0', 1, true) - 1)
    by[client] = (by[client] or 0) + 1
  end
  for client, count in pairs(by) do redis.call('HINCRBY', KEYS[2], client, count) end
  n = cap
end
return n
"""

# Lines by absolute position (the n-th line ever appended is n - 1): KEYS: rows, appended count
# ARGV: from, to (inclusive; to < 0 = the newest) -> {first position returned, lines...}
READ = """
local total = tonumber(redis.call('GET', KEYS[2]) or '0')
local len = redis.call('LLEN', KEYS[1])
local base = total - len
local lo, hi = tonumber(ARGV[1]), tonumber(ARGV[2])
if hi < 0 or hi > total - 1 then hi = total - 1 end
if lo < base then lo = base end
if hi < lo then return {lo} end
local out = redis.call('LRANGE', KEYS[1], lo - base, hi - base)
table.insert(out, 1, lo)
return out
"""

# KEYS: rows, dropped, appended count ; ARGV: client as JSON -> lines removed
CLEAR_CLIENT = """
local lines = redis.call('LRANGE', KEYS[1], 0, -1)
local prefix = ARGV[1] .. '\\0'
local kept = {}
for _, line in ipairs(lines) do
  if string.sub(line, 1, #prefix) ~= prefix then kept[#kept + 1] = line end
end
redis.call('DEL', KEYS[1])
for i = 1, #kept, 1000 do
  redis.call('RPUSH', KEYS[1], unpack(kept, i, math.min(i + 999, #kept)))
end
redis.call('HDEL', KEYS[2], ARGV[1])
return #lines - #kept
"""


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {_BYTES: base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"journal line field of type {type(value).__name__} is not JSON")


def _hook(obj: dict) -> Any:
    if len(obj) == 1 and _BYTES in obj:
        return base64.b64decode(obj[_BYTES])
    return obj


def encode_line(entry: dict[str, Any]) -> bytes:
    body = json.dumps(entry, separators=(",", ":"), ensure_ascii=False, default=_default)
    return _client_prefix(entry.get("client")) + body.encode()


def encode_split(entry: dict[str, Any]) -> tuple[bytes, bytes]:
    """The line as `encode_line` writes it, cut where the value of ``seq`` goes (the key keeps
    its place among the others; added last when absent): the script puts the number between."""
    items = [(k, v) for k, v in entry.items()]
    at = next((i for i, (k, _) in enumerate(items) if k == "seq"), len(items))
    dump = lambda part: json.dumps(dict(part), separators=(",", ":"), ensure_ascii=False, default=_default)
    head = dump(items[:at])[:-1] + ("," if at else "") + '"seq":'
    after = items[at + 1:]
    tail = ("," + dump(after)[1:]) if after else "}"
    return _client_prefix(entry.get("client")) + head.encode(), tail.encode()


def _client_prefix(client: str | None) -> bytes:
    return (json.dumps(client, ensure_ascii=False) + "\x00").encode()


class RedisRows:
    """A journal rows backend on one Redis (see `mockserver.platform.journal.Journal`)."""

    def __init__(self, store: Any, capacity: int) -> None:
        self._store = store
        r, p = store.client, store.namespace + ":j:"
        self._r = r
        self.capacity = capacity
        self._keys = [p + "rows", p + "dropped", p + "n"]
        self._seq_key = p + "seq"
        self._append_many = r.register_script(APPEND_MANY)
        self._read = r.register_script(READ)
        self._clear_client = r.register_script(CLEAR_CLIENT)
        # How an API request's kept line (not a dict) is written and read back: (its client,
        # its JSON halves around the sequence, the entry of its decoded array); set by the journal.
        self.request_lines: tuple[Callable[[Any], str | None], Callable[[Any], tuple[str, str]],
                                  Callable[[list], dict]] | None = None
        # Lines not yet written: (with a sequence '1' | '0', the line: a dict or a kept
        # request line). The writer thread takes them all at once.
        self._queue: list[tuple[str, Any]] = []
        self._queue_lock = threading.Lock()
        self._write_lock = threading.Lock()  # one batch at a time: lines keep their order
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._overflowed = False
        self._writer = threading.Thread(target=_write_queued, args=(weakref.ref(self), self._wake, self._closed),
                                        name="zh-journal-writer", daemon=True)
        self._writer.start()
        store.broadcast.on(self._on_broadcast)

    def next_seq(self) -> int:
        with self._store.available():
            return self._r.incr(self._seq_key)

    # -- writing ------------------------------------------------------------------------------
    def append(self, entry: dict[str, Any]) -> None:
        """Queue a line as it is (no paging sequence taken)."""
        self._enqueue(("0", entry))

    def append_next(self, entry: Any) -> int:
        """Queue a line (a dict, or a kept request line: see `request_lines`) that gets the
        next paging sequence as its ``seq`` when written. Returns 0: Redis takes it then."""
        self._enqueue(("1", entry))
        return 0

    def _enqueue(self, item: tuple[str, Any]) -> None:
        if not self._store.broadcast.live:
            # Not subscribed (yet, or any more): another process's read could not make us write
            # a queue, so the line is written now, on the request's time.
            self.flush(item)
            return
        with self._queue_lock:
            queue = self._queue
            if len(queue) >= _QUEUE_LIMIT:
                if not self._overflowed:
                    self._overflowed = True
                    log.warning("request journal: %d lines wait to be written; newer lines are "
                                "not kept until the writer catches up", len(queue))
                return
            queue.append(item)
            if len(queue) == 1:
                self._wake.set()

    def flush(self, then: tuple[str, Any] | None = None) -> None:
        """Write every line this process has queued (in order), now; ``then`` after them."""
        with self._write_lock:
            with self._queue_lock:
                batch, self._queue = self._queue, []
                self._wake.clear()
                self._overflowed = False
            if then is not None:
                batch.append(then)
            lost, why = 0, None
            for start in range(0, len(batch), _BATCH):
                part = batch[start:start + _BATCH]
                try:
                    self._write(part)
                except StoreUnavailable as err:
                    lost, why = lost + len(part), err
            if lost:
                log.warning("request journal: %d lines not kept: %s", lost, why)

    def _write(self, batch: list[tuple[str, Any]]) -> None:
        args: list[Any] = [self.capacity]
        for mode, line in batch:
            if not isinstance(line, dict):  # a kept request line: its JSON array
                client_of, halves, _ = self.request_lines
                head, tail = halves(line)
                args += ["1", _client_prefix(client_of(line)) + head.encode(), tail.encode()]
            elif mode == "1":
                args += [mode, *encode_split(line)]
            else:
                args += [mode, encode_line(line), b""]
        with self._store.available():
            self._append_many(keys=self._keys + [self._seq_key], args=args)

    def settle(self) -> None:
        """Every line queued by any process sharing the journal written: ours here, the
        others' through a broadcast each process acknowledges after writing its queue."""
        self.flush()
        with self._store.available():
            self._store.broadcast.send("journal")

    def _on_broadcast(self, topic: str) -> None:
        if topic == "journal" or topic == ANY:
            self.flush()

    def close(self) -> None:
        """Write what is queued and stop the writer thread."""
        self.flush()
        self._closed.set()
        self._wake.set()

    # -- reading (every process's queue written first) ------------------------------------------
    def __len__(self) -> int:
        self.settle()
        with self._store.available():
            return self._r.llen(self._keys[0])

    def dropped_counts(self) -> dict[str | None, int]:
        self.settle()
        with self._store.available():
            raw = self._r.hgetall(self._keys[1])
        return {json.loads(k): int(v) for k, v in raw.items()}

    def entries(self, client: str | None, newest_first: bool) -> Iterator[dict[str, Any]]:
        self.settle()
        prefix = None if client is None else _client_prefix(client)
        for raw in self._lines(newest_first):
            if prefix is None or raw.startswith(prefix):
                yield self._decode(raw)

    def _lines(self, newest_first: bool) -> Iterator[bytes]:
        """Every kept line, a chunk at a time, by absolute position: lines appended after the
        walk began are not visited, lines trimmed meanwhile are skipped, none repeats."""
        keys = [self._keys[0], self._keys[2]]
        with self._store.available():
            end = int(self._r.get(keys[1]) or 0) - 1  # the newest line when the walk began
        if newest_first:
            hi = end
            while hi >= 0:
                with self._store.available():
                    got = self._read(keys=keys, args=[max(hi - _CHUNK + 1, 0), hi])
                lines = got[1:]
                if not lines:
                    return
                yield from reversed(lines)
                hi = int(got[0]) - 1
        else:
            lo = 0
            while lo <= end:
                with self._store.available():
                    got = self._read(keys=keys, args=[lo, min(lo + _CHUNK - 1, end)])
                lines = got[1:]
                if not lines:
                    return
                yield from lines
                lo = int(got[0]) + len(lines)

    def _decode(self, raw: bytes) -> dict[str, Any]:
        payload = raw[raw.index(b"\x00") + 1:]
        if payload[:1] == b"[":
            return self.request_lines[2](json.loads(payload))
        return json.loads(payload, object_hook=_hook)

    def clear(self, client: str | None) -> None:
        self.settle()  # a line of a request answered before the clear is cleared with the rest
        with self._store.available():
            if client is None:
                # the appended count stays: absolute positions keep increasing
                self._r.delete(self._keys[0], self._keys[1])
            else:
                self._clear_client(keys=self._keys, args=[json.dumps(client, ensure_ascii=False)])


def _write_queued(ref: "weakref.ref[RedisRows]", wake: threading.Event, closed: threading.Event) -> None:
    """The writer thread: writes the queue whenever lines arrive. Holds its rows only weakly
    between batches, so a journal nobody uses any more is collected and the thread ends."""
    while not closed.is_set():
        if wake.wait(1.0):
            closed.wait(_GATHER)  # let a batch gather: one round trip for the lines of a while
        rows = ref()
        if rows is None:
            return
        try:
            rows.flush()
        except Exception:  # a bug here must not stop the journal
            log.exception("request journal writer failed")
        del rows
