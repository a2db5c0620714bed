"""Test helper: the CV DeepSearch fragment merged with the base fragment, and validators
for its schemas, so unit tests can check that bodies built by the domain code conform."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

SPEC_PARTS = Path(__file__).resolve().parent.parent / "spec_parts"
BASE_PATH = SPEC_PARTS / "00-base.yaml"
FRAGMENT_PATH = SPEC_PARTS / "40-cvdeepsearch.yaml"


@lru_cache(maxsize=1)
def merged_spec() -> dict[str, Any]:
    spec = yaml.safe_load(BASE_PATH.read_text())
    fragment = yaml.safe_load(FRAGMENT_PATH.read_text())
    spec = copy.deepcopy(spec)
    spec["paths"].update(fragment.get("paths", {}))
    for section, entries in fragment.get("components", {}).items():
        spec["components"].setdefault(section, {}).update(entries)
    spec.setdefault("webhooks", {}).update(fragment.get("webhooks", {}))
    return spec


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(dict(schema, components=merged_spec()["components"]))


def component(name: str) -> Draft202012Validator:
    return validator_for({"$ref": f"#/components/schemas/{name}"})


def operation(operation_id: str) -> dict[str, Any]:
    spec = merged_spec()
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return op
    raise KeyError(operation_id)


def response_validator(operation_id: str, status: str) -> Draft202012Validator:
    response = operation(operation_id)["responses"][status]
    if "$ref" in response:
        response = merged_spec()["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return validator_for(response["content"]["application/json"]["schema"])


def request_validator(operation_id: str) -> Draft202012Validator:
    return validator_for(operation(operation_id)["requestBody"]["content"]["application/json"]["schema"])


def assert_valid(validator: Draft202012Validator, instance: Any) -> None:
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(instance)]
    assert not errors, errors
