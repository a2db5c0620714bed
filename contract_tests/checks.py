"""The suite's own response checks, written once as plain functions over an observed
response and registered with Schemathesis (`@schemathesis.check`) so the same rules run in
the pytest suite, in behaviour tests, and in the Schemathesis CLI
(`SCHEMATHESIS_HOOKS=contract_tests.checks st run …`).

- ``zenhire_error_envelope`` (ERR-1, AUTH-2): every 4xx/5xx the contract documents with the
  error envelope — or does not document at all — is exactly ``{"error": {code, message,
  timestamp, requestId?, retryAfterSeconds?, details?}}``; a 401 carries no ``requestId``.
- ``zenhire_retry_after`` (ERR-3, POLL-1, CLOCK-2): a 429/503 envelope carries ``Retry-After``
  equal to ``retryAfterSeconds``; any ``Retry-After`` is a positive integer of seconds.
- ``zenhire_id_formats`` (ERR-1, ERR-2, META-4): ``requestId`` and ``timestamp`` formats; a
  body with a top-level ``id`` has no ``requestId``/``request_id``/``session_id`` alias.
- ``zenhire_no_pii`` (CVDM-4, CVDS-5, LIST-4, INTV-3): ``parsed_cv``/``cv_parser_result``
  only where the contract declares them for that response, and a candidate token is never
  seen twice (it is returned once, at session creation).
- ``zenhire_compact_json`` (JSON-1): 2xx JSON is compact, and a greedy ``sed`` for
  ``"id"``/``"status"`` finds the top-level values.

Every function returns a list of problems (empty = fine); ``assert_*`` helpers raise.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

from .contract import Contract, Operation

REQUEST_ID = re.compile(r"^req_[0-9]{13}_[A-Za-z0-9]+$")
TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$")
ERROR_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
SECONDS = re.compile(r"^[1-9][0-9]*$")
ENVELOPE_KEYS = {"code", "message", "timestamp", "requestId", "retryAfterSeconds", "details"}
ID_ALIASES = ("requestId", "request_id", "session_id")
PII_KEYS = ("parsed_cv", "cv_parser_result")
TOKEN_IN_LINK = re.compile(r"#t=([A-Za-z0-9._~%+/=-]{8,})")
TOKEN_KEYS = ("token", "candidate_token", "raw_token")


@dataclass
class Observed:
    """One HTTP response, reduced to what the checks read."""

    status: int
    headers: dict[str, str]
    content: bytes
    method: str = "GET"
    path: str = ""
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @classmethod
    def from_httpx(cls, resp) -> "Observed":
        return cls(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content,
                   resp.request.method if resp.request else "GET", resp.request.url.path if resp.request else "")

    @classmethod
    def from_schemathesis(cls, response, case) -> "Observed":
        headers = {k.lower(): (v[0] if isinstance(v, list) and v else v) for k, v in response.headers.items()}
        return cls(response.status_code, headers, response.content or b"", case.method.upper(), case.path)

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def is_json(self) -> bool:
        return self.media_type == "application/json" or self.media_type.endswith("+json")

    def json(self) -> Any:
        if not self._parsed:
            self._parsed = True
            try:
                self._json = json.loads(self.content) if self.content else None
            except ValueError:
                self._json = None
        return self._json


# --------------------------------------------------------------------------- envelope

def envelope_problems(obs: Observed, op: Operation | None = None) -> list[str]:
    """ERR-1 / AUTH-2 for one response. Statuses below 400 and statuses the contract
    documents with a non-envelope body (the health 503, A7) are out of scope."""
    if obs.status < 400:
        return []
    if op is not None and not op.is_envelope_response(obs.status):
        return []
    where = f"{obs.status} response"
    if not obs.is_json:
        return [f"{where}: Content-Type is {obs.headers.get('content-type')!r}, not application/json"]
    body = obs.json()
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body.get("error"), dict):
        return [f"{where}: body is not the envelope {{\"error\": {{...}}}}: {obs.content[:200]!r}"]
    err = body["error"]
    problems = []
    for key in ("code", "message", "timestamp"):
        if key not in err:
            problems.append(f"{where}: error.{key} is missing")
    extra = set(err) - ENVELOPE_KEYS
    if extra:
        problems.append(f"{where}: unexpected error fields {sorted(extra)}")
    code = err.get("code")
    if "code" in err and not (isinstance(code, str) and ERROR_CODE.match(code)):
        problems.append(f"{where}: error.code {code!r} is not UPPER_SNAKE_CASE")
    if "message" in err and not (isinstance(err["message"], str) and err["message"].strip()):
        problems.append(f"{where}: error.message must be a non-empty string")
    if "details" in err and not isinstance(err["details"], dict):
        problems.append(f"{where}: error.details must be an object")
    fields = (err.get("details") or {}).get("fields") if isinstance(err.get("details"), dict) else None
    if fields is not None:
        if not isinstance(fields, dict) or not all(
                isinstance(v, list) and v and all(isinstance(m, str) for m in v) for v in fields.values()):
            problems.append(f"{where}: error.details.fields must map field paths to non-empty lists of messages")
    if obs.status == 401 and "requestId" in err:
        problems.append("401 response: a middleware rejection carries no error.requestId (AUTH-2)")
    if "retryAfterSeconds" in err:
        value = err["retryAfterSeconds"]
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            problems.append(f"{where}: error.retryAfterSeconds {value!r} is not a positive integer")
    if op is not None and isinstance(code, str):
        documented = op.documented_codes(obs.status)
        if documented and code not in documented:
            problems.append(f"{where}: code {code} is not documented for {op.operation_id} "
                            f"{obs.status} ({', '.join(documented)})")
    return problems + format_problems(obs)


def retry_after_problems(obs: Observed, op: Operation | None = None) -> list[str]:
    """ERR-3: 429 and 503 envelopes carry Retry-After == error.retryAfterSeconds; CLOCK-2:
    any Retry-After is a whole number of seconds."""
    problems = []
    header = obs.headers.get("retry-after")
    if header is not None and not SECONDS.match(header.strip()):
        problems.append(f"Retry-After {header!r} is not a positive whole number of seconds")
    if obs.status not in (429, 503):
        return problems
    if op is not None and not op.is_envelope_response(obs.status):
        return problems
    body = obs.json()
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return problems
    seconds = err.get("retryAfterSeconds")
    required = obs.status == 429 or err.get("code") == "SERVICE_WARMING_UP"
    if not required and seconds is None and header is None:
        return problems
    if header is None:
        problems.append(f"{obs.status} {err.get('code')}: the Retry-After header is missing")
    if seconds is None:
        problems.append(f"{obs.status} {err.get('code')}: error.retryAfterSeconds is missing")
    if header is not None and seconds is not None and header.strip() != str(seconds):
        problems.append(f"{obs.status} {err.get('code')}: Retry-After {header!r} != retryAfterSeconds {seconds!r}")
    return problems


def format_problems(obs: Observed) -> list[str]:
    """ERR-1/ERR-2 formats wherever an envelope appears; META-4 on bodies with a top-level id."""
    body = obs.json()
    problems = []
    if not isinstance(body, dict):
        return problems
    err = body.get("error")
    if isinstance(err, dict) and obs.status >= 400:
        ts = err.get("timestamp")
        if ts is not None and not (isinstance(ts, str) and TIMESTAMP.match(ts)):
            problems.append(f"error.timestamp {ts!r} is not ISO 8601 UTC with milliseconds (…T12:34:56.789Z)")
        rid = err.get("requestId")
        if rid is not None and not (isinstance(rid, str) and REQUEST_ID.match(rid)):
            problems.append(f"error.requestId {rid!r} does not look like req_<13-digit ms>_<alphanumerics>")
    if obs.status < 300 and "id" in body:
        aliases = [k for k in ID_ALIASES if k in body]
        if aliases:
            problems.append(f"a body with a canonical id also carries alias(es) {aliases} (META-4)")
    return problems


# --------------------------------------------------------------------------- PII

class TokenWatch:
    """Candidate tokens seen so far: a raw token may be returned once, never again (INTV-3)."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self._lock = threading.Lock()

    def problems(self, obs: Observed, where: str) -> list[str]:
        body = obs.json()
        if body is None:
            return []
        found = set(_tokens_in(body))
        problems = []
        with self._lock:
            for token in found:
                first = self.seen.get(token)
                if first is not None and first != where:
                    problems.append(f"a candidate token first returned by {first} was returned again "
                                    f"(INTV-3: the raw token appears only in the session-creation response)")
                self.seen.setdefault(token, where)
        return problems


TOKENS = TokenWatch()


def _tokens_in(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TOKEN_KEYS and isinstance(value, str) and len(value) >= 8:
                yield value
            yield from _tokens_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _tokens_in(value)
    elif isinstance(node, str):
        for match in TOKEN_IN_LINK.finditer(node):
            yield match.group(1)


def _pii_paths(node: Any, path: str = "") -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else key
            if key in PII_KEYS and value is not None:
                yield here
            yield from _pii_paths(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _pii_paths(value, f"{path}[{i}]")


def pii_problems(obs: Observed, op: Operation | None, tokens: TokenWatch | None = TOKENS,
                 request_tag: str | None = None) -> list[str]:
    """PII keys must be declared by the contract for this very response (poll: yes; lists and
    webhooks: no), and a candidate token must never be returned twice."""
    if obs.status >= 300 or not obs.is_json:
        return []
    body = obs.json()
    problems = []
    paths = list(_pii_paths(body))
    if paths:
        declared: set[str] = set()
        if op is not None:
            resp = op.response(obs.status) or {}
            for media in resp.get("content", {}).values():
                declared |= op.contract.declared_property_names(media.get("schema", {}))
        leaked = [p for p in paths if p.rsplit(".", 1)[-1].split("[")[0] not in declared]
        if leaked:
            problems.append(f"PII field(s) {leaked} in a response whose contract does not declare them "
                            f"(parsed CVs and parser results are never in lists or webhooks)")
    if tokens is not None:
        problems += tokens.problems(obs, request_tag or f"{obs.method} {obs.path}")
    return problems


# --------------------------------------------------------------------------- JSON-1

def compact_json_problems(obs: Observed) -> list[str]:
    """JSON-1: no whitespace outside strings; the greedy `sed` of the docs' bash loop
    (`.*"status":"\\([^"]*\\)"`) must find the top-level id/status values."""
    if obs.status >= 300 or not obs.is_json or not obs.content:
        return []
    text = obs.content.decode("utf-8", errors="replace")
    problems = []
    if _has_whitespace_outside_strings(text):
        problems.append("JSON body is not compact (whitespace between tokens)")
    body = obs.json()
    if isinstance(body, dict):
        for key in ("id", "status"):
            value = body.get(key)
            if isinstance(value, str):
                found = re.findall(r'"%s":"([^"]*)"' % key, text)
                if not found or found[-1] != value:
                    problems.append(f"a greedy sed for \"{key}\" finds {found[-1] if found else None!r}, "
                                    f"not the top-level {key} {value!r} (JSON-1: top-level {key} last)")
    return problems


def _has_whitespace_outside_strings(text: str) -> bool:
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in " \t\r\n":
            return True
    return False


# --------------------------------------------------------------------------- asserting helpers

def parse_timestamp(text: str) -> float:
    """Epoch seconds of an ERR-1 timestamp (raises AssertionError when malformed)."""
    from datetime import datetime
    assert isinstance(text, str) and TIMESTAMP.match(text), f"{text!r} is not ISO 8601 UTC with milliseconds"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def assert_no_problems(problems: list[str]) -> None:
    __tracebackhide__ = True
    if problems:
        raise AssertionError("; ".join(problems))


def assert_error(resp, status: int, code: str | Iterable[str] | None = None, op: Operation | None = None) -> dict:
    """Assert an httpx response is the error envelope with this status (and code); returns `error`."""
    __tracebackhide__ = True
    obs = Observed.from_httpx(resp)
    assert obs.status == status, f"expected HTTP {status}, got {obs.status}: {obs.content[:300]!r}"
    assert_no_problems(envelope_problems(obs, op) + retry_after_problems(obs, op))
    err = obs.json()["error"]
    if code is not None:
        codes = [code] if isinstance(code, str) else list(code)
        assert err["code"] in codes, f"expected code {' or '.join(codes)}, got {err['code']}"
    return err


# --------------------------------------------------------------------------- Schemathesis

_CONTRACTS: dict[int, Contract] = {}


def _operation_of(case) -> Operation | None:
    raw = case.operation.schema.raw_schema
    contract = _CONTRACTS.get(id(raw))
    if contract is None:
        contract = _CONTRACTS[id(raw)] = Contract(raw)
    method = case.method.lower()
    for op in contract:
        if op.method == method and op.path == case.operation.path:
            return op
    return None


def _register() -> None:
    import schemathesis

    @schemathesis.check
    def zenhire_error_envelope(ctx, response, case):
        """ERR-1/AUTH-2: every 4xx/5xx is the standard error envelope (401 without requestId)."""
        assert_no_problems(envelope_problems(Observed.from_schemathesis(response, case), _operation_of(case)))

    @schemathesis.check
    def zenhire_retry_after(ctx, response, case):
        """ERR-3: Retry-After equals error.retryAfterSeconds on 429/503; whole seconds."""
        assert_no_problems(retry_after_problems(Observed.from_schemathesis(response, case), _operation_of(case)))

    @schemathesis.check
    def zenhire_id_formats(ctx, response, case):
        """ERR-1/ERR-2/META-4: requestId and timestamp formats; no id aliases."""
        assert_no_problems(format_problems(Observed.from_schemathesis(response, case)))

    @schemathesis.check
    def zenhire_no_pii(ctx, response, case):
        """CVDM-4/CVDS-5/INTV-3: no undeclared PII; a candidate token is returned once."""
        obs = Observed.from_schemathesis(response, case)
        assert_no_problems(pii_problems(obs, _operation_of(case), request_tag=f"case {id(case)}"))

    @schemathesis.check
    def zenhire_compact_json(ctx, response, case):
        """JSON-1: compact JSON with the top-level id/status found by a greedy sed."""
        assert_no_problems(compact_json_problems(Observed.from_schemathesis(response, case)))

    globals().update(zenhire_error_envelope=zenhire_error_envelope, zenhire_retry_after=zenhire_retry_after,
                     zenhire_id_formats=zenhire_id_formats, zenhire_no_pii=zenhire_no_pii,
                     zenhire_compact_json=zenhire_compact_json)


_register()
CUSTOM_CHECK_NAMES = ("zenhire_error_envelope", "zenhire_retry_after", "zenhire_id_formats",
                      "zenhire_no_pii", "zenhire_compact_json")
