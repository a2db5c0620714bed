"""Authentication, permissions and tenancy (AUTH-1..6), checked on every secured operation
of the contract. Keys the suite cannot be given on the command line (expired, inactive,
disabled client, IP-restricted, legacy prefixes, no permissions) are provisioned through the
control API when the target has one; otherwise those tests skip with the reason.

Every request here is refused before any work starts (no key, a bad key, a missing
permission), or is a read — none spends credits — except the cross-tenant test, which
creates one resource per linked operation and is gated by the credit guard.
"""

from __future__ import annotations

import pytest

from contract_tests import target as target_mod
from contract_tests.catalog import covers
from contract_tests.checks import assert_error
from contract_tests.examples import example_request, fill_path
from contract_tests.params import each

CONTRACT = target_mod.current().contract
SECURED = [op for op in CONTRACT if not op.is_public]
MODULE_OPS = [op for op in SECURED if op.permission]
LEGACY_PREFIXES = ("zh_", "zh_speech_live_", "zh_speech_test_", "zh_cv_live_", "zh_live_", "zh_test_", "zh_api_")
AUTH_403_CODES = {"MISSING_PERMISSION", "IP_NOT_ALLOWED"}


def _call(api, op, **kwargs):
    return api.request(op.method.upper(), fill_path(op), **kwargs)


@covers("AUTH-1")
def test_the_given_api_key_is_accepted(api):
    """Smoke: the run is only meaningful if --api-key reaches the API (no all-401 pass)."""
    resp = api.get("/api/v1/credits")
    assert resp.status_code == 200, f"--api-key answered {resp.status_code}: {resp.text[:200]}"


@covers("AUTH-1", "AUTH-2", "ERR-1")
@pytest.mark.parametrize("op", each(SECURED, "the contract has no secured operations"))
def test_no_key_is_401_missing_api_key(api, op):
    err = assert_error(_call(api.anonymous(), op), 401, "MISSING_API_KEY", op)
    assert "requestId" not in err


@covers("AUTH-2", "ERR-1")
@pytest.mark.parametrize("op", each(SECURED, "the contract has no secured operations"))
def test_an_unknown_key_is_401_invalid_api_key(api, op):
    err = assert_error(_call(api.with_key("zh_api_test_no_such_key_0000"), op), 401, "INVALID_API_KEY", op)
    assert "requestId" not in err


@covers("AUTH-1")
def test_the_key_is_also_accepted_as_a_bearer_token(api):
    resp = api.bearer().get("/api/v1/credits")
    assert resp.status_code == 200, resp.text


@covers("AUTH-1", "AUTH-2")
def test_an_unknown_bearer_token_is_invalid_not_missing(api):
    assert_error(api.with_key("zh_api_test_no_such_key_0000").bearer().get("/api/v1/credits"), 401,
                 "INVALID_API_KEY")


@covers("AUTH-2")
def test_an_empty_key_header_counts_as_missing(api):
    resp = api.anonymous().get("/api/v1/credits", headers={"X-API-Key": ""})
    assert_error(resp, 401, ("MISSING_API_KEY", "INVALID_API_KEY"))


@covers("AUTH-2", "SPCH-13")
@pytest.mark.parametrize("op", each([op for op in SECURED if op.request_media_types()],
                                     "the contract has no operation with a request body"))
def test_authentication_comes_before_validation(api, op):
    """401 before 400: a keyless request with a malformed body is an auth failure."""
    resp = _call(api.anonymous(), op, content=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(resp, 401, "MISSING_API_KEY", op)


@covers("AUTH-2")
def test_an_expired_key_is_401_api_key_expired(api, provision):
    tenant = provision.tenant("expired", key_fields={"expiresAt": "2024-01-01T00:00:00Z"})
    err = assert_error(api.with_key(tenant.key).get("/api/v1/credits"), 401, "API_KEY_EXPIRED")
    assert "requestId" not in err


@covers("AUTH-2")
def test_an_inactive_key_is_401_invalid_api_key(api, provision):
    tenant = provision.tenant("revoked", key_fields={"active": False})
    assert_error(api.with_key(tenant.key).get("/api/v1/credits"), 401, "INVALID_API_KEY")


@covers("AUTH-2")
def test_a_disabled_client_is_401_client_inactive(api, provision):
    tenant = provision.tenant("dormant", active=False)
    err = assert_error(api.with_key(tenant.key).get("/api/v1/credits"), 401, "CLIENT_INACTIVE")
    assert "requestId" not in err


@covers("AUTH-2")
def test_revoking_a_key_takes_effect_on_the_next_request(api, provision, control):
    tenant = provision.tenant("revoke-live")
    assert api.with_key(tenant.key).get("/api/v1/credits").status_code == 200
    control.patch_key(tenant.key, {"active": False})
    assert_error(api.with_key(tenant.key).get("/api/v1/credits"), 401, "INVALID_API_KEY")


@covers("AUTH-3")
@pytest.mark.parametrize("prefix", LEGACY_PREFIXES)
def test_every_documented_key_prefix_keeps_working(api, provision, prefix):
    tenant = provision.tenant("prefix", key_prefix=prefix)
    assert tenant.key.startswith(prefix)
    resp = api.with_key(tenant.key).get("/api/v1/credits")
    assert resp.status_code == 200, f"a {prefix}… key was refused: {resp.status_code} {resp.text[:200]}"


@covers("AUTH-5")
def test_a_caller_outside_the_ip_allow_list_is_403(api, provision):
    tenant = provision.tenant("iprestricted", key_fields={"ipAllowList": ["203.0.113.0/24"]})
    assert_error(api.with_key(tenant.key).get("/api/v1/credits"), 403, "IP_NOT_ALLOWED")


@covers("AUTH-5")
def test_a_caller_inside_the_ip_allow_list_is_admitted(api, provision, target):
    host = target.config.root.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
    if host not in ("127.0.0.1", "localhost", "::1"):
        pytest.skip("the suite's own address is only known when the target is on loopback")
    tenant = provision.tenant("iplocal", key_fields={"ipAllowList": ["127.0.0.0/8", "::1/128"]})
    resp = api.with_key(tenant.key).get("/api/v1/credits")
    assert resp.status_code == 200, resp.text


@covers("AUTH-4")
@pytest.mark.parametrize("op", each(MODULE_OPS, "the contract has no module operation (x-permission)"))
def test_a_client_without_the_module_permission_is_403(api, provision, op):
    others = [p for p in provision.ALL_PERMISSIONS if p != op.permission]
    tenant = provision.tenant("noperm", permissions=others)
    assert_error(_call(api.with_key(tenant.key), op), 403, "MISSING_PERMISSION", op)


@covers("AUTH-4")
@pytest.mark.parametrize("op", each(MODULE_OPS, "the contract has no module operation (x-permission)"))
def test_the_module_permission_alone_admits_the_call(api, provision, op):
    tenant = provision.tenant("oneperm", permissions=[op.permission])
    resp = _call(api.with_key(tenant.key), op)
    assert resp.status_code not in (401, 403), \
        f"{op} refused a client holding the {op.permission} permission: {resp.status_code} {resp.text[:200]}"


@covers("AUTH-4", "CRED-1")
def test_credits_need_no_module_permission(api, provision):
    tenant = provision.tenant("zeroperm", permissions=[])
    resp = api.with_key(tenant.key).get("/api/v1/credits")
    assert resp.status_code == 200, resp.text


def _linked_reads():
    """(creating operation, its status, link name, read operation, parameter expressions)."""
    out = []
    for op in SECURED:
        if op.method != "post":
            continue
        for status in op.statuses():
            if not status.startswith("2"):
                continue
            for name, link in op.links(status).items():
                read = CONTRACT.get(link.get("operationId", ""))
                if read is not None and read.method == "get" and read.path_params:
                    out.append((op, status, name, read, link.get("parameters", {})))
    return out


LINKED = _linked_reads()
MAX_CHAIN = 3


def _resolve_link_value(expr, body):
    if not isinstance(expr, str) or not expr.startswith("$response.body#/"):
        return expr
    node = body
    for part in expr[len("$response.body#/"):].split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _link_into(op):
    """A POST whose 2xx response links to ``op`` (how the contract says to obtain its path ids)."""
    for parent in SECURED:
        if parent.method != "post" or parent is op:
            continue
        for status in parent.statuses():
            for link in parent.links(status).values() if status.startswith("2") else ():
                if link.get("operationId") == op.operation_id:
                    return parent, link.get("parameters", {})
    return None


def _create(api, op, depth: int = 0):
    """Send the docs' example for ``op``; path ids come from a parent resource created first."""
    path_values = {}
    if op.path_params:
        found = _link_into(op) if depth < MAX_CHAIN else None
        if found is None:
            pytest.skip(f"the contract links nothing that yields the path ids of {op.operation_id}")
        parent, parameters = found
        parent_resp = _create(api, parent, depth + 1)
        assert parent_resp.status_code < 300, \
            f"the docs example for {parent.operation_id} failed: {parent_resp.status_code} {parent_resp.text[:300]}"
        body = parent_resp.json()
        path_values = {k: _resolve_link_value(v, body) for k, v in parameters.items() if k in op.path_params}
    return example_request(op, path_values=path_values).send(api)


@covers("AUTH-6", "POLL-5")
@pytest.mark.parametrize("link", each(LINKED, "the contract links no created resource to a read operation",
                                     ids=lambda link: f"{link[0].operation_id}-{link[1]}-{link[2]}"))
def test_another_tenant_cannot_read_what_a_client_created(api, second_api, credit_guard, link):
    """Create through the docs' own example, follow the contract's link: the owner reads it,
    the other tenant gets 404 (no existence leak)."""
    create, status, _name, read, parameters = link
    credit_guard.allow(f"{create.operation_id} (creates a resource to read across tenants)")
    resp = _create(api, create)
    assert resp.status_code < 500, \
        f"the docs example for {create.operation_id} failed: {resp.status_code} {resp.text[:300]}"
    if str(resp.status_code) != status:
        pytest.skip(f"the docs example for {create.operation_id} answered {resp.status_code}, not {status}")
    body = resp.json()
    path_values = {k: _resolve_link_value(v, body) for k, v in parameters.items() if k in read.path_params}
    query = {k: _resolve_link_value(v, body) for k, v in parameters.items() if k not in read.path_params}
    path = fill_path(read, path_values, default=None)
    mine = api.get(path, params=query or None)
    assert mine.status_code != 404 and mine.status_code < 500, \
        f"the owner cannot read {path}: {mine.status_code} {mine.text[:200]}"
    theirs = second_api.get(path, params=query or None)
    extra_403 = set(read.documented_codes(403)) - AUTH_403_CODES
    allowed = {404} | ({403} if extra_403 else set())
    assert theirs.status_code in allowed, \
        f"another tenant read {path}: {theirs.status_code} {theirs.text[:200]} (expected {sorted(allowed)})"
    assert_error(theirs, theirs.status_code, None, read)
