"""The one JSON writer: compact, UTF-8, non-ASCII kept as is (JSON-1) — for API replies, the
control API and webhook bodies alike. `api_json` also writes a top-level ``id``/``status``
last, so the docs' greedy `sed` finds the run's own values, and splices in the kept encoding
of frozen members (`platform.frozen_json`: a finished run's result, encoded once)."""

from __future__ import annotations

import json
from typing import Any

from .platform.frozen_json import FROZEN_TYPES

encode_text = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def compact_json(value: Any) -> bytes:
    return encode_text(value).encode("utf-8")


def api_json(body: Any) -> bytes:
    if isinstance(body, dict) and ("id" in body or "status" in body):
        body = {k: v for k, v in body.items() if k not in ("id", "status")} | \
               {k: body[k] for k in ("id", "status") if k in body}
    if isinstance(body, dict) and any(isinstance(v, FROZEN_TYPES) for v in body.values()):
        members = [encode_text(k) + ":" + (v.json() if isinstance(v, FROZEN_TYPES) else encode_text(v))
                   for k, v in body.items()]
        return ("{" + ",".join(members) + "}").encode("utf-8")
    return encode_text(body).encode("utf-8")
