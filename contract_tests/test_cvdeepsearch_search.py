"""The CV DeepSearch search trigger and run poll over HTTP (CVDS-6, CVDS-7, CFG-10, HOOK-1,
POLL-1..3): searches refused, the docs' search answered with a pending run and its poll,
top_n and is_job_updated, the poll interval, and a search reading only the caller's named
corpus (CVDS-8, AUTH-6). Shared helpers: ``cvdeepsearch_helpers``.
"""

from __future__ import annotations

import re

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import TIMESTAMP, Observed, assert_error, assert_no_problems, compact_json_problems
from contract_tests.contract import schema_problems
from contract_tests.cvdeepsearch_helpers import (SEARCH, SKILLS, TERMINAL, cv, ingest, ingested, poll, search,
                                                 triggered, unique, wait_until_terminal)
from contract_tests.cvdeepsearch_helpers import ingest_op, run_op, search_op  # noqa: F401  (fixtures)

RUN_ID = r"^cvds_[0-9A-Za-z]{22}$"
DOCUMENTED_RUN_KEYS = {"id", "status", "corpus_id", "position_id", "is_job_updated", "top_n", "source",
                       "created_at", "results", "results_pending"}


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
