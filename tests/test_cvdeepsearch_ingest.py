"""CV DeepSearch ingestion and candidate reads over HTTP (in-process, manual clock, strict
contract checks): corpus resolution (CVDS-1), batch and body caps (CVDS-2), idempotent upsert
(CVDS-3), the embedding timeline (CVDS-4), the read endpoints (CVDS-5), tenant isolation
(AUTH-6), permissions (AUTH-4) and the submit rate limit (RATE-1). Each test's docstring names
the catalog IDs it checks."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from conftest import FULL, NO_PERMS, SECOND, SLOW_SUBMIT, Api, make_app
from cvds_contract_helpers import CANDIDATES, SEARCH, candidate, ingest, list_corpus, position

ELEVEN_MB = 11 * 1024 * 1024


def detail(api, external_id: str, corpus_id: str = "pool", **kw):
    return api.call("GET", f"{CANDIDATES}/{external_id}?corpus_id={corpus_id}", **kw)


# -- CVDS-1: corpus resolution ---------------------------------------------------------------

def test_documented_ingest_example_is_accepted_and_embedded_inline(api):
    """CVDS-1, CVDS-3, CVDS-4: the Ingestion guide's request gives the guide's response."""
    body = {"corpus_id": "acme-eng-pool", "candidates": [
        {"external_id": "cand-001", "parsed_cv": {"name": "Jane Doe", "skills": ["Node.js", "PostgreSQL"],
                                                  "experience": []}, "tags": ["batch-2026-q2"]},
        {"external_id": "cand-002", "parsed_cv": {"name": "John Roe", "skills": ["Python", "AWS"], "experience": []}},
    ]}
    response = api.call("POST", CANDIDATES, json=body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert [(row["external_id"], row["status"], row["embedding_status"]) for row in payload["results"]] == [
        ("cand-001", "accepted", "embedded"), ("cand-002", "accepted", "embedded")]
    assert payload["summary"] == {"accepted": 2, "updated": 0, "unchanged": 0, "failed": 0}


def test_per_candidate_corpus_overrides_the_top_level_one(api):
    """CVDS-1: a candidate's own corpus_id wins; the others take the top-level one."""
    response = ingest(api, [candidate("c1"), candidate("c2", corpus_id="sales")], corpus_id="eng")
    assert [row["corpus_id"] for row in response.json()["results"]] == ["eng", "sales"]
    assert [row["external_id"] for row in list_corpus(api, "eng")] == ["c1"]
    assert [row["external_id"] for row in list_corpus(api, "sales")] == ["c2"]


def test_per_candidate_corpus_alone_is_enough(api):
    """CVDS-1: no top-level corpus_id is needed when every candidate names one."""
    response = ingest(api, [candidate("c1", corpus_id="eng")], corpus_id=None)
    assert response.status_code == 200 and response.json()["summary"]["accepted"] == 1


@pytest.mark.parametrize("top_level", [None, ""])
def test_one_unresolvable_candidate_rejects_the_whole_batch_and_writes_nothing(api, top_level):
    """CVDS-1: fail-closed — 400 MISSING_CORPUS_ID naming the candidate, nothing written."""
    response = ingest(api, [candidate("c1", corpus_id="eng"), candidate("c2")], corpus_id=top_level)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("MISSING_CORPUS_ID", "corpus_id is mandatory and fail-closed.")
    assert list(error["details"]["fields"]) == ["candidates[1].corpus_id"]
    assert list_corpus(api, "eng") == []


# -- CVDS-2: limits ----------------------------------------------------------------------------

def test_batch_of_501_candidates_is_batch_too_large_and_writes_nothing(api):
    """CVDS-2: more than 500 candidates → 400 BATCH_TOO_LARGE."""
    response = ingest(api, [candidate(f"c{i}") for i in range(501)])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BATCH_TOO_LARGE"
    assert "candidates" in response.json()["error"]["details"]["fields"]
    assert list_corpus(api) == []


def test_batch_too_large_error_does_not_echo_the_cvs(api):
    """CVDS-2, CVDS-5: the 400 names the limit without quoting the batch back."""
    response = ingest(api, [{"external_id": f"c{i}", "parsed_cv": {"name": f"Secret Person {i}"}} for i in range(501)])
    assert response.json()["error"]["code"] == "BATCH_TOO_LARGE"
    assert "Secret Person" not in response.text and len(response.content) < 2048


def test_batch_of_500_candidates_is_accepted(api):
    """CVDS-2: exactly 500 is within the cap."""
    response = ingest(api, [candidate(f"c{i}") for i in range(500)])
    assert response.status_code == 200
    assert response.json()["summary"]["accepted"] == 500


def _eleven_mb_body() -> bytes:
    filler = "x" * (64 * 1024)
    count = ELEVEN_MB // len(filler) + 1
    body = {"corpus_id": "pool", "candidates": [
        {"external_id": f"c{i}", "parsed_cv": {"name": f"P{i}", "notes": filler}} for i in range(count)]}
    return json.dumps(body).encode()


def test_eleven_mb_body_is_413_payload_too_large(api):
    """CVDS-2: a body over ~10 MB (declared by Content-Length) → 413 PAYLOAD_TOO_LARGE, nothing written."""
    raw = _eleven_mb_body()
    assert len(raw) > ELEVEN_MB
    response = api.call("POST", CANDIDATES, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert list_corpus(api) == []


def test_chunked_body_over_10_mb_is_refused_while_streaming(mock_app):
    """CVDS-2: without a Content-Length the body is refused once it passes the cap, before
    the client has sent all of it (it is never buffered whole)."""
    raw = _eleven_mb_body()
    chunk = 256 * 1024
    sent: list[int] = []

    async def stream():
        for start in range(0, len(raw), chunk):
            sent.append(chunk)
            yield raw[start:start + chunk]

    async def post():
        transport = httpx.ASGITransport(app=mock_app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            return await client.post(CANDIDATES, content=stream(),
                                     headers={"X-API-Key": FULL, "Content-Type": "application/json"})

    response = asyncio.run(post())
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert 10 * 1024 * 1024 < sum(sent) < len(raw)
    with Api(mock_app) as api:
        assert list_corpus(api) == []


# -- CVDS-3: idempotent upsert -------------------------------------------------------------------

def test_reingesting_the_same_candidates_with_keys_reordered_is_all_unchanged(api):
    """CVDS-3: the content hash is over canonical JSON — key order and whitespace do not matter."""
    cvs = {f"c{i}": {"name": f"Person {i}", "skills": ["Go", "SQL"], "address": {"city": "Oslo", "zip": "0150"},
                     "experience": [{"title": "Engineer", "from": 2019, "to": 2024}]} for i in range(3)}
    first = ingest(api, [{"external_id": key, "parsed_cv": cv} for key, cv in cvs.items()])
    assert first.json()["summary"]["accepted"] == 3
    before = {row["external_id"]: row for row in list_corpus(api)}

    def reversed_keys(value):
        if isinstance(value, dict):
            return {key: reversed_keys(value[key]) for key in reversed(list(value))}
        if isinstance(value, list):
            return [reversed_keys(item) for item in value]
        return value

    body = {"candidates": [{"parsed_cv": reversed_keys(cv), "external_id": key} for key, cv in cvs.items()],
            "corpus_id": "pool"}
    api.advance(30)
    again = api.call("POST", CANDIDATES, content=json.dumps(body, indent=4).encode(),
                     headers={"Content-Type": "application/json"})
    assert again.json()["summary"] == {"accepted": 0, "updated": 0, "unchanged": 3, "failed": 0}
    assert {row["status"] for row in again.json()["results"]} == {"unchanged"}
    after = {row["external_id"]: row for row in list_corpus(api)}
    assert after == before  # same hash, same updated_at: nothing was written


def test_changed_cv_is_updated_and_re_embeds(api):
    """CVDS-3, CVDS-4: a changed parsed_cv → `updated`, new content hash, pending again until embedded."""
    ingest(api, [candidate("c1", "Go")])
    original = detail(api, "c1").json()
    api.advance(60)
    batch = [candidate("c1", "Go", "Rust")] + [candidate(f"filler{i}") for i in range(30)]  # a background batch
    response = ingest(api, batch)
    assert response.json()["results"][0]["status"] == "updated"
    assert response.json()["results"][0]["embedding_status"] == "pending"
    changed = detail(api, "c1").json()
    assert changed["content_hash"] != original["content_hash"]
    assert changed["created_at"] == original["created_at"] and changed["updated_at"] > original["updated_at"]
    assert (changed["embedding_status"], changed["embedded_at"]) == ("pending", None)
    api.advance(2)
    embedded = detail(api, "c1").json()
    assert embedded["embedding_status"] == "embedded" and embedded["embedded_at"] > original["embedded_at"]


def test_mixed_batch_reports_each_outcome_and_a_correct_summary(api):
    """CVDS-3: accepted / updated / unchanged / failed per item, in request order, summed."""
    ingest(api, [candidate("same"), candidate("changes")])
    response = ingest(api, [
        candidate("same"),
        candidate("changes", "Go", "Kotlin"),
        candidate("new"),
        {"external_id": "empty", "parsed_cv": {}},
        candidate("new", "Rust"),
    ])
    payload = response.json()
    assert [(row["external_id"], row["status"]) for row in payload["results"]] == [
        ("same", "unchanged"), ("changes", "updated"), ("new", "accepted"), ("empty", "failed"), ("new", "failed")]
    assert [row.get("error", {}).get("code") for row in payload["results"]][3:] == [
        "INVALID_PARSED_CV", "DUPLICATE_EXTERNAL_ID"]
    assert payload["summary"] == {"accepted": 1, "updated": 1, "unchanged": 1, "failed": 2}
    assert sorted(row["external_id"] for row in list_corpus(api)) == ["changes", "new", "same"]


def test_tags_only_change_is_updated_without_re_embedding(api):
    """CVDS-3: sent tags replace the stored ones; omitted tags are kept."""
    ingest(api, [candidate("c1", tags=["q1"])])
    embedded_at = detail(api, "c1").json()["embedded_at"]
    api.advance(10)
    assert ingest(api, [candidate("c1")]).json()["results"][0]["status"] == "unchanged"
    assert detail(api, "c1").json()["tags"] == ["q1"]
    retagged = ingest(api, [candidate("c1", tags=["q2"])]).json()["results"][0]
    assert (retagged["status"], retagged["embedding_status"]) == ("updated", "embedded")
    body = detail(api, "c1").json()
    assert body["tags"] == ["q2"] and body["embedded_at"] == embedded_at


def test_same_external_id_in_two_corpora_are_two_candidates(api):
    """CVDS-3: the upsert key is (client, corpus_id, external_id)."""
    ingest(api, [candidate("c1", "Go")], corpus_id="a")
    response = ingest(api, [candidate("c1", "Rust")], corpus_id="b")
    assert response.json()["results"][0]["status"] == "accepted"
    assert detail(api, "c1", "a").json()["content_hash"] != detail(api, "c1", "b").json()["content_hash"]


# -- CVDS-4: embedding ---------------------------------------------------------------------------

def test_large_batch_returns_pending_and_embeds_in_the_background(api):
    """CVDS-4: > 25 candidates → pending at once, embedded on the virtual clock (2 s per 50)."""
    response = ingest(api, [candidate(f"c{i:03d}") for i in range(120)])
    assert {row["embedding_status"] for row in response.json()["results"]} == {"pending"}
    pending = api.call("GET", f"{CANDIDATES}?corpus_id=pool&embedding_status=pending&limit=200").json()
    assert len(pending["candidates"]) == 120
    api.advance(2)
    rows = list_corpus(api)
    assert sum(row["embedding_status"] == "embedded" for row in rows) == 50
    api.advance(4)
    assert {row["embedding_status"] for row in list_corpus(api)} == {"embedded"}


def test_cv_without_any_text_fails_embedding(api):
    """CVDS-4: `failed` is reachable — a CV with no text cannot be embedded."""
    response = ingest(api, [{"external_id": "blank", "parsed_cv": {"years": 4, "experience": []}}])
    assert response.json()["results"][0] == {"external_id": "blank", "corpus_id": "pool", "status": "accepted",
                                             "embedding_status": "failed"}
    body = detail(api, "blank").json()
    assert body["embedding_error"]["code"] == "EMBEDDING_FAILED" and body["embedded_at"] is None


def test_scenario_header_fails_embedding(api):
    """CVDS-4: X-Mock-Scenario: cvds-embedding-failed → embedding_status failed."""
    response = ingest(api, [candidate("c1")], headers={"X-Mock-Scenario": "cvds-embedding-failed"})
    assert response.json()["results"][0]["embedding_status"] == "failed"
    failed = api.call("GET", f"{CANDIDATES}?corpus_id=pool&embedding_status=failed").json()["candidates"]
    assert [row["external_id"] for row in failed] == ["c1"]


def test_embed_fail_external_ids_fail_embedding_without_a_header(api):
    """CVDS-4: the default rule fails candidates named embed-fail-*; others are unaffected."""
    response = ingest(api, [candidate("embed-fail-1"), candidate("ok-1")])
    assert [row["embedding_status"] for row in response.json()["results"]] == ["failed", "embedded"]


def test_slow_embedding_scenario_keeps_a_small_batch_pending(api):
    """CVDS-4: X-Mock-Scenario: cvds-embedding-slow → pending for 300 s."""
    ingest(api, [candidate("c1")], headers={"X-Mock-Scenario": "cvds-embedding-slow"})
    assert detail(api, "c1").json()["embedding_status"] == "pending"
    api.advance(299)
    assert detail(api, "c1").json()["embedding_status"] == "pending"
    api.advance(1)
    assert detail(api, "c1").json()["embedding_status"] == "embedded"


# -- CVDS-5: reads -------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["", "?corpus_id=", "?limit=5"])
def test_list_without_corpus_id_is_missing_corpus_id(api, query):
    """CVDS-5: corpus_id is mandatory on the list (fail-closed)."""
    response = api.call("GET", CANDIDATES + query)
    assert response.status_code == 400 and response.json()["error"]["code"] == "MISSING_CORPUS_ID"


@pytest.mark.parametrize("query", ["", "?corpus_id="])
def test_get_candidate_without_corpus_id_is_missing_corpus_id(api, query):
    """CVDS-5: corpus_id is mandatory on the single read too."""
    ingest(api, [candidate("c1")])
    response = api.call("GET", f"{CANDIDATES}/c1{query}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "MISSING_CORPUS_ID"


def test_list_is_newest_first_and_cursor_pages_never_repeat_or_skip(api):
    """CVDS-5, LIST-3: newest first; candidates ingested between pages do not shift the next page."""
    for index in range(5):
        ingest(api, [candidate(f"c{index}")])
        api.advance(1)
    first = api.call("GET", f"{CANDIDATES}?corpus_id=pool&limit=2").json()
    assert [row["external_id"] for row in first["candidates"]] == ["c4", "c3"]
    ingest(api, [candidate("late")])
    seen = [row["external_id"] for row in first["candidates"]]
    cursor = first["next_cursor"]
    for _ in range(10):
        if cursor is None:
            break
        page = api.call("GET", f"{CANDIDATES}?corpus_id=pool&limit=2&cursor={cursor}").json()
        seen += [row["external_id"] for row in page["candidates"]]
        cursor = page["next_cursor"]
    assert seen == ["c4", "c3", "c2", "c1", "c0"]
    assert list_corpus(api)[0]["external_id"] == "late"


def test_list_rows_carry_status_and_hash_but_not_tags(api):
    """CVDS-5, LIST-4: a row is a compact status; tags are on the per-candidate read."""
    ingest(api, [candidate("c1", tags=["t1"])])
    row = list_corpus(api)[0]
    assert set(row) == {"external_id", "corpus_id", "embedding_status", "content_hash", "created_at",
                        "updated_at", "embedded_at"}
    assert row["content_hash"].startswith("sha256:")
    assert detail(api, "c1").json()["tags"] == ["t1"]


def test_get_candidate_reads_one_status_with_tags_and_404s_elsewhere(api):
    """CVDS-5: unknown id, or a known id in another corpus → 404 NOT_FOUND."""
    ingest(api, [candidate("c1", tags=["a", "b"])])
    body = detail(api, "c1").json()
    assert (body["external_id"], body["corpus_id"], body["tags"]) == ("c1", "pool", ["a", "b"])
    for response in (detail(api, "nobody"), detail(api, "c1", corpus_id="other")):
        error = response.json()["error"]
        assert (response.status_code, error["code"], error["message"]) == (
            404, "NOT_FOUND", "No candidate with that id for your client.")


def test_another_tenant_sees_none_of_the_corpus(api):
    """AUTH-6, CVDS-8: the same corpus name under another client is a different, empty corpus."""
    ingest(api, [candidate("c1")])
    assert list_corpus(api, key=SECOND) == []
    assert detail(api, "c1", key=SECOND).status_code == 404
    ingest(api, [candidate("c1", "Rust")], key=SECOND)
    assert detail(api, "c1").json()["content_hash"] != detail(api, "c1", key=SECOND).json()["content_hash"]


@pytest.mark.parametrize("query", ["embedding_status=done", "limit=0", "limit=201", "cursor=not-a-cursor"])
def test_bad_list_parameters_are_invalid_input(api, query):
    """CVDS-5: a bad filter, page size or cursor → 400 INVALID_INPUT."""
    response = api.call("GET", f"{CANDIDATES}?corpus_id=pool&{query}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_INPUT"


@pytest.mark.parametrize("body", [
    {"corpus_id": "pool", "candidates": []},
    {"corpus_id": "pool", "candidates": [{"parsed_cv": {"name": "x"}}]},
    {"corpus_id": "pool", "candidates": [{"external_id": "c1", "parsed_cv": "not an object"}]},
    {"corpus_id": "pool"},
])
def test_malformed_ingest_bodies_are_invalid_input(api, body):
    """CVDS-1: bodies that break the contract → 400 INVALID_INPUT with details.fields."""
    response = api.call("POST", CANDIDATES, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_INPUT" and response.json()["error"]["details"]["fields"]


def test_parsed_cv_is_never_returned_by_any_endpoint():
    """CVDS-5: parsed_cv (PII) appears in no response — ingest, list, read, search, poll, results."""
    marker = "Zyxwvut-PII-marker"
    with Api(make_app(preview=["cvds-results"])) as api:
        bodies = [ingest(api, [{"external_id": "c1", "parsed_cv": {"name": marker, "skills": ["Go"]}}]).text,
                  api.call("GET", f"{CANDIDATES}?corpus_id=pool").text,
                  api.call("GET", f"{CANDIDATES}/c1?corpus_id=pool").text]
        run_id = api.call("POST", SEARCH, json={"corpus_id": "pool", "position_id": "p1",
                                                "position_metadata": position("Go")}).json()["id"]
        api.advance(120)
        bodies += [api.call("GET", f"/api/v1/cvds/runs/{run_id}").text,
                   api.call("GET", f"/api/v1/cvds/runs/{run_id}/results").text]
        assert all(marker not in text and "parsed_cv" not in text for text in bodies)


# -- AUTH-4, RATE-1 ------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("POST", CANDIDATES), ("GET", f"{CANDIDATES}?corpus_id=pool"), ("GET", f"{CANDIDATES}/c1?corpus_id=pool"),
    ("POST", SEARCH), ("GET", "/api/v1/cvds/runs/cvds_8mK2pQ7rT1aB9xY3wZ0vNn"),
])
def test_client_without_cvdeepsearch_permission_is_403(api, method, path):
    """AUTH-4: every CVDS operation needs the cvdeepsearch permission."""
    response = api.call(method, path, key=NO_PERMS, json={} if method == "POST" else None)
    assert response.status_code == 403 and response.json()["error"]["code"] == "MISSING_PERMISSION"


def test_ingest_counts_against_the_submit_rate_limit(api):
    """RATE-1: ingest is a submit endpoint — past the key's per-minute limit → 429 with Retry-After."""
    codes = [ingest(api, [candidate(f"c{i}")], key=SLOW_SUBMIT).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    blocked = ingest(api, [candidate("c9")], key=SLOW_SUBMIT)
    assert blocked.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED" and int(blocked.headers["Retry-After"]) >= 1
    api.advance(60)
    assert ingest(api, [candidate("c9")], key=SLOW_SUBMIT).status_code == 200
