"""The one JSON writer: compact, UTF-8, non-ASCII kept as is (JSON-1) — for API replies, the
control API and webhook bodies alike. `api_json` also writes a top-level ``id``/``status``
last, so the docs' greedy `sed` finds the run's own values."""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact_json(value: Any) -> bytes:
    return _ENCODER.encode(value).encode("utf-8")


def api_json(body: Any) -> bytes:
    if isinstance(body, dict) and ("id" in body or "status" in body):
        body = {k: v for k, v in body.items() if k not in ("id", "status")} | \
               {k: body[k] for k in ("id", "status") if k in body}
    return compact_json(body)
