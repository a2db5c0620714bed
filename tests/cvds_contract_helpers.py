"""Test helpers for CV DeepSearch: the fragment merged with the base fragment and validators
for its schemas (so unit tests can check that bodies built by the domain code conform), and
small request builders for the in-process HTTP tests."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from tests.support import contract_document
from jsonschema import Draft202012Validator



@lru_cache(maxsize=1)
def merged_spec() -> dict[str, Any]:
    """The contract (openapi.yaml)."""
    return contract_document()


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


# -- request builders for the HTTP tests -----------------------------------------------------

CANDIDATES = "/api/v1/cvds/candidates"
SEARCH = "/api/v1/cvds/search"
RUN_ID_PATTERN = r"cvds_[0-9A-Za-z]{22}"
SEARCH_SECONDS = 120


def candidate(external_id: str, *skills: str, **extra: Any) -> dict[str, Any]:
    """One ingest item whose CV lists `skills` (default: Go)."""
    return {"external_id": external_id,
            "parsed_cv": {"name": f"Person {external_id}", "skills": list(skills or ("Go",))}, **extra}


def position(*skills: str, name: str = "Backend Engineer") -> dict[str, Any]:
    """A position config requiring `skills` as hard skills of equal importance."""
    return {"name": name, "requirements": {"skills": {"importance": 5, "skills_config": {
        "hard_skills": [{"name": skill, "importance": 5} for skill in skills]}}}}


def ingest(api, candidates: list[dict[str, Any]], corpus_id: str | None = "pool", **kw: Any):
    body: dict[str, Any] = {"candidates": candidates}
    if corpus_id is not None:
        body["corpus_id"] = corpus_id
    return api.call("POST", CANDIDATES, json=body, **kw)


def search(api, corpus_id: str | None = "pool", position_id: str = "eng-backend-2026",
           metadata: dict[str, Any] | None = None, **kw: Any):
    """POST /search; body fields other than the three named ones go in `body=`."""
    body: dict[str, Any] = {"position_id": position_id, "position_metadata": metadata or position("Go")}
    if corpus_id is not None:
        body["corpus_id"] = corpus_id
    body.update(kw.pop("body", {}))
    return api.call("POST", SEARCH, json=body, **kw)


def run_path(run_id: str) -> str:
    return f"/api/v1/cvds/runs/{run_id}"


def list_corpus(api, corpus_id: str = "pool", **kw: Any) -> list[dict[str, Any]]:
    """Every row of a corpus listing (first page of up to 200)."""
    response = api.call("GET", f"{CANDIDATES}?corpus_id={corpus_id}&limit=200", **kw)
    assert response.status_code == 200, response.text
    return response.json()["candidates"]
