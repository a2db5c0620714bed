"""The few extra fields each journal entry carries so client grading can read the journal alone.

Called by the pipeline for every API request; kept cheap (dictionary reads and one small
hash, no body is read twice except the first 64 KiB of an upload):

- ``fp``: a fingerprint of "the same request": method, path, query, form fields and JSON body
  (``idempotency_key`` left out) and, per uploaded file, its size and a hash of its first
  64 KiB. When the body could not be parsed (a 400 from validation) the declared
  ``Content-Length`` stands in for it.
- ``idem``: a short hash of the ``idempotency_key`` sent, when one was; ``keyId`` the same for
  the API key (masked keys of one project often look alike).
- ``run``: the run a read is about (the path's ``id``/``sessionId``), or the run a submit created
  (the answer's ``id``).
- ``code``, ``retryAfter``, ``pollInterval``, ``runStatus``: the error code, the
  ``Retry-After`` header, the ``pollIntervalSeconds`` and the ``status`` of the answer.
- ``client`` and ``key`` (masked) for a 401 whose key the registry knows (expired, revoked,
  inactive client), so that such requests count for the client that owns the key.

Nothing secret is kept: keys are masked, idempotency keys and bodies are hashed.

Most requests carry no body and a key the registry resolved (or none): their facts follow
from what the journal keeps of every line anyway (method, path, query, the raw headers), so
`request_facts` answers None for them and the journal derives them when a line is read
(`facts_from_line`, the same hashes): a request pays for no hashing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

log = logging.getLogger("zenhire_mock")

HEAD_BYTES = 64 * 1024
RUN_PATH_PARAMS = ("id", "sessionId")
IDEMPOTENCY_FIELD = "idempotency_key"


def _short(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _file_head(upload: Any) -> bytes:
    handle = getattr(upload, "file", None)
    if handle is None or getattr(handle, "closed", False):
        return b""
    try:
        position = handle.tell()
        handle.seek(0)
        head = handle.read(HEAD_BYTES)
        handle.seek(position)
        return head if isinstance(head, bytes) else b""
    except (OSError, ValueError):
        return b""


def request_facts(ctx: Any, path_values: dict[str, str]) -> dict[str, Any] | None:
    """Fingerprint, idempotency key hash, path run id and 401 attribution of one request, or
    None when `facts_from_line` derives the same from the journal line (no body read, no key
    left for the registry to attribute). Never raises: a grading bug must not break a request."""
    try:
        data = ctx.input
        if not (data.form or data.files or data.json is not None) and (
                ctx.client is not None or not _sends_key(ctx.request.scope["headers"])):
            return None
        return _request_facts(ctx, path_values)
    except Exception:  # pragma: no cover - defensive
        log.exception("journal facts of a request")
        return {}


def _request_facts(ctx: Any, path_values: dict[str, str]) -> dict[str, Any]:
    request, data = ctx.request, ctx.input
    digest = hashlib.blake2b(digest_size=8)
    digest.update(f"{request.method} {request.scope['path']}?{request.scope.get('query_string', b'').decode('latin-1')}".encode())
    idem = None
    if data.form or data.files or data.json is not None:
        form = {k: v for k, v in data.form.items() if k != IDEMPOTENCY_FIELD}
        idem = data.form.get(IDEMPOTENCY_FIELD)
        body = data.json
        if isinstance(body, dict):
            idem = idem or body.get(IDEMPOTENCY_FIELD)
            body = {k: v for k, v in body.items() if k != IDEMPOTENCY_FIELD}
        digest.update(json.dumps([form, body], sort_keys=True, default=str).encode())
        for name in sorted(data.files):
            upload = data.files[name]
            digest.update(f"|{name}|{upload.size}|".encode())
            digest.update(_file_head(upload))
    else:
        digest.update(b"|len=" + request.headers.get("content-length", "0").encode())
    facts: dict[str, Any] = {"fp": digest.hexdigest()}
    if isinstance(idem, str) and idem:
        facts["idem"] = _short(idem.encode())
    for name in RUN_PATH_PARAMS:
        if name in path_values:
            facts["run"] = path_values[name]
            break
    raw = request.headers.get("x-api-key") or ""
    if not raw and request.headers.get("authorization", "").lower().startswith("bearer "):
        raw = request.headers["authorization"][7:].strip()
    if raw:
        facts["keyId"] = _short(raw.encode())
        key = ctx.platform.registry.keys.get(raw) if ctx.client is None else None
        if key is not None:
            facts["client"], facts["key"] = key.client_id, key.masked()
    return facts


def _sends_key(raw_headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name == b"x-api-key" or name == b"authorization" for name, _ in raw_headers)


def _first(pairs: list[tuple[str, str]], name: str) -> str | None:
    for key, value in pairs:
        if key == name:
            return value
    return None


def facts_from_line(method: str, path: str, query_string: bytes, header_pairs: list[tuple[str, str]],
                    path_run: str | None) -> dict[str, Any]:
    """What `_request_facts` computes for a request without a body whose key needed no
    attribution, from its journal line: ``header_pairs`` are its raw headers (lower-case
    names, latin-1 values, in order), ``path_run`` the path's ``id``/``sessionId``."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(f"{method} {path}?{query_string.decode('latin-1')}".encode())
    digest.update(b"|len=" + (_first(header_pairs, "content-length") or "0").encode())
    facts: dict[str, Any] = {"fp": digest.hexdigest()}
    if path_run is not None:
        facts["run"] = path_run
    raw = _first(header_pairs, "x-api-key") or ""
    authorization = _first(header_pairs, "authorization") or ""
    if not raw and authorization.lower().startswith("bearer "):
        raw = authorization[7:].strip()
    if raw:
        facts["keyId"] = _short(raw.encode())
    return facts


def path_run_of(path_values: dict[str, str]) -> str | None:
    """The run a request's path names (its ``id`` or ``sessionId``), as ``run`` records it."""
    for name in RUN_PATH_PARAMS:
        if name in path_values:
            return path_values[name]
    return None


def reply_facts(op: Any, reply: Any) -> dict[str, Any]:
    """Error code, Retry-After, pollIntervalSeconds, status and created run of one answer."""
    try:
        return _reply_facts(op, reply)
    except Exception:  # pragma: no cover - defensive
        log.exception("journal facts of a reply")
        return {}


def _reply_facts(op: Any, reply: Any) -> dict[str, Any]:
    if op is None:
        return {}
    facts: dict[str, Any] = {}
    retry = reply.headers.get("Retry-After")
    if retry is not None and retry.isdigit():
        facts["retryAfter"] = int(retry)
    body = reply.body
    if not isinstance(body, dict):
        return facts
    if reply.status >= 400:
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            facts["code"] = error["code"]
        return facts
    if isinstance(body.get("pollIntervalSeconds"), int):
        facts["pollInterval"] = body["pollIntervalSeconds"]
    if isinstance(body.get("status"), str):
        facts["runStatus"] = body["status"]
    if op.submit and isinstance(body.get("id"), str):
        facts["run"] = body["id"]
        if body.get("idempotent_replay") is True:
            facts["replay"] = True
    return facts
