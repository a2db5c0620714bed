"""The target's contract (openapi.yaml) as plain data, with the few look-ups the suite needs:
operations by id, documented statuses and error codes, request examples, and whether a
response is an error envelope. Nothing here knows the mock; everything is read from the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    raw: dict
    contract: "Contract"

    @property
    def tag(self) -> str:
        return (self.raw.get("tags") or [""])[0]

    @property
    def permission(self) -> str | None:
        return self.raw.get("x-permission")

    @property
    def is_public(self) -> bool:
        return self.raw.get("security") == []

    @property
    def is_submit(self) -> bool:
        return bool(self.raw.get("x-submit"))

    @property
    def is_preview(self) -> bool:
        return bool(self.raw.get("x-preview"))

    @property
    def path_params(self) -> list[str]:
        return [p["name"] for p in self.parameters() if p.get("in") == "path"]

    def parameters(self) -> list[dict]:
        item = self.contract.spec["paths"][self.path]
        params = [self.contract.resolve(p) for p in item.get("parameters", [])]
        params += [self.contract.resolve(p) for p in self.raw.get("parameters", [])]
        return params

    def response(self, status: int | str) -> dict | None:
        resp = self.raw.get("responses", {}).get(str(status))
        return self.contract.resolve(resp) if resp is not None else None

    def statuses(self) -> list[str]:
        return list(self.raw.get("responses", {}))

    def documented_codes(self, status: int | str) -> list[str]:
        """Error codes the contract enumerates for ``status`` on this operation."""
        resp = self.response(status)
        codes: list[str] = []
        if resp is None:
            return codes
        for media in resp.get("content", {}).values():
            self.contract.collect_codes(media.get("schema", {}), codes)
        return codes

    def is_envelope_response(self, status: int | str) -> bool:
        """True when the contract documents ``status`` with the error envelope — or does not
        document it at all (an undocumented 4xx/5xx must still be an envelope, ERR-1)."""
        resp = self.response(status)
        if resp is None:
            return True
        content = resp.get("content", {})
        if not content:
            return False
        return any(self.contract.mentions_envelope(m.get("schema", {})) for m in content.values())

    def request_media_types(self) -> list[str]:
        body = self.contract.resolve(self.raw.get("requestBody") or {})
        return list(body.get("content", {}))

    def admits_unknown_fields(self, media_type: str | None = None) -> bool:
        """Whether the contract lets undeclared body fields through (ignored) rather than
        refusing them: a body schema without ``additionalProperties: false``. The suite
        follows the target's choice, never a fixed one."""
        schema = self.request_schema(media_type) or {}
        return schema.get("additionalProperties", True) is not False

    def request_example(self, media_type: str | None = None) -> Any:
        """The request body example the docs give (None when the contract has none)."""
        body = self.contract.resolve(self.raw.get("requestBody") or {})
        for mt, media in body.get("content", {}).items():
            if media_type and mt != media_type:
                continue
            if "example" in media:
                return media["example"]
            for ex in (media.get("examples") or {}).values():
                ex = self.contract.resolve(ex)
                if "value" in ex:
                    return ex["value"]
        return None

    def request_schema(self, media_type: str | None = None) -> dict | None:
        body = self.contract.resolve(self.raw.get("requestBody") or {})
        for mt, media in body.get("content", {}).items():
            if media_type is None or mt == media_type:
                return self.contract.resolve(media.get("schema", {}))
        return None

    def links(self, status: int | str) -> dict:
        resp = self.response(status) or {}
        return resp.get("links", {})

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} ({self.operation_id})"


class Contract:
    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.components = spec.get("components", {})
        self.operations: dict[str, Operation] = {}
        for path, item in (spec.get("paths") or {}).items():
            for method in METHODS:
                if method in item and "operationId" in item[method]:
                    op = Operation(item[method]["operationId"], method, path, item[method], self)
                    self.operations[op.operation_id] = op

    def resolve(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and str(node["$ref"]).startswith("#/"):
            parts = node["$ref"][2:].split("/")
            target: Any = self.spec
            for part in parts:
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
            if seen > 50:
                raise ValueError(f"reference cycle at {node!r}")
        return node

    def get(self, operation_id: str) -> Operation | None:
        return self.operations.get(operation_id)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations.values())

    def where(self, predicate) -> list[Operation]:
        return [op for op in self if predicate(op)]

    def mentions_envelope(self, schema: Any, depth: int = 0) -> bool:
        if depth > 20 or not isinstance(schema, dict):
            return False
        if schema.get("$ref") == ENVELOPE_REF:
            return True
        schema = self.resolve(schema)
        return any(self.mentions_envelope(sub, depth + 1)
                   for key in ("allOf", "oneOf", "anyOf") for sub in schema.get(key, []))

    def collect_codes(self, schema: Any, out: list[str], depth: int = 0) -> None:
        if depth > 30 or not isinstance(schema, dict):
            return
        schema = self.resolve(schema)
        error = (schema.get("properties") or {}).get("error")
        if isinstance(error, dict):
            error = self.resolve(error)
            code = (error.get("properties") or {}).get("code") or {}
            for value in self.resolve(code).get("enum", []) or []:
                if value not in out:
                    out.append(value)
        for key in ("allOf", "oneOf", "anyOf"):
            for sub in schema.get(key, []):
                self.collect_codes(sub, out, depth + 1)

    def declared_property_names(self, schema: Any) -> set[str]:
        """Every property name declared anywhere inside ``schema`` (refs followed once each)."""
        names: set[str] = set()
        seen: set[str] = set()

        def walk(node: Any, depth: int) -> None:
            if depth > 60:
                return
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    if ref in seen:
                        return
                    seen.add(ref)
                    walk(self.resolve(node), depth + 1)
                    return
                for name in (node.get("properties") or {}):
                    names.add(name)
                for value in node.values():
                    walk(value, depth + 1)
            elif isinstance(node, list):
                for value in node:
                    walk(value, depth + 1)

        walk(schema, 0)
        return names


def schema_problems(op: Operation, status: int, body: Any, media_type: str = "application/json") -> list[str]:
    """Problems of ``body`` against the contract's schema for ``op`` / ``status``."""
    from jsonschema import Draft202012Validator

    resp = op.response(status)
    if resp is None:
        return [f"HTTP {status} is not documented for {op.operation_id}"]
    media = (resp.get("content") or {}).get(media_type)
    if media is None:
        return [f"{media_type} is not documented for {op.operation_id} {status}"]
    schema = media.get("schema")
    if schema is None:
        return []
    root = dict(schema, components=op.contract.components)
    validator = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
            for e in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))][:10]


def request_body_problems(op: Operation, media_type: str, body: Any) -> list[str]:
    """Problems of a request ``body`` against the contract (upload parts are not inspected)."""
    from jsonschema import Draft202012Validator

    schema = op.request_schema(media_type)
    if schema is None:
        return []
    if isinstance(body, dict):
        props = schema.get("properties") or {}
        binary = {name for name, sub in props.items() if op.contract.resolve(sub).get("format") == "binary"}
        if binary:
            schema = dict(schema, properties={k: v for k, v in props.items() if k not in binary},
                          required=[r for r in schema.get("required", []) if r not in binary])
            body = {k: v for k, v in body.items() if k not in binary}
    validator = Draft202012Validator(dict(schema, components=op.contract.components))
    return [e.message for e in validator.iter_errors(body)][:5]
