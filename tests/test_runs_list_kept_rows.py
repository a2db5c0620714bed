"""`GET /api/v1/speech/runs` keeps the rendered row of a finished run (`kept_views`): a kept
row must never outlive what it shows — its summary rewritten, a reset, another tenant — and a
run still processing is rendered afresh until its finish shows."""

from __future__ import annotations

import pytest

from mockserver.modules.speech.runs import API_RUN_KIND
from mockserver.platform.kept_views import kept_views
from tests.conftest import FULL, SECOND
from tests.test_speech_support import RUNS, advance_to, run_doc, submitted


def listing(api, key: str = FULL, **params) -> dict:
    r = api.call("GET", RUNS, key=key, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def client_of(api, key: str = FULL) -> str:
    return api.platform.registry.keys[key].client_id


def finished(api, count: int = 2) -> list[str]:
    run_ids = [submitted(api)["id"] for _ in range(count)]
    advance_to(api, max(run_doc(api, run_id)["finish_at"] for run_id in run_ids))
    return run_ids


def kept_row(api, run_id: str):
    return kept_views(api.platform.store).get(API_RUN_KIND, run_id, client_of(api), api.platform.clock.now())


def test_finished_rows_are_kept_and_listed_the_same(api):
    run_ids = finished(api)
    first = api.call("GET", RUNS, key=FULL)
    assert all(kept_row(api, run_id) is not None for run_id in run_ids)
    again = api.call("GET", RUNS, key=FULL)
    assert first.content == again.content and [row["status"] for row in again.json()["runs"]] == ["success"] * 2


def test_a_processing_row_is_not_kept_and_its_finish_shows(api):
    run_id = submitted(api)["id"]
    assert listing(api)["runs"][0]["status"] in ("queued", "processing")
    assert kept_row(api, run_id) is None
    advance_to(api, run_doc(api, run_id)["finish_at"])
    row = listing(api)["runs"][0]
    assert row["status"] == "success" and row["completedAt"] is not None


def test_a_rewritten_summary_is_listed_afresh(api):
    run_id = finished(api, 1)[0]
    listing(api)
    store, client = api.platform.store, client_of(api)
    doc = store.get(API_RUN_KIND, run_id)
    store.put(API_RUN_KIND, run_id, dict(doc, tags=["rewritten"]), owner=client)
    assert listing(api)["runs"][0]["tags"] == ["rewritten"]


@pytest.mark.parametrize("one_client", [False, True], ids=["all", "client"])
def test_a_reset_lists_nothing_kept(api, one_client):
    finished(api)
    assert len(listing(api)["runs"]) == 2
    assert api.post("/__mock/reset", json={"client": client_of(api)} if one_client else {}).status_code == 200
    assert listing(api)["runs"] == []


def test_filters_apply_to_kept_rows(api):
    finished(api)
    listing(api)
    assert len(listing(api, status="success")["runs"]) == 2
    assert listing(api, status="processing")["runs"] == []
    assert len(listing(api, limit=1)["runs"]) == 1


def test_another_tenant_never_sees_kept_rows(api):
    finished(api)
    listing(api)
    assert listing(api, key=SECOND)["runs"] == []


def test_an_unfiltered_page_of_kept_rows_reads_no_summary(api):
    finished(api, 3)
    listing(api)  # renders and keeps the three rows
    store = api.platform.store
    reads = []
    original_entry, original_scan = store.get_entry, store.scan_entries
    store.get_entry = lambda *a, **k: (reads.append(a), original_entry(*a, **k))[1]
    store.scan_entries = lambda *a, **k: (reads.append(a), original_scan(*a, **k))[1]
    try:
        page = listing(api)
    finally:
        store.get_entry, store.scan_entries = original_entry, original_scan
    assert [row["status"] for row in page["runs"]] == ["success"] * 3
    assert reads == []


def test_the_unfiltered_page_pages_as_a_filtered_one_does(api):
    run_ids = finished(api, 5)
    listing(api)
    unfiltered, ids = listing(api, limit=2), []
    filtered = listing(api, limit=2, serviceType="speech")  # the scan-and-filter path
    assert unfiltered == filtered
    while True:
        ids += [row["id"] for row in unfiltered["runs"]]
        if not unfiltered["pagination"]["hasMore"]:
            break
        unfiltered = listing(api, limit=2, cursor=unfiltered["pagination"]["nextCursor"])
    assert ids == list(reversed(run_ids))


def test_a_summary_removed_after_the_index_was_read_is_left_out(api):
    run_ids = finished(api, 2)
    store = api.platform.store
    original_scan_keys = store.scan_keys

    def scan_then_remove(*args, **kwargs):
        keys = list(original_scan_keys(*args, **kwargs))
        store.delete(API_RUN_KIND, run_ids[1])  # lands between the index walk and the read
        return iter(keys)

    store.scan_keys = scan_then_remove
    try:
        page = listing(api)
    finally:
        store.scan_keys = original_scan_keys
    assert [row["id"] for row in page["runs"]] == [run_ids[0]]
