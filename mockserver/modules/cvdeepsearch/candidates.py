"""A stored CV DeepSearch candidate and how it reads back (CVDS-4, CVDS-5, LIST-3, LIST-4).

`CandidateRecord` is what the store keeps per (client, corpus_id, external_id), without
the CV itself (`parsed_cv` is PII, stored apart by `cvds_store` and read only by a search).
Its embedding status is derived from virtual time: a record carries the instant its current
content finishes embedding (`embed_ready_at`) and how that ends (`embed_outcome`), so a
manual clock needs no background work.

Read views never contain `parsed_cv`: `status_row` is a list row (no tags),
`status_detail` the per-candidate read (with tags). `list_page` pages a corpus newest
first with the platform's cursor (LIST-3), which never repeats or skips rows while new
ones arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable

from mockserver.clock import iso
from mockserver.errors import validation_error
from mockserver.platform.listing import decode_cursor, encode_cursor

EMBEDDING_STATUSES = ("pending", "embedded", "failed")
LIST_LIMIT_DEFAULT = 50
LIST_LIMIT_MAX = 200

EMBEDDING_FAILED_MESSAGE = "The CV holds no text to embed."


@dataclass(frozen=True)
class CandidateRecord:
    """One candidate as stored (its `parsed_cv` is kept apart, see `cvds_store`).

    `seq` orders candidates by first ingest: the store's insertion sequence, so it is 0 on
    a record that has not been written yet and fixed once it has.
    """

    corpus_id: str
    external_id: str
    content_hash: str
    tags: tuple[str, ...]
    created_at: float
    updated_at: float
    embed_ready_at: float
    embed_outcome: str  # "embedded" | "failed" — how the pending embedding ends
    seq: int = 0

    def embedding_status(self, now: float) -> str:
        if now < self.embed_ready_at:
            return "pending"
        return self.embed_outcome

    def embedded_at(self, now: float) -> float | None:
        return self.embed_ready_at if self.embedding_status(now) == "embedded" else None

    def is_searchable(self, now: float) -> bool:
        """Only `embedded` candidates are returned by a search (CVDS-4)."""
        return self.embedding_status(now) == "embedded"

    def status_row(self, now: float) -> dict[str, Any]:
        """The list-endpoint row (CvdsCandidateStatus): status and hash, never parsed_cv or tags."""
        status = self.embedding_status(now)
        embedded_at = self.embedded_at(now)
        row: dict[str, Any] = {
            "external_id": self.external_id,
            "corpus_id": self.corpus_id,
            "embedding_status": status,
            "content_hash": self.content_hash,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "embedded_at": iso(embedded_at) if embedded_at is not None else None,
        }
        if status == "failed":
            row["embedding_error"] = {"code": "EMBEDDING_FAILED", "message": EMBEDDING_FAILED_MESSAGE}
        return row

    def status_detail(self, now: float) -> dict[str, Any]:
        """The per-candidate read (CvdsCandidateStatusDetail): the row plus `tags`."""
        detail = self.status_row(now)
        detail["tags"] = list(self.tags)
        return detail

    def with_changes(self, **changes: Any) -> "CandidateRecord":
        return replace(self, **changes)


def list_page(records: Iterable[CandidateRecord], *, now: float, embedding_status: str | None = None,
              cursor: str | None = None, limit: int = LIST_LIMIT_DEFAULT) -> dict[str, Any]:
    """One page of a corpus (CvdsCandidateList), newest first by first ingest.

    `records` are the calling client's candidates of one corpus. The cursor is the `seq` of
    the last row served, so rows ingested later (higher seq) never shift the next page.
    """
    if embedding_status is not None and embedding_status not in EMBEDDING_STATUSES:
        raise validation_error("INVALID_INPUT", {"embedding_status": ["Must be pending, embedded or failed."]})
    if not 1 <= limit <= LIST_LIMIT_MAX:
        raise validation_error("INVALID_INPUT", {"limit": [f"Must be between 1 and {LIST_LIMIT_MAX}."]})
    after = decode_cursor(cursor, "INVALID_INPUT") if cursor else None
    ordered = sorted(records, key=lambda record: record.seq, reverse=True)
    if after is not None:
        ordered = [record for record in ordered if record.seq < after]
    if embedding_status is not None:
        ordered = [record for record in ordered if record.embedding_status(now) == embedding_status]
    page = ordered[:limit]
    has_more = len(ordered) > limit
    return {
        "candidates": [record.status_row(now) for record in page],
        "next_cursor": encode_cursor(page[-1].seq) if has_more else None,
    }
