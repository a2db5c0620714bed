"""CV DeepSearch behaviour over HTTP: ingestion (CVDS-1..4), the candidate reads (CVDS-5,
LIST-3, LIST-4), the search trigger (CVDS-6, CFG-10, HOOK-1), the run poll and its lifecycle
(CVDS-7, CVDS-11, POLL-1..6), corpus and tenant isolation (CVDS-8, AUTH-6), idempotency
(IDEM-2..4, CVDS-10), the signed completion webhook of a search with a webhook_url, sent by
default (CVDS-12, HOOK-7), and — when the target serves the provisional results surface —
the best-first ranking (CVDS-9).

Requests the contract refuses (400s, 413) and reads run in every profile. Requests that write
to a corpus or start a search ask `credit_guard` first, so the `safe` profile changes nothing
on the target. Every corpus, position and idempotency key carries a per-session random part,
so runs never meet earlier data on a long-lived target. Outcomes only a mock can be asked for
(`X-Mock-Scenario`: a failed embedding, a 502 at start) need the control API and skip without
it; time passes through `time_machine` (the mock's clock, or a bounded real wait).

The results surface (ranking, `GET /runs/{id}/results`, the completion callback) is a forward
reference in the docs. Whether the target serves it is observed, never assumed: a finished run
with `results_pending: false` means it does; otherwise those tests skip with the reason.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from contract_tests.catalog import covers
from contract_tests.checks import (TIMESTAMP, Observed, assert_error, assert_no_problems, compact_json_problems,
                                   pii_problems)
from contract_tests.contract import schema_problems
from contract_tests.examples import fill_path
from contract_tests.receiver import WebhookReceiver, verify_signature
from contract_tests.target import Api
from contract_tests.waiting import until

CANDIDATES = "/api/v1/cvds/candidates"
SEARCH = "/api/v1/cvds/search"
RUNS = "/api/v1/cvds/runs"
SCENARIO_HEADER = "X-Mock-Scenario"
RUN_ID = r"^cvds_[0-9A-Za-z]{22}$"
TERMINAL = ("completed", "failed")
DOCUMENTED_RUN_KEYS = {"id", "status", "corpus_id", "position_id", "is_job_updated", "top_n", "source",
                       "created_at", "results", "results_pending"}
RUN_BUDGET_SECONDS = 600  # ten minutes of the target's time for a search run
EMBED_BUDGET_SECONDS = 300  # five minutes of the target's time for background embedding
EMBED_CHECK_SECONDS = 5
MAX_PAGES = 20
SESSION = secrets.token_hex(3)
_SERIAL = itertools.count(1)
SKILLS = ("Go", "SQL", "Kubernetes")
WEBHOOK_SECRET = "whsec_contract_suite_cvds_" + SESSION


# --------------------------------------------------------------------------- names and bodies

def unique(label: str) -> str:
    """A corpus / position / key name no earlier run used: `ct<session><n>-<label>` (≤ 28 chars)."""
    return f"ct{SESSION}{next(_SERIAL):03d}-{label}"[:28]


def cv(external_id: str, *skills: str, **fields) -> dict:
    """One ingest item whose parsed CV lists `skills`."""
    return dict({"external_id": external_id,
                 "parsed_cv": {"name": f"Candidate {external_id}", "skills": list(skills or ("Go",)),
                               "experience": []}}, **fields)


def position(*skills: str) -> dict:
    """A position config (the CV DeepMatch requirements shape) requiring `skills` equally."""
    return {"name": "Backend Engineer", "requirements": {"skills": {"importance": 5, "skills_config": {
        "hard_skills": [{"name": skill, "importance": 5} for skill in skills],
        "requirements": {"minimal_qualifications": True, "preferable_qualifications": True}}}}}


# --------------------------------------------------------------------------- requests

def ingest(api, candidates: list[dict], corpus_id: str | None = None, headers: dict | None = None):
    body: dict = {"candidates": candidates}
    if corpus_id is not None:
        body["corpus_id"] = corpus_id
    return api.post(CANDIDATES, json=body, headers=headers or {})


def ingested(resp, op) -> dict:
    assert resp.status_code == 200, f"expected 200, got {resp.status_code}: {resp.text[:300]}"
    body = resp.json()
    assert_no_problems(schema_problems(op, 200, body))
    return body


def list_corpus(api, corpus_id: str, **params):
    return api.get(CANDIDATES, params=dict(params, corpus_id=corpus_id))


def listed_ids(api, corpus_id: str, **params) -> list[str]:
    resp = list_corpus(api, corpus_id, limit=200, **params)
    assert resp.status_code == 200, resp.text[:300]
    return [row["external_id"] for row in resp.json()["candidates"]]


def candidate(api, external_id: str, corpus_id: str | None):
    params = {} if corpus_id is None else {"corpus_id": corpus_id}
    return api.get(f"{CANDIDATES}/{external_id}", params=params)


def search(api, corpus_id: str | None, *, metadata: dict | None = None, headers: dict | None = None, **fields):
    body = {"position_id": fields.pop("position_id", None) or unique("role"),
            "position_metadata": position(*SKILLS) if metadata is None else metadata}
    if corpus_id is not None:
        body["corpus_id"] = corpus_id
    body.update(fields)
    return api.post(SEARCH, json=body, headers=headers or {})


def triggered(resp, op) -> dict:
    assert resp.status_code == 200, f"expected 200, got {resp.status_code}: {resp.text[:300]}"
    body = resp.json()
    assert_no_problems(schema_problems(op, 200, body))
    assert_no_problems(compact_json_problems(Observed.from_httpx(resp)))
    return body


def poll(api, run_id: str):
    return api.get(f"{RUNS}/{run_id}")


def wait_until_terminal(api, run_id: str, time_machine, op) -> dict:
    """Poll as the docs advise (at most one poll per 10 s, honouring Retry-After) until the
    run is `completed` or `failed`."""
    for _ in until(time_machine, RUN_BUDGET_SECONDS, f"a terminal status of run {run_id}"):
        resp = poll(api, run_id)
        if resp.status_code == 429:
            time_machine.wait_advertised(int(resp.headers["Retry-After"]), "the poll interval of a search run")
            continue
        assert resp.status_code == 200, resp.text[:300]
        body = resp.json()
        assert_no_problems(schema_problems(op, 200, body))
        if body["status"] in TERMINAL:
            return body
        assert body["status"] == "pending", body
        assert resp.headers.get("Retry-After"), "a pending run's poll carries Retry-After (POLL-3)"
        # never sooner than Retry-After (client seconds), nor than the documented 10 s (target time)
        time_machine.wait_advertised(int(resp.headers["Retry-After"]), "a search run to finish", at_least=10)


def wait_until_embedded(api, corpus_id: str, time_machine) -> None:
    """Wait (bounded) until no candidate of the corpus is `pending` any more."""
    for _ in until(time_machine, EMBED_BUDGET_SECONDS, f"no pending candidate in corpus {corpus_id}"):
        resp = list_corpus(api, corpus_id, embedding_status="pending", limit=1)
        assert resp.status_code == 200, resp.text[:300]
        if not resp.json()["candidates"]:
            return
        time_machine.pass_time(EMBED_CHECK_SECONDS, "candidates to embed in the background")


def ranked_ids(run: dict) -> list[str]:
    return [row["external_id"] for row in run["results"]]


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def ingest_op(operation):
    return operation("ingestCvdsCandidates")


@pytest.fixture(scope="module")
def list_op(operation):
    return operation("listCvdsCandidates")


@pytest.fixture(scope="module")
def candidate_op(operation):
    return operation("getCvdsCandidate")


@pytest.fixture(scope="module")
def search_op(operation):
    return operation("submitCvdsSearch")


@pytest.fixture(scope="module")
def run_op(operation):
    return operation("getCvdsRun")


@pytest.fixture(scope="module")
def results_op(operation):
    return operation("getCvdsRunResults")


@pytest.fixture(scope="module")
def module_credit_guard(target):
    return target.credits


@pytest.fixture(scope="module")
def ranked_corpus(api, ingest_op, module_credit_guard):
    """A corpus of three embedded candidates knowing all, one and none of SKILLS."""
    module_credit_guard.allow("a CV DeepSearch ingest (writes candidates to a corpus)")
    corpus_id = unique("ranked")
    body = ingested(ingest(api, [cv("all-three", *SKILLS), cv("just-go", "Go"), cv("none", "Cobol")],
                           corpus_id), ingest_op)
    assert [row["embedding_status"] for row in body["results"]] == ["embedded"] * 3, body
    return corpus_id


@pytest.fixture(scope="module")
def finished_run(api, ranked_corpus, search_op, run_op, module_credit_guard, time_machine):
    """One search of `ranked_corpus` for SKILLS, followed to its end (shared by the read tests)."""
    module_credit_guard.allow("a CV DeepSearch search (starts a run)")
    position_id = unique("finished")
    submitted = triggered(search(api, ranked_corpus, position_id=position_id), search_op)
    result = wait_until_terminal(api, submitted["id"], time_machine, run_op)
    return {"submit": submitted, "result": result, "corpus_id": ranked_corpus, "position_id": position_id}


@pytest.fixture(scope="module")
def preview_on(finished_run) -> bool:
    """Whether the target serves the provisional results: a finished run says so itself."""
    return finished_run["result"]["results_pending"] is False


@pytest.fixture()
def needs_preview(preview_on):
    if not preview_on:
        pytest.skip("the target does not serve the provisional CV DeepSearch results "
                    "(a finished run still has results_pending: true)")


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


# --------------------------------------------------------------------------- candidate reads

@covers("CVDS-5")
def test_the_candidate_reads_need_a_corpus_id(api, list_op, candidate_op):
    assert_error(api.get(CANDIDATES), 400, "MISSING_CORPUS_ID", list_op)
    assert_error(api.get(CANDIDATES, params={"corpus_id": ""}), 400, "MISSING_CORPUS_ID", list_op)
    assert_error(candidate(api, "cand-001", None), 400, "MISSING_CORPUS_ID", candidate_op)
    assert_error(candidate(api, "cand-001", ""), 400, "MISSING_CORPUS_ID", candidate_op)


@covers("CVDS-5", "LIST-4")
def test_the_list_is_newest_first_compact_and_never_returns_the_cv(api, ingest_op, list_op, credit_guard):
    credit_guard.allow("CV DeepSearch ingests (write candidates to a corpus)")
    corpus_id = unique("newest")
    for external_id in ("oldest", "middle", "newest"):
        ingested(ingest(api, [cv(external_id, tags=["ct-listed"])], corpus_id), ingest_op)
    resp = list_corpus(api, corpus_id)
    assert resp.status_code == 200, resp.text[:300]
    assert_no_problems(schema_problems(list_op, 200, resp.json()))
    assert_no_problems(pii_problems(Observed.from_httpx(resp), list_op, tokens=None))
    rows = resp.json()["candidates"]
    assert [row["external_id"] for row in rows] == ["newest", "middle", "oldest"]
    for row in rows:
        assert row["content_hash"] and row["embedding_status"] in ("pending", "embedded", "failed")
        assert "parsed_cv" not in row and "tags" not in row, f"a list row is a compact status: {row}"
    assert "Candidate oldest" not in resp.text, "the parsed CV (PII) is never returned"


@covers("LIST-3", "CVDS-5")
def test_cursor_pages_never_repeat_or_skip_while_candidates_arrive(api, ingest_op, list_op, credit_guard):
    credit_guard.allow("CV DeepSearch ingests (write candidates to a corpus)")
    corpus_id = unique("pages")
    originals = [f"page-{i}" for i in range(7)]
    ingested(ingest(api, [cv(e) for e in originals], corpus_id), ingest_op)
    full_order = listed_ids(api, corpus_id)
    walked: list[str] = []
    cursor = None
    for page_number in range(MAX_PAGES):
        params = {"limit": 3} if cursor is None else {"limit": 3, "cursor": cursor}
        resp = list_corpus(api, corpus_id, **params)
        assert resp.status_code == 200, resp.text[:300]
        assert_no_problems(schema_problems(list_op, 200, resp.json()))
        page = resp.json()
        assert len(page["candidates"]) <= 3
        walked += [row["external_id"] for row in page["candidates"]]
        if page_number == 0:  # new candidates arrive between the first and the second page
            ingested(ingest(api, [cv("late-1"), cv("late-2")], corpus_id), ingest_op)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    else:
        pytest.fail(f"the cursor walk did not end within {MAX_PAGES} pages")
    assert len(walked) == len(set(walked)), f"a page repeated a candidate: {walked}"
    assert [e for e in walked if e in originals] == full_order, f"pages skipped or reordered: {walked}"


@covers("CVDS-5", "POLL-5")
def test_one_candidate_read_has_its_tags_and_an_unknown_one_is_404(api, ingest_op, candidate_op, credit_guard):
    credit_guard.allow("a CV DeepSearch ingest (writes candidates to a corpus)")
    corpus_id, elsewhere = unique("detail"), unique("elsewhere")
    ingested(ingest(api, [cv("tagged", tags=["batch-2026-q2", "ct-suite"])], corpus_id), ingest_op)
    resp = candidate(api, "tagged", corpus_id)
    assert resp.status_code == 200, resp.text[:300]
    body = resp.json()
    assert_no_problems(schema_problems(candidate_op, 200, body))
    assert_no_problems(pii_problems(Observed.from_httpx(resp), candidate_op, tokens=None))
    assert (body["external_id"], body["corpus_id"], body["tags"]) == ("tagged", corpus_id, ["batch-2026-q2", "ct-suite"])
    assert "parsed_cv" not in body
    assert_error(candidate(api, "never-ingested", corpus_id), 404, "NOT_FOUND", candidate_op)
    assert_error(candidate(api, "tagged", elsewhere), 404, "NOT_FOUND", candidate_op)


@covers("AUTH-6")
def test_another_tenant_sees_nothing_of_a_corpus(api, second_api, ranked_corpus, list_op, candidate_op):
    resp = list_corpus(second_api, ranked_corpus)
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["candidates"] == [], "another client's corpus of the same name lists empty"
    assert_error(candidate(second_api, "all-three", ranked_corpus), 404, "NOT_FOUND", candidate_op)


# --------------------------------------------------------------------------- search: refused

@covers("CVDS-6")
@pytest.mark.parametrize("corpus_id", [None, ""], ids=["absent", "empty"])
def test_a_search_without_a_corpus_is_missing_corpus_id(api, search_op, corpus_id):
    err = assert_error(search(api, corpus_id), 400, "MISSING_CORPUS_ID", search_op)
    assert "corpus_id" in ((err.get("details") or {}).get("fields") or {}), err


@covers("CFG-10", "ERR-4")
@pytest.mark.parametrize("metadata", [{}, [], "Senior Backend Engineer", None], ids=["empty", "array", "string", "null"])
def test_position_metadata_must_be_a_non_empty_object(api, search_op, metadata):
    body = {"corpus_id": unique("cfg"), "position_id": unique("cfg"), "position_metadata": metadata}
    err = assert_error(api.post(SEARCH, json=body), 400, "INVALID_INPUT", search_op)
    assert "position_metadata" in ((err.get("details") or {}).get("fields") or {}), err


@covers("HOOK-1")
@pytest.mark.parametrize("url", ["http://example.com/cvds/callback", "http://93.184.215.14/cvds/callback"],
                         ids=["docs-host", "public-ip"])
def test_a_plain_http_webhook_url_is_insecure(api, search_op, url):
    assert_error(search(api, unique("hook"), webhook_url=url), 400, "INSECURE_WEBHOOK_URL", search_op)


@covers("HOOK-1")
@pytest.mark.parametrize("url", ["https://10.0.0.7/hook", "https://192.168.1.20/hook", "https://172.16.5.4/hook",
                                 "https://169.254.169.254/latest", "https://[fd00::1]/hook", "https://127.0.0.1/hook"],
                         ids=["10-8", "192-168-16", "172-16-12", "link-local", "ipv6-ula", "loopback"])
def test_a_private_or_link_local_webhook_url_is_refused(api, target, search_op, url):
    if "127.0.0.1" in url and (target.capabilities or {}).get("allowLocalWebhooks"):
        pytest.skip("the target admits loopback receivers on purpose (the mock's --allow-local-webhooks)")
    assert_error(search(api, unique("hook"), webhook_url=url), 400, "PRIVATE_WEBHOOK_URL", search_op)


# --------------------------------------------------------------------------- search: trigger and poll

@covers("CVDS-6", "CVDS-7", "POLL-3", "POLL-6", "META-4", "JSON-1")
def test_the_docs_search_returns_a_pending_run_with_the_documented_poll(api, search_op, run_op, credit_guard):
    credit_guard.allow("a CV DeepSearch search (starts a run)")
    example = dict(search_op.request_example("application/json") or {})
    example.pop("webhook_url", None)  # a callback to the docs' example host is not the test's to send
    body = dict(example, corpus_id=unique("docs-search"), position_id=unique("docs"))
    submitted = triggered(api.post(SEARCH, json=body), search_op)
    assert set(submitted) == {"id", "status"} and submitted["status"] == "pending", submitted
    assert re.match(RUN_ID, submitted["id"]), submitted["id"]

    resp = poll(api, submitted["id"])  # right after the trigger (POLL-6)
    assert resp.status_code == 200, resp.text[:300]
    run = resp.json()
    assert_no_problems(schema_problems(run_op, 200, run))
    assert_no_problems(compact_json_problems(Observed.from_httpx(resp)))
    if run["status"] != "pending":
        pytest.skip("the run finished before its first poll")
    assert set(run) == DOCUMENTED_RUN_KEYS, f"the pending poll has exactly the documented fields: {sorted(run)}"
    assert (run["id"], run["corpus_id"], run["position_id"]) == (submitted["id"], body["corpus_id"], body["position_id"])
    assert (run["is_job_updated"], run["top_n"], run["source"]) == (False, example.get("top_n", 100), "requests")
    assert (run["results"], run["results_pending"]) == (None, True)
    assert TIMESTAMP.match(run["created_at"]), run["created_at"]
    assert int(resp.headers["Retry-After"]) >= 1, "a pending poll carries Retry-After"


@covers("CFG-10")
def test_any_non_empty_position_metadata_is_accepted(api, search_op, credit_guard):
    credit_guard.allow("a CV DeepSearch search (starts a run)")
    triggered(search(api, unique("anyshape"), metadata={"anything": [1, 2, 3]}), search_op)


@covers("CVDS-6", "CVDS-7")
def test_top_n_defaults_to_100_and_is_clamped_at_1000(api, search_op, run_op, credit_guard):
    credit_guard.allow("three CV DeepSearch searches")
    corpus_id = unique("topn")
    runs = {"default": triggered(search(api, corpus_id), search_op)["id"],
            "clamped": triggered(search(api, corpus_id, top_n=5000), search_op)["id"],
            "kept": triggered(search(api, corpus_id, top_n=7), search_op)["id"]}
    echoed = {}
    for name, run_id in runs.items():
        resp = poll(api, run_id)
        assert resp.status_code == 200, resp.text[:300]
        assert_no_problems(schema_problems(run_op, 200, resp.json()))
        echoed[name] = resp.json()["top_n"]
    assert echoed == {"default": 100, "clamped": 1000, "kept": 7}


@covers("CVDS-6", "CVDS-7")
def test_job_updated_defaults_to_false_and_is_echoed_as_is_job_updated(api, search_op, credit_guard):
    credit_guard.allow("two CV DeepSearch searches")
    corpus_id = unique("jobupd")
    plain = triggered(search(api, corpus_id), search_op)["id"]
    updated = triggered(search(api, corpus_id, job_updated=True), search_op)["id"]
    assert poll(api, plain).json()["is_job_updated"] is False
    assert poll(api, updated).json()["is_job_updated"] is True


@covers("POLL-1", "POLL-2", "POLL-6", "CVDS-11", "CLOCK-2")
def test_polls_under_ten_seconds_apart_are_429_until_the_run_is_terminal(api, search_op, run_op, credit_guard,
                                                                          time_machine):
    credit_guard.allow("a CV DeepSearch search (starts a run)")
    run_id = triggered(search(api, unique("throttle")), search_op)["id"]
    watch = time_machine.stopwatch()
    first = poll(api, run_id)
    assert first.status_code == 200, first.text[:300]
    if first.json()["status"] in TERMINAL:
        pytest.skip("the run finished before it could be polled twice")
    second = poll(api, run_id)
    if second.status_code != 429 and watch.elapsed() >= 10:
        pytest.skip(f"{watch.elapsed():.1f} s of the target's time passed between two back-to-back polls "
                    "(a fast-running clock): the 10 s window cannot be observed")
    err = assert_error(second, 429, "RATE_LIMITED", run_op)
    assert 1 <= err["retryAfterSeconds"] <= 10, err
    wait_until_terminal(api, run_id, time_machine, run_op)
    statuses = [poll(api, run_id).status_code for _ in range(3)]
    assert statuses == [200, 200, 200], f"a terminal run is re-fetched freely, got {statuses}"


@covers("CVDS-11", "CVDS-7", "A8")
def test_a_search_of_an_embedded_corpus_completes(finished_run):
    submitted, run = finished_run["submit"], finished_run["result"]
    assert run["id"] == submitted["id"] and run["status"] == "completed", run
    assert (run["corpus_id"], run["position_id"], run["source"]) == \
        (finished_run["corpus_id"], finished_run["position_id"], "requests")
    assert run["completed_at"] >= run["created_at"], run
    assert "error" not in run, run


@covers("CVDS-11", "CVDS-9")
def test_without_the_preview_results_stay_pending_and_have_no_endpoint(api, finished_run, preview_on, operation):
    if preview_on:
        pytest.skip("the target serves the provisional results (checked by the preview tests)")
    run = finished_run["result"]
    assert (run["results"], run["results_pending"]) == (None, True), run
    results_op = operation("getCvdsRunResults")
    resp = api.get(fill_path(results_op, {"id": run["id"]}))
    assert_error(resp, 404, "NOT_FOUND", results_op)


@covers("POLL-4")
def test_a_run_id_can_be_polled_hours_later(api, finished_run, time_machine):
    time_machine.pass_time(3 * 3600, "a run id polled three hours later")
    resp = poll(api, finished_run["result"]["id"])
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["status"] == finished_run["result"]["status"]


@covers("POLL-5", "AUTH-6")
def test_unknown_and_other_tenants_run_ids_are_404(api, second_api, finished_run, run_op):
    assert_error(poll(api, "cvds_" + "A" * 22), 404, "NOT_FOUND", run_op)
    assert_error(poll(second_api, finished_run["result"]["id"]), 404, "NOT_FOUND", run_op)


@covers("CVDS-8", "CVDS-11", "AUTH-6", "A8")
def test_a_search_reads_only_the_callers_named_corpus(api, second_api, ingest_op, search_op, run_op, credit_guard,
                                                      time_machine):
    """Their corpus of the same name and our other corpus are full; our named corpus is empty,
    so the run has nothing to rank (the contract's CORPUS_EMPTY failure)."""
    credit_guard.allow("CV DeepSearch ingests and a search")
    shared_name, ours_elsewhere = unique("shared"), unique("mine")
    ingested(ingest(second_api, [cv("theirs", *SKILLS)], shared_name), ingest_op)
    ingested(ingest(api, [cv("mine-elsewhere", *SKILLS)], ours_elsewhere), ingest_op)
    run = wait_until_terminal(api, triggered(search(api, shared_name), search_op)["id"], time_machine, run_op)
    assert run["status"] == "failed", f"the run saw candidates outside the caller's named corpus: {run}"
    assert run["error"]["code"] == "CORPUS_EMPTY" and run["results"] is None, run


# --------------------------------------------------------------------------- idempotency

@covers("IDEM-2", "CVDS-6")
def test_the_same_idempotency_key_replays_the_existing_run(api, search_op, credit_guard):
    credit_guard.allow("a CV DeepSearch search (starts a run)")
    corpus_id, request = unique("idem"), {"idempotency_key": unique("key"), "position_id": unique("idem")}
    first = triggered(search(api, corpus_id, **request), search_op)
    replay = triggered(search(api, corpus_id, **request), search_op)  # a client retrying the same trigger
    assert replay["id"] == first["id"], f"the same key must replay run {first['id']}: {replay}"
    other = triggered(search(api, corpus_id, **dict(request, idempotency_key=unique("key"))), search_op)
    assert other["id"] != first["id"], "another key starts another run"


@covers("IDEM-2", "AUTH-6")
def test_idempotency_keys_belong_to_one_client(api, second_api, search_op, credit_guard):
    credit_guard.allow("two CV DeepSearch searches")
    key = unique("shared-key")
    ours = triggered(search(api, unique("idem-a"), idempotency_key=key), search_op)
    theirs = triggered(search(second_api, unique("idem-b"), idempotency_key=key), search_op)
    assert theirs["id"] != ours["id"] and not theirs.get("idempotent_replay"), theirs


@covers("IDEM-3")
def test_concurrent_searches_with_one_key_create_exactly_one_run(api, target, search_op, credit_guard):
    credit_guard.allow("a CV DeepSearch search (starts a run)")
    racers = 8
    body = {"corpus_id": unique("race"), "position_id": unique("race"), "position_metadata": position(*SKILLS),
            "idempotency_key": unique("race-key")}
    start = threading.Barrier(racers, timeout=30)

    def trigger(_: int) -> httpx.Response:
        with httpx.Client(base_url=target.config.root, timeout=target.config.timeout) as http:
            client = Api(http, api.key)
            start.wait()
            return client.post(SEARCH, json=body)

    with ThreadPoolExecutor(max_workers=racers) as pool:
        responses = list(pool.map(trigger, range(racers)))
    assert [r.status_code for r in responses] == [200] * racers, [r.text[:200] for r in responses]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1, f"one key made {len(ids)} runs: {sorted(ids)}"


@covers("CVDS-10", "IDEM-4")
def test_step_functions_failed_is_502_and_the_same_key_then_starts_the_run(api, control, search_op, run_op,
                                                                            credit_guard):
    credit_guard.allow("a CV DeepSearch search (starts a run)")
    corpus_id, request = unique("sfn"), {"idempotency_key": unique("sfn-key"), "position_id": unique("sfn")}
    failed = search(api, corpus_id, headers={SCENARIO_HEADER: "cvds-step-functions-failed"}, **request)
    if failed.status_code != 502:
        pytest.skip(f"the target does not inject cvds-step-functions-failed (answered {failed.status_code})")
    assert_error(failed, 502, "STEP_FUNCTIONS_FAILED", search_op)
    retried = triggered(search(api, corpus_id, **request), search_op)
    assert not retried.get("idempotent_replay"), "the 502 started nothing, so the retry starts the run"
    assert poll(api, retried["id"]).status_code == 200
    replay = triggered(search(api, corpus_id, **request), search_op)
    assert replay["id"] == retried["id"], replay


@covers("CVDS-10", "IDEM-4")
def test_an_unchanged_retry_loop_gets_through_a_flaky_start(api, control, search_op, credit_guard):
    credit_guard.allow("a CV DeepSearch search (starts a run)")
    corpus_id, request = unique("flaky"), {"idempotency_key": unique("flaky-key"), "position_id": unique("flaky")}
    headers = {SCENARIO_HEADER: "cvds-step-functions-flaky"}
    first = search(api, corpus_id, headers=headers, **request)
    if first.status_code != 502:
        pytest.skip(f"the target does not inject cvds-step-functions-flaky (answered {first.status_code})")
    assert_error(first, 502, "STEP_FUNCTIONS_FAILED", search_op)
    second = search(api, corpus_id, headers=headers, **request)
    assert triggered(second, search_op)["status"] == "pending"


# --------------------------------------------------------------------------- the results preview

@covers("CVDS-9", "CVDS-6")
def test_the_preview_ranks_best_first_and_cuts_at_top_n(api, finished_run, needs_preview, ranked_corpus,
                                                        search_op, run_op, credit_guard, time_machine):
    run = finished_run["result"]
    ranking = ranked_ids(run)
    assert [row["rank"] for row in run["results"]] == list(range(1, len(ranking) + 1)), run["results"]
    scores = [row["score"] for row in run["results"]]
    assert scores == sorted(scores, reverse=True), f"results are best-first by score: {scores}"
    assert len(set(ranking)) == len(ranking) and set(ranking) <= {"all-three", "just-go", "none"}, ranking
    assert ranking[0] == "all-three", f"the CV with every required skill ranks first: {ranking}"
    if "none" in ranking:
        assert ranking.index("just-go") < ranking.index("none"), ranking
    credit_guard.allow("a CV DeepSearch search (starts a run)")
    cut = wait_until_terminal(api, triggered(search(api, ranked_corpus, top_n=2), search_op)["id"], time_machine, run_op)
    assert cut["status"] == "completed" and len(cut["results"]) <= 2 and cut["top_n"] == 2, cut


@covers("CVDS-9", "LIST-3")
def test_the_results_endpoint_pages_the_same_ranking(api, finished_run, needs_preview, results_op):
    run = finished_run["result"]
    walked: list[str] = []
    cursor = None
    for _ in range(MAX_PAGES):
        params = {"limit": 1} if cursor is None else {"limit": 1, "cursor": cursor}
        resp = api.get(fill_path(results_op, {"id": run["id"]}), params=params)
        assert resp.status_code == 200, resp.text[:300]
        page = resp.json()
        assert_no_problems(schema_problems(results_op, 200, page))
        assert page["id"] == run["id"] and len(page["results"]) <= 1
        walked += [row["external_id"] for row in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    else:
        pytest.fail(f"the results walk did not end within {MAX_PAGES} pages")
    assert walked == ranked_ids(run)


@covers("CVDS-9", "AUTH-6")
def test_results_of_a_pending_or_failed_run_are_409(api, second_api, needs_preview, search_op, run_op, results_op,
                                                    credit_guard, time_machine):
    credit_guard.allow("a CV DeepSearch search (starts a run)")
    run_id = triggered(search(api, unique("empty")), search_op)["id"]
    path = fill_path(results_op, {"id": run_id})
    assert_error(api.get(path), 409, "RESULTS_NOT_READY", results_op)
    run = wait_until_terminal(api, run_id, time_machine, run_op)
    assert run["status"] == "failed", run  # nothing was ingested into the corpus
    assert_error(api.get(path), 409, "RUN_FAILED", results_op)
    assert_error(second_api.get(path), 404, "NOT_FOUND", results_op)


@covers("CVDS-9", "CVDS-4")
def test_the_preview_never_ranks_a_candidate_that_is_not_embedded(api, control, needs_preview, ingest_op, search_op,
                                                                  run_op, credit_guard, time_machine):
    credit_guard.allow("CV DeepSearch ingests and a search")
    corpus_id = unique("notready")
    ingested(ingest(api, [cv("ready", "Go")], corpus_id), ingest_op)
    slow = ingested(ingest(api, [cv("still-pending", *SKILLS)], corpus_id,
                           headers={SCENARIO_HEADER: "cvds-embedding-slow"}), ingest_op)
    broken = ingested(ingest(api, [cv("broken", *SKILLS)], corpus_id,
                             headers={SCENARIO_HEADER: "cvds-embedding-failed"}), ingest_op)
    if (slow["results"][0]["embedding_status"], broken["results"][0]["embedding_status"]) != ("pending", "failed"):
        pytest.skip("the target does not inject the cvds-embedding-slow / cvds-embedding-failed scenarios")
    run = wait_until_terminal(api, triggered(search(api, corpus_id), search_op)["id"], time_machine, run_op)
    if candidate(api, "still-pending", corpus_id).json()["embedding_status"] != "pending":
        pytest.skip("the slow candidate embedded before the run finished")
    assert run["status"] == "completed" and ranked_ids(run) == ["ready"], run


@covers("CVDS-12", "HOOK-7", "HOOK-3", "HOOK-4", "HOOK-8")
def test_a_search_with_a_webhook_url_gets_one_signed_completion_callback_by_default(
        api, provision, control, webhook_receiver, ingest_op, search_op, run_op, credit_guard, time_machine):
    """No preview switch needed: the Search guide says "If you supplied a webhook_url, we POST a
    signed callback when the run finishes" (CVDS-12); only the results stay provisional."""
    credit_guard.allow("a CV DeepSearch ingest and a search")
    tenant = provision.tenant("cvds-hook", permissions=["cvdeepsearch"])
    control.set_webhook_secret(tenant.client_id, WEBHOOK_SECRET)
    client = api.with_key(tenant.key)
    corpus_id, position_id = unique("hook"), unique("hook")
    ingested(ingest(client, [cv("hooked", *SKILLS)], corpus_id), ingest_op)
    run_id = triggered(search(client, corpus_id, position_id=position_id, webhook_url=webhook_receiver.url),
                       search_op)["id"]
    run = wait_until_terminal(client, run_id, time_machine, run_op)
    assert run["status"] == "completed", run
    received = webhook_receiver.wait_for(1, timeout=10)
    assert len(received) == 1, f"expected one completion callback, got {len(received)}"
    hook = received[0]
    assert json.loads(hook.body) == {"event": "cvdeepsearch.completed", "id": run_id, "corpus_id": corpus_id,
                                     "position_id": position_id, "status": "completed",
                                     "completed_at": run["completed_at"]}
    assert_no_problems(compact_json_problems(Observed(200, {"content-type": hook.header("content-type") or ""},
                                                      hook.body)))
    assert (hook.header("content-type") or "").startswith("application/json")
    assert hook.header("x-cvdm-request-id") == f"api_{run_id}"
    signature = hook.header("x-cvdm-signature") or ""
    assert signature.startswith(f"t={hook.header('x-cvdm-signature-timestamp')},v1="), signature
    # HOOK-8: checked against the receiver's real clock at arrival, as the docs' verifier does
    assert_no_problems(verify_signature(signature, hook.body, WEBHOOK_SECRET, now=hook.at))
    time_machine.pass_time(600, "a second completion callback, which must never come")
    assert len(webhook_receiver.received) == 1, "the completion callback is sent once"


@pytest.mark.parametrize("answers, attempts", [((503, 200), 2), ((429, 200), 2), ((500,), 3), ((400,), 1)],
                         ids=["503-then-200", "429-then-200", "always-500", "400-is-permanent"])
@covers("HOOK-5", "HOOK-7", "CVDS-12")
def test_a_completion_callback_is_retried_only_on_5xx_and_429(api, target, ingest_op, search_op,
                                                              run_op, credit_guard, time_machine, answers, attempts):
    if not (target.capabilities or {}).get("allowLocalWebhooks"):
        pytest.skip("the target does not deliver to local receivers")
    credit_guard.allow("a CV DeepSearch ingest and a search")
    corpus_id = unique("retry")
    ingested(ingest(api, [cv("retried", *SKILLS)], corpus_id), ingest_op)
    with WebhookReceiver(statuses=answers) as receiver:
        run_id = triggered(search(api, corpus_id, webhook_url=receiver.url), search_op)["id"]
        assert wait_until_terminal(api, run_id, time_machine, run_op)["status"] == "completed"
        time_machine.pass_time(60, "every retry of the completion callback (backoff waits of seconds)")
        within_a_minute = len(receiver.wait_for(attempts, timeout=5))
        time_machine.pass_time(600, "a retry beyond the documented attempts, which must never come")
        received = list(receiver.received)
    assert within_a_minute == attempts, \
        f"receiver answering {answers}: expected {attempts} attempt(s) within a minute, got {within_a_minute}"
    assert len(received) == attempts, f"receiver answering {answers}: {len(received)} attempts in all, not {attempts}"
    assert len({r.body for r in received}) == 1, "every attempt carries the same event"
    assert json.loads(received[0].body)["id"] == run_id
