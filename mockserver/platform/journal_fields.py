"""What a journal entry adds beyond the request line, for the console's request view:
the module, the run the request created or read, the request headers (secrets masked) and
short excerpts of the request and response bodies with candidate tokens and webhook
secrets masked (INTV-3: a token must never be readable from the journal).

Everything here is cheap: the response bytes are already rendered, the request's JSON or
form fields are already parsed, and excerpts are capped at ``EXCERPT_BYTES``. Files are
described by name and size, never by content.
"""

from __future__ import annotations

import re
from typing import Any

from ..json_writer import RenderedDict, encode_text

EXCERPT_BYTES = 1024
MASK = "[masked]"  # ASCII keeps the excerpts compact strings (1 byte per character)
SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie",
                            "x-mock-control-token"})
_CANDIDATE_TOKEN = re.compile(r"#t=[A-Za-z0-9_\-]+")
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9_\-]+")
_TOKEN_FIELD = re.compile(r'("(?:token|candidate_token|secret|webhook_secret|api_key)"\s*:\s*)"[^"]*"')
_RUN_PATH_PARAMS = ("id", "sessionId")


def mask_text(text: str) -> str:
    """``text`` with candidate tokens, ``whsec_`` secrets and token-named JSON fields masked.
    (Each pattern runs only where its fixed part occurs: most texts hold none, and this runs
    on every request.)"""
    if "#t=" in text:
        text = _CANDIDATE_TOKEN.sub("#t=" + MASK, text)
    if "whsec_" in text:
        text = _WEBHOOK_SECRET.sub("whsec_" + MASK, text)
    if 'token"' in text or 'secret"' in text or 'api_key"' in text:  # every name _TOKEN_FIELD matches
        text = _TOKEN_FIELD.sub(r'\1"' + MASK + '"', text)
    return text


def excerpt(raw: bytes | str | None) -> str | None:
    """The first ``EXCERPT_BYTES`` of a body as masked text (None when empty)."""
    if not raw:
        return None
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    cut = raw[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    if len(raw) > EXCERPT_BYTES:
        cut += f"... ({len(raw)} bytes in all)"
    return mask_text(cut)


def masked_headers(headers) -> str:
    """Request headers (name/value pairs), one ``name: value`` per line, with every credential
    cut to its first characters and a mask; `header_lines` reads them back."""
    lines = []
    for name, value in headers:
        lower = name.lower()
        if lower == "referer":
            value = value.split("?", 1)[0].split("#", 1)[0]  # a query or fragment may carry a secret
        value = (value[:6] + MASK if len(value) > 12 else MASK) if lower in SECRET_HEADERS else mask_text(value)
        lines.append(f"{lower}: {value}")
    return "\n".join(lines)


def header_lines(text: str | None) -> dict[str, str]:
    """The headers `masked_headers` kept, as a mapping (a repeated header keeps its last value)."""
    pairs = (line.split(": ", 1) for line in (text or "").splitlines() if ": " in line)
    return {name: value for name, value in pairs}


def request_excerpt(ctx) -> str | None:
    """The request body as the handler saw it: JSON, or form fields with files by name and size."""
    if ctx is None:
        return None
    data = ctx.input
    if data.json is not None:
        return excerpt(encode_text(data.json))
    if data.form or data.files:
        fields: dict[str, Any] = dict(data.form)
        for name, upload in data.files.items():
            fields[name] = f"<file {upload.filename or '?'}, {upload.size if upload.size is not None else '?'} bytes>"
        return excerpt(encode_text(fields))
    return None


def response_head(response, media_type: str | None, reply_body: Any = None) -> tuple[bytes, int] | None:
    """The first bytes of a rendered text/JSON response body and its length (a streamed
    body — audio, large results — is not kept); masked and decoded only when read.

    For a kept answer (``reply_body`` a `RenderedDict`, the same bytes on every request) the
    excerpt is made once and shared by its lines: the journal block that holds many of them
    stores it once (marshal writes a repeated object as a reference), so it costs neither the
    compression of another KiB nor its memory."""
    if type(reply_body) is RenderedDict:
        head = reply_body.journal_head
        if head is None:
            head = reply_body.journal_head = response_head(response, media_type)
        return head
    body = getattr(response, "body", None)
    media = media_type or ""
    if not body or not ("json" in media or media.startswith("text/")):
        return None
    return body[:EXCERPT_BYTES], len(body)


def run_id_of(op, path_values: dict | None, reply) -> str | None:
    """The run a request created (a 2xx submit's ``id``) or read (its ``id``/``sessionId`` path value)."""
    if op is None:
        return None
    if op.submit and 200 <= reply.status < 300 and isinstance(reply.body, dict) and reply.body.get("id"):
        return str(reply.body["id"])
    for name in _RUN_PATH_PARAMS:
        if path_values and path_values.get(name):
            return str(path_values[name])
    return None


def render_detail(entry: dict) -> dict[str, Any]:
    """An entry with its ``_detail`` turned into masked ``requestHeaders`` / ``requestBody`` /
    ``responseHeaders`` / ``responseBody``."""
    out = {k: v for k, v in entry.items() if k != "_detail"}
    detail = entry.get("_detail")
    if detail is None:
        return out
    raw_headers, request_body, reply_headers, head = detail
    pairs = [line.decode("latin-1").split("\x00", 1) for line in raw_headers.split(b"\n") if b"\x00" in line]
    out["requestHeaders"] = header_lines(masked_headers(pairs))
    out["requestBody"] = request_body
    out["responseHeaders"] = {k.lower(): mask_text(v) for k, v in reply_headers or ()}
    if head is None:
        out["responseBody"] = None
    else:
        cut, total = head
        text = cut.decode("utf-8", errors="replace")
        out["responseBody"] = mask_text(text + (f"... ({total} bytes in all)" if total > len(cut) else ""))
    return out
