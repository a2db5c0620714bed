"""Shared fixtures for the project's own tests.

`mock_app` builds the real app (strict response validation on, manual clock) and
`api` wraps it in Starlette's TestClient (in-process ASGI, lifespan run). Keys are the
default scenario's test keys.
"""

from __future__ import annotations

import uuid

import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mockserver.app import create_app  # noqa: E402
from mockserver.config import Settings  # noqa: E402

FULL = "zh_api_test_full_access_0001"
SECOND = "zh_api_test_second_tenant_0001"
NO_PERMS = "zh_api_test_no_permissions_0001"
LOW = "zh_api_test_low_credits_0001"
EXPIRED = "zh_api_test_expired_0001"
REVOKED = "zh_api_test_revoked_0001"
INACTIVE_CLIENT = "zh_api_test_client_inactive_0001"
IP_RESTRICTED = "zh_api_test_ip_restricted_0001"
LOCAL_ONLY = "zh_api_test_local_only_0001"
ENGLISH_ONLY = "zh_api_test_english_only_0001"
SLOW_SUBMIT = "zh_api_test_slow_submit_0001"
CAP2 = "zh_api_test_cap2_0001"
PROJECT_ALPHA = "zh_api_test_project_alpha_0001"


# The behaviour modules that run on every store backend (memory, memory + SQLite file, Redis):
# at least one per API module, plus idempotency/throttling. Their tests that use the `api` /
# `mock_app` fixtures run once per backend (ids ...[memory], [sqlite], [redis]).
BACKEND_MODULES = frozenset({
    "test_speech_submit", "test_speech_lifecycle", "test_speech_credits",
    "test_cvdeepmatch_runs", "test_cvdeepmatch_webhooks", "test_cvdeepsearch_search",
    "test_interview_api", "test_core_universal", "test_speech_spec", "test_speech_runs_list",
    "test_cvdeepmatch_submit", "test_cvds_runs", "test_cvdeepsearch_ingest", "test_cvdeepsearch_webhook",
    "test_interview_lifecycle", "test_interview_candidate", "test_interview_results",
    "test_store_tenant_scope", "test_core_auth", "test_control_api_input", "test_store_backends",
})
STORE_BACKENDS = ("memory", "sqlite", "redis")


def make_app(store=None, **settings):
    """The real app on a manual clock with strict response checks; ``store`` picks the
    store instance (default: the one `open_store` gives for the settings)."""
    settings.setdefault("clock", "manual")
    settings.setdefault("strict", True)
    return create_app(Settings(**settings), store=store)


def pytest_generate_tests(metafunc):
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if module in BACKEND_MODULES and "store_backend" in metafunc.fixturenames:
        metafunc.parametrize("store_backend", STORE_BACKENDS, indirect=True)


@pytest.fixture
def store_backend(request, tmp_path):
    """The store the `mock_app` fixture runs on: memory unless the module is one of
    BACKEND_MODULES (then each backend in turn). None means the app's default (memory)."""
    backend = getattr(request, "param", "memory")
    if backend == "memory":
        return None
    if backend == "sqlite":
        from mockserver.store import MemoryStore, SqlitePersistence

        store = MemoryStore(persistence=SqlitePersistence(tmp_path / "behaviour-state.sqlite"))
        request.addfinalizer(store._persistence.close)
        return store
    from mockserver.store.redis_store import RedisStore

    store = RedisStore(request.getfixturevalue("redis_url"))
    request.addfinalizer(store.close)
    return store


class Api(TestClient):
    """TestClient with helpers for keys and the control API (the caller is 127.0.0.1)."""

    def __init__(self, app, **kw):
        kw.setdefault("client", ("127.0.0.1", 50000))
        super().__init__(app, **kw)

    def call(self, method: str, path: str, key: str | None = FULL, **kw):
        headers = dict(kw.pop("headers", {}) or {})
        if key is not None:
            headers["X-API-Key"] = key
        return self.request(method, path, headers=headers, **kw)

    def advance(self, seconds: float) -> dict:
        r = self.post("/__mock/clock/advance", json={"seconds": seconds})
        assert r.status_code == 200, r.text
        return r.json()

    @property
    def platform(self):
        return self.app.state.platform


@pytest.fixture(scope="session")
def redis_server():
    """One real redis-server (Debian's) for the test session, on a free loopback port; skips
    with the reason only when redis-server is not installed."""
    from tests.support.redis_server import RedisServer, redis_server_missing

    missing = redis_server_missing()
    if missing:
        pytest.skip(missing)
    server = RedisServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The session's Redis, emptied for this test: a URL to give a RedisStore."""
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()  # a test that killed it left it down
    redis_server.flushall()
    return redis_server.url


@pytest.fixture
def rstore(redis_url):
    """Make RedisStores on the test's Redis (``rstore(**options)``), as separate processes
    would hold them (one per call), in a namespace of the test's own; all closed after it."""
    from mockserver.store.redis_store import RedisStore

    opened = []
    namespace = f"zh-{uuid.uuid4().hex[:8]}"  # this test's: a store another test dropped may still listen on "zh"

    def make(**options):
        options.setdefault("namespace", namespace)
        store = RedisStore(redis_url, **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def mock_app(store_backend):
    return make_app(store=store_backend)


@pytest.fixture
def api(mock_app):
    with Api(mock_app) as client:
        yield client
