"""List endpoints: the shared filter language (LIST-1) and cursor pages (LIST-3).

Cursors carry the store's insertion sequence of the last row served; the next page is
rows strictly older than it, so pages never repeat or skip a row while new rows arrive.
"""

from __future__ import annotations

import base64
from typing import Any, Callable, Iterable, TypeVar

from ..errors import validation_error

T = TypeVar("T")


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{seq}".encode()).decode().rstrip("=")


def decode_cursor(text: str, code: str, name: str = "cursor") -> int:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        prefix, _, seq = raw.partition(":")
        if prefix != "v1" or not seq.isdigit():
            raise ValueError
        return int(seq)
    except (ValueError, UnicodeDecodeError):
        raise validation_error(code, {name: ["Unknown or malformed cursor."]}) from None


def filters_anything(keep: Callable[[dict], bool]) -> bool:
    """Whether a predicate made here (or by a module on top of `shared_filter`) can drop a
    row; False when the query asked for no filter at all (every row is kept)."""
    return getattr(keep, "active", True)


def shared_filter(query: dict[str, Any], *, status_field: str = "status",
                  project_field: str = "project") -> Callable[[dict], bool]:
    """A row predicate for project (incl. `none`), tags (contains-all), metadata key/value,
    status; its ``active`` is False when the query names none of them (`filters_anything`)."""
    project = query.get("project")
    tags = [t.strip() for t in query.get("tags", "").split(",") if t.strip()] if query.get("tags") else []
    mkey = query.get("metadata_key")
    mvalue = query.get("metadata_value")
    status = query.get("status")

    def keep(row: dict) -> bool:
        if project is not None:
            if project == "none":
                if row.get(project_field) is not None:
                    return False
            elif row.get(project_field) != project:
                return False
        if tags and not set(tags) <= set(row.get("tags") or []):
            return False
        if mkey is not None:
            meta = row.get("metadata") or {}
            if mkey not in meta:
                return False
            if mvalue is not None and _text(meta[mkey]) != mvalue:
                return False
        if status is not None and row.get(status_field) != status:
            return False
        return True

    keep.active = project is not None or bool(tags) or mkey is not None or mvalue is not None or status is not None
    return keep


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def paginate(rows: Iterable[tuple[int, T]], limit: int, keep: Callable[[T], bool]) -> tuple[list[T], str | None]:
    """Take up to ``limit`` kept rows from (seq, row) pairs (newest first; ``seq`` the store's
    sequence, from `Store.scan_entries`); return the rows and the next cursor."""
    page: list[T] = []
    last_seq = 0
    for seq, row in rows:
        if not keep(row):
            continue
        if len(page) == limit:
            return page, encode_cursor(last_seq)
        page.append(row)
        last_seq = seq
    return page, None
