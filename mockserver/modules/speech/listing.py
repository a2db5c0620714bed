"""`GET /api/v1/speech/runs`: the client's API runs, newest first, filtered and paged (LIST-1, LIST-2, LIST-4).

Rows come from the `api_run` summaries every module writes at submit (docs/api-runs.md), so
Speech and CV DeepMatch runs share one newest-first order and one cursor. A row's status is
derived from virtual time before the filters apply. Filters combine with AND:

- the shared language (LIST-1): `project` (`none` = runs of keys without a project),
  `tags` (contains-all), `metadata_key` + `metadata_value` (exact, compared as text), `status`;
- Speech's own (LIST-2): `serviceType`, `externalId` (exact), `createdAfter` (inclusive) and
  `createdBefore` (exclusive), ISO 8601 date-times or bare dates meaning 00:00 UTC.

Enumerations and date syntax are checked by the contract (400 INVALID_STATUS,
INVALID_SERVICE_TYPE, INVALID_DATE); a date the contract admits but the calendar does not
(`2026-02-30`) is the same INVALID_DATE here. The cursor is the last row's insertion
sequence, so pages never repeat or skip a row while new runs arrive; a malformed one is
400 INVALID_PARAMETERS.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from mockserver.clock import iso, parse_iso
from mockserver.errors import validation_error
from mockserver.json_writer import freeze, joined
from mockserver.platform.kept_views import KeptViews, kept_views
from mockserver.platform.listing import decode_cursor, encode_cursor, filters_anything, paginate, shared_filter
from mockserver.modules.speech.runs import API_RUN_KIND, run_status
from mockserver.store import Entry

DEFAULT_LIMIT = 20
_COMMON_ROW_FIELDS = ("id", "serviceType", "status", "externalId", "metadata", "tags", "project")
_SPEECH_ROW_FIELDS = ("language", "durationSeconds")


def parse_date_filter(query: dict[str, Any], name: str) -> float | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        raise validation_error("INVALID_DATE", {name: ["Not a valid ISO 8601 date or date-time."]},
                               f"{name} must be a valid ISO 8601 date-time, e.g. 2026-04-19T00:00:00Z.") from None


def run_filter(query: dict[str, Any]) -> Callable[[dict], bool]:
    shared = shared_filter(query)
    service_type = query.get("serviceType")
    external_id = query.get("externalId")
    after = parse_date_filter(query, "createdAfter")
    before = parse_date_filter(query, "createdBefore")

    def keep(row: dict) -> bool:
        if service_type is not None and row["serviceType"] != service_type:
            return False
        if external_id is not None and row.get("externalId") != external_id:
            return False
        if after is not None and row["created_at"] < after:
            return False
        if before is not None and row["created_at"] >= before:
            return False
        return shared(row)

    keep.active = (filters_anything(shared) or service_type is not None or external_id is not None
                   or after is not None or before is not None)
    return keep


def _with_status(entries: Iterable[Entry], now: float) -> Iterator[tuple[int, dict]]:
    for entry in entries:
        entry.doc["status"] = run_status(entry.doc, now)
        yield entry.seq, entry.doc


def list_row(doc: dict, now: float) -> dict:
    """A compact row (LIST-4): no scores, no transcript."""
    row = {name: doc.get(name) for name in _COMMON_ROW_FIELDS}
    row["metadata"] = row["metadata"] or {}
    row["tags"] = row["tags"] or []
    if doc["serviceType"] == "speech":
        row.update({name: doc[name] for name in _SPEECH_ROW_FIELDS})
    row["createdAt"] = doc.get("createdAt") or iso(doc["created_at"])
    row["completedAt"] = iso(doc["finish_at"]) if now >= doc["finish_at"] else None
    return row


def list_page(store, client_id: str, query: dict[str, Any], now: float) -> dict:
    keep = run_filter(query)
    limit = int(query.get("limit", DEFAULT_LIMIT))
    before_seq = decode_cursor(query["cursor"], "INVALID_PARAMETERS") if query.get("cursor") else None
    views = kept_views(store)
    token = views.token() if views is not None else 0
    if views is not None and not filters_anything(keep):  # every row kept: read only rows not kept
        rows, next_cursor = _kept_page(store, client_id, views, token, limit, before_seq, now)
        return {"runs": joined(rows),
                "pagination": {"limit": limit, "hasMore": next_cursor is not None, "nextCursor": next_cursor}}
    entries = store.scan_entries(API_RUN_KIND, owner=client_id, newest_first=True, before_seq=before_seq)
    page, next_cursor = paginate(_with_status(entries, now), limit, keep)
    return {
        "runs": _rows(page, now, client_id, views, token),
        "pagination": {"limit": limit, "hasMore": next_cursor is not None, "nextCursor": next_cursor},
    }


def _kept_page(store, client_id: str, views: KeptViews, token: int, limit: int, before_seq: int | None,
               now: float) -> tuple[list, str | None]:
    """An unfiltered page walked by the owner's index alone (`scan_keys`): a kept row needs
    no document; the others are read and rendered (and kept once finished). The cursor is
    the last row's sequence, as `paginate` gives it."""
    rows: list = []
    last_seq = 0
    for seq, key in store.scan_keys(API_RUN_KIND, owner=client_id, newest_first=True, before_seq=before_seq):
        if len(rows) == limit:
            return rows, encode_cursor(last_seq)
        row = views.get(API_RUN_KIND, key, client_id, now)
        if row is None:
            entry = store.get_entry(API_RUN_KIND, key, owner=client_id)
            if entry is None:  # removed since the index was read
                continue
            doc = entry.doc
            doc["status"] = run_status(doc, now)
            row = list_row(doc, now)
            if now >= doc["finish_at"]:
                row = views.keep(API_RUN_KIND, key, client_id, doc["finish_at"], freeze(row), token)
        rows.append(row)
        last_seq = seq
    return rows, None


def _rows(page: list[dict], now: float, client_id: str, views: KeptViews | None, token: int) -> list:
    """The page's rows; a finished run's row is fixed, so it is kept (`kept_views`, dropped by
    any write of its summary or a purge) and its JSON written once for every later page."""
    if views is None:
        return [list_row(doc, now) for doc in page]
    rows = []
    for doc in page:
        row = views.get(API_RUN_KIND, doc["id"], client_id, now)
        if row is None:
            row = list_row(doc, now)
            if now >= doc["finish_at"]:  # terminal from its finish on: the row no longer changes
                row = views.keep(API_RUN_KIND, doc["id"], client_id, doc["finish_at"], freeze(row), token)
        rows.append(row)
    return joined(rows)
