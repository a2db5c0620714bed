"""openapi.yaml itself (issue: the contract): a valid OpenAPI 3.1 document whose refs all
resolve, covering every documented endpoint and error code, with examples that validate
against their own schemas and provenance on every operation and schema."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parent.parent
SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text())
INVENTORY = yaml.safe_load((ROOT / "tests" / "data" / "docs_inventory.yaml").read_text())
METHODS = ("get", "post", "put", "patch", "delete")


def operations():
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method.upper(), path, op


def walk(node, pointer=""):
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{pointer}/{i}")


def resolve(ref: str):
    node = SPEC
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_spec_is_valid_openapi_3_1():
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def test_every_ref_resolves():
    refs = [(p, n["$ref"]) for p, n in walk(SPEC) if isinstance(n, dict) and isinstance(n.get("$ref"), str)]
    assert refs
    for pointer, ref in refs:
        assert ref.startswith("#/"), f"{pointer}: external ref {ref}"
        resolve(ref)


@pytest.mark.parametrize("method,path", [tuple(e) for e in INVENTORY["endpoints"]])
def test_every_documented_endpoint_is_in_the_contract(method, path):
    assert method.lower() in SPEC["paths"].get(path, {}), f"{method} {path} missing"


@pytest.mark.parametrize("method,path", [tuple(e) for e in INVENTORY["preview_endpoints"]])
def test_preview_endpoints_are_marked(method, path):
    assert SPEC["paths"][path][method.lower()].get("x-preview") is True


def _enums_in_responses() -> set[str]:
    """Every string enum value reachable from any operation's responses (following refs)."""
    found: set[str] = set()
    seen: set[str] = set()

    def visit(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                seen.add(ref)
                visit(resolve(ref))
            if isinstance(node.get("enum"), list):
                found.update(v for v in node["enum"] if isinstance(v, str))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for _m, _p, op in operations():
        visit(op.get("responses", {}))
    return found


@pytest.mark.parametrize("code", INVENTORY["error_codes"] + INVENTORY["run_failure_codes"])
def test_every_documented_error_code_is_enumerated_somewhere(code):
    assert code in _enums_in_responses()


def test_operations_have_ids_tags_provenance_and_behaviours():
    ids = set()
    for method, path, op in operations():
        where = f"{method} {path}"
        assert op.get("operationId") and op["operationId"] not in ids, where
        ids.add(op["operationId"])
        assert op.get("tags"), where
        prov = op.get("x-provenance")
        assert isinstance(prov, dict) and prov.get("source") in ("documented", "inferred"), where
        assert op.get("x-behaviours"), where
        if path != "/api/v1/health":
            assert {"401", "500"} <= set(op["responses"]), where


def test_health_is_the_only_public_operation():
    public = [(m, p) for m, p, op in operations() if op.get("security") == []]
    assert public == [("GET", "/api/v1/health")]
    schemes = SPEC["components"]["securitySchemes"]
    assert schemes["ApiKeyHeader"] == {**schemes["ApiKeyHeader"], "type": "apiKey", "in": "header", "name": "X-API-Key"}


def test_every_schema_has_provenance():
    missing = [name for name, schema in SPEC["components"]["schemas"].items()
               if not isinstance(schema.get("x-provenance"), dict)]
    assert not missing


def test_429_and_503_responses_carry_retry_after():
    for method, path, op in operations():
        for status in ("429", "503"):
            resp = op["responses"].get(status)
            if resp is None or (path == "/api/v1/health"):
                continue
            if "$ref" in resp:
                resp = resolve(resp["$ref"])
            assert "Retry-After" in resp.get("headers", {}), f"{method} {path} {status}"


def _examples():
    for pointer, node in walk(SPEC):
        if not isinstance(node, dict) or "schema" not in node:
            continue
        schema = node["schema"]
        if "example" in node:
            yield pointer, schema, node["example"]
        for name, ex in (node.get("examples") or {}).items():
            ex = resolve(ex["$ref"]) if "$ref" in ex else ex
            if "value" in ex:
                yield f"{pointer}/examples/{name}", schema, ex["value"]
    for name, schema in SPEC["components"]["schemas"].items():
        if "example" in schema:
            yield f"/components/schemas/{name}", {"$ref": f"#/components/schemas/{name}"}, schema["example"]
        for i, ex in enumerate(schema.get("examples", []) or []):
            yield f"/components/schemas/{name}/examples/{i}", {"$ref": f"#/components/schemas/{name}"}, ex


EXAMPLES = list(_examples())


def test_there_are_many_examples():
    assert len(EXAMPLES) >= 20


@pytest.mark.parametrize("pointer,schema,example", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_validates_against_its_schema(pointer, schema, example):
    if isinstance(schema, dict) and schema.get("format") == "binary":
        pytest.skip("binary example")
    root = dict(schema, components=SPEC["components"]) if isinstance(schema, dict) else schema
    validator = jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())
    errors = [e.message for e in validator.iter_errors(example)]
    assert not errors, errors[:3]
