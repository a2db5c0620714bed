"""Where CV DeepSearch state lives in the platform store, for one client (AUTH-6, CVDS-8).

Document kinds, every one owned by the client (a tenant reset drops them all) and keyed
with the client id first, so no read can reach another tenant's documents:

| kind | key | holds |
|---|---|---|
| `cvds_candidate` | `<client>|<corpus>|<external_id>` | a `CandidateRecord` (status, hash, tags, timeline) |
| `cvds_cv` | `<client>|<corpus>|<external_id>|<content hash>` | `parsed_cv` (PII: read only by a search) |
| `cvds_run` | `<client>|<run id>` | a `SearchRun` |
| `cvds_plan` | `<client>|<position_id>` | the position's cached search plan |
| `cvds_due` | `<client>` | ids and finish times of runs not settled yet |
| `cvds_start` | `<client>|<attempt key>` | trigger attempts seen (scenario start failures) |

CVs are kept apart from the status records so lists never copy them, and keyed by content
hash so a record never points at another version's CV.

Settling (`settle_due`) computes a due run's ranking from the corpus as it stood at the run's
finish; `revive_runs` lets an ingest landing before a run's finish turn a planned CORPUS_EMPTY
failure into a completion. Every CVDS request of the client settles its due runs first, and only those requests
change the client's corpora, so the corpus a run is settled against is the corpus at its
finish time.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable

from mockserver.modules.cvdeepsearch.candidates import CandidateRecord
from mockserver.modules.cvdeepsearch.ingest import IngestDecision, IngestItem
from mockserver.modules.cvdeepsearch.runs import RunOutcome, SearchRun, revived, settle_run
from mockserver.store.memory import MemoryStore

CANDIDATE = "cvds_candidate"
CV = "cvds_cv"
RUN = "cvds_run"
PLAN = "cvds_plan"
DUE = "cvds_due"
START = "cvds_start"


# -- documents <-> records ------------------------------------------------------------------

def candidate_doc(record: CandidateRecord) -> dict[str, Any]:
    return {
        "corpus_id": record.corpus_id, "external_id": record.external_id,
        "content_hash": record.content_hash, "tags": list(record.tags),
        "created_at": record.created_at, "updated_at": record.updated_at,
        "embed_ready_at": record.embed_ready_at, "embed_outcome": record.embed_outcome,
    }


def candidate_record(doc: dict[str, Any], seq: int = 0) -> CandidateRecord:
    """The record of a stored candidate; ``seq`` its store sequence (the entry's, beside the doc)."""
    return CandidateRecord(
        corpus_id=doc["corpus_id"], external_id=doc["external_id"], content_hash=doc["content_hash"],
        tags=tuple(doc["tags"]), created_at=doc["created_at"], updated_at=doc["updated_at"],
        embed_ready_at=doc["embed_ready_at"], embed_outcome=doc["embed_outcome"], seq=seq,
    )


def run_doc(run: SearchRun) -> dict[str, Any]:
    outcome = None
    if run.outcome is not None:
        outcome = {"status": run.outcome.status,
                   "results": [dict(item) for item in run.outcome.results] if run.outcome.results is not None else None,
                   "error": dict(run.outcome.error) if run.outcome.error is not None else None}
    return {
        "id": run.id, "corpus_id": run.corpus_id, "position_id": run.position_id,
        "position_metadata": run.position_metadata, "is_job_updated": run.is_job_updated,
        "top_n": run.top_n, "webhook_url": run.webhook_url, "idempotency_key": run.idempotency_key,
        "created_at": run.created_at, "finishes_at": run.finishes_at,
        "planned_error": run.planned_error, "ending_forced": run.ending_forced, "outcome": outcome,
    }


def search_run(doc: dict[str, Any]) -> SearchRun:
    raw = doc.get("outcome")
    outcome = None
    if raw is not None:
        results = tuple(dict(item) for item in raw["results"]) if raw.get("results") is not None else None
        outcome = RunOutcome(raw["status"], results=results, error=raw.get("error"))
    return SearchRun(
        id=doc["id"], corpus_id=doc["corpus_id"], position_id=doc["position_id"],
        position_metadata=doc["position_metadata"], is_job_updated=doc["is_job_updated"],
        top_n=doc["top_n"], webhook_url=doc.get("webhook_url"), idempotency_key=doc.get("idempotency_key"),
        created_at=doc["created_at"], finishes_at=doc["finishes_at"],
        planned_error=doc.get("planned_error"), ending_forced=doc.get("ending_forced", False), outcome=outcome,
    )


class CvdsStore:
    """One client's CV DeepSearch state over the platform store (atomic where it matters)."""

    def __init__(self, store: MemoryStore, client_id: str) -> None:
        self.store = store
        self.client_id = client_id

    def _key(self, *parts: str) -> str:
        return "|".join((self.client_id, *parts))

    def _exclusive(self):
        """Across processes when the store is shared (one process: requests do not interleave
        inside these synchronous sections)."""
        if self.store.shared:
            return self.store.lock(f"cvds|{self.client_id}")
        return contextlib.nullcontext()

    # -- candidates ------------------------------------------------------------------------
    def candidate(self, corpus_id: str, external_id: str) -> CandidateRecord | None:
        entry = self.store.get_entry(CANDIDATE, self._key(corpus_id, external_id))
        return candidate_record(entry.doc, entry.seq) if entry is not None else None

    def corpus(self, corpus_id: str) -> list[CandidateRecord]:
        """Every candidate of one of this client's corpora, in first-ingest order."""
        return [candidate_record(e.doc, e.seq) for e in self.store.scan_entries(CANDIDATE, owner=self.client_id)
                if e.doc["corpus_id"] == corpus_id]

    def upsert(self, item: IngestItem,
               decide: Callable[[CandidateRecord | None], IngestDecision]) -> IngestDecision:
        """Decide and write one candidate atomically against what is stored (CVDS-3); store
        its CV when the content is new and drop the CV version it replaced."""
        key = self._key(item.corpus_id, item.external_id)
        decided: list[IngestDecision] = []
        replaced: list[str] = []

        def apply(current: dict | None) -> dict | None:  # may run again (a shared store's retry)
            replaced.clear()
            decision = decide(candidate_record(current) if current is not None else None)
            decided.append(decision)
            if decision.record is None:
                return current
            if current is not None and decision.new_content:
                replaced.append(current["content_hash"])
            return candidate_doc(decision.record)

        doc = self.store.update(CANDIDATE, key, apply, owner=self.client_id)
        decision = decided[-1]
        if decision.new_content:
            self.store.put(CV, self._key(item.corpus_id, item.external_id, item.content_hash),
                           {"parsed_cv": item.parsed_cv}, owner=self.client_id)
            for old_hash in replaced:
                if old_hash != item.content_hash:
                    self.store.delete(CV, self._key(item.corpus_id, item.external_id, old_hash))
        if decision.record is not None and doc is not None:
            stored = self.store.get_entry(CANDIDATE, key)  # the sequence the store gave it
            decision = IngestDecision(decision.item, decision.status, decision.embedding_status,
                                      candidate_record(doc, stored.seq if stored is not None else 0),
                                      decision.new_content)
        return decision

    def parsed_cv(self, record: CandidateRecord) -> dict[str, Any] | None:
        doc = self.store.get(CV, self._key(record.corpus_id, record.external_id, record.content_hash))
        return doc["parsed_cv"] if doc is not None else None

    # -- runs ------------------------------------------------------------------------------
    def add_run(self, run: SearchRun) -> None:
        self.store.put(RUN, self._key(run.id), run_doc(run), owner=self.client_id)
        if run.outcome is None:
            def mark(current: dict | None) -> dict:
                due = dict((current or {}).get("runs", {}))
                due[run.id] = run.finishes_at
                return {"runs": due}
            self.store.update(DUE, self.client_id, mark, owner=self.client_id)

    def run(self, run_id: str) -> SearchRun | None:
        doc = self.store.get(RUN, self._key(run_id))
        return search_run(doc) if doc is not None else None

    def settle_due(self, now: float) -> int:
        """Settle every run of this client whose finish time has come; returns how many."""
        due = (self.store.get(DUE, self.client_id) or {}).get("runs", {})
        if not any(at <= now for at in due.values()):
            return 0
        with self._exclusive():
            return self._settle_ready(now)

    def _settle_ready(self, now: float) -> int:
        due = (self.store.get(DUE, self.client_id) or {}).get("runs", {})
        ready = sorted((at, run_id) for run_id, at in due.items() if at <= now)
        for _at, run_id in ready:
            self._settle(run_id, now)
        if ready:
            done = {run_id for _at, run_id in ready}

            def unmark(current: dict | None) -> dict | None:
                left = {k: v for k, v in (current or {}).get("runs", {}).items() if k not in done}
                return {"runs": left} if left else None
            self.store.update(DUE, self.client_id, unmark, owner=self.client_id)
        return len(ready)

    def revive_runs(self, corpus_ids: set[str], now: float) -> list[SearchRun]:
        """Unsettled runs over `corpus_ids` that were due to fail CORPUS_EMPTY and, after an
        ingest, will find an embedded candidate by their finish: stored as completing and
        returned (so their completion webhooks can be queued)."""
        with self._exclusive():
            return self._revive(corpus_ids, now)

    def _revive(self, corpus_ids: set[str], now: float) -> list[SearchRun]:
        due = (self.store.get(DUE, self.client_id) or {}).get("runs", {})
        changed: list[SearchRun] = []
        for run_id in sorted(due):
            run = self.run(run_id)
            if run is None or run.corpus_id not in corpus_ids:
                continue
            update = revived(run, self.corpus(run.corpus_id), now)
            if update is None:
                continue
            written: list[bool] = []

            def apply(current: dict | None, update: SearchRun = update) -> dict | None:
                if current is None or current.get("outcome") is not None or current.get("planned_error") is None:
                    return current
                written.append(True)
                return run_doc(update)

            self.store.update(RUN, self._key(run_id), apply, owner=self.client_id)
            if written:
                changed.append(update)
        return changed

    def _settle(self, run_id: str, now: float) -> None:
        run = self.run(run_id)
        if run is None or not run.needs_settling(now):
            return
        pairs: list[tuple[CandidateRecord, dict[str, Any]]] = []
        if run.will_complete:
            for record in self.corpus(run.corpus_id):
                if record.is_searchable(run.finishes_at):
                    parsed_cv = self.parsed_cv(record)
                    if parsed_cv is not None:
                        pairs.append((record, parsed_cv))
        settled = run_doc(settle_run(run, pairs))
        self.store.update(RUN, self._key(run_id),
                          lambda current: current if current is None or current.get("outcome") else settled,
                          owner=self.client_id)

    # -- the planner's per-position cache ------------------------------------------------------
    def plan_for(self, position_id: str, position_metadata: dict[str, Any], *, rebuild: bool,
                 now: float) -> dict[str, Any]:
        """The plan a search of `position_id` uses: the cached one, unless there is none or
        `rebuild` (`job_updated: true`) — then `position_metadata` becomes the cached plan."""
        chosen: list[dict[str, Any]] = []

        def apply(current: dict | None) -> dict:
            if current is None or rebuild:
                chosen.append(position_metadata)
                return {"position_id": position_id, "plan": position_metadata, "built_at": now}
            chosen.append(current["plan"])
            return current

        self.store.update(PLAN, self._key(position_id), apply, owner=self.client_id)
        return chosen[-1]

    # -- scenario start failures ---------------------------------------------------------------
    def count_start_attempt(self, attempt_key: str) -> int:
        """Record one trigger attempt under `attempt_key`; returns how many there have been."""
        doc = self.store.update(START, self._key(attempt_key),
                                lambda current: {"attempts": (current or {}).get("attempts", 0) + 1},
                                owner=self.client_id)
        return doc["attempts"]
