"""The cross-module run summary (`api_run`, docs/api-runs.md): one typed record every module
that creates an API run writes once at submit, and the one status rule every reader uses.

`GET /api/v1/speech/runs` lists a client's runs of every service from these summaries, in
one store scan in insertion order (the entry's `seq` is the list's order and cursor), so
a summary is written at submit and never updated. Status is never stored: it is derived from
the virtual timeline at read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..store import Entry

API_RUN_KIND = "api_run"
QUEUED = "queued"
PROCESSING = "processing"


@dataclass(frozen=True)
class RunSummary:
    id: str
    service_type: str  # "speech" | "cv_deepmatch"
    project: str | None
    metadata: dict[str, Any]
    tags: list[str]
    created_at: float  # virtual epoch of the submit
    finish_at: float  # virtual epoch of the terminal status
    outcome: str  # the terminal status
    external_id: str | None = None  # Speech's correlation id; null for CV DeepMatch (A11)
    start_at: float | None = None  # processing starts (before: queued); None = at submit
    row_extra: dict[str, Any] = field(default_factory=dict)  # service fields its rows show

    def to_doc(self) -> dict[str, Any]:
        doc = {"id": self.id, "serviceType": self.service_type, "externalId": self.external_id,
               "project": self.project, "metadata": self.metadata, "tags": self.tags,
               "created_at": self.created_at, "finish_at": self.finish_at, "outcome": self.outcome}
        if self.start_at is not None:
            doc["start_at"] = self.start_at
        doc.update(self.row_extra)
        return doc


def timeline_status(doc: dict, now: float) -> str:
    """The status at virtual ``now`` of any document with a run timeline (`created_at`,
    optional `start_at`, `finish_at`, `outcome`): a summary or a module's own run."""
    if now < doc.get("start_at", doc["created_at"]):
        return QUEUED
    if now < doc["finish_at"]:
        return PROCESSING
    return doc["outcome"]


def store_summary(store, summary: RunSummary, owner: str) -> Entry:
    """Store the run's summary; its `Entry` carries the sequence (the run's place in lists)."""
    return store.put_entry(API_RUN_KIND, summary.id, summary.to_doc(), owner=owner)
