"""CV DeepSearch ingestion rules for `POST /api/v1/cvds/candidates` (CVDS-1..4).

Pure planning over plain data, in the order the handler uses it:

1. `plan_ingest(body)` — after contract validation: batch size (BATCH_TOO_LARGE), corpus
   resolution (per-candidate `corpus_id` overrides the top level; any unresolved candidate
   rejects the whole batch with MISSING_CORPUS_ID, nothing written), content hashing, and
   per-item defects that fail one item, not the batch (empty `parsed_cv`, a repeated
   `(corpus_id, external_id)` in one batch — the first occurrence wins).
2. `decide_item(item, existing, …)` per planned item — the upsert outcome (`accepted` /
   `updated` / `unchanged` / `failed`), the embedding timeline, and the record to write.
3. `ingest_response(decisions)` — the 200 body with its summary.

Embedding (`EmbeddingPace`): batches of up to `INLINE_EMBED_MAX` candidates embed inline;
larger ones are `pending` and embed in chunks of `EMBED_CHUNK_SIZE`, `EMBED_CHUNK_SECONDS` of
virtual time per chunk (each overridable by module settings). A CV with no text at all cannot
be embedded and ends `failed`; scenario rules may force either ending or a delay.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from typing import Any

from mockserver.errors import validation_error
from mockserver.modules.cvdeepsearch.candidates import CandidateRecord
from mockserver.modules.cvdeepsearch.errors import CANDIDATE_CORPUS_MISSING_TEXT, batch_too_large, missing_corpus_id

MAX_BATCH = 500
MAX_BODY_BYTES = 10 * 1024 * 1024  # "~10 MB" → 413 PAYLOAD_TOO_LARGE above it
INLINE_EMBED_MAX = 25
EMBED_CHUNK_SIZE = 50
EMBED_CHUNK_SECONDS = 2.0

UPSERT_STATUSES = ("accepted", "updated", "unchanged", "failed")
EMPTY_CV_MESSAGE = "parsed_cv must be a non-empty object."
DUPLICATE_MESSAGE = "external_id appears more than once for this corpus in the batch; the first occurrence was used."

_SAFE_INTEGER = 2 ** 53


@dataclass(frozen=True)
class EmbeddingPace:
    """How fast a batch embeds: inline up to `inline_max` candidates, else `chunk_seconds`
    of virtual time per `chunk_size` candidates, in batch order."""

    inline_max: int = INLINE_EMBED_MAX
    chunk_size: int = EMBED_CHUNK_SIZE
    chunk_seconds: float = EMBED_CHUNK_SECONDS


DEFAULT_PACE = EmbeddingPace()


@dataclass(frozen=True)
class ItemError:
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class IngestItem:
    """One candidate of a batch, its corpus resolved and content hashed."""

    index: int
    external_id: str
    corpus_id: str
    parsed_cv: dict[str, Any]
    tags: tuple[str, ...] | None  # None: not sent — keep the stored tags
    content_hash: str
    error: ItemError | None = None


@dataclass(frozen=True)
class IngestDecision:
    """The outcome for one item: its response row and the record to store (None: no write).
    `new_content`: the item's `parsed_cv` replaces what was stored (accepted, or updated
    with a different content hash — not a tags-only update)."""

    item: IngestItem
    status: str
    embedding_status: str
    record: CandidateRecord | None
    new_content: bool = False

    def result(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "external_id": self.item.external_id,
            "corpus_id": self.item.corpus_id,
            "status": self.status,
            "embedding_status": self.embedding_status,
        }
        if self.item.error is not None:
            row["error"] = self.item.error.to_dict()
        return row


# -- hashing -----------------------------------------------------------------------------

def _canonical_value(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < _SAFE_INTEGER else value
    if isinstance(value, dict):
        return {unicodedata.normalize("NFC", str(key)): _canonical_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical_value(item) for item in value]
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """JSON text that is equal for equal content: keys sorted, no whitespace, strings NFC,
    integral floats written as integers (so `1.0` and `1` hash alike, as in RFC 8785)."""
    return json.dumps(_canonical_value(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_hash(parsed_cv: Any) -> str:
    """`sha256:<hex>` of the canonical JSON — key order and formatting do not matter."""
    return "sha256:" + hashlib.sha256(canonical_json(parsed_cv).encode("utf-8")).hexdigest()


# -- planning ----------------------------------------------------------------------------

def resolve_corpus(top_level: Any, candidate: dict[str, Any]) -> str | None:
    """The candidate's own non-empty `corpus_id`, else the top-level one, else None."""
    for value in (candidate.get("corpus_id"), top_level):
        if isinstance(value, str) and value != "":
            return value
    return None


def plan_ingest(body: dict[str, Any]) -> list[IngestItem]:
    """Resolve and hash every candidate of a contract-valid ingest body (see module doc).

    Raises BATCH_TOO_LARGE (> 500), INVALID_INPUT (no candidates) or MISSING_CORPUS_ID
    (any candidate without a corpus — fail-closed, before anything is written).
    """
    candidates = body.get("candidates")
    if not isinstance(candidates, list):
        raise validation_error("INVALID_INPUT", {"candidates": ["Must be an array of candidates."]})
    if len(candidates) > MAX_BATCH:
        raise batch_too_large(len(candidates), MAX_BATCH)
    if not candidates:
        raise validation_error("INVALID_INPUT", {"candidates": ["Must contain at least one candidate."]})
    top_level = body.get("corpus_id")
    unresolved: dict[str, list[str]] = {}
    resolved: list[tuple[int, dict[str, Any], str]] = []
    for index, candidate in enumerate(candidates):
        if not isinstance(candidate, dict):
            raise validation_error("INVALID_INPUT", {f"candidates[{index}]": ["Must be an object."]})
        corpus_id = resolve_corpus(top_level, candidate)
        if corpus_id is None:
            unresolved[f"candidates[{index}].corpus_id"] = [CANDIDATE_CORPUS_MISSING_TEXT]
        else:
            resolved.append((index, candidate, corpus_id))
    if unresolved:
        raise missing_corpus_id(unresolved)

    items: list[IngestItem] = []
    seen: set[tuple[str, str]] = set()
    for index, candidate, corpus_id in resolved:
        external_id = candidate["external_id"]
        parsed_cv = candidate.get("parsed_cv")
        tags = candidate.get("tags")
        error: ItemError | None = None
        if not isinstance(parsed_cv, dict) or not parsed_cv:
            error = ItemError("INVALID_PARSED_CV", EMPTY_CV_MESSAGE)
            parsed_cv = parsed_cv if isinstance(parsed_cv, dict) else {}
        elif (corpus_id, external_id) in seen:
            error = ItemError("DUPLICATE_EXTERNAL_ID", DUPLICATE_MESSAGE)
        else:
            seen.add((corpus_id, external_id))
        items.append(IngestItem(
            index=index,
            external_id=external_id,
            corpus_id=corpus_id,
            parsed_cv=parsed_cv,
            tags=tuple(tags) if tags is not None else None,
            content_hash=canonical_hash(parsed_cv),
            error=error,
        ))
    return items


# -- upsert ------------------------------------------------------------------------------

def decide_upsert(existing_hash: str | None, new_hash: str) -> str:
    """`accepted` for a new candidate, `updated` for changed content, else `unchanged`."""
    if existing_hash is None:
        return "accepted"
    return "unchanged" if existing_hash == new_hash else "updated"


def embedding_ready_at(now: float, batch_size: int, index: int, pace: EmbeddingPace = DEFAULT_PACE) -> float:
    """When candidate `index` of a batch of `batch_size` finishes embedding (virtual time).

    Up to `pace.inline_max` candidates embed inline (ready at `now`); larger batches embed
    in chunks of `pace.chunk_size`, each taking `pace.chunk_seconds`.
    """
    if batch_size <= pace.inline_max:
        return now
    return now + pace.chunk_seconds * (index // max(pace.chunk_size, 1) + 1)


def _has_text(value: Any) -> bool:
    stack = [value]
    while stack:  # bounded: each JSON node is visited once
        node = stack.pop()
        if isinstance(node, str):
            if node.strip():
                return True
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def embedding_outcome(parsed_cv: dict[str, Any]) -> str:
    """How embedding this CV ends: `failed` when it holds no text at all, else `embedded`."""
    return "embedded" if _has_text(parsed_cv) else "failed"


def decide_item(item: IngestItem, existing: CandidateRecord | None, *, now: float,
                batch_size: int, pace: EmbeddingPace = DEFAULT_PACE, embed_outcome: str | None = None,
                embed_seconds: float | None = None) -> IngestDecision:
    """The upsert outcome for one planned item against what the store holds.

    `embed_outcome` overrides `embedding_outcome` and `embed_seconds` the pace (scenario
    hooks). A new record has `seq` 0 until the store writes it. Tags: omitted → kept; sent
    and different with the same content → `updated` without re-embedding.
    """
    if item.error is not None:
        return IngestDecision(item, "failed", "failed", None)
    outcome = embed_outcome or embedding_outcome(item.parsed_cv)
    ready_at = now + embed_seconds if embed_seconds is not None else embedding_ready_at(now, batch_size, item.index, pace)
    status = decide_upsert(existing.content_hash if existing else None, item.content_hash)
    if existing is None:
        record = CandidateRecord(
            corpus_id=item.corpus_id, external_id=item.external_id,
            content_hash=item.content_hash, tags=item.tags or (),
            created_at=now, updated_at=now, embed_ready_at=ready_at, embed_outcome=outcome,
        )
        return IngestDecision(item, status, record.embedding_status(now), record, new_content=True)
    tags = item.tags if item.tags is not None else existing.tags
    if status == "updated":
        record = existing.with_changes(
            content_hash=item.content_hash, tags=tags,
            updated_at=now, embed_ready_at=ready_at, embed_outcome=outcome,
        )
        return IngestDecision(item, status, record.embedding_status(now), record, new_content=True)
    if tags != existing.tags:
        record = existing.with_changes(tags=tags, updated_at=now)
        return IngestDecision(item, "updated", record.embedding_status(now), record)
    return IngestDecision(item, "unchanged", existing.embedding_status(now), None)


def ingest_response(decisions: list[IngestDecision]) -> dict[str, Any]:
    """The 200 body (CvdsIngestResponse): results in request order plus the summary."""
    summary = {status: 0 for status in UPSERT_STATUSES}
    for decision in decisions:
        summary[decision.status] += 1
    return {"results": [decision.result() for decision in decisions], "summary": summary}
