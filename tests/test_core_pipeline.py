"""The request pipeline on a small contract built in the test: permission (AUTH-4), submit
rate limit (RATE-1, ERR-3), request validation (ERR-4, never a 422 or 500), body caps
while streaming, strict response validation and the envelope on every error (ERR-1)."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.contract import SPEC_PATH, Contract
from mockserver.platform.api_module import ApiModule
from mockserver.platform.context import Reply
from mockserver.platform.request_input import BodyLimit

KEY = "zh_api_test_toy_full_0001"
NOPE = "zh_api_test_toy_noperm_01"
SLOW = "zh_api_test_toy_slow_0001"

ERR = {"$ref": "#/components/schemas/ErrorEnvelope"}


def _err(codes):
    return {"description": "error", "content": {"application/json": {"schema": {
        "allOf": [ERR, {"properties": {"error": {"properties": {"code": {"enum": codes}}}}}]}}}}


def toy_spec() -> dict:
    base = yaml.safe_load(SPEC_PATH.read_text())
    spec = {k: copy.deepcopy(v) for k, v in base.items() if k != "paths"}
    spec["paths"] = {
        "/api/v1/toy/submit": {"post": {
            "operationId": "toySubmit", "tags": ["Speech"], "x-permission": "speech", "x-submit": True,
            "x-validation-error-code": "INVALID_PARAMETERS",
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "additionalProperties": False, "required": ["audio"],
                "properties": {
                    "audio": {"type": "string", "format": "binary", "x-error-code": "MISSING_AUDIO_FILE"},
                    "language": {"type": "string", "enum": ["en", "es"], "x-error-code": "INVALID_LANGUAGE_CODE"},
                    "metadata": {"type": "string", "contentMediaType": "application/json",
                                 "contentSchema": {"$ref": "#/components/schemas/Metadata"},
                                 "x-error-code": "INVALID_METADATA"}}}}}},
            "responses": {
                "202": {"description": "ok", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["id", "size"], "additionalProperties": False,
                    "properties": {"id": {"type": "string"}, "size": {"type": "integer"},
                                   "language": {"type": "string"}, "metadata": {"type": "object"}}}}}},
                "400": _err(["MISSING_AUDIO_FILE", "INVALID_LANGUAGE_CODE", "INVALID_METADATA",
                             "INVALID_PARAMETERS", "FILE_TOO_LARGE"]),
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {"$ref": "#/components/responses/Forbidden"},
                "429": {"$ref": "#/components/responses/SubmitRateLimited"},
                "500": {"$ref": "#/components/responses/InternalError"}}}},
        "/api/v1/toy/items": {"post": {
            "operationId": "toyJson", "tags": ["CV DeepSearch"], "x-permission": "cvdeepsearch",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False, "required": ["name"],
                "properties": {"name": {"type": "string", "minLength": 1},
                               "count": {"type": "integer", "maximum": 5, "x-error-code": "BATCH_TOO_LARGE"}}}}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": _err(["INVALID_INPUT", "BATCH_TOO_LARGE"]),
                          "401": {"$ref": "#/components/responses/Unauthorized"},
                          "403": {"$ref": "#/components/responses/Forbidden"},
                          "413": _err(["PAYLOAD_TOO_LARGE"]),
                          "500": {"$ref": "#/components/responses/InternalError"}}}},
        "/api/v1/toy/items/{id}": {"get": {
            "operationId": "toyGet", "tags": ["CV DeepSearch"], "x-permission": "cvdeepsearch",
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "string", "format": "uuid"}},
                           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                "type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}}},
                "400": _err(["INVALID_INPUT"]), "404": _err(["NOT_FOUND"]),
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {"$ref": "#/components/responses/Forbidden"},
                "500": {"$ref": "#/components/responses/InternalError"}}}},
    }
    return spec


SCENARIO = """
version: 1
clients:
  - id: toy
    permissions: [speech, cvdeepsearch]
    credits: 10
    keys:
      - key: zh_api_test_toy_full_0001
      - key: zh_api_test_toy_slow_0001
        rateLimitPerMinute: 2
  - id: toy2
    permissions: [speech]
    keys:
      - key: zh_api_test_toy_noperm_01
"""


async def _toy_submit(ctx):
    data = await ctx.input.files["audio"].read()
    body = {"id": "x", "size": len(data)}
    if "language" in ctx.input.form:
        body["language"] = ctx.input.form["language"]
    if "metadata" in ctx.input.json_fields:
        body["metadata"] = ctx.input.json_fields["metadata"]
    return Reply(202, body)


async def _toy_items(ctx):
    return Reply(200, ctx.input.json)


async def _toy_get(ctx):
    if ctx.input.query.get("limit") == 7:
        return Reply(200, {"wrong": True})  # drifts from the contract on purpose
    return Reply(200, {"id": ctx.input.path["id"]})


def _no_rules(scenarios):
    """The toy modules take no outcome rules."""


TOY_MODULES = (
    ApiModule(name="speech", tag="Speech", handlers={"toySubmit": _toy_submit}, check_scenarios=_no_rules,
              body_limits={"toySubmit": BodyLimit(1000, 400, "FILE_TOO_LARGE", file_field="audio")}),
    ApiModule(name="cvdeepsearch", tag="CV DeepSearch", handlers={"toyJson": _toy_items, "toyGet": _toy_get},
              check_scenarios=_no_rules, body_limits={"toyJson": BodyLimit(2000, 413, "PAYLOAD_TOO_LARGE")}),
)


@pytest.fixture
def toy(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(SCENARIO)
    app = create_app(Settings(clock="manual", strict=True, scenarios=[str(path)], include_default_scenarios=False),
                     contract=Contract(toy_spec()), modules=TOY_MODULES)
    with TestClient(app) as client:
        yield client


def h(key=KEY):
    return {"X-API-Key": key}


def assert_envelope(r, status, code):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", err["timestamp"])
    assert re.match(r"^req_[0-9]{13}_[A-Za-z0-9]+$", err["requestId"])
    return err


def test_missing_module_permission_is_403(toy):
    assert_envelope(toy.get("/api/v1/toy/items/3fa85f64-5717-4562-b3fc-2c963f66afa6", headers=h(NOPE)),
                    403, "MISSING_PERMISSION")


def test_multipart_submit_accepts_a_valid_request(toy):
    r = toy.post("/api/v1/toy/submit", headers=h(), files={"audio": ("a.mp3", b"12345")},
                 data={"language": "es", "metadata": '{"a": 1}'})
    assert r.status_code == 202, r.text
    assert r.json() == {"size": 5, "language": "es", "metadata": {"a": 1}, "id": "x"}


def test_missing_file_maps_to_the_field_code(toy):
    err = assert_envelope(toy.post("/api/v1/toy/submit", headers=h(), data={"language": "en"}),
                          400, "MISSING_AUDIO_FILE")
    assert "audio" in err["details"]["fields"]


def test_text_sent_where_a_file_is_expected_counts_as_missing(toy):
    r = toy.post("/api/v1/toy/submit", headers=h(), files={"language": (None, "en"), "audio": (None, "notafile")})
    assert_envelope(r, 400, "MISSING_AUDIO_FILE")


def test_bad_field_value_maps_to_its_code_with_details(toy):
    r = toy.post("/api/v1/toy/submit", headers=h(), files={"audio": ("a.mp3", b"1")}, data={"language": "xx"})
    err = assert_envelope(r, 400, "INVALID_LANGUAGE_CODE")
    assert list(err["details"]["fields"]) == ["language"]


def test_json_text_field_is_parsed_and_validated(toy):
    r = toy.post("/api/v1/toy/submit", headers=h(), files={"audio": ("a.mp3", b"1")}, data={"metadata": "{nope"})
    assert_envelope(r, 400, "INVALID_METADATA")
    r = toy.post("/api/v1/toy/submit", headers=h(), files={"audio": ("a.mp3", b"1")},
                 data={"metadata": json.dumps({"k": [1, 2]})})
    err = assert_envelope(r, 400, "INVALID_METADATA")
    assert "metadata.k" in err["details"]["fields"]


def test_unknown_field_gets_the_operation_default_code(toy):
    r = toy.post("/api/v1/toy/submit", headers=h(), files={"audio": ("a.mp3", b"1")}, data={"bogus": "1"})
    err = assert_envelope(r, 400, "INVALID_PARAMETERS")
    assert err["details"]["fields"] == {"bogus": ["Unknown field."]}


def test_file_over_the_cap_is_refused_with_the_documented_code(toy):
    r = toy.post("/api/v1/toy/submit", headers=h(), files={"audio": ("a.mp3", b"x" * 1001)})
    assert_envelope(r, 400, "FILE_TOO_LARGE")
    r = toy.post("/api/v1/toy/submit", headers=h(), files={"audio": ("a.mp3", b"x" * 1000)})
    assert r.status_code == 202


def test_streamed_body_without_length_is_capped(toy):
    def chunks():
        for _ in range(100):
            yield b"y" * 100
    r = toy.post("/api/v1/toy/items", headers=dict(h(), **{"Content-Type": "application/json"}), content=chunks())
    assert_envelope(r, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("payload", [b"{", b"[]", b'"x"', b"null", b"\xff\xfe", b'{"name": ""}',
                                     b'{"name": "a", "extra": 1}', b'{"name": 5}'])
def test_malformed_json_bodies_get_400_never_500(toy, payload):
    r = toy.post("/api/v1/toy/items", headers=dict(h(), **{"Content-Type": "application/json"}), content=payload)
    assert_envelope(r, 400, "INVALID_INPUT")


def test_field_code_wins_over_default_in_json_bodies(toy):
    r = toy.post("/api/v1/toy/items", headers=h(), json={"name": "a", "count": 6})
    assert_envelope(r, 400, "BATCH_TOO_LARGE")


def test_malformed_path_id_is_404_not_400(toy):
    assert_envelope(toy.get("/api/v1/toy/items/not-a-uuid", headers=h()), 404, "NOT_FOUND")


def test_query_parameters_are_coerced_and_checked(toy):
    ok = toy.get("/api/v1/toy/items/3fa85f64-5717-4562-b3fc-2c963f66afa6?limit=3", headers=h())
    assert ok.status_code == 200
    err = assert_envelope(toy.get("/api/v1/toy/items/3fa85f64-5717-4562-b3fc-2c963f66afa6?limit=abc", headers=h()),
                          400, "INVALID_INPUT")
    assert "limit" in err["details"]["fields"]


def test_strict_mode_turns_contract_drift_into_a_loud_500(toy):
    err = assert_envelope(toy.get("/api/v1/toy/items/3fa85f64-5717-4562-b3fc-2c963f66afa6?limit=7", headers=h()),
                          500, "INTERNAL_ERROR")
    assert err["details"]["contractViolation"]


def test_submit_rate_limit_returns_429_with_equal_retry_after(toy):
    for _ in range(2):
        assert toy.post("/api/v1/toy/submit", headers=h(SLOW), files={"audio": ("a", b"1")}).status_code == 202
    r = toy.post("/api/v1/toy/submit", headers=h(SLOW), files={"audio": ("a", b"1")})
    err = assert_envelope(r, 429, "RATE_LIMIT_EXCEEDED")
    assert r.headers["Retry-After"] == str(err["retryAfterSeconds"])
    assert 1 <= err["retryAfterSeconds"] <= 60
    toy.post("/__mock/clock/advance", json={"seconds": 60})
    assert toy.post("/api/v1/toy/submit", headers=h(SLOW), files={"audio": ("a", b"1")}).status_code == 202


def test_rate_limit_is_per_client_and_applies_after_auth(toy):
    for _ in range(2):
        toy.post("/api/v1/toy/submit", headers=h(SLOW), files={"audio": ("a", b"1")})
    assert toy.post("/api/v1/toy/submit", headers=h(SLOW), files={"audio": ("a", b"1")}).status_code == 429
    # The same client's other key shares the per-client window but has the default limit.
    assert toy.post("/api/v1/toy/submit", headers=h(KEY), files={"audio": ("a", b"1")}).status_code == 202
    assert toy.post("/api/v1/toy/submit", files={"audio": ("a", b"1")}).status_code == 401
    assert toy.post("/api/v1/toy/submit", headers=h(NOPE), files={"audio": ("a", b"1")}).status_code == 202


def test_unknown_route_and_wrong_method_use_the_envelope(toy):
    assert_envelope(toy.get("/api/v1/nothing-here", headers=h()), 404, "NOT_FOUND")
    r = toy.delete("/api/v1/toy/items", headers=h())
    assert_envelope(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers["Allow"] == "POST"


def test_contract_served_as_yaml_and_json(toy):
    assert toy.get("/openapi.yaml").text.startswith("openapi: 3.1")
    assert toy.get("/openapi.json").json()["openapi"].startswith("3.1")


def test_validation_messages_never_quote_the_submitted_value(toy):
    secret = "Secret Person 12345"
    r = toy.post("/api/v1/toy/items", headers=h(), json={"name": ["x", secret]})
    err = assert_envelope(r, 400, "INVALID_INPUT")
    assert secret not in r.text
    assert err["details"]["fields"]["name"] == ["Must be of type string."]


def test_control_characters_in_a_path_id_reach_the_operation_not_a_route_404(toy):
    # urlsplit drops \n from URLs; routing must use the raw ASGI path.
    assert_envelope(toy.get("/api/v1/toy/items/%0A", headers=h()), 404, "NOT_FOUND")
    r = toy.get("/api/v1/toy/items/%0A", headers=h())
    assert r.json()["error"]["message"] != "No such endpoint."
