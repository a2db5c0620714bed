"""Webhook signing: the body bytes, the Stripe-style signature, and the headers (HOOK-3, HOOK-4, HOOK-8).

Documented (CV DeepMatch integration guide, "Verifying the webhook signature"):
the signature header reads ``t=<unix>,v1=<hex>`` where ``<hex>`` is the lower-case hex
HMAC-SHA256 of ``<t>.<body>`` over the exact body bytes sent, and the body is compact JSON
(no whitespace). ``X-CVDM-Signature-Timestamp`` repeats ``t``. CV DeepSearch uses the same
scheme and the same ``X-CVDM-*`` headers (Search guide).

Inferred:
- ``X-CVDM-Request-Id`` is ``api_<run id>``: the docs elide the value after ``api_`` and say it
  "correlates with your run's id".
- Interview callbacks: the changelog names ``X-Interview-Signature`` and "``X-Interview-*``
  signature headers" in the same ``t=,v1=`` format. ``X-Interview-Signature-Timestamp`` and
  ``X-Interview-Request-Id`` are taken by analogy with the CV DeepMatch set (CATALOG A4).

The ``timestamp`` signed is the real (wall-clock) time of the attempt in every clock mode
(HOOK-8; the engine passes it): a receiver compares it with its own clock.

``verify_signature`` is the receiver's side: the docs' Python verifier, made total (a header
the docs' code would crash on is simply not valid). It reads the receiver's wall clock when
no ``now`` is given, because it stands for the integrator's server, not for the simulation.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from .. import json_writer

SIGNATURE_TOLERANCE_SECONDS = 300  # "reject any request whose t= differs ... by more than 5 minutes"
REQUEST_ID_PREFIX = "api_"


@dataclass(frozen=True)
class HeaderScheme:
    """The header names one product signs its callbacks with."""

    signature: str
    timestamp: str
    request_id: str


HEADER_SCHEMES: dict[str, HeaderScheme] = {
    "cvdm": HeaderScheme("X-CVDM-Signature", "X-CVDM-Signature-Timestamp", "X-CVDM-Request-Id"),
    "cvds": HeaderScheme("X-CVDM-Signature", "X-CVDM-Signature-Timestamp", "X-CVDM-Request-Id"),
    "interview": HeaderScheme(
        "X-Interview-Signature", "X-Interview-Signature-Timestamp", "X-Interview-Request-Id"
    ),
}


def compact_json(payload: Any) -> bytes:
    """The wire form of a callback body: compact JSON, UTF-8, non-ASCII kept as is."""
    return json_writer.compact_json(payload)


def signature_hex(body: bytes, secret: str, timestamp: int | str) -> str:
    """Lower-case hex HMAC-SHA256 of ``<t>.<body>`` keyed with ``secret``."""
    signed = str(timestamp).encode("utf-8") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The signature header value ``t=<unix>,v1=<hex>`` for ``body`` sent at ``timestamp``."""
    t = int(timestamp)
    return f"t={t},v1={signature_hex(body, secret, t)}"


def signed_headers(kind: str, *, run_id: str, body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """Every header a callback of ``kind`` (``cvdm``, ``cvds``, ``interview``) carries."""
    scheme = HEADER_SCHEMES[kind]
    t = int(timestamp)
    return {
        "Content-Type": "application/json",
        scheme.request_id: REQUEST_ID_PREFIX + run_id,
        scheme.signature: sign(body, secret, t),
        scheme.timestamp: str(t),
    }


def verify_signature(header: str, raw_body: bytes, secret: str,
                     tolerance: int = SIGNATURE_TOLERANCE_SECONDS, now: float | None = None) -> bool:
    """True when ``header`` is a valid, fresh signature of ``raw_body`` under ``secret``.

    The docs' Python verifier step for step: split on ``,`` then on the first ``=`` (last
    duplicate wins), require non-empty ``t`` and ``v1``, reject ``|now - t| > tolerance``
    (``now`` floored to whole seconds), then compare in constant time. Where the docs' code
    would raise (a part without ``=``, a non-integer ``t``, a body that is not UTF-8, a
    non-ASCII ``v1``) this returns False instead. Never raises.
    """
    try:
        parts = dict(_split_pair(p.strip()) for p in header.split(","))
        ts = parts.get("t")
        v1 = parts.get("v1")
        if not ts or not v1:
            return False
        current = int(time.time()) if now is None else int(now)
        if abs(current - int(ts)) > tolerance:
            return False
        raw_body.decode("utf-8")  # the docs decode the body; non-UTF-8 bytes cannot verify
        expected = signature_hex(raw_body, secret, ts)
        return hmac.compare_digest(v1, expected)
    except (ValueError, TypeError, AttributeError):
        return False


def _split_pair(part: str) -> tuple[str, str]:
    key, value = part.split("=", 1)  # ValueError when there is no "=", as in the docs' code
    return key, value
