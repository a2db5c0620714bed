"""A real HTTP webhook receiver on 127.0.0.1 for tests, with programmable replies.

``WebhookReceiver`` listens on a free port in a background thread, records every request's
method, path, headers and exact raw body, and answers each request with the next ``Reply``
of its programme (the last one repeats): plain statuses (200, 500, 429, 400), a reply held
back longer than a client's timeout (``slow``), or a redirect (``redirect``).
``refused_url`` gives a URL on which nothing listens (connection refused).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, Sequence

HOST = "127.0.0.1"
MAX_BODY_BYTES = 10 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    # A listen backlog of 5 (the socketserver default) resets connections when several
    # engines deliver at once; a real receiver's backlog is far larger.
    request_queue_size = 128


@dataclass(frozen=True)
class Reply:
    """How to answer one request: status, body, extra headers, and a delay before answering."""

    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = ()
    delay_seconds: float = 0.0


def status(code: int, body: bytes = b"") -> Reply:
    return Reply(status=code, body=body)


def slow(delay_seconds: float, code: int = 200) -> Reply:
    return Reply(status=code, delay_seconds=delay_seconds)


def redirect(location: str, code: int = 301) -> Reply:
    return Reply(status=code, body=b"", headers=(("Location", location),))


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass
class _Programme:
    replies: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)
    served: int = 0

    def next_reply(self) -> Reply:
        if self.served < len(self.replies):
            reply = self.replies[self.served]
        elif self.replies:
            reply = self.replies[-1]
        else:
            reply = self.default
        self.served += 1
        return reply


class WebhookReceiver:
    """Start with ``with WebhookReceiver([...]) as receiver:`` (or ``start``/``stop``)."""

    def __init__(self, replies: Sequence[Reply] = (), path: str = "/hook") -> None:
        self.path = path
        self._lock = threading.Lock()
        self._programme = _Programme(list(replies))
        self._requests: list[ReceivedRequest] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> "WebhookReceiver":
        server = _Server((HOST, 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases any reply still being held back
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "WebhookReceiver":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- programming and reading --------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "receiver not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def program(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies`` (the last one repeats)."""
        with self._lock:
            self._programme = _Programme(list(replies))

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def _take(self, request: ReceivedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            return self._programme.next_reply()


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self._serve()

        def do_GET(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
            body = self.rfile.read(length) if length else b""
            request = ReceivedRequest(self.command, self.path, tuple(self.headers.items()), body)
            reply = receiver._take(request)
            if reply.delay_seconds and receiver._stopping.wait(reply.delay_seconds):
                return  # stopping: drop the held-back reply
            try:
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): nothing left to answer
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextlib.contextmanager
def refused_url(path: str = "/hook") -> Iterator[str]:
    """A URL on 127.0.0.1 whose port is held (bound, never listening): connections are refused."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind((HOST, 0))
        yield f"http://{HOST}:{holder.getsockname()[1]}{path}"
    finally:
        holder.close()
