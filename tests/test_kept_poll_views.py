"""A finished run's poll answer is rendered once and kept (`platform.kept_views`): every
poll after the first answers the same bytes without decoding the stored run. These tests
hold the cache to its promise — a kept answer never outlives what it was built from: a
write to the run (any store write to its key), a purge through the control API, another
tenant, a clock before the run's finish, and strict mode still checking every answer.
Time only moves through the manual clock."""

from __future__ import annotations

import pytest

from conftest import FULL, SECOND, Api, make_app
from mockserver.json_writer import RenderedDict, api_json, rendered
from mockserver.platform.kept_views import KeptViews, kept_views, watch
from mockserver.store import MemoryStore
from test_cvdeepmatch_submit import accepted_id, poll as cvdm_poll, submit as cvdm_submit
from test_speech_support import advance_to, poll as speech_poll, run_doc, submitted

SPEECH_KIND = "speech_run"
CVDM_KIND = "cvdm_run"


@pytest.fixture
def api():
    with Api(make_app()) as client:
        yield client


def finished_speech(api) -> str:
    run_id = submitted(api)["id"]
    advance_to(api, run_doc(api, run_id)["finish_at"])
    return run_id


def finished_cvdm(api) -> str:
    run_id = accepted_id(cvdm_submit(api))
    api.advance(600)
    return run_id


def owner_of(key: str, api) -> str:
    return api.platform.registry.keys[key].client_id


def views_of(api) -> KeptViews:
    views = kept_views(api.platform.store)
    assert views is not None
    return views


# -- the views themselves -----------------------------------------------------------------

def test_a_view_is_for_its_owner_and_from_its_instant_only():
    views = KeptViews()
    views.keep("k", "a", "tenant-1", 100.0, "body", views.token())
    assert views.get("k", "a", "tenant-1", 100.0) == "body"
    assert views.get("k", "a", "tenant-2", 100.0) is None
    assert views.get("k", "a", "tenant-1", 99.9) is None
    assert views.get("k", "b", "tenant-1", 100.0) is None


def test_a_write_between_the_read_and_the_keep_wins():
    views = KeptViews()
    token = views.token()
    views.forget("k", "other")  # any write since the document was read
    views.keep("k", "a", "o", 0.0, "stale", token)
    assert views.get("k", "a", "o", 1.0) is None


def test_the_oldest_view_goes_when_the_views_are_full():
    views = KeptViews(capacity=2)
    for key in ("a", "b", "c"):
        views.keep("k", key, "o", 0.0, key, views.token())
    assert [views.get("k", key, "o", 1.0) for key in ("a", "b", "c")] == [None, "b", "c"]


@pytest.mark.parametrize("write", [
    lambda s: s.put("k", "a", {"v": 2}, owner="o"),
    lambda s: s.put_entry("k", "a", {"v": 2}, owner="o"),
    lambda s: s.update("k", "a", lambda cur: {"v": 2}, owner="o"),
    lambda s: s.delete("k", "a"),
    lambda s: s.take("k", "a"),
    lambda s: s.update_and_put("acct", "x", lambda cur: {"n": 1}, lambda new: [("k", "a", {"v": 2}, "o")],
                               owner="o"),
    lambda s: s.purge_owner("o"),
    lambda s: s.purge_all(),
], ids=["put", "put_entry", "update", "delete", "take", "update_and_put extra", "purge_owner", "purge_all"])
def test_every_write_to_a_document_drops_its_view(write):
    store = watch(MemoryStore())
    assert type(store) is MemoryStore  # the same store, hooked
    store.put("k", "a", {"v": 1}, owner="o")
    views = kept_views(store)
    views.keep("k", "a", "o", 0.0, "view of v1", views.token())
    store.put("k", "unrelated", {"v": 1}, owner="o")  # another document's write keeps it
    assert views.get("k", "a", "o", 1.0) == "view of v1"
    write(store)
    assert views.get("k", "a", "o", 1.0) is None


def test_a_shared_store_keeps_no_views():
    class Shared(MemoryStore):
        shared = True

    store = Shared()
    assert watch(store) is store and kept_views(store) is None


def test_a_store_watched_twice_keeps_one_set_of_views():
    store = watch(MemoryStore())
    views = kept_views(store)
    assert watch(store) is store and kept_views(store) is views


def test_a_rendered_body_is_written_once_and_reads_as_the_dict():
    body = {"status": "success", "id": "r1", "scores": {"a": 1}}
    kept = rendered(body)
    assert type(kept) is RenderedDict and kept == body
    assert api_json(kept) is kept.rendered_json == api_json(body)


# -- the poll answers over HTTP ------------------------------------------------------------

def test_a_finished_speech_poll_is_kept_and_answers_the_same_bytes(api):
    run_id = finished_speech(api)
    first = speech_poll(api, run_id)
    assert views_of(api).get(SPEECH_KIND, run_id, owner_of(FULL, api), api.platform.clock.now()) is not None
    again = speech_poll(api, run_id)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and first.json()["status"] == "success"


def test_a_processing_speech_poll_is_not_kept_and_the_finish_shows(api):
    run_id = submitted(api)["id"]
    assert speech_poll(api, run_id).json()["status"] in ("queued", "processing")
    assert len(views_of(api)) == 0
    advance_to(api, run_doc(api, run_id)["finish_at"])
    assert speech_poll(api, run_id).json()["status"] == "success"


def test_a_rewritten_run_is_answered_afresh(api):
    run_id = finished_speech(api)
    before = speech_poll(api, run_id).json()
    doc = run_doc(api, run_id)
    doc["metadata"] = {"rewritten": "yes"}
    api.platform.store.put(SPEECH_KIND, run_id, doc)
    after = speech_poll(api, run_id).json()
    assert after != before and after["metadata"] == {"rewritten": "yes"}


def test_a_kept_poll_answer_is_another_tenants_404(api):
    run_id = finished_speech(api)
    assert speech_poll(api, run_id).status_code == 200
    assert speech_poll(api, run_id).status_code == 200  # kept now
    assert speech_poll(api, run_id, key=SECOND).status_code == 404


@pytest.mark.parametrize("one_client", [False, True], ids=["all", "client"])
def test_a_control_reset_drops_kept_poll_answers(api, one_client):
    run_id = finished_speech(api)
    cvdm_id = finished_cvdm(api)
    for _ in range(2):
        assert speech_poll(api, run_id).status_code == 200
        assert cvdm_poll(api, cvdm_id).status_code == 200
    reset = {"client": owner_of(FULL, api)} if one_client else {}
    assert api.post("/__mock/reset", json=reset).status_code == 200
    assert speech_poll(api, run_id).status_code == 404
    assert cvdm_poll(api, cvdm_id).status_code == 404


def test_strict_mode_checks_a_kept_answer_too(api):
    run_id = finished_speech(api)
    assert speech_poll(api, run_id).status_code == 200
    views = views_of(api)
    owner = owner_of(FULL, api)
    broken = rendered({"id": run_id, "status": "not-a-status"})
    views.keep(SPEECH_KIND, run_id, owner, 0.0, broken, views.token())
    answer = speech_poll(api, run_id)
    assert answer.status_code == 500 and "contractViolation" in answer.json()["error"]["details"]


def test_a_finished_cvdm_poll_is_kept_and_answers_the_same_bytes(api):
    run_id = finished_cvdm(api)
    first = cvdm_poll(api, run_id)
    assert first.json()["status"] == "finished"
    assert len(views_of(api)) == 1
    again = cvdm_poll(api, run_id.upper())  # the same run, the same kept answer
    assert first.content == again.content and "Retry-After" not in again.headers
    assert cvdm_poll(api, run_id, key=SECOND).status_code == 404


def test_a_processing_cvdm_poll_is_throttled_not_kept(api):
    run_id = accepted_id(cvdm_submit(api))
    assert cvdm_poll(api, run_id).status_code == 200
    assert cvdm_poll(api, run_id).status_code == 429
    assert len(views_of(api)) == 0
