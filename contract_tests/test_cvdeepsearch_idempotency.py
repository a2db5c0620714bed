"""CV DeepSearch idempotency over HTTP (IDEM-2..4, CVDS-10): a repeated key replays the run,
keys belong to one client, concurrent searches with one key start one run, and a 502 start
failure is retry-safe. Shared helpers: ``cvdeepsearch_helpers``.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from contract_tests.catalog import covers
from contract_tests.checks import assert_error
from contract_tests.cvdeepsearch_helpers import (SCENARIO_HEADER, SEARCH, SKILLS, poll, position, search, triggered,
                                                 unique)
from contract_tests.cvdeepsearch_helpers import run_op, search_op  # noqa: F401  (fixtures)
from contract_tests.target import Api


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
