"""Loads openapi.yaml once and turns it into an operation table with compiled validators.

Everything the mock knows about the API's shape comes from here: routes (method + path
template → operationId), parameters and bodies to validate (with the error code each field
maps to, from `x-error-code` / `x-validation-error-code`), and the response schemas used
by strict response validation. Nothing here re-types a schema in Python.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

# The contract ships inside the package (mockserver/data/openapi.yaml: in a checkout a link to the
# root openapi.yaml people edit, in a wheel a real copy), so an installed mock finds it anywhere.
SPEC_PATH = Path(str(resources.files("mockserver").joinpath("data", "openapi.yaml")))
_PATH_PARAM = re.compile(r"\{([^}/]+)\}")


def load_spec(path: str | Path = SPEC_PATH) -> dict:
    with open(path, "rb") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def compile_schema(schema: Any, components: dict) -> jsonschema_rs.Validator:
    """A compiled 2020-12 validator for ``schema`` (refs resolve against ``components``)."""
    if isinstance(schema, dict):
        root = dict(schema)
        root["components"] = components
    else:
        root = schema
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


@dataclass
class ParamSpec:
    name: str
    location: str
    required: bool
    schema: dict
    validator: jsonschema_rs.Validator
    error_code: str | None

    @cached_property
    def kind(self) -> str:
        t = self.schema.get("type", "string")
        if isinstance(t, list):
            t = next((x for x in t if x != "null"), "string")
        return t


@dataclass
class BodySpec:
    media_type: str
    schema: dict
    validator: jsonschema_rs.Validator
    required: bool
    field_codes: dict[str, str]
    field_keywords: dict[str, str]
    file_fields: set[str]
    json_text_fields: dict[str, jsonschema_rs.Validator | None]
    handler_validated: set[str]
    properties: list[str]


@dataclass
class Operation:
    operation_id: str
    method: str
    path: str
    raw: dict
    regex: re.Pattern
    path_param_names: list[str]
    public: bool
    permission: str | None
    submit: bool
    preview: bool
    validation_code: str
    terminal_statuses: tuple[str, ...]
    tag: str
    query_params: dict[str, ParamSpec] = field(default_factory=dict)
    path_params: dict[str, ParamSpec] = field(default_factory=dict)
    body: BodySpec | None = None
    responses: dict[str, dict[str, jsonschema_rs.Validator | None]] = field(default_factory=dict)

    def documented_codes(self, status: int | str) -> list[str]:
        """Error codes enumerated for ``status`` in the contract (first one = default)."""
        resp = self.raw.get("responses", {}).get(str(status))
        return _codes_of(resp, self._spec_components) if resp else []

    _spec_components: dict = field(default_factory=dict, repr=False)


def _resolve(node: Any, components: dict) -> Any:
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/components/"):
        section, name = node["$ref"][len("#/components/"):].split("/", 1)
        node = components[section][name]
    return node


def _codes_of(response: dict, components: dict) -> list[str]:
    response = _resolve(response, components)
    codes: list[str] = []

    def walk(node: Any) -> None:
        node = _resolve(node, components)
        if isinstance(node, dict):
            code = node.get("properties", {}).get("error", {}) if "properties" in node else None
            if isinstance(code, dict):
                enum = code.get("properties", {}).get("code", {}).get("enum")
                if enum:
                    codes.extend(c for c in enum if c not in codes)
            for key in ("allOf", "oneOf", "anyOf"):
                for sub in node.get(key, []):
                    walk(sub)

    for media in response.get("content", {}).values():
        walk(media.get("schema", {}))
    return codes


class Contract:
    """The parsed contract: operations by id, a router, and compiled validators."""

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.components = spec.get("components", {})
        self.operations: dict[str, Operation] = {}
        self._routes: list[tuple[re.Pattern, str, dict[str, Operation]]] = []
        self._build()

    @classmethod
    def load(cls, path: str | Path = SPEC_PATH) -> "Contract":
        return cls(load_spec(path))

    @cached_property
    def json_text(self) -> str:
        return json.dumps(self.spec, ensure_ascii=False)

    # -- building ------------------------------------------------------------------------
    def _build(self) -> None:
        # Literal paths are tried before templated ones (e.g. /cvdeepmatch/requests before /{id}).
        paths = sorted(self.spec.get("paths", {}).items(), key=lambda kv: (kv[0].count("{"), -len(kv[0])))
        for path, item in paths:
            names = _PATH_PARAM.findall(path)
            regex = re.compile("^" + _PATH_PARAM.sub(r"([^/]+)", re.escape(path).replace(r"\{", "{").replace(r"\}", "}")) + "$")
            by_method: dict[str, Operation] = {}
            shared_params = item.get("parameters", [])
            for method, raw in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                op = self._operation(path, method.upper(), raw, regex, names, shared_params)
                self.operations[op.operation_id] = op
                by_method[op.method] = op
            self._routes.append((regex, path, by_method))

    def _operation(self, path: str, method: str, raw: dict, regex: re.Pattern, names: list[str],
                   shared_params: list) -> Operation:
        security = raw.get("security", self.spec.get("security", []))
        op = Operation(
            operation_id=raw["operationId"], method=method, path=path, raw=raw, regex=regex,
            path_param_names=names, public=security == [],
            permission=raw.get("x-permission"), submit=bool(raw.get("x-submit")),
            preview=bool(raw.get("x-preview")),
            validation_code=raw.get("x-validation-error-code", "INVALID_INPUT"),
            terminal_statuses=tuple(raw.get("x-terminal-statuses", ())),
            tag=(raw.get("tags") or ["Universal"])[0],
        )
        op._spec_components = self.components
        for param in list(shared_params) + list(raw.get("parameters", [])):
            param = _resolve(param, self.components)
            spec = ParamSpec(
                name=param["name"], location=param["in"], required=bool(param.get("required")),
                schema=param.get("schema", {}), validator=compile_schema(param.get("schema", {}), self.components),
                error_code=param.get("x-error-code"))
            if spec.location == "query":
                op.query_params[spec.name] = spec
            elif spec.location == "path":
                op.path_params[spec.name] = spec
        body = raw.get("requestBody")
        if body:
            body = _resolve(body, self.components)
            media_type, media = next(iter(body.get("content", {}).items()))
            schema = media.get("schema", {})
            resolved = _resolve(schema, self.components)
            props = resolved.get("properties", {})
            field_codes, field_keywords, files, json_fields, handler_validated = {}, {}, set(), {}, set()
            for name, prop in props.items():
                # OpenAPI 3.1 allows keywords beside a $ref: the local ones win.
                prop_r = dict(_resolve(prop, self.components))
                prop_r.update({k: v for k, v in prop.items() if k != "$ref"})
                if "x-error-code" in prop_r:
                    field_codes[name] = prop_r["x-error-code"]
                if "x-error-code-keyword" in prop_r:
                    field_keywords[name] = prop_r["x-error-code-keyword"]
                if prop_r.get("format") == "binary" or prop_r.get("contentMediaType", "").startswith(("audio/", "application/pdf", "application/octet-stream")):
                    files.add(name)
                elif prop_r.get("contentMediaType") == "application/json":
                    content_schema = prop_r.get("contentSchema")
                    if prop_r.get("x-validated-by") == "handler":
                        handler_validated.add(name)
                        content_schema = None
                    json_fields[name] = compile_schema(content_schema, self.components) if content_schema else None
            op.body = BodySpec(
                media_type=media_type, schema=schema, validator=compile_schema(schema, self.components),
                required=bool(body.get("required")), field_codes=field_codes,
                field_keywords=field_keywords, file_fields=files,
                json_text_fields=json_fields, handler_validated=handler_validated, properties=list(props))
        for status, resp in raw.get("responses", {}).items():
            resp = _resolve(resp, self.components)
            media_validators: dict[str, jsonschema_rs.Validator | None] = {}
            for media_type, media in resp.get("content", {}).items():
                schema = media.get("schema")
                if schema is None or media_type != "application/json":
                    media_validators[media_type] = None
                else:
                    media_validators[media_type] = compile_schema(schema, self.components)
            op.responses[str(status)] = media_validators
        return op

    # -- routing -------------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[Operation | None, dict[str, str], list[str]]:
        """(operation, path params, methods of the matching path). A known path with no
        operation for ``method`` → 405 with those methods in ``Allow``."""
        for regex, _template, by_method in self._routes:
            m = regex.match(path)
            if m:
                op = by_method.get(method)
                if op is None and method == "HEAD":
                    op = by_method.get("GET")
                if op is None:
                    return None, {}, sorted(by_method)
                return op, dict(zip(op.path_param_names, m.groups())), sorted(by_method)
        return None, {}, []

    def operation_list(self) -> list[tuple[str, str, str, str]]:
        """(method, path, operationId, summary) for every operation, in contract order."""
        out = []
        for path, item in self.spec.get("paths", {}).items():
            for method, raw in item.items():
                if isinstance(raw, dict) and "operationId" in raw:
                    out.append((method.upper(), path, raw["operationId"], raw.get("summary", "")))
        return out
