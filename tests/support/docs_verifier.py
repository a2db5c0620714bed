"""The docs' own webhook verifiers, kept verbatim in one place for the tests that prove the
mock's signatures pass them: the Python one below, and the Node.js one in
``docs_verifier.js`` (run with ``node_verifier_answers``).

Both read the receiver's real clock, as an integrator's server does (HOOK-8). ``frozen_now``
exists only for pure-function tests of the signing rules at a fixed instant; a test of the
mock's deliveries never freezes the verifier to the mock's (virtual) time.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import types
from pathlib import Path

NODE_VERIFIER = Path(__file__).with_name("docs_verifier.js")

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


def node_binary() -> str | None:
    """The ``node`` executable (``/usr/bin/node`` or on PATH), or None when absent."""
    return shutil.which("node") or (str(Path("/usr/bin/node")) if Path("/usr/bin/node").exists() else None)


def node_verifier_answers(deliveries: list[tuple[str, bytes, str]], timeout: float = 30.0) -> list:
    """Run the docs' Node.js verifier on ``(signature header, raw body, secret)`` triples in
    one ``node`` process; its answers in order (True/False, or ``"error: …"`` if it threw)."""
    node = node_binary()
    if node is None:
        raise RuntimeError("node is not installed")
    request = [{"header": header, "body_b64": base64.b64encode(body).decode("ascii"), "secret": secret}
               for header, body, secret in deliveries]
    done = subprocess.run([node, str(NODE_VERIFIER)], input=json.dumps(request), capture_output=True,
                          text=True, timeout=timeout, check=True)
    return json.loads(done.stdout)
