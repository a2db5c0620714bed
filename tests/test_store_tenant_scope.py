"""Tenant isolation is one rule in the store: a read that names an owner never returns
another tenant's document (the handlers rely on it instead of comparing owners themselves)."""

from __future__ import annotations

from mockserver.store.memory import MemoryStore
from tests.conftest import FULL, SECOND, Api, make_app


def test_a_read_with_an_owner_returns_nothing_for_another_tenants_document():
    store = MemoryStore()
    store.put("thing", "t-1", {"id": "t-1", "v": 1}, owner="acme")
    assert store.get("thing", "t-1", owner="acme")["v"] == 1
    assert store.get("thing", "t-1", owner="globex") is None
    assert store.get("thing", "t-1")["v"] == 1  # an unscoped read (the control API's) sees it
    assert store.get("thing", "missing", owner="acme") is None


def test_another_tenants_persona_is_forbidden_and_an_unknown_one_not_found_through_the_scoped_read():
    with Api(make_app()) as api:
        persona = api.call("POST", "/api/v1/interview/personas", key=FULL,
                           json={"role_name": "Backend Engineer", "language": "en"}).json()
        assert api.call("GET", f"/api/v1/interview/personas/{persona['id']}", key=SECOND).status_code == 403
        assert api.call("GET", "/api/v1/interview/personas/00000000-0000-4000-8000-000000000000",
                        key=SECOND).status_code == 404
        assert api.call("GET", f"/api/v1/interview/personas/{persona['id']}", key=FULL).status_code == 200
