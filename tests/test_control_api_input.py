"""Bad input to the control API gets a 400 envelope naming what is wrong, and nothing already
stored changes: a patch is checked whole before any of it is applied (a client whose
permissions became a number would answer 500 to every later request)."""

from __future__ import annotations

import pytest

from tests.conftest import FULL, Api, make_app


@pytest.fixture
def api():
    with Api(make_app()) as client:
        yield client


def _refused(response, *words: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_INPUT" and error["timestamp"]
    for word in words:
        assert word in error["message"]


def _client(api, client_id: str) -> dict:
    return next(c for c in api.get("/__mock/clients").json()["clients"] if c["id"] == client_id)


@pytest.mark.parametrize("patch, word", [
    ({"permissions": 5}, "permissions"),
    ({"permissions": ["speech", "telepathy"]}, "telepathy"),
    ({"maxConcurrentRequests": 0}, "maxConcurrentRequests"),
    ({"active": "yes"}, "active"),
    ({"webhookSecret": "plain"}, "webhookSecret"),
    ({"keys": []}, "keys"),
])
def test_a_bad_client_patch_is_refused_whole_and_the_client_still_serves(api, patch, word):
    before = _client(api, "acme")
    _refused(api.patch("/__mock/clients/acme", json={"name": "Renamed", **patch}), word)
    assert _client(api, "acme") == before
    assert api.call("GET", "/api/v1/credits", key=FULL).status_code == 200


@pytest.mark.parametrize("patch, word", [
    ({"rateLimitPerMinute": "many"}, "rateLimitPerMinute"),
    ({"expiresAt": "next tuesday"}, "expiresAt"),
    ({"key": "zh_api_test_something_else"}, "cannot be changed"),
    ({"ipAllowList": "127.0.0.1"}, "ipAllowList"),
])
def test_a_bad_key_patch_is_refused_and_the_key_still_works(api, patch, word):
    _refused(api.patch(f"/__mock/keys/{FULL}", json={"active": False, **patch}), word)
    assert api.call("GET", "/api/v1/credits", key=FULL).status_code == 200


def test_a_key_patch_may_clear_its_expiry_with_null(api):
    response = api.patch(f"/__mock/keys/{FULL}", json={"expiresAt": None, "ipAllowList": None})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path, body, word", [
    ("/__mock/clock/advance", {"seconds": "ten"}, "seconds"),
    ("/__mock/clock/advance", {"seconds": -1}, "forward"),
    ("/__mock/clock/set", {"time": "not a time"}, "ISO 8601"),
    ("/__mock/clock/set", {}, "time"),
    ("/__mock/clients/acme/credits", {"delta": "5"}, "delta"),
    ("/__mock/clients/acme/credits", {"balance": 1.5}, "balance"),
])
def test_malformed_values_are_refused_naming_the_field(api, path, body, word):
    before = api.get("/__mock/clock").json()["epoch"]
    _refused(api.post(path, json=body), word)
    assert api.get("/__mock/clock").json()["epoch"] == before


@pytest.mark.parametrize("raw", [b"[1, 2]", b"{not json", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_refused(api, raw):
    _refused(api.post("/__mock/clock/advance", content=raw, headers={"Content-Type": "application/json"}), "JSON")


def test_health_overrides_take_a_map_of_known_states(api):
    _refused(api.put("/__mock/health", json={"checks": ["database"]}), "checks")
    _refused(api.put("/__mock/health", json={"checks": {"database": "on fire"}}), "checks")
    assert api.get("/api/v1/health").status_code == 200


def test_unknown_client_and_key_are_404_in_the_same_envelope(api):
    for response in (api.patch("/__mock/clients/nobody", json={}), api.patch("/__mock/keys/zh_nope_000000", json={}),
                     api.get("/__mock/clients/nobody/ledger")):
        assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
