"""Signed outbound webhooks shared by CV DeepMatch, CV DeepSearch and Interview (HOOK-1..8).

- ``signing``: compact JSON bodies, ``t=<unix>,v1=<hex>`` signatures, header names per product,
  and ``verify_signature`` (the receiver's check, as in the docs).
- ``addresses`` / ``admission``: which ``webhook_url`` is accepted at submit and callable at
  each attempt (HTTPS, public addresses only, DNS re-checked).
- ``policy``: 3 attempts, backoff 1 s then 4 s with jitter; what is retried.
- ``transport``: one attempt = one POST with httpx, no redirects.
- ``engine``: the queue, the schedule on the virtual clock, and the delivery log.
- ``persistence``: the log and the pending queue on the platform's store, and the leases that
  make each attempt once across processes sharing it.
"""

from .admission import Refusal, StaticResolver, check_webhook_url, inspect_webhook_url, system_resolver
from .engine import WebhookEngine
from .persistence import DeliveryBusy, DeliveryStore, Lease
from .policy import classify, retry_delay
from .signing import HEADER_SCHEMES, HeaderScheme, compact_json, sign, signed_headers, verify_signature
from .transport import AttemptResult, HttpxTransport

__all__ = [
    "AttemptResult",
    "DeliveryBusy",
    "DeliveryStore",
    "HEADER_SCHEMES",
    "HeaderScheme",
    "HttpxTransport",
    "Lease",
    "Refusal",
    "StaticResolver",
    "WebhookEngine",
    "check_webhook_url",
    "classify",
    "compact_json",
    "inspect_webhook_url",
    "retry_delay",
    "sign",
    "signed_headers",
    "system_resolver",
    "verify_signature",
]
