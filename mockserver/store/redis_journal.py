"""The request journal's lines in Redis, for a journal shared by several processes
(`Journal.for_store` on a `RedisStore`): a capped list ``{ns}:j:rows`` (append and trim in one
script, the clients of the lines pushed out counted in the hash ``{ns}:j:dropped``), a count of
every line ever appended ``{ns}:j:n`` (so a reader walks the list by absolute position while
others append and trim, neither repeating nor skipping a line), and the paging sequence
``{ns}:j:seq`` (INCR: unique across processes). `append_next` takes the line's paging sequence
inside the append script: one round trip per request line instead of two, and the lines' order
in the list is their sequence order across processes.

A line is stored as ``<client as JSON> NUL <line as JSON>``: the script and the client filter
read the client without decoding the line. Bytes (the console's raw headers and body heads
under ``_detail``) are encoded reversibly as ``{"\\u0000b": base64}``; tuples come back as lists.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Iterator

_BYTES = "\x00b"
_CHUNK = 256

# Append a line, trimming to the capacity (the dropped lines counted per client). With ARGV[4]
# = '1' the line's paging sequence is taken here (INCR of the journal's sequence) and spliced
# between the line's two halves. KEYS: rows, dropped, appended count, sequence
# ARGV: line head (ending in `"seq":` when a sequence is taken), line tail, capacity, '1'|'0'
# -> the sequence given (0 when none was taken)
APPEND = """
local seq = 0
local line = ARGV[1]
if ARGV[4] == '1' then
  seq = redis.call('INCR', KEYS[4])
  line = ARGV[1] .. seq .. ARGV[2]
end
local n = redis.call('RPUSH', KEYS[1], line)
redis.call('INCR', KEYS[3])
local cap = tonumber(ARGV[3])
while n > cap do
  local gone = redis.call('LPOP', KEYS[1])
  redis.call('HINCRBY', KEYS[2], string.sub(gone, 1, string.find(gone, '\\0', 1, true) - 1), 1)
  n = n - 1
end
return seq
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
    client = json.dumps(entry.get("client"), ensure_ascii=False)
    body = json.dumps(entry, separators=(",", ":"), ensure_ascii=False, default=_default)
    return (client + "\x00" + body).encode()


def encode_split(entry: dict[str, Any]) -> tuple[bytes, bytes]:
    """The line as `encode_line` writes it, cut where the value of ``seq`` goes (the key keeps
    its place among the others; added last when absent): the script puts the number between."""
    items = [(k, v) for k, v in entry.items()]
    at = next((i for i, (k, _) in enumerate(items) if k == "seq"), len(items))
    dump = lambda part: json.dumps(dict(part), separators=(",", ":"), ensure_ascii=False, default=_default)
    head = dump(items[:at])[:-1] + ("," if at else "") + '"seq":'
    after = items[at + 1:]
    tail = ("," + dump(after)[1:]) if after else "}"
    client = json.dumps(entry.get("client"), ensure_ascii=False)
    return (client + "\x00" + head).encode(), tail.encode()


def decode_line(raw: bytes) -> dict[str, Any]:
    return json.loads(raw[raw.index(b"\x00") + 1:], object_hook=_hook)


class RedisRows:
    """A journal rows backend on one Redis (see `mockserver.platform.journal.Journal`)."""

    def __init__(self, store: Any, capacity: int) -> None:
        self._store = store
        r, p = store.client, store.namespace + ":j:"
        self._r = r
        self.capacity = capacity
        self._keys = [p + "rows", p + "dropped", p + "n"]
        self._seq_key = p + "seq"
        self._append = r.register_script(APPEND)
        self._read = r.register_script(READ)
        self._clear_client = r.register_script(CLEAR_CLIENT)

    def next_seq(self) -> int:
        with self._store.available():
            return self._r.incr(self._seq_key)

    def append(self, entry: dict[str, Any]) -> None:
        line = encode_line(entry)
        with self._store.available():
            self._append(keys=self._keys + [self._seq_key], args=[line, "", self.capacity, "0"])

    def append_next(self, entry: dict[str, Any]) -> int:
        """Keep ``entry`` with the next paging sequence (its ``seq``, set here), in one round trip."""
        head, tail = encode_split(entry)
        with self._store.available():
            seq = int(self._append(keys=self._keys + [self._seq_key], args=[head, tail, self.capacity, "1"]))
        entry["seq"] = seq
        return seq

    def __len__(self) -> int:
        with self._store.available():
            return self._r.llen(self._keys[0])

    def dropped_counts(self) -> dict[str | None, int]:
        with self._store.available():
            raw = self._r.hgetall(self._keys[1])
        return {json.loads(k): int(v) for k, v in raw.items()}

    def entries(self, client: str | None, newest_first: bool) -> Iterator[dict[str, Any]]:
        prefix = None if client is None else (json.dumps(client, ensure_ascii=False) + "\x00").encode()
        for raw in self._lines(newest_first):
            if prefix is None or raw.startswith(prefix):
                yield decode_line(raw)

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

    def clear(self, client: str | None) -> None:
        with self._store.available():
            if client is None:
                # the appended count stays: absolute positions keep increasing
                self._r.delete(self._keys[0], self._keys[1])
            else:
                self._clear_client(keys=self._keys, args=[json.dumps(client, ensure_ascii=False)])
