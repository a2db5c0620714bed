"""zenhire-mock inside your own tests: the mock in-process (`mock_platform`) or as a live
server on a free loopback port (`live_server`), each handed out as a `MockHandle`.

    from mockserver.testing import mock_platform

    with mock_platform() as zh:                       # manual clock, strict response checks
        r = zh.client.post("/api/v1/speech/analyze", headers=zh.auth(), files=...)
        zh.advance(300)                               # runs move on; webhooks fire
        assert zh.deliveries()

``store="redis://HOST:PORT/DB"`` (a `Settings` field like any other) keeps the mock's state in
that Redis, shared with every mock and `zenhire-mock serve` replica pointed at it: a run
submitted through one handle polls through another (docs/shared-state.md).

The pytest plugin (`mockserver.pytest_plugin`) wraps these as the `zenhire_mock` and
`zenhire_mock_server` fixtures. Control operations go through the mock's own control API
(`/__mock`), so they behave exactly as they do against `zenhire-mock serve`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import warnings
from typing import Any, Iterator

import httpx

from .app import create_app
from .config import Settings

DEFAULT_KEY = "zh_api_test_full_access_0001"
SECOND_TENANT_KEY = "zh_api_test_second_tenant_0001"
# What in-process and live mocks run with unless told otherwise: time moves only when the
# test moves it, and every response is checked against the contract.
TEST_DEFAULTS = {"clock": "manual", "strict": True}
SERVER_START_TIMEOUT = 30.0


def settings_for_tests(**overrides: Any) -> Settings:
    """Settings for a mock in a test: `TEST_DEFAULTS` under ``overrides`` (any `Settings` field)."""
    values = dict(TEST_DEFAULTS)
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**values)
    settings.check()
    return settings


class MockHandle:
    """One running mock: an httpx client bound to it, its clock, its control operations, the
    webhook delivery log and the request journal."""

    def __init__(self, app, client: httpx.Client, url: str) -> None:
        self.app = app
        self.client = client
        self.url = url
        self.api_key = DEFAULT_KEY

    # -- the platform API -------------------------------------------------------------
    def auth(self, key: str | None = None) -> dict[str, str]:
        """The ``X-API-Key`` header for ``key`` (default: the full-access test key)."""
        return {"X-API-Key": key or self.api_key}

    def request(self, method: str, path: str, *, key: str | None = None, **kw) -> httpx.Response:
        """``client.request`` with the API key header added (``key=`` picks another test key)."""
        headers = {**self.auth(key), **dict(kw.pop("headers", None) or {})}
        return self.client.request(method, path, headers=headers, **kw)

    @property
    def platform(self):
        """The mock's internals (`mockserver.platform.context.Platform`), for white-box checks."""
        return self.app.state.platform

    # -- the clock ----------------------------------------------------------------------
    def now(self) -> str:
        """The mock's current virtual time (ISO 8601)."""
        return self._control("GET", "/clock")["now"]

    def advance(self, seconds: float) -> dict:
        """Move the virtual clock forward; runs progress and due webhooks are delivered."""
        return self._control("POST", "/clock/advance", json={"seconds": seconds})

    def set_time(self, when: str | float) -> dict:
        """Move the virtual clock forward to ``when`` (ISO 8601 or Unix seconds)."""
        return self._control("POST", "/clock/set", json={"time": when})

    # -- control operations -------------------------------------------------------------
    def clients(self) -> list[dict]:
        """Every client with its keys, permissions and credit balance."""
        return self._control("GET", "/clients")["clients"]

    def add_client(self, client: dict) -> str:
        """Add (or replace) a client from a scenario-format document; returns its id."""
        return self._control("POST", "/clients", json=client, expect=201)["id"]

    def set_credits(self, client_id: str, *, balance: int | None = None, delta: int | None = None) -> dict:
        """Set a client's credit balance, or move it by ``delta``; returns the account summary."""
        body = {"balance": balance} if balance is not None else {"delta": delta}
        return self._control("POST", f"/clients/{client_id}/credits", json=body)

    def set_health(self, checks: dict[str, str]) -> dict:
        """Override the simulated health checks, e.g. ``{"database": "unhealthy"}``."""
        return self._control("PUT", "/health", json={"checks": checks})

    def reset(self, client: str | None = None) -> dict:
        """Forget all state (or one client's)."""
        return self._control("POST", "/reset", json={"client": client} if client else {})

    def deliveries(self, client: str | None = None) -> list[dict]:
        """The webhook delivery log (every attempt, with status and signature)."""
        params = {"client": client} if client else None
        return self._control("GET", "/webhooks/deliveries", params=params)["deliveries"]

    def journal(self, **filters: Any) -> list[dict]:
        """The request journal; filters: client, status, method, operation, path, limit."""
        return self._control("GET", "/journal", params=filters or None)["entries"]

    def grade(self, client: str = "acme"):
        """Grade ``client``'s behaviour so far against the docs' rules (docs/client-grading.md):
        a `GradeReport`; ``zh.grade().assert_clean()`` fails the test listing every error-level
        finding with its evidence (``fail_on="warning"`` to be stricter)."""
        from .grading import grade
        return grade(self.app.state.platform, client)

    def _control(self, method: str, path: str, *, expect: int = 200, **kw) -> dict:
        token = self.app.state.platform.settings.control_token
        headers = {"X-Mock-Control-Token": token} if token else None
        r = self.client.request(method, "/__mock" + path, headers=headers, **kw)
        if r.status_code != expect:
            raise AssertionError(f"{method} /__mock{path} -> {r.status_code}: {r.text[:500]}")
        return r.json()


def _test_client_class():
    # Starlette warns at import when it runs on httpx rather than httpx2; both work here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    return TestClient


@contextlib.contextmanager
def mock_platform(**settings: Any) -> Iterator[MockHandle]:
    """The mock in this process (no socket): ``handle.client`` is an httpx client that calls
    the ASGI app directly, with the app's startup and shutdown run around the block."""
    app = create_app(settings_for_tests(**settings))
    client = _test_client_class()(app, base_url="http://testserver", client=("127.0.0.1", 50000))
    with client:
        yield MockHandle(app, client, "http://testserver")


def free_loopback_socket(host: str = "127.0.0.1") -> socket.socket:
    """A listening socket on a port the OS picked (no race between choosing and binding)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    return sock


@contextlib.contextmanager
def serving(app: Any, sock: socket.socket | None = None, *, log_level: str = "warning") -> Iterator[str]:
    """Serve any ASGI ``app`` (the mock, or a wrapper of it) with uvicorn in a background
    thread on ``sock`` (default: a free 127.0.0.1 port) while the block lasts; yields its base
    URL. Bind the socket yourself when the app must know its own URL before it is built."""
    import uvicorn
    sock = sock if sock is not None else free_loopback_socket()
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="zenhire-mock", daemon=True)
    thread.start()
    try:
        _wait_started(server, thread)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@contextlib.contextmanager
def live_server(**settings: Any) -> Iterator[MockHandle]:
    """The mock served by uvicorn on a free 127.0.0.1 port in a background thread, for code
    that needs a URL (subprocess clients, webhook receivers). ``handle.url`` is its base URL."""
    app = create_app(settings_for_tests(**settings))
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield MockHandle(app, client, url)


def _wait_started(server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("zenhire-mock: the live server did not start")
        time.sleep(0.01)
