"""The one JSON writer: compact, UTF-8, non-ASCII kept as is (JSON-1) — for API replies, the
control API and webhook bodies alike. `api_json` also writes a top-level ``id``/``status``
last, so the docs' greedy `sed` finds the run's own values.

Frozen values: a large payload shared between responses (the generated result of a finished
Speech run, re-fetched by every poll) would cost its JSON encoding on every request. Wrapped
by `freeze` (a `FrozenDict` or `FrozenList`), it is still an ordinary dict or list to every
reader (schema validation, tests, `json.dumps`), and `api_json` splices its encoding,
computed once, into the response. Whoever freezes a value promises not to change it.

Rendered bodies: a whole reply body kept between requests (a finished run's poll answer,
`platform.kept_views`) is a `RenderedDict` — still a dict to every reader — whose `api_json`
bytes were written once, when it was kept.
"""

from __future__ import annotations

import json
from json.encoder import c_encode_basestring, c_make_encoder  # type: ignore[attr-defined]
from typing import Any

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# The C encoder `JSONEncoder.encode` builds on every call, built once: ≈ 0.5 µs a reply less.
# Without circular-reference markers, so it holds no state between calls (thread-safe); the
# mock's bodies are trees it builds itself.
_C_ENCODER = c_make_encoder(None, _ENCODER.default, c_encode_basestring, None, ":", ",", False, False, True) \
    if c_make_encoder is not None and c_encode_basestring is not None else None


def encode_text(value: Any) -> str:
    """``value`` as compact JSON text (non-ASCII kept as is)."""
    if _C_ENCODER is None:  # no C accelerator in this Python: the pure encoder
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


class _KeptEncoding:
    __slots__ = ()

    def json(self) -> str:
        try:
            return self._json
        except AttributeError:
            self._json = encode_text(self)
            return self._json


class FrozenDict(_KeptEncoding, dict):
    __slots__ = ("_json",)


class FrozenList(_KeptEncoding, list):
    __slots__ = ("_json",)


FROZEN_TYPES = (FrozenDict, FrozenList)


def freeze(value: Any) -> Any:
    """``value`` wrapped (a dict or list), or as it is (a scalar)."""
    if type(value) is dict:
        return FrozenDict(value)
    if type(value) is list:
        return FrozenList(value)
    return value


class RenderedDict(dict):
    """A reply body with its `api_json` bytes written once (`rendered`); never changed after.
    ``journal_head`` holds the journal's excerpt of those bytes once a journal line made it
    (`journal_fields.response_head`): one object shared by every line of this answer."""

    __slots__ = ("rendered_json", "journal_head")


def rendered(body: dict) -> RenderedDict:
    """``body`` as a `RenderedDict`, its bytes written now."""
    kept = RenderedDict(body)
    kept.rendered_json = api_json(body)
    kept.journal_head = None
    return kept


def joined(items: list) -> FrozenList:
    """``items`` as a frozen list whose JSON is its members' kept encodings (a frozen member's
    `json`, any other encoded now) joined: a page of kept rows costs no row's encoding."""
    kept = FrozenList(items)
    kept._json = "[" + ",".join(item.json() if isinstance(item, FROZEN_TYPES) else encode_text(item)
                                for item in items) + "]"
    return kept


def compact_json(value: Any) -> bytes:
    return encode_text(value).encode("utf-8")


def api_json(body: Any) -> bytes:
    if type(body) is RenderedDict:
        return body.rendered_json
    if type(body) is not dict and not isinstance(body, dict):
        return encode_text(body).encode("utf-8")
    if "id" in body or "status" in body:
        body = {k: v for k, v in body.items() if k != "id" and k != "status"} | \
               {k: body[k] for k in ("id", "status") if k in body}
    for value in body.values():
        if isinstance(value, FROZEN_TYPES):
            return _spliced(body).encode("utf-8")
    return encode_text(body).encode("utf-8")


def _spliced(body: dict) -> str:
    """``body``'s JSON with each frozen member's kept encoding spliced in; the members between
    frozen ones are encoded together, one encoder call per run of them, not two per member."""
    parts: list[str] = []
    run: dict = {}
    for key, value in body.items():
        if isinstance(value, FROZEN_TYPES):
            if run:
                parts.append(encode_text(run)[1:-1])
                run = {}
            parts.append(encode_text(key) + ":" + value.json())
        else:
            run[key] = value
    if run:
        parts.append(encode_text(run)[1:-1])
    return "{" + ",".join(parts) + "}"
