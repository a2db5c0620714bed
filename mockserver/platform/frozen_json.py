"""JSON values that never change after they are built, with their compact encoding kept.

A large payload shared between responses (the generated result of a finished Speech run,
re-fetched by every poll) costs its JSON encoding on every request. Wrapped as `FrozenDict`
or `FrozenList`, it is still an ordinary dict or list to every reader (schema validation,
tests, `json.dumps`), and `pipeline.dumps` splices its encoding, computed once, into the
response. Whoever wraps a value promises not to change it afterwards.
"""

from __future__ import annotations

import json
from typing import Any

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class FrozenDict(dict):
    __slots__ = ("_json",)

    def json(self) -> str:
        try:
            return self._json
        except AttributeError:
            self._json = _encode(self)
            return self._json


class FrozenList(list):
    __slots__ = ("_json",)

    def json(self) -> str:
        try:
            return self._json
        except AttributeError:
            self._json = _encode(self)
            return self._json


FROZEN_TYPES = (FrozenDict, FrozenList)


def freeze(value: Any) -> Any:
    """``value`` wrapped (a dict or list), or as it is (a scalar)."""
    if type(value) is dict:
        return FrozenDict(value)
    if type(value) is list:
        return FrozenList(value)
    return value
