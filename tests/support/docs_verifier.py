"""The docs' own webhook verifier, kept verbatim in one place for the tests that prove the
mock's signatures pass it."""

from __future__ import annotations

import types

# The Python verifier from the CV DeepMatch integration guide ("Verifying the webhook
# signature"), verbatim (the bundle lost its indentation; restored).
DOCS_VERIFIER_SOURCE = '''
import hmac
import hashlib
import time
TOLERANCE_SECONDS = 300 # 5 minutes
def verify_webhook(signature_header: str, raw_body: bytes, secret: str) -> bool:
    # 't=1747641600,v1=abcdef…'
    parts = dict(p.strip().split("=", 1) for p in signature_header.split(","))
    ts = parts.get("t")
    v1 = parts.get("v1")
    if not ts or not v1:
        return False
    if abs(int(time.time()) - int(ts)) > TOLERANCE_SECONDS:
        return False
    signed = f"{ts}.{raw_body.decode('utf-8')}".encode("utf-8")
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(v1, expected)
'''


def docs_verifier(frozen_now: float | None = None):
    """The docs' ``verify_webhook``; with ``frozen_now`` its ``time.time()`` reads that instant."""
    namespace: dict = {}
    exec(DOCS_VERIFIER_SOURCE, namespace)
    if frozen_now is not None:
        namespace["time"] = types.SimpleNamespace(time=lambda: frozen_now)
    return namespace["verify_webhook"]
