"""CV DeepSearch candidate reads over HTTP (CVDS-5, LIST-3, LIST-4): the corpus id they need,
the newest-first compact list that never returns the CV, cursor pages that never repeat or
skip, one candidate's read, and corpus isolation between tenants (CVDS-8, AUTH-6). Shared
helpers: ``cvdeepsearch_helpers``.
"""

from __future__ import annotations

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import Observed, assert_error, assert_no_problems, pii_problems
from contract_tests.contract import schema_problems
from contract_tests.cvdeepsearch_helpers import (CANDIDATES, MAX_PAGES, candidate, cv, ingest, ingested, list_corpus,
                                                 listed_ids, unique)
from contract_tests.cvdeepsearch_helpers import (candidate_op, ingest_op, list_op, module_credit_guard,
                                                 ranked_corpus)  # noqa: F401  (fixtures)


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
