"""Reads a request's parameters and body and validates them against the contract.

Produces a `RequestInput` for the handler, or raises the documented 400 (with
`details.fields`, ERR-4) — never a framework 422. Bodies are read as a stream with a byte
cap, so an oversized upload is refused without being held in memory; multipart files are
spooled by Starlette's parser (memory up to 1 MB, then a temporary file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from ..contract import Operation, ParamSpec
from ..errors import ApiError, validation_error
from .unknown_fields import IGNORE, REJECT, strip, undeclared_paths


@dataclass(frozen=True)
class BodyLimit:
    """Largest body an operation accepts, and the documented error past it."""

    max_bytes: int
    status: int
    code: str
    field: str = "body"
    file_field: str | None = None


DEFAULT_LIMIT = BodyLimit(max_bytes=1024 * 1024, status=400, code="INVALID_INPUT")


@dataclass
class RequestInput:
    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadFile] = field(default_factory=dict)
    json: Any = None
    json_fields: dict[str, Any] = field(default_factory=dict)

    async def close(self) -> None:
        for upload in self.files.values():
            await upload.close()


class _TooLarge(Exception):
    pass


def field_path(parts: list) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def describe(kind: Any, fallback: str) -> str:
    """A message built from the schema's constraint, never quoting the submitted value
    (which may be a whole batch of CVs: PII must not be echoed back)."""
    name = type(kind).__name__
    limit = getattr(kind, "limit", None)
    texts = {
        "MaxItems": lambda: f"At most {_plural(limit, 'item')}.",
        "MinItems": lambda: f"At least {_plural(limit, 'item')}.",
        "MaxLength": lambda: f"At most {_plural(limit, 'character')}.",
        "MinLength": lambda: f"At least {_plural(limit, 'character')}.",
        "MaxProperties": lambda: f"At most {_plural(limit, 'key')}.",
        "MinProperties": lambda: f"At least {_plural(limit, 'key')}.",
        "Maximum": lambda: f"Must be at most {limit}.",
        "Minimum": lambda: f"Must be at least {limit}.",
        "ExclusiveMaximum": lambda: f"Must be less than {limit}.",
        "ExclusiveMinimum": lambda: f"Must be greater than {limit}.",
        "MultipleOf": lambda: f"Must be a multiple of {getattr(kind, 'multiple_of', limit)}.",
        "Type": lambda: "Must be of type " + " or ".join(t for t in getattr(kind, "types", []) if t) + ".",
        "Enum": lambda: "Must be one of: " + ", ".join(json.dumps(o) for o in getattr(kind, "options", [])) + ".",
        "Constant": lambda: f"Must be {json.dumps(getattr(kind, 'expected_value', None))}.",
        "Pattern": lambda: f"Must match the pattern {getattr(kind, 'pattern', '')}.",
        "Format": lambda: f"Must be a valid {getattr(kind, 'format', 'value')}.",
        "UniqueItems": lambda: "Items must be distinct.",
        "OneOfNotValid": lambda: "Does not match any of the allowed shapes.",
        "OneOfMultipleValid": lambda: "Matches more than one of the allowed shapes.",
        "AnyOf": lambda: "Does not match any of the allowed shapes.",
        "PropertyNames": lambda: "Contains a key that is not allowed.",
        "FalseSchema": lambda: "Not allowed.",
    }
    try:
        if name in texts:
            return texts[name]()
    except (TypeError, ValueError):
        pass
    return fallback if len(fallback) <= 120 else fallback[:117] + "..."


def _errors(validator, instance: Any, prefix: list) -> list[tuple[list, str, str]]:
    """(path, message, failing keyword) for every violation."""
    found = []
    for err in validator.iter_errors(instance):
        path = prefix + list(err.instance_path)
        kind = err.kind
        name = type(kind).__name__
        if name == "Required":
            found.append((path + [kind.property], "This field is required.", "required"))
        elif name == "AdditionalProperties":
            for extra in kind.unexpected:
                found.append((path + [extra], "Unknown field.", "additionalProperties"))
        else:
            found.append((path, describe(kind, "Invalid value."), name[:1].lower() + name[1:]))
    return found


def _raise(op: Operation, problems: list[tuple[list, str, str]], field_codes: dict[str, str],
           order: list[str], field_keywords: dict[str, str] | None = None) -> None:
    """The documented 400. The code is the first failing field's `x-error-code` (in the
    schema's property order) — scoped, when the field has `x-error-code-keyword`, to that
    keyword failing on the field itself — else the operation's default code."""
    fields: dict[str, list[str]] = {}
    for path, message, _kw in problems:
        fields.setdefault(field_path(path) or "body", []).append(message)
    rank = {name: i for i, name in enumerate(order)}
    keywords = field_keywords or {}

    def coded(problem) -> bool:
        path, _message, keyword = problem
        if not path or str(path[0]) not in field_codes:
            return False
        scope = keywords.get(str(path[0]))
        return scope is None or (len(path) == 1 and keyword == scope)

    hits = sorted((p for p in problems if coded(p)), key=lambda p: rank.get(str(p[0][0]), len(rank)))
    code = field_codes[str(hits[0][0][0])] if hits else op.validation_code
    raise validation_error(code, fields)


def coerce_param(spec: ParamSpec, raw: str) -> Any:
    kind = spec.kind
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw  # left as text: the schema reports the type error
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    return raw


def parse_params(op: Operation, request: Request, path_values: dict[str, str]) -> tuple[dict, dict]:
    """Validated path and query parameters (404 for a malformed path id, 400 otherwise)."""
    path: dict[str, Any] = {}
    for name, raw in path_values.items():
        spec = op.path_params.get(name)
        value = coerce_param(spec, raw) if spec else raw
        if spec is not None and not spec.validator.is_valid(value):
            codes = op.documented_codes(404) or ["NOT_FOUND"]
            raise ApiError(404, codes[0])
        path[name] = value
    query: dict[str, Any] = {}
    problems: list[tuple[list, str, str]] = []
    codes: dict[str, str] = {}
    qp = request.query_params if request.scope.get("query_string") else None  # none sent: nothing to parse
    for name, spec in op.query_params.items():
        if spec.error_code:
            codes[name] = spec.error_code
        values = qp.getlist(name) if qp is not None else ()
        if not values:
            if spec.required:
                problems.append(([name], "This parameter is required.", "required"))
            continue
        value = coerce_param(spec, values[-1])
        problems.extend(_errors(spec.validator, value, [name]))
        query[name] = value
    if problems:
        _raise(op, problems, codes, list(op.query_params))
    return path, query


async def _capped_stream(request: Request, limit: BodyLimit) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit.max_bytes:
            raise _TooLarge()
        yield chunk


def _size_text(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 and mb == round(mb, 2) else f"{n} bytes"


def _too_large(limit: BodyLimit) -> ApiError:
    name = limit.file_field or limit.field
    return ApiError(limit.status, limit.code,
                    details={"fields": {name: [f"Must be at most {_size_text(limit.max_bytes)}."]}}
                    if limit.status == 400 else {"maxBytes": limit.max_bytes})


async def read_body(op: Operation, request: Request, limit: BodyLimit | None,
                    file_slack: int = 256 * 1024, *, unknown_fields: str = IGNORE) -> RequestInput:
    """Read and validate the body of ``request`` for ``op`` (params are handled apart).

    Fields the contract does not declare are dropped (``unknown_fields="ignore"``) or
    reported as "Unknown field." (``"reject"``): see ``unknown_fields``."""
    result = RequestInput()
    body = op.body
    if body is None:
        return result
    limit = limit or DEFAULT_LIMIT
    stream_cap = BodyLimit(limit.max_bytes + (file_slack if limit.file_field else 0),
                           limit.status, limit.code, limit.field, limit.file_field)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > stream_cap.max_bytes:
        raise _too_large(limit)
    content_type = request.headers.get("content-type", "")
    if body.media_type == "multipart/form-data":
        form = FormData()
        if content_type.startswith("multipart/form-data"):
            parser = MultiPartParser(request.headers, _capped_stream(request, stream_cap),
                                     max_files=20, max_fields=200, max_part_size=1024 * 1024)
            try:
                form = await parser.parse()
            except _TooLarge:
                raise _too_large(limit) from None
            except MultiPartException as exc:
                raise validation_error(op.validation_code, {"body": [str(exc)]}) from None
            except (ValueError, KeyError, UnicodeDecodeError):
                raise validation_error(op.validation_code, {"body": ["Malformed multipart body."]}) from None
        else:
            await _drain(request, stream_cap, limit)
        try:
            _collect_form(form, body, result)
            _validate_form(op, result, reject_unknown=unknown_fields == REJECT)
        except ApiError:
            await result.close()
            raise
        if limit.file_field and limit.file_field in result.files:
            upload = result.files[limit.file_field]
            if (upload.size or 0) > limit.max_bytes:
                await result.close()
                raise _too_large(limit)
        return result
    # JSON body
    chunks = []
    try:
        async for chunk in _capped_stream(request, stream_cap):
            chunks.append(chunk)
    except _TooLarge:
        raise _too_large(limit) from None
    raw = b"".join(chunks)
    if not raw.strip():
        if body.required:
            raise validation_error(op.validation_code, {"body": ["A JSON body is required."]})
        return result
    if content_type and "json" not in content_type:
        raise validation_error(op.validation_code, {"body": ["Content-Type must be application/json."]})
    try:
        result.json = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise validation_error(op.validation_code, {"body": ["Malformed JSON."]}) from None
    problems = _errors(body.validator, result.json, [])
    undeclared = undeclared_paths(body.schema, result.json, op._spec_components)
    if unknown_fields == REJECT:
        problems += [(path, "Unknown field.", "additionalProperties") for path in undeclared]
    if problems:
        _raise(op, problems, body.field_codes, body.properties, body.field_keywords)
    strip(result.json, undeclared)
    return result


async def _drain(request: Request, cap: BodyLimit, limit: BodyLimit) -> None:
    try:
        async for _ in _capped_stream(request, cap):
            pass
    except _TooLarge:
        raise _too_large(limit) from None


def _collect_form(form: FormData, body, result: RequestInput) -> None:
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name in body.file_fields and name not in result.files:
                result.files[name] = value
            elif name not in body.file_fields:
                # A file sent where text is expected: keep its name so validation can speak of it.
                result.form.setdefault(name, value.filename or "")
        else:
            if name in body.file_fields:
                continue  # text where a file is expected: the file is missing
            result.form.setdefault(name, value)


def _validate_form(op: Operation, result: RequestInput, *, reject_unknown: bool = False) -> None:
    body = op.body
    instance: dict[str, Any] = dict(result.form)
    for name in result.files:
        instance[name] = "<binary>"
    problems = _errors(body.validator, instance, [])
    undeclared = undeclared_paths(body.schema, instance, op._spec_components)
    if reject_unknown:
        problems += [(path, "Unknown field.", "additionalProperties") for path in undeclared]
    else:
        for path in undeclared:  # ignored: the handler never sees them
            result.form.pop(path[0], None)
    for name, validator in body.json_text_fields.items():
        text = result.form.get(name)
        if text is None:
            continue
        try:
            parsed = json.loads(text)
        except ValueError:
            problems.append(([name], "Not valid JSON.", "contentMediaType"))
            continue
        result.json_fields[name] = parsed
        if validator is not None:
            problems.extend(_errors(validator, parsed, [name]))
    if problems:
        _raise(op, problems, body.field_codes, body.properties)
