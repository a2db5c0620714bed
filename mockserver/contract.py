"""Loads openapi.yaml once and turns it into an operation table with compiled validators.

Everything the mock knows about the API's shape comes from here: routes (method + path
template → operationId), parameters and bodies to validate (with the error code each field
maps to, from `x-error-code` / `x-validation-error-code`), and the response schemas used
by strict response validation. Nothing here re-types a schema in Python.

Footprint: every validator resolves its `$ref`s through ONE shared `jsonschema_rs.Registry`
holding the components (a validator whose root embedded the whole components section cost
≈ 1 MiB each: 179 of them were ≈ 200 MiB). Validators compile on first use (`LazyValidator`),
so response validators cost nothing unless strict mode checks a response; `Contract.compile_all`
compiles every one (strict mode at start-up, and the tests). A broken contract still fails at
load: `check_structure` resolves every `$ref` and meta-validates every schema (a few ms).
"""

from __future__ import annotations

import hashlib
import json
import os
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


def _parse_cache_dir() -> Path | None:
    """Where the parsed contract is cached, or None without a usable home or cache directory."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset or relative: the XDG default
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "zenhire-mock" if os.path.isabs(base) else None


def load_spec(path: str | Path = SPEC_PATH) -> dict:
    """The contract document. Parsing the YAML is most of a start-up's contract cost, so the
    parsed document is also kept as JSON in the user's cache directory, named by the SHA-256
    of the YAML bytes (a changed contract is a different name; an unwritable cache is skipped;
    a document JSON cannot represent exactly is never cached)."""
    with open(path, "rb") as fh:
        raw = fh.read()
    cache_dir = _parse_cache_dir()
    cached = cache_dir / f"contract-{hashlib.sha256(raw).hexdigest()}.json" if cache_dir else None
    if cached is not None:
        try:
            return json.loads(cached.read_bytes())
        except (OSError, ValueError):
            pass
    spec = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if cached is None:
        return spec
    try:
        text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
        if json.loads(text) == spec:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, cached)
    except (OSError, TypeError, ValueError):
        pass  # no cache: the next start parses the YAML again
    return spec


COMPONENTS_URI = "urn:zenhire-mock:contract"


class ContractError(ValueError):
    """The contract is structurally broken (a `$ref` that does not resolve, an invalid schema)."""


def _rebase(node: Any) -> Any:
    """``node`` with local `#/components/...` refs pointed at the shared components resource."""
    if isinstance(node, dict):
        return {k: (COMPONENTS_URI + v if k == "$ref" and isinstance(v, str) and v.startswith("#/") else _rebase(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


class SchemaCompiler:
    """Compiles schemas of one contract against one shared registry of its components."""

    def __init__(self, components: dict) -> None:
        # Inside the resource `{"components": ...}`, the components' own `#/components/...`
        # refs resolve as they are; only a validator's root schema needs its refs rebased.
        self.registry = jsonschema_rs.Registry([(COMPONENTS_URI, {"components": components})],
                                               draft=jsonschema_rs.Draft202012)

    def compile(self, schema: Any) -> jsonschema_rs.Validator:
        return jsonschema_rs.Draft202012Validator(_rebase(schema), registry=self.registry,
                                                  validate_formats=True)


class LazyValidator:
    """A validator compiled on its first use (same `is_valid` / `iter_errors` / `validate`)."""

    __slots__ = ("schema", "_compiler", "_compiled")

    def __init__(self, schema: Any, compiler: SchemaCompiler) -> None:
        self.schema = schema
        self._compiler = compiler
        self._compiled: jsonschema_rs.Validator | None = None

    @property
    def compiled(self) -> jsonschema_rs.Validator:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = self._compiler.compile(self.schema)
        return compiled

    def is_valid(self, instance: Any) -> bool:
        return self.compiled.is_valid(instance)

    def iter_errors(self, instance: Any):
        return self.compiled.iter_errors(instance)

    def validate(self, instance: Any) -> None:
        self.compiled.validate(instance)


def _walk(node: Any, pointer: str = ""):
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{i}")


def check_structure(spec: dict) -> None:
    """Fail fast on a broken contract: every `$ref` resolves inside the document and every
    component schema is a valid 2020-12 schema. Cheap (no validator is compiled)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
        raise ContractError("the contract has no `paths` object")
    for pointer, node in _walk(spec):
        if isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise ContractError(f"{pointer}: only local refs are supported, got {ref!r}")
            target: Any = spec
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise ContractError(f"{pointer}: $ref {ref} does not resolve")
                target = target[part]
    schemas = spec.get("components", {}).get("schemas", {})
    try:
        jsonschema_rs.meta.validate({"$schema": "https://json-schema.org/draft/2020-12/schema",
                                     "$defs": schemas})
    except jsonschema_rs.ValidationError as err:
        raise ContractError(f"components/schemas: {err}") from None


@dataclass
class ParamSpec:
    name: str
    location: str
    required: bool
    schema: dict
    validator: LazyValidator
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
    validator: LazyValidator
    required: bool
    field_codes: dict[str, str]
    field_keywords: dict[str, str]
    file_fields: set[str]
    json_text_fields: dict[str, LazyValidator | None]
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
    responses: dict[str, dict[str, LazyValidator | None]] = field(default_factory=dict)

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


TEMPLATED_KEPT = 1024  # concrete paths whose template match is kept (then the table starts afresh)
TEMPLATED_KEPT_LENGTH = 200  # longer paths are matched every time (the table stays small)


class Contract:
    """The parsed contract: operations by id, a router, and compiled validators."""

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        check_structure(spec)
        self.components = spec.get("components", {})
        self.compiler = SchemaCompiler(self.components)
        self.operations: dict[str, Operation] = {}
        self._routes: list[tuple[re.Pattern, str, dict[str, Operation]]] = []
        self._build()
        # Routing index: a literal path is one dict lookup; a templated one is tried only
        # against templates with as many segments (`[^/]+` never crosses a `/`), in the
        # same order as the full list.
        self._literal: dict[str, tuple[re.Pattern, str, dict[str, Operation]]] = {}
        self._by_segments: dict[int, list[tuple[re.Pattern, str, dict[str, Operation]]]] = {}
        # Paths matched against the templates lately (a client polls the same run again and
        # again): path -> `_match_template`'s answer, a pure function of the path.
        self._templated: dict[str, tuple] = {}
        # The methods of each path, sorted once (Allow of a 405); shared: callers only read them.
        self._allowed: dict[str, list[str]] = {template: sorted(by_method) for _r, template, by_method in self._routes}
        for route in self._routes:
            template = route[1]
            if "{" not in template:
                self._literal.setdefault(template, route)
            self._by_segments.setdefault(template.count("/"), []).append(route)

    @classmethod
    def load(cls, path: str | Path = SPEC_PATH) -> "Contract":
        return cls(load_spec(path))

    def validators(self):
        """Every validator of the contract, as (operationId, where, validator)."""
        for op in self.operations.values():
            for spec in list(op.path_params.values()) + list(op.query_params.values()):
                yield op.operation_id, f"{spec.location} parameter {spec.name}", spec.validator
            if op.body is not None:
                yield op.operation_id, "request body", op.body.validator
                for name, validator in op.body.json_text_fields.items():
                    if validator is not None:
                        yield op.operation_id, f"request body field {name}", validator
            for status, media in op.responses.items():
                for media_type, validator in media.items():
                    if validator is not None:
                        yield op.operation_id, f"response {status} {media_type}", validator

    def compile_all(self) -> int:
        """Compile every validator now (strict mode, tests); raises ContractError naming the
        schema that does not compile. Returns how many were compiled."""
        count = 0
        for op_id, where, validator in self.validators():
            try:
                validator.compiled
            except (ValueError, jsonschema_rs.ReferencingError) as err:
                raise ContractError(f"{op_id} {where}: {err}") from None
            count += 1
        return count

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
                schema=param.get("schema", {}), validator=self._lazy(param.get("schema", {})),
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
                    json_fields[name] = self._lazy(content_schema) if content_schema else None
            op.body = BodySpec(
                media_type=media_type, schema=schema, validator=self._lazy(schema),
                required=bool(body.get("required")), field_codes=field_codes,
                field_keywords=field_keywords, file_fields=files,
                json_text_fields=json_fields, handler_validated=handler_validated, properties=list(props))
        for status, resp in raw.get("responses", {}).items():
            resp = _resolve(resp, self.components)
            media_validators: dict[str, LazyValidator | None] = {}
            for media_type, media in resp.get("content", {}).items():
                schema = media.get("schema")
                if schema is None or media_type != "application/json":
                    media_validators[media_type] = None
                else:
                    media_validators[media_type] = self._lazy(schema)
            op.responses[str(status)] = media_validators
        return op

    def _lazy(self, schema: Any) -> LazyValidator:
        return LazyValidator(schema, self.compiler)

    # -- routing -------------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[Operation | None, dict[str, str], list[str]]:
        """(operation, path params, methods of the matching path). A known path with no
        operation for ``method`` → 405 with those methods in ``Allow``."""
        literal = self._literal.get(path)
        if literal is not None:  # the path is the template itself: no parameters to match
            by_method = literal[2]
            op = by_method.get(method)
            if op is None and method == "HEAD":
                op = by_method.get("GET")
            return op, {}, self._allowed[literal[1]]
        found = self._templated.get(path)
        if found is None:
            found = self._match_template(path)
            if len(path) <= TEMPLATED_KEPT_LENGTH:
                if len(self._templated) >= TEMPLATED_KEPT:
                    self._templated.clear()
                self._templated[path] = found
        template, by_method, groups = found
        if by_method is None:
            return None, {}, []
        op = by_method.get(method)
        if op is None and method == "HEAD":
            op = by_method.get("GET")
        if op is None:
            return None, {}, self._allowed[template]
        return op, dict(zip(op.path_param_names, groups)), self._allowed[template]

    def _match_template(self, path: str) -> tuple[str | None, dict[str, Operation] | None, tuple]:
        """(template, its operations by method, the parameter values) of the first template
        ``path`` matches, or (None, None, ())."""
        for regex, template, by_method in self._by_segments.get(path.count("/"), ()):
            m = regex.match(path)
            if m:
                return template, by_method, m.groups()
        return None, None, ()

    def operation_list(self) -> list[tuple[str, str, str, str]]:
        """(method, path, operationId, summary) for every operation, in contract order."""
        out = []
        for path, item in self.spec.get("paths", {}).items():
            for method, raw in item.items():
                if isinstance(raw, dict) and "operationId" in raw:
                    out.append((method.upper(), path, raw["operationId"], raw.get("summary", "")))
        return out
