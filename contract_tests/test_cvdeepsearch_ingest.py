"""CV DeepSearch ingestion over HTTP (CVDS-1..4): batches refused whole (missing corpus,
over 500 candidates, over ten megabytes), upserts (unchanged, updated, one bad item failing
alone) and embedding, inline or in the background, and its failure. Shared helpers:
``cvdeepsearch_helpers``.
"""

from __future__ import annotations

import json

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import Observed, assert_error, assert_no_problems, compact_json_problems
from contract_tests.contract import schema_problems
from contract_tests.cvdeepsearch_helpers import (CANDIDATES, SCENARIO_HEADER, candidate, cv, ingest, ingested,
                                                 list_corpus, listed_ids, unique)
from contract_tests.cvdeepsearch_helpers import candidate_op, ingest_op, list_op  # noqa: F401  (fixtures)
from contract_tests.waiting import until

EMBED_BUDGET_SECONDS = 300  # five minutes of the target's time for background embedding
EMBED_CHECK_SECONDS = 5


# --------------------------------------------------------------------------- requests

def wait_until_embedded(api, corpus_id: str, time_machine) -> None:
    """Wait (bounded) until no candidate of the corpus is `pending` any more."""
    for _ in until(time_machine, EMBED_BUDGET_SECONDS, f"no pending candidate in corpus {corpus_id}"):
        resp = list_corpus(api, corpus_id, embedding_status="pending", limit=1)
        assert resp.status_code == 200, resp.text[:300]
        if not resp.json()["candidates"]:
            return
        time_machine.pass_time(EMBED_CHECK_SECONDS, "candidates to embed in the background")


# --------------------------------------------------------------------------- ingestion: refused

@covers("CVDS-1", "ERR-4")
@pytest.mark.parametrize("top_level", [None, ""], ids=["absent", "empty"])
def test_one_candidate_without_a_corpus_rejects_the_whole_batch(api, ingest_op, top_level):
    corpus_id = unique("failclosed")
    resp = ingest(api, [cv("has-one", corpus_id=corpus_id), cv("has-none")], top_level)
    err = assert_error(resp, 400, "MISSING_CORPUS_ID", ingest_op)
    fields = (err.get("details") or {}).get("fields") or {}
    assert any("corpus_id" in name for name in fields), f"details.fields does not name the corpus_id: {err}"
    assert listed_ids(api, corpus_id) == [], "a fail-closed batch must write nothing"


@covers("CVDS-2")
def test_more_than_500_candidates_is_batch_too_large(api, ingest_op):
    corpus_id = unique("toolarge")
    resp = ingest(api, [cv(f"c{i}") for i in range(501)], corpus_id)
    assert_error(resp, 400, "BATCH_TOO_LARGE", ingest_op)
    assert listed_ids(api, corpus_id) == []


@covers("CVDS-2")
def test_a_body_over_ten_megabytes_is_413_payload_too_large(api, ingest_op):
    corpus_id = unique("huge")
    filler = "x" * (64 * 1024)
    count = 11 * 1024 * 1024 // len(filler) + 1
    raw = json.dumps({"corpus_id": corpus_id, "candidates": [
        {"external_id": f"c{i}", "parsed_cv": {"name": f"P{i}", "notes": filler}} for i in range(count)]}).encode()
    assert len(raw) > 11 * 1024 * 1024 and count <= 500  # over the size cap, within the count cap
    resp = api.post(CANDIDATES, content=raw, headers={"Content-Type": "application/json"})
    assert_error(resp, 413, "PAYLOAD_TOO_LARGE", ingest_op)
    assert listed_ids(api, corpus_id) == []


# --------------------------------------------------------------------------- ingestion: upsert

@covers("CVDS-1", "CVDS-3", "CVDS-4", "JSON-1")
def test_the_docs_ingest_example_is_accepted_and_embedded_inline(api, ingest_op, credit_guard):
    credit_guard.allow("a CV DeepSearch ingest (writes candidates to a corpus)")
    example = ingest_op.request_example("application/json") or {}
    corpus_id = unique("docs")
    body = dict(example, corpus_id=corpus_id)
    resp = api.post(CANDIDATES, json=body)
    payload = ingested(resp, ingest_op)
    assert_no_problems(compact_json_problems(Observed.from_httpx(resp)))
    expected = [c["external_id"] for c in body["candidates"]]
    assert [(r["external_id"], r["status"], r["embedding_status"]) for r in payload["results"]] == \
        [(e, "accepted", "embedded") for e in expected], payload
    assert payload["summary"] == {"accepted": len(expected), "updated": 0, "unchanged": 0, "failed": 0}
    assert sorted(listed_ids(api, corpus_id)) == sorted(expected)


@covers("CVDS-1")
def test_a_per_candidate_corpus_overrides_the_top_level_one(api, ingest_op, credit_guard):
    credit_guard.allow("a CV DeepSearch ingest (writes candidates to a corpus)")
    top, own = unique("top"), unique("own")
    ingested(ingest(api, [cv("stays"), cv("moves", corpus_id=own)], top), ingest_op)
    assert listed_ids(api, top) == ["stays"]
    assert listed_ids(api, own) == ["moves"]


@covers("CVDS-1")
def test_per_candidate_corpus_ids_alone_are_enough(api, ingest_op, credit_guard):
    credit_guard.allow("a CV DeepSearch ingest (writes candidates to a corpus)")
    first, second = unique("first"), unique("second")
    body = ingested(ingest(api, [cv("a", corpus_id=first), cv("b", corpus_id=second)]), ingest_op)
    assert body["summary"]["accepted"] == 2, body
    assert (listed_ids(api, first), listed_ids(api, second)) == (["a"], ["b"])


@covers("CVDS-3", "CVDS-5")
def test_reposting_is_unchanged_and_a_changed_cv_is_updated(api, ingest_op, candidate_op, credit_guard):
    credit_guard.allow("CV DeepSearch ingests (write candidates to a corpus)")
    corpus_id = unique("upsert")
    keep, change = cv("keep", "Go", "SQL"), cv("change", "Python")
    first = ingested(ingest(api, [keep, change], corpus_id), ingest_op)
    assert [r["status"] for r in first["results"]] == ["accepted", "accepted"], first
    hashes = {e: candidate(api, e, corpus_id).json()["content_hash"] for e in ("keep", "change")}

    reordered = {"external_id": "keep", "parsed_cv": dict(reversed(list(keep["parsed_cv"].items())))}
    changed = cv("change", "Python", "Rust")
    second = ingested(ingest(api, [reordered, changed], corpus_id), ingest_op)
    assert [(r["external_id"], r["status"]) for r in second["results"]] == [("keep", "unchanged"), ("change", "updated")]
    assert second["summary"] == {"accepted": 0, "updated": 1, "unchanged": 1, "failed": 0}, second

    after = {e: candidate(api, e, corpus_id).json() for e in ("keep", "change")}
    assert after["keep"]["content_hash"] == hashes["keep"], "an unchanged CV keeps its content hash"
    assert after["change"]["content_hash"] != hashes["change"], "a changed CV gets a new content hash"
    for row in after.values():
        assert_no_problems(schema_problems(candidate_op, 200, row))


@covers("CVDS-3")
def test_a_bad_item_fails_alone_and_the_rest_of_the_batch_is_written(api, ingest_op, credit_guard):
    credit_guard.allow("a CV DeepSearch ingest (writes candidates to a corpus)")
    corpus_id = unique("baditem")
    body = ingested(ingest(api, [cv("good"), {"external_id": "empty", "parsed_cv": {}}], corpus_id), ingest_op)
    assert [(r["external_id"], r["status"]) for r in body["results"]] == [("good", "accepted"), ("empty", "failed")]
    assert body["summary"] == {"accepted": 1, "updated": 0, "unchanged": 0, "failed": 1}, body
    assert listed_ids(api, corpus_id) == ["good"]
    assert candidate(api, "empty", corpus_id).status_code == 404


# --------------------------------------------------------------------------- embedding

@covers("CVDS-4", "CVDS-5")
def test_a_large_batch_is_pending_then_embeds_in_the_background(api, ingest_op, list_op, credit_guard, time_machine):
    credit_guard.allow("a CV DeepSearch ingest of 200 candidates")
    corpus_id = unique("large")
    body = ingested(ingest(api, [cv(f"bulk-{i:03d}") for i in range(200)], corpus_id), ingest_op)
    assert body["summary"]["accepted"] == 200, body["summary"]
    assert {r["embedding_status"] for r in body["results"]} == {"pending"}, \
        "a large batch is accepted fast with pending embedding statuses"
    wait_until_embedded(api, corpus_id, time_machine)
    resp = list_corpus(api, corpus_id, embedding_status="embedded", limit=200)
    assert resp.status_code == 200, resp.text[:300]
    rows = resp.json()["candidates"]
    assert_no_problems(schema_problems(list_op, 200, resp.json()))
    assert len(rows) == 200 and {row["embedding_status"] for row in rows} == {"embedded"}
    assert all(row["embedded_at"] for row in rows), "an embedded candidate says when it became searchable"


@covers("CVDS-4", "CVDS-5")
def test_a_failed_embedding_is_reported_and_filterable(api, control, ingest_op, candidate_op, credit_guard):
    credit_guard.allow("a CV DeepSearch ingest (writes candidates to a corpus)")
    corpus_id = unique("embedfail")
    body = ingested(ingest(api, [cv("broken")], corpus_id, headers={SCENARIO_HEADER: "cvds-embedding-failed"}),
                    ingest_op)
    if body["results"][0]["embedding_status"] != "failed":
        pytest.skip("the target does not inject the cvds-embedding-failed scenario")
    assert body["results"][0]["status"] == "accepted", body
    detail = candidate(api, "broken", corpus_id)
    assert detail.status_code == 200, detail.text[:300]
    assert_no_problems(schema_problems(candidate_op, 200, detail.json()))
    assert detail.json()["embedding_status"] == "failed" and detail.json()["embedded_at"] is None
    assert listed_ids(api, corpus_id, embedding_status="failed") == ["broken"]
    assert listed_ids(api, corpus_id, embedding_status="embedded") == []
