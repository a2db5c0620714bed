"""A webhook receiver the suite runs on 127.0.0.1, and signature verification (HOOK-3/4/8).

``WebhookReceiver`` records every request (path, headers, exact body bytes) and answers
each with the next status of its programme (the last repeats). Targets only call it when
they admit local receivers (the mock's ``--allow-local-webhooks``, reported as
``allowLocalWebhooks`` by ``GET /__mock``); otherwise tests read the mock's delivery log.

``verify_signature(header, body, secret, now)`` checks ``t=<unix>,v1=<hex>`` exactly as a
receiver must: HMAC-SHA256 over ``<t>.<body>``, lower-case hex, ``t`` within 5 minutes of
``now`` — the receiver's REAL clock, as the docs' verifiers read it (HOOK-8): pass the
``Received.at`` of the request (or ``time.time()``), never the target's virtual clock, so a
target that signs with a virtual time is caught.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 10 * 1024 * 1024
TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # the receiver's real (wall-clock) time when the request arrived

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class WebhookReceiver:
    def __init__(self, statuses: tuple[int, ...] = (200,), path: str = "/hook") -> None:
        self.statuses = list(statuses) or [200]
        self.path = path
        self.received: list[Received] = []
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                body = self.rfile.read(length)
                arrived = time.time()  # the receiver's real clock (HOOK-8), not the target's
                with receiver._lock:
                    index = len(receiver.received)
                    receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                      body, arrived))
                    receiver._lock.notify_all()
                status = receiver.statuses[min(index, len(receiver.statuses) - 1)]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """Wait (bounded) until ``count`` requests arrived; returns what arrived."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
            return list(self.received)

    def __enter__(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def sign(body: bytes, secret: str, t: int) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{t}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(header: str | None, body: bytes, secret: str, now: float,
                     tolerance: int = TOLERANCE_SECONDS) -> list[str]:
    """Problems with a ``t=<unix>,v1=<hex>`` signature header (empty list = valid)."""
    if not header:
        return ["the signature header is missing"]
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    t, v1 = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit():
        return [f"t={t!r} is not a unix timestamp"]
    problems = []
    if v1 != v1.lower() or len(v1) != 64:
        problems.append("v1 must be 64 lower-case hex characters")
    expected = sign(body, secret, int(t)).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, v1.lower()):
        problems.append("v1 is not HMAC-SHA256(secret, '<t>.<body>') of the exact bytes sent")
    if abs(now - int(t)) > tolerance:
        problems.append(f"t={t} is more than {tolerance}s from now ({int(now)}): receivers reject it (HOOK-8)")
    return problems
