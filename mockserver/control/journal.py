"""The request journal through the control API, paged for the console (`GET /__mock/journal`,
`GET /__mock/journal/{request_id}`).

Entries are numbered (`seq`, increasing) as the pipeline records them; a page is the newest
`limit` matching entries older than `cursor` (a `seq`), so a reader walks 20,000 entries
page by page while new requests arrive, without repeats or gaps. The list carries each
entry's request line and run; one entry (by request id) adds its masked headers and body
excerpts (`platform/journal_fields.py`).

Filters: `client`, `module`, `method`, `operation`, `runId` (exact), `status` (a code or a
class such as `4xx`), `path` (a prefix, or any part of the path with `pathContains`).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ..platform.journal_fields import render_detail
from .http import guard, json_response, not_found

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
DETAIL_FIELDS = ("_detail",)  # the raw material of the request view, masked when read
_EVERYTHING = 10 ** 9


def _int(query, name: str, default: int | None = None, *, low: int = 0) -> int | None:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from None
    if value < low:
        raise ValueError(f"{name} must be at least {low}")
    return value


def _status_test(raw: str | None):
    if not raw:
        return None
    if len(raw) == 3 and raw[0] in "12345" and raw[1:].lower() == "xx":
        return lambda status: status is not None and str(status)[0] == raw[0]
    try:
        code = int(raw)
    except ValueError:
        raise ValueError(f"status must be a code (404) or a class (4xx), not {raw!r}") from None
    return lambda status: status == code


def summary(entry: dict) -> dict:
    """An entry without its headers and bodies (what the list shows)."""
    return {k: v for k, v in entry.items() if k not in DETAIL_FIELDS}


def journal_page(journal, query) -> dict[str, Any]:
    """One page of the journal, newest first, and the cursor of the next (None at the end)."""
    limit = min(_int(query, "limit", DEFAULT_LIMIT, low=1), MAX_LIMIT)
    cursor = _int(query, "cursor", None, low=1)
    status = _status_test(query.get("status"))
    exact = {name: query.get(name) for name in ("module", "runId") if query.get(name)}
    contains = query.get("pathContains") or None
    entries = journal.query(client=query.get("client") or None, method=query.get("method") or None,
                            operation=query.get("operation") or None, path_prefix=query.get("path") or None,
                            limit=_EVERYTHING)
    matching = [e for e in entries
                if (status is None or status(e.get("status")))
                and all(e.get(name) == value for name, value in exact.items())
                and (contains is None or contains in e.get("path", ""))]
    older = matching if cursor is None else [e for e in matching if e.get("seq", 0) < cursor]
    page = older[:limit]
    more = len(older) > limit
    return {"entries": [summary(e) for e in page],
            "nextCursor": str(page[-1]["seq"]) if more and page and "seq" in page[-1] else None,
            "total": len(matching)}


def journal_entry(journal, request_id: str) -> dict | None:
    """The full entry of one request (headers and body excerpts included), or None."""
    for entry in journal.query(limit=_EVERYTHING):
        if entry.get("requestId") == request_id:
            return render_detail(entry)
    return None


def routes(platform) -> list[Route]:
    async def journal(request):
        return json_response(200, journal_page(platform.journal, request.query_params))

    async def journal_one(request):
        entry = journal_entry(platform.journal, request.path_params["request_id"])
        if entry is None:
            raise not_found("no journal entry with this request id")
        return json_response(200, entry)

    wrap = guard(platform)
    return [Route("/journal", wrap(journal), methods=["GET"]),
            Route("/journal/{request_id}", wrap(journal_one), methods=["GET"])]
