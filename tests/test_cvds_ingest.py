"""CV DeepSearch ingestion rules (CVDS-1..5): hashing, corpus resolution, upserts,
embedding timeline, candidate read views and paging — and that the bodies they build
conform to openapi.yaml."""

from __future__ import annotations

import pytest

from cvds_contract_helpers import assert_valid, component, merged_spec, request_validator, response_validator
from mockserver.errors import ApiError, envelope
from dataclasses import replace

from mockserver.modules.cvdeepsearch.candidates import CandidateRecord, list_page
from mockserver.modules.cvdeepsearch.errors import require_corpus_id
from mockserver.modules.cvdeepsearch.ingest import (
    EMBED_CHUNK_SECONDS,
    INLINE_EMBED_MAX,
    MAX_BATCH,
    canonical_hash,
    decide_item,
    decide_upsert,
    embedding_outcome,
    embedding_ready_at,
    ingest_response,
    plan_ingest,
)

NOW = 1_781_000_000.0  # 2026-06-09


def candidate(external_id: str, **extra) -> dict:
    return {"external_id": external_id, "parsed_cv": {"name": f"Person {external_id}", "skills": ["Go"]}, **extra}


def ingest(body: dict, store: dict, now: float = NOW) -> dict:
    """Plan, decide and 'write' like the handler does, against a dict store that assigns
    `seq` on first write as the platform store does."""
    items = plan_ingest(body)
    decisions = []
    for item in items:
        key = (item.corpus_id, item.external_id)
        existing = store.get(key)
        decision = decide_item(item, existing, now=now, batch_size=len(items))
        if decision.record is not None:
            store[key] = replace(decision.record, seq=existing.seq if existing else len(store) + 1)
        decisions.append(decision)
    return ingest_response(decisions)


# -- canonical hash ----------------------------------------------------------------------

def test_canonical_hash_ignores_key_order_and_formatting():
    first = {"name": "Jane", "skills": ["Go", "SQL"], "meta": {"a": 1, "b": 2}}
    second = {"meta": {"b": 2, "a": 1}, "skills": ["Go", "SQL"], "name": "Jane"}
    assert canonical_hash(first) == canonical_hash(second)


def test_canonical_hash_treats_integral_float_as_integer_and_nfc_equal():
    assert canonical_hash({"years": 5}) == canonical_hash({"years": 5.0})
    assert canonical_hash({"name": "Jose\u0301"}) == canonical_hash({"name": "Jos\u00e9"})


def test_canonical_hash_changes_with_content():
    assert canonical_hash({"skills": ["Go", "SQL"]}) != canonical_hash({"skills": ["SQL", "Go"]})
    assert canonical_hash({"name": "Jane"}) != canonical_hash({"name": "Jane "})


def test_canonical_hash_format_matches_contract():
    digest = canonical_hash({"name": "Jane"})
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64


# -- corpus resolution -------------------------------------------------------------------

def test_top_level_corpus_applies_to_every_candidate():
    items = plan_ingest({"corpus_id": "pool-a", "candidates": [candidate("c1"), candidate("c2")]})
    assert [item.corpus_id for item in items] == ["pool-a", "pool-a"]


def test_candidate_corpus_overrides_top_level():
    items = plan_ingest({"corpus_id": "pool-a", "candidates": [candidate("c1"), candidate("c2", corpus_id="pool-b")]})
    assert [item.corpus_id for item in items] == ["pool-a", "pool-b"]


def test_per_candidate_corpus_alone_is_enough():
    items = plan_ingest({"candidates": [candidate("c1", corpus_id="pool-b")]})
    assert items[0].corpus_id == "pool-b"


def test_one_unresolved_candidate_rejects_the_whole_batch():
    body = {"candidates": [candidate("c1", corpus_id="pool-b"), candidate("c2"), candidate("c3", corpus_id="")]}
    with pytest.raises(ApiError) as caught:
        plan_ingest(body)
    error = caught.value
    assert (error.status, error.code) == (400, "MISSING_CORPUS_ID")
    assert error.message == "corpus_id is mandatory and fail-closed."
    assert set(error.details["fields"]) == {"candidates[1].corpus_id", "candidates[2].corpus_id"}


def test_missing_corpus_writes_nothing():
    store: dict = {}
    with pytest.raises(ApiError):
        ingest({"candidates": [candidate("c1", corpus_id="pool-a"), candidate("c2")]}, store)
    assert store == {}


def test_empty_top_level_corpus_counts_as_missing():
    with pytest.raises(ApiError) as caught:
        plan_ingest({"corpus_id": "", "candidates": [candidate("c1")]})
    assert caught.value.code == "MISSING_CORPUS_ID"


@pytest.mark.parametrize("value", [None, "", 7])
def test_require_corpus_id_is_fail_closed(value):
    with pytest.raises(ApiError) as caught:
        require_corpus_id(value)
    assert (caught.value.status, caught.value.code) == (400, "MISSING_CORPUS_ID")
    assert caught.value.details == {"fields": {"corpus_id": ["corpus_id is required."]}}


# -- batch limits ------------------------------------------------------------------------

def test_batch_of_500_is_accepted():
    items = plan_ingest({"corpus_id": "pool", "candidates": [candidate(f"c{i}") for i in range(MAX_BATCH)]})
    assert len(items) == 500


def test_batch_of_501_is_rejected_before_corpus_check():
    with pytest.raises(ApiError) as caught:
        plan_ingest({"candidates": [candidate(f"c{i}") for i in range(MAX_BATCH + 1)]})
    assert (caught.value.status, caught.value.code) == (400, "BATCH_TOO_LARGE")


def test_empty_batch_is_invalid_input():
    with pytest.raises(ApiError) as caught:
        plan_ingest({"corpus_id": "pool", "candidates": []})
    assert (caught.value.code, list(caught.value.details["fields"])) == ("INVALID_INPUT", ["candidates"])


def test_contract_caps_candidates_at_500_with_batch_too_large_code():
    body = {"corpus_id": "pool", "candidates": [candidate(f"c{i}") for i in range(MAX_BATCH + 1)]}
    errors = list(request_validator("ingestCvdsCandidates").iter_errors(body))
    assert [error.validator for error in errors] == ["maxItems"]
    candidates_schema = merged_spec()["components"]["schemas"]["CvdsIngestRequest"]["properties"]["candidates"]
    assert candidates_schema["x-error-code"] == "BATCH_TOO_LARGE"


# -- per-item failures -------------------------------------------------------------------

def test_empty_parsed_cv_fails_only_that_item():
    store: dict = {}
    body = {"corpus_id": "pool", "candidates": [candidate("c1"), {"external_id": "c2", "parsed_cv": {}}]}
    response = ingest(body, store)
    assert [row["status"] for row in response["results"]] == ["accepted", "failed"]
    assert response["results"][1]["error"]["code"] == "INVALID_PARSED_CV"
    assert list(store) == [("pool", "c1")]


def test_duplicate_external_id_in_one_batch_keeps_the_first():
    store: dict = {}
    first = {"external_id": "c1", "parsed_cv": {"name": "First"}}
    second = {"external_id": "c1", "parsed_cv": {"name": "Second"}}
    response = ingest({"corpus_id": "pool", "candidates": [first, second]}, store)
    assert [row["status"] for row in response["results"]] == ["accepted", "failed"]
    assert response["results"][1]["error"]["code"] == "DUPLICATE_EXTERNAL_ID"
    assert store[("pool", "c1")].content_hash == canonical_hash({"name": "First"})
    assert response["summary"] == {"accepted": 1, "updated": 0, "unchanged": 0, "failed": 1}


def test_same_external_id_in_two_corpora_is_not_a_duplicate():
    response = ingest({"corpus_id": "a", "candidates": [candidate("c1"), candidate("c1", corpus_id="b")]}, {})
    assert [row["status"] for row in response["results"]] == ["accepted", "accepted"]


# -- upserts -----------------------------------------------------------------------------

def test_decide_upsert():
    assert decide_upsert(None, "sha256:aa") == "accepted"
    assert decide_upsert("sha256:aa", "sha256:aa") == "unchanged"
    assert decide_upsert("sha256:aa", "sha256:bb") == "updated"


def test_reposting_same_content_is_unchanged_and_writes_nothing():
    store: dict = {}
    ingest({"corpus_id": "pool", "candidates": [candidate("c1", tags=["t"])]}, store)
    before = store[("pool", "c1")]
    reordered = {"external_id": "c1", "parsed_cv": {"skills": ["Go"], "name": "Person c1"}}
    response = ingest({"corpus_id": "pool", "candidates": [reordered]}, store, now=NOW + 60)
    assert response["results"][0]["status"] == "unchanged"
    assert store[("pool", "c1")] is before  # tags omitted → kept, nothing rewritten


def test_changed_cv_is_updated_and_re_embeds():
    store: dict = {}
    ingest({"corpus_id": "pool", "candidates": [candidate("c1")]}, store)
    changed = {"external_id": "c1", "parsed_cv": {"name": "Person c1", "skills": ["Go", "Rust"]}}
    response = ingest({"corpus_id": "pool", "candidates": [changed]}, store, now=NOW + 60)
    record = store[("pool", "c1")]
    assert response["results"][0]["status"] == "updated"
    assert record.created_at == NOW and record.updated_at == NOW + 60
    assert record.embed_ready_at == NOW + 60 and record.content_hash == canonical_hash(changed["parsed_cv"])


def test_tags_only_change_is_updated_without_re_embedding():
    store: dict = {}
    big = {"corpus_id": "pool", "candidates": [candidate(f"c{i}") for i in range(INLINE_EMBED_MAX + 1)]}
    ingest(big, store)
    ready_at = store[("pool", "c0")].embed_ready_at
    response = ingest({"corpus_id": "pool", "candidates": [candidate("c0", tags=["new"])]}, store, now=NOW + 1)
    assert response["results"][0]["status"] == "updated"
    assert store[("pool", "c0")].tags == ("new",) and store[("pool", "c0")].embed_ready_at == ready_at


def test_summary_counts_each_status():
    store: dict = {}
    ingest({"corpus_id": "pool", "candidates": [candidate("c1"), candidate("c2")]}, store)
    body = {"corpus_id": "pool", "candidates": [
        candidate("c1"),
        {"external_id": "c2", "parsed_cv": {"name": "changed"}},
        candidate("c3"),
        {"external_id": "c4", "parsed_cv": {}},
    ]}
    response = ingest(body, store, now=NOW + 5)
    assert response["summary"] == {"accepted": 1, "updated": 1, "unchanged": 1, "failed": 1}
    assert [row["external_id"] for row in response["results"]] == ["c1", "c2", "c3", "c4"]


# -- embedding timeline ------------------------------------------------------------------

def test_small_batches_embed_inline():
    response = ingest({"corpus_id": "pool", "candidates": [candidate(f"c{i}") for i in range(INLINE_EMBED_MAX)]}, {})
    assert {row["embedding_status"] for row in response["results"]} == {"embedded"}


def test_large_batches_are_pending_then_embedded_in_chunks():
    store: dict = {}
    response = ingest({"corpus_id": "pool", "candidates": [candidate(f"c{i}") for i in range(120)]}, store)
    assert {row["embedding_status"] for row in response["results"]} == {"pending"}
    assert embedding_ready_at(NOW, 120, 0) == NOW + EMBED_CHUNK_SECONDS
    assert embedding_ready_at(NOW, 120, 119) == NOW + 3 * EMBED_CHUNK_SECONDS
    first, last = store[("pool", "c0")], store[("pool", "c119")]
    assert first.embedding_status(NOW + EMBED_CHUNK_SECONDS) == "embedded"
    assert last.embedding_status(NOW + EMBED_CHUNK_SECONDS) == "pending"
    assert last.embedding_status(NOW + 3 * EMBED_CHUNK_SECONDS) == "embedded"
    assert not last.is_searchable(NOW) and last.is_searchable(NOW + 3 * EMBED_CHUNK_SECONDS)


def test_cv_without_any_text_fails_embedding():
    assert embedding_outcome({"experience": [], "years": 4}) == "failed"
    assert embedding_outcome({"experience": [{"title": "Engineer"}]}) == "embedded"
    response = ingest({"corpus_id": "pool", "candidates": [{"external_id": "c1", "parsed_cv": {"years": 4}}]}, {})
    assert response["results"][0]["status"] == "accepted"
    assert response["results"][0]["embedding_status"] == "failed"


def test_unchanged_candidate_reports_its_current_embedding_status():
    store: dict = {}
    ingest({"corpus_id": "pool", "candidates": [candidate(f"c{i}") for i in range(60)]}, store)
    response = ingest({"corpus_id": "pool", "candidates": [candidate("c59")]}, store, now=NOW + 1)
    assert (response["results"][0]["status"], response["results"][0]["embedding_status"]) == ("unchanged", "pending")


# -- read views and paging ---------------------------------------------------------------

def test_status_views_never_expose_parsed_cv():
    store: dict = {}
    ingest({"corpus_id": "pool", "candidates": [candidate("c1", tags=["b1"])]}, store)
    record = store[("pool", "c1")]
    row, detail = record.status_row(NOW), record.status_detail(NOW)
    assert "parsed_cv" not in row and "parsed_cv" not in detail and "tags" not in row
    assert detail["tags"] == ["b1"] and detail["embedded_at"] == "2026-06-09T10:13:20.000Z"
    assert_valid(component("CvdsCandidateStatus"), row)
    assert_valid(component("CvdsCandidateStatusDetail"), detail)


def test_failed_embedding_row_carries_the_reason_and_validates():
    store: dict = {}
    ingest({"corpus_id": "pool", "candidates": [{"external_id": "c1", "parsed_cv": {"n": 1}}]}, store)
    row = store[("pool", "c1")].status_row(NOW)
    assert (row["embedding_status"], row["embedded_at"], row["embedding_error"]["code"]) == ("failed", None, "EMBEDDING_FAILED")
    assert_valid(component("CvdsCandidateStatus"), row)


def _corpus(count: int) -> list[CandidateRecord]:
    store: dict = {}
    for index in range(count):
        ingest({"corpus_id": "pool", "candidates": [candidate(f"c{index:02d}")]}, store, now=NOW + index)
    return list(store.values())


def test_list_is_newest_first_and_pages_with_cursor():
    records = _corpus(5)
    first = list_page(records, now=NOW + 10, limit=2)
    second = list_page(records, now=NOW + 10, limit=2, cursor=first["next_cursor"])
    third = list_page(records, now=NOW + 10, limit=2, cursor=second["next_cursor"])
    ids = [row["external_id"] for page in (first, second, third) for row in page["candidates"]]
    assert ids == ["c04", "c03", "c02", "c01", "c00"]
    assert third["next_cursor"] is None
    for page in (first, second, third):
        assert_valid(response_validator("listCvdsCandidates", "200"), page)


def test_list_pages_do_not_shift_when_new_candidates_arrive():
    records = _corpus(4)
    first = list_page(records, now=NOW + 10, limit=2)
    store = {(record.corpus_id, record.external_id): record for record in records}
    ingest({"corpus_id": "pool", "candidates": [candidate("late")]}, store, now=NOW + 20)
    second = list_page(list(store.values()), now=NOW + 20, limit=2, cursor=first["next_cursor"])
    assert [row["external_id"] for row in second["candidates"]] == ["c01", "c00"]


def test_list_filters_by_embedding_status():
    store: dict = {}
    ingest({"corpus_id": "pool", "candidates": [candidate(f"c{i}") for i in range(60)]}, store)
    records = list(store.values())
    pending = list_page(records, now=NOW + EMBED_CHUNK_SECONDS, embedding_status="pending", limit=200)
    embedded = list_page(records, now=NOW + EMBED_CHUNK_SECONDS, embedding_status="embedded", limit=200)
    assert len(pending["candidates"]) == 10 and len(embedded["candidates"]) == 50


def test_list_rejects_a_foreign_cursor():
    with pytest.raises(ApiError) as caught:
        list_page(_corpus(1), now=NOW, cursor="not-a-cursor")
    assert (caught.value.code, list(caught.value.details["fields"])) == ("INVALID_INPUT", ["cursor"])


# -- contract conformance ----------------------------------------------------------------

def test_ingest_response_validates_against_contract():
    store: dict = {}
    ingest({"corpus_id": "pool", "candidates": [candidate("c1"), candidate("c2")]}, store)
    body = {"corpus_id": "pool", "candidates": [
        candidate("c1"), {"external_id": "c2", "parsed_cv": {"name": "x"}}, candidate("c3"),
        {"external_id": "c4", "parsed_cv": {}}, {"external_id": "c4", "parsed_cv": {"name": "y"}},
    ]}
    assert_valid(request_validator("ingestCvdsCandidates"), body)
    assert_valid(response_validator("ingestCvdsCandidates", "200"), ingest(body, store, now=NOW + 1))


def test_error_bodies_fit_the_ingest_400_schema():
    for body in ({"candidates": [candidate("c1")]}, {"candidates": [candidate(f"c{i}") for i in range(501)]}):
        with pytest.raises(ApiError) as caught:
            plan_ingest(body)
        rendered = envelope(caught.value, timestamp="2026-06-09T10:00:00.000Z", request_id="req_1781000000000_abc")
        assert_valid(response_validator("ingestCvdsCandidates", "400"), rendered)


def test_decisions_say_when_the_cv_content_is_new():
    first = plan_ingest({"corpus_id": "pool", "candidates": [candidate("c1")]})[0]
    accepted = decide_item(first, None, now=NOW, batch_size=1)
    retag = plan_ingest({"corpus_id": "pool", "candidates": [candidate("c1", tags=["x"])]})[0]
    changed = plan_ingest({"corpus_id": "pool", "candidates": [{"external_id": "c1", "parsed_cv": {"name": "n"}}]})[0]
    assert accepted.new_content
    assert not decide_item(retag, accepted.record, now=NOW, batch_size=1).new_content
    assert decide_item(changed, accepted.record, now=NOW, batch_size=1).new_content
    assert not decide_item(first, accepted.record, now=NOW, batch_size=1).new_content


def test_scenario_overrides_set_the_embedding_ending_and_delay():
    item = plan_ingest({"corpus_id": "pool", "candidates": [candidate("c1")]})[0]
    decision = decide_item(item, None, now=NOW, batch_size=1, embed_outcome="failed", embed_seconds=30)
    assert decision.embedding_status == "pending"
    assert decision.record.embedding_status(NOW + 30) == "failed"
