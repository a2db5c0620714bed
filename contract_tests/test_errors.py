"""The error layer on every operation: the envelope (ERR-1), request ids (ERR-2, A5),
Retry-After (ERR-3, CLOCK-2), validation details (ERR-4), warm-up (ERR-5), internal errors
(ERR-6), unknown ids (POLL-5) and the submit rate limit (RATE-1, CLOCK-1).

Requests here are refused before any work starts, or are reads: nothing spends credits.
Faults that only a mock can be asked for (`X-Mock-Scenario`) run only when the target
offers the control API, and skip otherwise.
"""

from __future__ import annotations

import pytest

from contract_tests import target as target_mod
from contract_tests.catalog import covers
from contract_tests.checks import (REQUEST_ID, Observed, assert_error, assert_no_problems, envelope_problems,
                                   parse_timestamp)
from contract_tests.examples import fill_path, parameter_example, unknown_value
from contract_tests.params import each

CONTRACT = target_mod.current().contract
SECURED = [op for op in CONTRACT if not op.is_public]
SUBMITS = [op for op in SECURED if op.is_submit]
WITH_BODY = [op for op in SECURED if op.request_media_types() and op.raw.get("x-validation-error-code")]
LIMITED = [op for op in SECURED if not op.is_preview
           and any(p.get("in") == "query" and p["name"] == "limit" for p in op.parameters())]
EMPTY_JSON = {"content": b"", "headers": {"Content-Type": "application/json"}}
BY_ID = [op for op in SECURED if op.method == "get" and op.path_params and "404" in op.statuses()]
SCENARIO_HEADER = "X-Mock-Scenario"


@pytest.fixture(scope="module")
def mock_faults(control):
    """Faults requested with X-Mock-Scenario exist only on the mock (detected by its control API)."""
    return control


@covers("ERR-1")
def test_an_unknown_route_is_a_404_envelope(api):
    resp = api.get("/api/v1/no-such-endpoint")
    assert resp.status_code == 404, resp.text
    assert_no_problems(envelope_problems(Observed.from_httpx(resp)))


@covers("ERR-1")
def test_a_wrong_method_is_a_405_envelope(api):
    resp = api.request("DELETE", "/api/v1/credits")
    assert resp.status_code == 405, resp.text
    assert_no_problems(envelope_problems(Observed.from_httpx(resp)))


@covers("ERR-1", "ERR-2")
def test_error_timestamps_are_utc_milliseconds_of_now(api, target, time_machine):
    before = time_machine.now() if target.control is not None else None
    err = assert_error(api.get("/api/v1/no-such-endpoint"), 404)
    stamp = parse_timestamp(err["timestamp"])
    if before is not None:  # the target's own clock read around the request (any clock mode)
        after = time_machine.now()
        assert before - 0.002 <= stamp <= after + 0.002, \
            f"error.timestamp {err['timestamp']} is not the target's now (between {before:.3f} and {after:.3f})"


@covers("ERR-2", "A5")
def test_request_ids_are_fresh_per_request(api):
    seen = []
    for _ in range(3):
        err = assert_error(api.get("/api/v1/no-such-endpoint"), 404)
        assert REQUEST_ID.match(err.get("requestId", "")), err
        seen.append(err["requestId"])
    assert len(set(seen)) == 3, f"requestId repeats across requests: {seen}"


@covers("ERR-2")
@pytest.mark.parametrize("op", each(WITH_BODY, "the contract has no operation with a validated body"))
def test_route_errors_carry_a_request_id(api, op):
    """Errors raised once the route handles the request (not middleware 401s) carry requestId."""
    resp = api.request(op.method.upper(), fill_path(op), content=b"", headers={"Content-Type": "application/json"})
    assert 400 <= resp.status_code < 500 and resp.status_code not in (401, 429), resp.text
    err = assert_error(resp, resp.status_code, None, op)
    assert REQUEST_ID.match(err.get("requestId", "")), f"no requestId on a {resp.status_code}: {err}"


@covers("ERR-4", "ERR-1")
@pytest.mark.parametrize("op", each(WITH_BODY, "the contract has no operation with a validated body"))
def test_an_invalid_body_is_400_with_details_fields(api, op):
    """A body breaking the contract → 400, a documented code, and per-field messages. The body
    has only an unknown field: it breaks the contract by what it lacks (required fields) or,
    where the target's contract closes the body (``additionalProperties: false``), by the field."""
    media = op.request_media_types()[0]
    if op.admits_unknown_fields(media) and not (op.request_schema(media) or {}).get("required"):
        pytest.skip("the target's contract admits unknown fields and requires none here: nothing to break")
    if media == "multipart/form-data":
        resp = api.request(op.method.upper(), fill_path(op),
                           files=[("contract_suite_unknown_field", (None, b"x"))])
    else:
        resp = api.request(op.method.upper(), fill_path(op), json={"contract_suite_unknown_field": 1})
    err = assert_error(resp, 400, op.documented_codes(400) or None, op)
    fields = (err.get("details") or {}).get("fields")
    assert isinstance(fields, dict) and fields, f"a 400 without details.fields: {err}"


@covers("ERR-4")
@pytest.mark.parametrize("op", each(LIMITED, "the contract has no operation with a limit parameter"))
def test_an_out_of_range_limit_is_400_naming_the_field(api, op):
    params = {p["name"]: str(parameter_example(p, CONTRACT)) for p in op.parameters()
              if p.get("in") == "query" and p.get("required")}
    params["limit"] = "0"
    resp = api.get(fill_path(op), params=params)
    err = assert_error(resp, 400, op.documented_codes(400) or None, op)
    fields = (err.get("details") or {}).get("fields") or {}
    assert any("limit" in name for name in fields), f"details.fields does not name limit: {err}"


@covers("POLL-5", "ERR-1")
@pytest.mark.parametrize("op", each(BY_ID, "the contract has no read-by-id operation documenting 404"))
def test_an_unknown_id_is_404(api, op):
    """A well-formed id nobody created must be 404 — a 200 here would pass every schema check."""
    values, params = {}, {}
    for param in op.parameters():
        if param.get("in") == "path":
            value = unknown_value(param, CONTRACT)
            if value is None:
                pytest.skip(f"{op.operation_id}: cannot make a well-formed {param['name']}")
            values[param["name"]] = value
        elif param.get("in") == "query" and (param.get("required") or _names_a_scope(param)):
            params[param["name"]] = str(parameter_example(param, CONTRACT))
    resp = api.get(fill_path(op, values), params=params or None)
    assert_error(resp, 404, op.documented_codes(404) or None, op)


def _names_a_scope(param: dict) -> bool:
    """A query parameter that scopes an id (e.g. ``corpus_id`` for a candidate) and has an example."""
    return param["name"].endswith("_id") and parameter_example(param, CONTRACT) is not None


@covers("RATE-1", "ERR-3", "CLOCK-2")
@pytest.mark.parametrize("op", each(SUBMITS, "the contract has no submit operation (x-submit)"))
def test_submits_over_the_per_minute_limit_are_429_with_retry_after(api, provision, op):
    tenant = provision.tenant("ratelimit", key_fields={"rateLimitPerMinute": 2})
    client = api.with_key(tenant.key)
    codes = []
    for _ in range(3):
        resp = client.request(op.method.upper(), fill_path(op), **EMPTY_JSON)
        codes.append(resp.status_code)
    assert codes[:2].count(429) == 0 and codes[2] == 429, f"statuses {codes}: the third submit in a minute must be 429"
    err = assert_error(resp, 429, "RATE_LIMIT_EXCEEDED", op)
    assert 1 <= err["retryAfterSeconds"] <= 60, err
    assert resp.headers["Retry-After"] == str(err["retryAfterSeconds"])


@covers("RATE-1", "CLOCK-1")
@pytest.mark.parametrize("op", each(SUBMITS[:1], "the contract has no submit operation (x-submit)"))
def test_the_submit_window_reopens_after_a_minute(api, provision, time_machine, op):
    tenant = provision.tenant("ratewindow", key_fields={"rateLimitPerMinute": 1})
    client = api.with_key(tenant.key)

    def submit():
        return client.request(op.method.upper(), fill_path(op), **EMPTY_JSON)

    assert submit().status_code != 429
    limited = submit()
    assert limited.status_code == 429, limited.text
    time_machine.wait_advertised(int(limited.headers["Retry-After"]) + 1, "the submit rate window")
    assert submit().status_code != 429


@covers("ERR-5", "ERR-3")
def test_warming_up_is_503_with_retry_after(api, operation, mock_faults):
    op = operation("submitSpeechAnalysis")
    resp = api.request(op.method.upper(), fill_path(op), headers={SCENARIO_HEADER: "warming-up"},
                       files=[("language", (None, b"en"))])
    if resp.status_code != 503:
        pytest.skip(f"the target does not inject the `warming-up` scenario (answered {resp.status_code})")
    err = assert_error(resp, 503, "SERVICE_WARMING_UP", op)
    assert resp.headers["Retry-After"] == str(err["retryAfterSeconds"])
    assert err["retryAfterSeconds"] >= 1


@covers("ERR-6", "ERR-1")
@pytest.mark.parametrize("op", each(SUBMITS, "the contract has no submit operation (x-submit)"))
def test_an_internal_fault_is_a_500_envelope(api, mock_faults, op):
    resp = api.request(op.method.upper(), fill_path(op), content=b"",
                       headers={SCENARIO_HEADER: "internal-error", "Content-Type": "application/json"})
    if resp.status_code != 500:
        pytest.skip(f"the target does not inject the `internal-error` scenario on {op.operation_id} "
                    f"(answered {resp.status_code})")
    err = assert_error(resp, 500, "INTERNAL_ERROR", op)
    assert REQUEST_ID.match(err.get("requestId", "")), err
