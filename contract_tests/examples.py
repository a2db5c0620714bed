"""Concrete requests built from the contract's own examples: path and query values from the
parameter examples, bodies from the request-body example with every upload replaced by a
real file of the declared type (WAV for audio, PDF for application/pdf). Used where a test
needs one known-valid request (create a resource, then look at it) rather than generated data.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from .contract import Operation
from .strategies import pdf_bytes, wav_bytes

DUMMY_PATH_VALUE = "00000000-0000-4000-8000-000000000000"
SERVER_ISSUED_PARAMETERS = ("cursor",)
NETWORK_DEPENDENT_FIELDS = ("webhook_url",)
PAIRED_PARAMETERS = (("metadata_key", "metadata_value"),)


@dataclass
class ExampleRequest:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    files: list[tuple[str, tuple]] | None = None

    def send(self, api, **extra):
        kwargs: dict[str, Any] = {"params": self.params or None}
        if self.json is not None:
            kwargs["json"] = self.json
        if self.files is not None:
            kwargs["files"] = self.files
        kwargs.update(extra)
        return api.request(self.method.upper(), self.path, **kwargs)


def parameter_example(param: dict, contract) -> Any:
    if "example" in param:
        return param["example"]
    for ex in (param.get("examples") or {}).values():
        ex = contract.resolve(ex)
        if "value" in ex:
            return ex["value"]
    schema = contract.resolve(param.get("schema") or {})
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    return None


def fill_path(op: Operation, values: dict[str, str] | None = None, default: str | None = DUMMY_PATH_VALUE) -> str:
    """The operation's path with each ``{param}`` filled from ``values``, else ``default``."""
    path = op.path
    for name in op.path_params:
        value = (values or {}).get(name, default)
        if value is None:
            raise KeyError(name)
        path = path.replace("{" + name + "}", str(value))
    return path


def fresh_like(value: str) -> str:
    """A new value of the same shape: a UUID stays a UUID; otherwise every letter and digit
    after the first ``_``/``-`` separated prefix is replaced by a random one of its class."""
    try:
        uuid.UUID(value)
        return str(uuid.uuid4())
    except ValueError:
        pass
    rng = random.SystemRandom()
    cut = max(value.find("_"), value.find("-")) if ("_" in value or "-" in value) else -1
    prefix, rest = value[:cut + 1], value[cut + 1:]
    out = []
    for ch in rest:
        if ch.isdigit():
            out.append(rng.choice(string.digits))
        elif ch.islower():
            out.append(rng.choice(string.ascii_lowercase))
        elif ch.isupper():
            out.append(rng.choice(string.ascii_uppercase))
        else:
            out.append(ch)
    fresh = prefix + "".join(out)
    return fresh if fresh != value else prefix + "".join(reversed(out))


def unknown_value(param: dict, contract) -> str | None:
    """A well-formed value for ``param`` that no one created (None when none can be made)."""
    example = parameter_example(param, contract)
    if example is not None:
        return fresh_like(str(example))
    schema = contract.resolve(param.get("schema") or {})
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("type", "string") == "string" and not schema.get("pattern") and not schema.get("enum"):
        value = "ctunknown" + uuid.uuid4().hex
        value = value[: schema.get("maxLength", len(value))]
        return value.ljust(schema.get("minLength", 0), "x")
    return None


def upload_for(content_type: str | None, name: str) -> tuple[str, bytes, str]:
    ctype = (content_type or "application/octet-stream").split(",")[0].strip()
    if ctype.startswith("audio/"):
        return (f"{name}.wav", wav_bytes(180), "audio/wav")
    if ctype == "application/pdf":
        return (f"{name}.pdf", pdf_bytes(["Jane Example", "Senior Backend Engineer", "7 years Node.js"]),
                "application/pdf")
    return (name, b"contract-suite", ctype)


def example_request(op: Operation, *, required_only: bool = False, path_values: dict | None = None) -> ExampleRequest:
    """A request built from the contract's examples; skips the test when an example is missing."""
    contract = op.contract
    params: dict[str, str] = {}
    values = dict(path_values or {})
    for param in op.parameters():
        if param.get("in") == "path" and param["name"] not in values:
            value = parameter_example(param, contract)
            if value is None:
                pytest.skip(f"{op.operation_id}: path parameter {param['name']} has no example")
            values[param["name"]] = value
        elif param.get("in") == "query" and param.get("required"):
            value = parameter_example(param, contract)
            if value is None:
                pytest.skip(f"{op.operation_id}: required query parameter {param['name']} has no example")
            params[param["name"]] = str(value)
    request = ExampleRequest(op.method, fill_path(op, values), params)
    media_types = op.request_media_types()
    if not media_types:
        return request
    media_type = media_types[0]
    example = op.request_example(media_type)
    if example is None:
        pytest.skip(f"{op.operation_id}: the contract gives no request-body example")
    schema = op.request_schema(media_type) or {}
    required = set(schema.get("required", []))
    if media_type == "application/json":
        body = example
        if isinstance(example, dict):
            body = {k: v for k, v in example.items() if not (required_only and required and k not in required)
                    and not (k in NETWORK_DEPENDENT_FIELDS and k not in required)}
        request.json = body
        return request
    if media_type == "multipart/form-data":
        body_def = contract.resolve(op.raw.get("requestBody") or {})
        encoding = (body_def.get("content", {}).get(media_type) or {}).get("encoding") or {}
        props = {k: contract.resolve(v) for k, v in (schema.get("properties") or {}).items()}
        files: list[tuple[str, tuple]] = []
        for name, value in example.items():
            if required_only and required and name not in required:
                continue
            if name in NETWORK_DEPENDENT_FIELDS and name not in required:
                continue
            prop = props.get(name, {})
            if prop.get("format") == "binary" or prop.get("contentMediaType") == "application/octet-stream":
                files.append((name, upload_for((encoding.get(name) or {}).get("contentType"), name)))
            else:
                text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
                files.append((name, (None, text.encode("utf-8"))))
        request.files = files
        return request
    pytest.skip(f"{op.operation_id}: no example builder for {media_type}")


def _handler_validated(op: Operation, body_schema: dict) -> list[str]:
    props = {name: op.contract.resolve(sub) for name, sub in ((body_schema or {}).get("properties") or {}).items()}
    return [name for name, sub in props.items() if isinstance(sub, dict) and sub.get("x-validated-by") == "handler"]


FILE_SIGNATURES = {"application/pdf": (b"%PDF-",), "audio/": (b"RIFF", b"ID3", b"\xff\xfb", b"\xff\xf3",
                   b"fLaC", b"OggS", b"\x1aE\xdf\xa3")}


def _real_uploads(case, op: Operation, props: dict) -> None:
    """Upload parts whose bytes are not of their declared type (Schemathesis' coverage and
    examples phases send a tiny PNG for any binary field) get a real file of that type."""
    body_def = op.contract.resolve(op.raw.get("requestBody") or {})
    encoding = (body_def.get("content", {}).get(case.media_type) or {}).get("encoding") or {}
    for name, sub in props.items():
        if name not in case.body or op.contract.resolve(sub).get("format") != "binary":
            continue
        content_type = ((encoding.get(name) or {}).get("contentType") or "").split(",")[0].strip()
        signatures = next((sig for prefix, sig in FILE_SIGNATURES.items() if content_type.startswith(prefix)), None)
        value = case.body[name]
        data = getattr(value, "data", value)
        if signatures and not (isinstance(data, bytes) and data.startswith(signatures)):
            case.body[name] = upload_for(content_type, name)[1]


def _json_text_ok(op: Operation, value: Any, prop: dict) -> bool:
    from jsonschema import Draft202012Validator
    if not isinstance(value, str):
        return False
    try:
        data = json.loads(value)
    except ValueError:
        return False
    schema = prop.get("contentSchema")
    if not schema:
        return True
    return Draft202012Validator(dict(schema, components=op.contract.components)).is_valid(data)


def apply_documented_values(case, op: Operation) -> None:
    """Turn a positive generated case ("valid per the schema") into one that is also valid
    per the rules the schema cannot express, using only what the contract documents:

    - opaque server-issued values (``cursor``: only a ``next_cursor`` the server returned is
      valid, LIST-3) are left out;
    - ``webhook_url`` is left out: its validity depends on public DNS (HOOK-1), which a test
      run cannot promise;
    - fields marked ``x-validated-by: handler`` (e.g. a position config, a corpus id) take
      the docs' example value when required (or, in a JSON body, whenever the example sends
      them) and are left out otherwise; query
      parameters so marked take their own ``example`` (``corpus_id``: mandatory in practice);
    - filters that only work as a pair (``metadata_key`` + ``metadata_value``, LIST-1) are
      left out when only one of them was drawn;
    - JSON-in-a-field values (``contentMediaType: application/json``) that are not JSON of
      their ``contentSchema`` take the docs' example value, or are left out when optional;
    - top-level body fields the docs' example sends but the case lacks are taken from the
      example (rules such as "corpus_id at the top or on every candidate", CVDS-1).
    """
    if isinstance(case.query, dict):
        for param in op.parameters():
            param = op.contract.resolve(param)
            if param.get("in") == "query" and param.get("x-validated-by") == "handler" and "example" in param:
                case.query[param["name"]] = param["example"]  # e.g. corpus_id: mandatory in practice
        for name in SERVER_ISSUED_PARAMETERS:
            case.query.pop(name, None)
        for pair in PAIRED_PARAMETERS:
            present = [name for name in pair if name in case.query]
            if len(present) != len(pair):
                for name in present:
                    case.query.pop(name)
    if not isinstance(case.body, dict) or case.media_type is None:
        return
    body_schema = op.request_schema(case.media_type) or {}
    example = op.request_example(case.media_type)
    example = example if isinstance(example, dict) else {}
    required = set(body_schema.get("required", []))
    for name in NETWORK_DEPENDENT_FIELDS:
        if name not in required:
            case.body.pop(name, None)
    handler = _handler_validated(op, body_schema)
    for name in handler:
        # JSON bodies: a handler-checked field the example sends is sent as the example does
        # (CV DeepSearch `corpus_id`, fail-closed); multipart: only when required.
        if name in example and (name in required or case.media_type == "application/json"):
            case.body[name] = example[name]
        else:
            case.body.pop(name, None)
    props = body_schema.get("properties") or {}
    _real_uploads(case, op, props)
    for name, sub in props.items():
        sub = op.contract.resolve(sub)
        if name in case.body and isinstance(sub, dict) and sub.get("contentMediaType") == "application/json" \
                and not _json_text_ok(op, case.body[name], sub):
            if name in example:
                case.body[name] = example[name] if isinstance(example[name], str) else \
                    json.dumps(example[name], separators=(",", ":"))
            elif name not in required:
                case.body.pop(name)
    for name, value in example.items():
        if name in case.body or name in handler or name in NETWORK_DEPENDENT_FIELDS:
            continue
        prop = op.contract.resolve(props.get(name, {}))
        if isinstance(prop, dict) and prop.get("format") == "binary":
            continue
        case.body[name] = value
