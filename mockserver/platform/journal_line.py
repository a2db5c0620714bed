"""One API request's journal line as the pipeline keeps it: the values it had at hand, in a
flat tuple (`RequestLine`), and the journal entry (the dict readers see) expanded from it
when the line is read.

Building the dict, hashing and formatting on every request cost more than the request's own
work on the cheap endpoints, and most of it is derivable: the ISO ``time`` follows from
``epoch``; for a request without a body, the grading facts (``fp``, ``keyId``, ``run``)
follow from its method, path, query and raw headers (`grading.facts.facts_from_line`);
the raw request headers are kept once, as the bytes the console's view (``_detail``) is
made of. `expand` gives exactly the entry the pipeline used to record, key order included.

A journal shared through a store (Redis) keeps the line in the same form, as a JSON array
(`json_halves` / `from_json`: bytes as latin-1 text), not as its expanded entry: writing it
costs a fifth of encoding the entry, and the entry is expanded when read, as here.
"""

from __future__ import annotations

import json
from typing import Any

from ..clock import iso
from ..grading.facts import facts_from_line

# Slots of a RequestLine (the tuple's positions).
EPOCH, METHOD, PATH, STATUS, OPERATION, CLIENT, KEY, REQUEST_ID, DURATION, SEQ, MODULE, RUN_ID, \
    FACTS, PATH_RUN, QUERY, REPLY_FACTS, RAW_HEADERS, REQUEST_BODY, REPLY_HEADERS, RESPONSE_HEAD = range(20)
_NO_FACTS: dict[str, Any] = {}  # shared by every line whose reply adds no fact (never mutated)


class RequestLine(tuple):
    """A journal line in its kept form (a tuple: no per-instance dict)."""

    __slots__ = ()


def build(epoch: float, method: str, path: str, status: int, operation: str | None, client: str | None,
          key: str | None, request_id: str, duration_ms: float, seq: int, module: str | None,
          run_id: str | None, facts: dict[str, Any] | None, path_run: str | None, query: bytes,
          reply_facts: dict[str, Any], raw_headers: list[tuple[bytes, bytes]], request_body: str | None,
          reply_headers: dict[str, str], response_head: tuple[bytes, int] | None) -> RequestLine:
    """``facts``: the request's grading facts when computed (`request_facts`), or None when
    they are derived on read; ``client``/``key`` already as the entry shows them."""
    if facts is not None:  # the 401 attribution sits at client/key's place, already resolved
        facts = {k: v for k, v in facts.items() if k != "client" and k != "key"} or _NO_FACTS
    return RequestLine((epoch, method, path, status, operation, client, key, request_id, duration_ms, seq,
                        module, run_id, facts, path_run, query, reply_facts or _NO_FACTS,
                        b"\n".join(map(b"\x00".join, raw_headers)), request_body,
                        tuple(reply_headers.items()) or None, response_head))


def expand(line: RequestLine) -> dict[str, Any]:
    """The journal entry of ``line``: every field the pipeline's entry had, in its order."""
    entry = {"time": iso(line[EPOCH]), "method": line[METHOD], "path": line[PATH], "status": line[STATUS],
             "operation": line[OPERATION], "client": line[CLIENT], "key": line[KEY],
             "requestId": line[REQUEST_ID], "durationMs": line[DURATION], "epoch": line[EPOCH]}
    facts = line[FACTS]
    if facts is None:
        pairs = [tuple(part.decode("latin-1").split("\x00", 1)) for part in line[RAW_HEADERS].split(b"\n")
                 if b"\x00" in part]
        entry.update(facts_from_line(line[METHOD], line[PATH], line[QUERY], pairs, line[PATH_RUN]))
    else:
        entry.update(facts)
    entry.update(line[REPLY_FACTS])
    entry["seq"] = line[SEQ]
    entry["module"] = line[MODULE]
    entry["runId"] = line[RUN_ID]
    entry["_detail"] = (line[RAW_HEADERS], line[REQUEST_BODY], line[REPLY_HEADERS], line[RESPONSE_HEAD])
    return entry


_dumps = json.JSONEncoder(separators=(",", ":")).encode  # ASCII out: latin-1 text stays reversible


def json_halves(line: RequestLine) -> tuple[str, str]:
    """``line`` as a JSON array cut at its ``seq`` slot: ``head + str(seq) + tail`` is the
    array with the line's paging sequence (given by the store when the line is written)."""
    values = list(line)
    values[QUERY] = line[QUERY].decode("latin-1")
    values[RAW_HEADERS] = line[RAW_HEADERS].decode("latin-1")
    middle = _dumps(values[SEQ + 1:RESPONSE_HEAD])  # the response head is the last value
    return _dumps(values[:SEQ])[:-1] + ",", "," + middle[1:-1] + "," + _head_json(line[RESPONSE_HEAD]) + "]"


# The JSON of response heads, by the head object: a kept answer's lines share one head object
# (`journal_fields.response_head`), so a busy poll encodes its KiB of excerpt once, not per line.
# Each entry holds its head, so an id is never reused while it is here.
_HEAD_JSON: dict[int, tuple[Any, str]] = {}
_HEAD_JSON_BOUND = 256


def _head_json(head: tuple[bytes, int] | None) -> str:
    if head is None:
        return "null"
    kept = _HEAD_JSON.get(id(head))
    if kept is not None and kept[0] is head:
        return kept[1]
    encoded = _dumps([head[0].decode("latin-1"), head[1]])
    if len(_HEAD_JSON) >= _HEAD_JSON_BOUND:
        _HEAD_JSON.clear()
    _HEAD_JSON[id(head)] = (head, encoded)
    return encoded


def from_json(values: list) -> RequestLine:
    """The `RequestLine` a `json_halves` array was made from (lists back to tuples)."""
    values[QUERY] = values[QUERY].encode("latin-1")
    values[RAW_HEADERS] = values[RAW_HEADERS].encode("latin-1")
    head = values[RESPONSE_HEAD]
    if head is not None:
        values[RESPONSE_HEAD] = (head[0].encode("latin-1"), head[1])
    if values[REPLY_HEADERS] is not None:
        values[REPLY_HEADERS] = tuple(map(tuple, values[REPLY_HEADERS]))
    if not values[FACTS] and values[FACTS] is not None:
        values[FACTS] = _NO_FACTS
    if not values[REPLY_FACTS]:
        values[REPLY_FACTS] = _NO_FACTS
    return RequestLine(values)
