"""How the contract suite reads rules from the target's served contract instead of fixing
them: whether a request body admits unknown fields (``additionalProperties``), checked on
small contracts built here."""

from __future__ import annotations

import pytest

from contract_tests.contract import Contract


def _contract(body_schema: dict) -> Contract:
    return Contract({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"post": {
        "operationId": "submitX",
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/X"}}}},
        "responses": {"202": {"description": "accepted"}}}}},
        "components": {"schemas": {"X": body_schema}}})


@pytest.mark.parametrize("schema, admits", [
    ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}, False),
    ({"type": "object", "properties": {"a": {"type": "string"}}}, True),
    ({"type": "object", "additionalProperties": True}, True),
    ({"type": "object", "additionalProperties": {"type": "string"}}, True),
], ids=["closed", "silent", "open", "typed-extras"])
def test_unknown_fields_are_admitted_unless_the_body_is_closed(schema, admits):
    assert _contract(schema).get("submitX").admits_unknown_fields("application/json") is admits

