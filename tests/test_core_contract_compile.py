"""The compiled contract (issue 14): every schema of openapi.yaml compiles, validators share one
registry of the components and compile on first use, a validator answers exactly as one
whose root embeds the components did, and a broken contract still fails when it is loaded."""

from __future__ import annotations

import copy
import re

import jsonschema_rs
import pytest

from mockserver.contract import Contract, ContractError, LazyValidator, load_spec

SPEC = load_spec()


def test_every_schema_of_the_contract_compiles():
    contract = Contract(copy.deepcopy(SPEC))
    validators = list(contract.validators())
    assert len(validators) > 150  # parameters, bodies, JSON text fields and responses
    assert contract.compile_all() == len(validators)
    assert all(v._compiled is not None for _op, _where, v in validators)


def test_validators_compile_on_first_use_only():
    contract = Contract(copy.deepcopy(SPEC))
    validators = [v for _op, _where, v in contract.validators()]
    assert all(isinstance(v, LazyValidator) and v._compiled is None for v in validators)
    op = contract.operations["getHealth"]
    media = next(m for m in op.responses.values() if m.get("application/json"))
    media["application/json"].is_valid({})
    assert media["application/json"]._compiled is not None
    assert sum(v._compiled is not None for v in validators) == 1


def _embedded(schema, components):
    """The former compilation: a root carrying the whole components section."""
    return jsonschema_rs.Draft202012Validator(dict(schema, components=components), validate_formats=True)


def _instances(schema, components):
    """A few bodies per schema: empty, the documented examples, and wrong types."""
    found = [{}, [], None, "x", 1, {"error": {"code": "NOT_FOUND"}}]
    for key in ("example",):
        if key in schema:
            found.append(schema[key])
    for ex in (schema.get("examples") or []):
        found.append(ex)
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        target = components["schemas"][ref.rsplit("/", 1)[1]]
        found += [target["example"]] if "example" in target else []
        found += list(target.get("examples") or [])
    return found


def test_shared_registry_validators_answer_like_embedded_components():
    contract = Contract(copy.deepcopy(SPEC))
    checked = 0
    for op in contract.operations.values():
        for media in op.responses.values():
            for validator in media.values():
                if validator is None:
                    continue
                reference = _embedded(validator.schema, contract.components)
                for instance in _instances(validator.schema, contract.components):
                    assert validator.is_valid(instance) == reference.is_valid(instance), (op.operation_id, instance)
                    mine = sorted((list(e.instance_path), e.message) for e in validator.iter_errors(instance))
                    theirs = sorted((list(e.instance_path), e.message) for e in reference.iter_errors(instance))
                    assert mine == theirs
                    checked += 1
    assert checked > 500


def test_a_ref_that_does_not_resolve_fails_at_load():
    spec = copy.deepcopy(SPEC)
    first_path = next(iter(spec["paths"].values()))
    op = next(v for v in first_path.values() if isinstance(v, dict) and "responses" in v)
    op["responses"]["200"] = {"$ref": "#/components/responses/NoSuchResponse"}
    with pytest.raises(ContractError, match="NoSuchResponse"):
        Contract(spec)


def test_an_invalid_component_schema_fails_at_load():
    spec = copy.deepcopy(SPEC)
    name = next(iter(spec["components"]["schemas"]))
    spec["components"]["schemas"][name] = {"type": 5}
    with pytest.raises(ContractError, match="components/schemas"):
        Contract(spec)


def test_a_schema_that_does_not_compile_is_named_by_compile_all():
    spec = copy.deepcopy(SPEC)
    path, item = next(iter(spec["paths"].items()))
    op = next(v for v in item.values() if isinstance(v, dict) and "responses" in v)
    op["responses"]["299"] = {"description": "bad", "content": {"application/json": {
        "schema": {"type": "string", "pattern": "(unclosed"}}}}
    contract = Contract(spec)
    with pytest.raises(ContractError, match=f"{op['operationId']} response 299"):
        contract.compile_all()


def test_the_parsed_contract_is_cached_by_content_and_a_changed_contract_is_parsed_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = tmp_path / "openapi.yaml"
    source.write_text("openapi: 3.1.0\npaths: {}\ninfo: {title: one}\n")
    assert load_spec(source)["info"]["title"] == "one"
    cached = list((tmp_path / "cache" / "zenhire-mock").glob("contract-*.json"))
    assert len(cached) == 1
    assert load_spec(source)["info"]["title"] == "one"
    source.write_text("openapi: 3.1.0\npaths: {}\ninfo: {title: two}\n")
    assert load_spec(source)["info"]["title"] == "two"
    assert len(list((tmp_path / "cache" / "zenhire-mock").glob("contract-*.json"))) == 2


def test_a_contract_json_cannot_hold_exactly_is_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = tmp_path / "openapi.yaml"
    source.write_text("openapi: 3.1.0\npaths: {}\ninfo: {released: 2026-04-19}\n")  # a YAML date
    spec = load_spec(source)
    assert str(spec["info"]["released"]) == "2026-04-19"
    assert not list((tmp_path / "cache").glob("**/contract-*.json"))


def _match_by_scan(contract, method, path):
    """The router's answer from the whole route list, in order (the index must agree)."""
    for regex, _template, by_method in contract._routes:
        m = regex.match(path)
        if m:
            op = by_method.get(method) or (by_method.get("GET") if method == "HEAD" else None)
            if op is None:
                return None, {}, sorted(by_method)
            return op, dict(zip(op.path_param_names, m.groups())), sorted(by_method)
    return None, {}, []


def test_the_routing_index_answers_as_a_scan_of_every_route():
    contract = Contract(copy.deepcopy(SPEC))
    paths = set()
    for template in SPEC["paths"]:
        for fill in ("x", "requests", "abc-123", "a.b"):
            paths.add(re.sub(r"\{[^}/]+\}", fill, template))
        paths.update({template + "/", template + "/extra", template.rsplit("/", 1)[0]})
    paths.update({"/", "", "/api", "/api/v1/nothing", "//api/v1/health"})
    for path in sorted(paths):
        for method in ("GET", "POST", "HEAD", "DELETE", "PATCH"):
            assert contract.match(method, path) == _match_by_scan(contract, method, path), (method, path)


def test_without_a_usable_cache_directory_the_contract_is_parsed_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative-cache")  # not absolute: ignored (XDG) ...
    monkeypatch.setenv("HOME", "relative-home")  # ... and no absolute home to fall back on
    source = tmp_path / "openapi.yaml"
    source.write_text("openapi: 3.1.0\npaths: {}\ninfo: {title: plain}\n")
    assert load_spec(source)["info"]["title"] == "plain"
    assert not (tmp_path / "relative-cache").exists() and not (tmp_path / "relative-home").exists()
