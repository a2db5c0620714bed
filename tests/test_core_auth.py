"""AUTH-1..7 and the 401/403 envelopes, through HTTP against the real app."""

import re

import pytest

from conftest import (EXPIRED, FULL, INACTIVE_CLIENT, IP_RESTRICTED, LOCAL_ONLY, NO_PERMS, REVOKED,
                      SECOND)

REQ_ID = re.compile(r"^req_[0-9]{13}_[A-Za-z0-9]+$")
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_health_needs_no_key(api):
    assert api.get("/api/v1/health").status_code == 200


@pytest.mark.parametrize("key,code", [
    (None, "MISSING_API_KEY"),
    ("zh_api_unknown_key_000000", "INVALID_API_KEY"),
    (REVOKED, "INVALID_API_KEY"),
    (EXPIRED, "API_KEY_EXPIRED"),
    (INACTIVE_CLIENT, "CLIENT_INACTIVE"),
])
def test_each_401_code_comes_without_request_id(api, key, code):
    r = api.call("GET", "/api/v1/credits", key=key)
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["code"] == code
    assert "requestId" not in err
    assert TS.match(err["timestamp"]) and err["message"]


def test_empty_key_header_is_missing(api):
    r = api.get("/api/v1/credits", headers={"X-API-Key": "  "})
    assert r.json()["error"]["code"] == "MISSING_API_KEY"


def test_bearer_authorization_is_accepted(api):
    r = api.get("/api/v1/credits", headers={"Authorization": f"Bearer {FULL}"})
    assert r.status_code == 200
    assert r.json()["creditBalance"] == 100000


def test_malformed_authorization_scheme_is_invalid_key(api):
    r = api.get("/api/v1/credits", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert r.json()["error"]["code"] == "INVALID_API_KEY"


@pytest.mark.parametrize("key", ["zh_speech_test_legacy_0001", "zh_test_legacy_short_0001"])
def test_legacy_key_prefixes_keep_working(api, key):
    assert api.call("GET", "/api/v1/credits", key=key).status_code == 200


def test_ip_allow_list_refuses_other_callers_with_403(api):
    r = api.call("GET", "/api/v1/credits", key=IP_RESTRICTED)
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "IP_NOT_ALLOWED"
    assert REQ_ID.match(err["requestId"])


def test_ip_allow_list_admits_listed_callers(api):
    assert api.call("GET", "/api/v1/credits", key=LOCAL_ONLY).status_code == 200


def test_key_expiry_follows_the_virtual_clock(api):
    r = api.post("/__mock/clients/acme/keys", json={"key": "zh_api_test_soon_expiring_01",
                                                     "expiresAt": api.platform.clock.iso(api.platform.clock.now() + 60)})
    assert r.status_code == 201
    assert api.call("GET", "/api/v1/credits", key="zh_api_test_soon_expiring_01").status_code == 200
    api.advance(61)
    r = api.call("GET", "/api/v1/credits", key="zh_api_test_soon_expiring_01")
    assert r.json()["error"]["code"] == "API_KEY_EXPIRED"


def test_deactivating_a_key_at_runtime_makes_it_invalid(api):
    assert api.patch(f"/__mock/keys/{SECOND}", json={"active": False}).status_code == 200
    assert api.call("GET", "/api/v1/credits", key=SECOND).json()["error"]["code"] == "INVALID_API_KEY"


def test_tenants_see_their_own_balance(api):
    api.post("/__mock/clients/globex/credits", json={"balance": 77})
    assert api.call("GET", "/api/v1/credits", key=SECOND).json()["creditBalance"] == 77
    assert api.call("GET", "/api/v1/credits", key=FULL).json()["creditBalance"] == 100000


def test_client_without_module_permissions_can_still_read_universal_credits(api):
    assert api.call("GET", "/api/v1/credits", key=NO_PERMS).status_code == 200
