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
from typing import Any

encode_text = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


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
            members = [encode_text(k) + ":" + (v.json() if isinstance(v, FROZEN_TYPES) else encode_text(v))
                       for k, v in body.items()]
            return ("{" + ",".join(members) + "}").encode("utf-8")
    return encode_text(body).encode("utf-8")
