"""The Speech contract fragment: valid OpenAPI, examples on schema, and the conventions kept."""

from __future__ import annotations

import jsonschema
import pytest
from openapi_spec_validator import validate

from tests.support import contract_document

SPEECH_OPERATIONS = {
    ("/api/v1/speech/analyze", "post"): "submitSpeechAnalysis",
    ("/api/v1/speech/analyze/{id}", "get"): "getSpeechAnalysis",
    ("/api/v1/speech/runs", "get"): "listSpeechRuns",
}


@pytest.fixture(scope="module")
def contract() -> dict:
    return contract_document()


def resolve(contract: dict, node: dict) -> dict:
    """Follow one local `$ref` (the fragment only uses `#/components/...` refs)."""
    if "$ref" not in node:
        return node
    target = contract
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return target


def validator_for(contract: dict, schema: dict) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(dict(schema, components=contract["components"]),
                                           format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def operations(contract: dict):
    for (path, method), operation_id in SPEECH_OPERATIONS.items():
        yield path, method, operation_id, contract["paths"][path][method]


def media_examples(contract: dict):
    for path, method, _, operation in operations(contract):
        for status, response in operation["responses"].items():
            for media in resolve(contract, response).get("content", {}).values():
                if "example" in media:
                    yield f"{method} {path} {status}", media["schema"], media["example"]
                for name, example in media.get("examples", {}).items():
                    yield f"{method} {path} {status} {name}", media["schema"], example["value"]


def test_contract_is_valid_openapi(contract):
    validate(contract)


def test_every_example_validates_against_its_schema(contract):
    checked = 0
    for where, schema, example in media_examples(contract):
        errors = [error.message for error in validator_for(contract, schema).iter_errors(example)]
        assert not errors, f"{where}: {errors[:3]}"
        checked += 1
    assert checked >= 15


def test_every_poll_status_has_an_example_matching_exactly_one_branch(contract):
    media = contract["paths"]["/api/v1/speech/analyze/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
    branches = contract["components"]["schemas"]["SpeechPollResponse"]["oneOf"]
    statuses = set()
    for example in media["examples"].values():
        matches = [branch for branch in branches
                   if validator_for(contract, resolve(contract, branch)).is_valid(example["value"])]
        assert len(matches) == 1
        statuses.add(example["value"]["status"])
    assert statuses == {"queued", "processing", "success", "partial", "failed"}


@pytest.mark.parametrize("key", list(SPEECH_OPERATIONS))
def test_operations_carry_the_conventions(contract, key):
    operation = contract["paths"][key[0]][key[1]]
    assert operation["operationId"] == SPEECH_OPERATIONS[key]
    assert operation["tags"] == ["Speech"]
    assert operation["x-permission"] == "speech"
    for field in ("summary", "description", "x-provenance", "x-behaviours"):
        assert operation[field]
    assert operation["x-provenance"]["source"] in ("documented", "inferred")


def test_only_the_submit_is_rate_limited_as_a_submit(contract):
    flags = {operation_id: operation.get("x-submit", False) for _, _, operation_id, operation in operations(contract)}
    assert flags == {"submitSpeechAnalysis": True, "getSpeechAnalysis": False, "listSpeechRuns": False}


def test_poll_declares_its_terminal_statuses(contract):
    poll = contract["paths"]["/api/v1/speech/analyze/{id}"]["get"]
    assert poll["x-terminal-statuses"] == ["success", "partial", "failed"]


def test_poll_answers_only_200_404_429_besides_auth_and_server_errors(contract):
    poll = contract["paths"]["/api/v1/speech/analyze/{id}"]["get"]
    assert set(poll["responses"]) == {"200", "401", "403", "404", "429", "500", "503"}
    assert poll["responses"]["503"] == {"$ref": "#/components/responses/StoreUnavailable"}  # the store down
    assert "pattern" not in poll["parameters"][0]["schema"]  # a malformed id is a 404, never a 400


def test_every_error_response_narrows_its_codes(contract):
    for path, method, _, operation in operations(contract):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            schema = resolve(contract, response)["content"]["application/json"]["schema"]
            codes = [part["properties"]["error"]["properties"]["code"]["enum"]
                     for part in schema["allOf"] if "properties" in part]
            assert codes and codes[0], f"{method} {path} {status}"


@pytest.mark.parametrize("path, method, status", [
    ("/api/v1/speech/analyze", "post", "429"),
    ("/api/v1/speech/analyze", "post", "503"),
    ("/api/v1/speech/analyze/{id}", "get", "429"),
])
def test_throttling_responses_carry_retry_after(contract, path, method, status):
    response = resolve(contract, contract["paths"][path][method]["responses"][status])
    assert response["headers"]["Retry-After"]["$ref"] == "#/components/headers/RetryAfter"
    schema = response["content"]["application/json"]["schema"]
    required = [part["properties"]["error"].get("required", []) for part in schema["allOf"] if "properties" in part]
    assert "retryAfterSeconds" in required[0]


def test_non_terminal_polls_document_retry_after(contract):
    ok = contract["paths"]["/api/v1/speech/analyze/{id}"]["get"]["responses"]["200"]
    assert ok["headers"]["Retry-After"]["$ref"] == "#/components/headers/RetryAfterOptional"


def test_submit_links_to_the_poll(contract):
    link = contract["paths"]["/api/v1/speech/analyze"]["post"]["responses"]["202"]["links"]["GetSpeechAnalysis"]
    assert link == {**link, "operationId": "getSpeechAnalysis", "parameters": {"id": "$response.body#/id"}}


def test_submit_form_has_no_webhook_and_every_field_names_its_error_code(contract):
    form = contract["components"]["schemas"]["SpeechSubmitForm"]
    # undeclared fields are ignored by default, not an error (x-provenance unknown_fields)
    assert "additionalProperties" not in form and form["required"] == ["audio"]
    assert "ignored" in form["x-provenance"]["unknown_fields"]
    assert not any("webhook" in name.lower() for name in form["properties"])
    codes = {name: field["x-error-code"] for name, field in form["properties"].items()}
    assert codes == {
        "audio": "MISSING_AUDIO_FILE", "language": "INVALID_LANGUAGE_CODE",
        "externalId": "INVALID_EXTERNAL_ID", "metadata": "INVALID_METADATA", "tags": "INVALID_METADATA",
        "cutStartSeconds": "INVALID_PARAMETERS", "cutEndSeconds": "INVALID_PARAMETERS",
    }


def test_list_filters_name_their_error_codes(contract):
    listing = contract["paths"]["/api/v1/speech/runs"]["get"]
    codes = {param["name"]: param.get("x-error-code") for param in listing["parameters"] if "name" in param}
    assert codes["status"] == "INVALID_STATUS"
    assert codes["serviceType"] == "INVALID_SERVICE_TYPE"
    assert codes["createdAfter"] == codes["createdBefore"] == "INVALID_DATE"


@pytest.mark.parametrize("value, valid", [
    ("2026-04-19T00:00:00Z", True), ("2026-04-19T00:00:00.123+02:00", True), ("2026-04-19", True),
    ("yesterday", False), ("2026-13-01", False), ("19/04/2026", False),
])
def test_date_filters_accept_iso_8601_only(contract, value, valid):
    schema = contract["components"]["schemas"]["SpeechDateFilter"]
    assert validator_for(contract, schema).is_valid(value) is valid


def test_every_speech_schema_records_its_provenance(contract):
    speech_schemas = {name: schema for name, schema in contract["components"]["schemas"].items()
                      if name.startswith("Speech")}
    assert len(speech_schemas) >= 20
    for name, schema in speech_schemas.items():
        assert schema["x-provenance"]["source"] in ("documented", "inferred"), name


@pytest.mark.parametrize("value, valid", [
    ("0", True), ("60", True), ("90.5", True), ("2519.999", True), ("2520", True), ("2520.000", True),
    ("-1", False), ("2520.5", False), ("2521", False), ("01", False), ("1e3", False), ("abc", False),
    ("12.3456", False), ("", False),
])
def test_cut_settings_accept_seconds_from_0_to_2520(contract, value, valid):
    form = contract["components"]["schemas"]["SpeechSubmitForm"]
    for name in ("cutStartSeconds", "cutEndSeconds"):
        assert validator_for(contract, form).is_valid({"audio": "<binary>", name: value}) is valid


def test_form_fields_carry_their_error_code_on_the_field_itself(contract):
    # The request pipeline reads `x-error-code` from the property after resolving a `$ref`,
    # so a code beside a `$ref` would be lost: coded fields are written inline.
    form = contract["components"]["schemas"]["SpeechSubmitForm"]
    for name, field in form["properties"].items():
        assert "$ref" not in field, name
    assert form["properties"]["language"]["enum"] == contract["components"]["schemas"]["SpeechLanguage"]["enum"]
    assert form["properties"]["metadata"]["contentSchema"] == {"$ref": "#/components/schemas/Metadata"}
