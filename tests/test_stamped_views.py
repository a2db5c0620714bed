"""A rendered answer kept for a document of a shared store (`StampedViews`) is answered only
while the store's stamp of the document is the one read before the document was: any write by
any process, a removal, another tenant or a clock before the instant it holds from makes the
next request build it afresh."""

from __future__ import annotations

from mockserver.platform.stamped_views import StampedViews
from tests.support.store_calls import recorded_calls

KIND = "speech_run"


def kept_under_a_stamp(store, key="r1"):
    """A finished document and its answer kept under its marked stamp (tentatively first,
    then confirmed): the views."""
    store.put(KIND, key, {"status": "completed"}, owner="acme")
    views = StampedViews(store)
    build(views, store, key)
    build(views, store, key)
    return views


def build(views, store, key, owner="acme", now=100.0, valid_from=50.0):
    """What a poll handler does: get; on a miss token, read the document, keep its answer.
    Returns (the answer, whether it was the kept one)."""
    kept = views.get(KIND, key, owner, now)
    if kept is not None:
        return kept, True
    token = views.token(KIND, key)
    doc = store.get(KIND, key, owner=owner)
    return views.keep(KIND, key, owner, valid_from, {"answer": doc["status"]}, token), False


def test_a_kept_answer_is_used_while_the_document_is_unchanged(rstore):
    store = rstore()
    store.put(KIND, "r1", {"status": "completed"}, owner="acme")
    views = StampedViews(store)
    assert build(views, store, "r1") == ({"answer": "completed"}, False)  # kept tentatively
    assert build(views, store, "r1") == ({"answer": "completed"}, False)  # kept under its stamp
    assert build(views, store, "r1") == ({"answer": "completed"}, True)
    assert build(views, store, "r1") == ({"answer": "completed"}, True)


def test_no_stamp_is_read_for_a_document_with_no_view_kept(rstore):
    store = rstore()
    store.put(KIND, "r1", {"status": "processing"}, owner="acme")
    views = StampedViews(store)
    stamps = counting_stamps(store)
    assert views.get(KIND, "r1", "acme", 100.0) is None
    assert stamps == [] and views.token(KIND, "r1") is None


def counting_stamps(store):
    """Record the store's stamp reads (plain or marked): each is a round trip."""
    return recorded_calls(store, "stamp", "marked_stamp")


def counting_reads(store):
    """`counting_stamps` plus the document reads."""
    return recorded_calls(store, "stamp", "marked_stamp", "get_entry")


def test_a_confirmed_view_is_answered_with_no_read_until_another_process_writes_the_document(rstore):
    store, other = rstore(), rstore()
    store.put(KIND, "r1", {"status": "completed"}, owner="acme")
    views = StampedViews(store)
    build(views, store, "r1")  # kept tentatively
    build(views, store, "r1")  # kept under its marked stamp (the listener starts with it)
    assert store.broadcast.wait_live()
    build(views, store, "r1")  # confirmed again: a ticket from before the subscription is given up
    reads = counting_reads(store)
    for _ in range(5):
        assert build(views, store, "r1") == ({"answer": "completed"}, True)
    assert reads == []
    other.put(KIND, "r1", {"status": "failed"}, owner="acme")  # told to us before put returned
    assert build(views, store, "r1") == ({"answer": "failed"}, False)
    assert build(views, store, "r1") == ({"answer": "failed"}, True)  # confirmed by that read
    reads.clear()
    assert build(views, store, "r1") == ({"answer": "failed"}, True)
    assert reads == []


def test_a_confirmed_view_is_checked_by_a_read_while_notifications_are_down(rstore):
    store = rstore()
    views = kept_under_a_stamp(store)
    assert store.broadcast.wait_live()
    store.broadcast._live = False  # as the listener sets it when its connection fails
    reads = counting_reads(store)
    assert build(views, store, "r1") == ({"answer": "completed"}, True)
    assert len(reads) == 1  # the marked stamp: unchanged, answered from the view


def test_a_write_by_another_process_makes_the_next_request_build_afresh(rstore):
    store, other = rstore(), rstore()
    views = kept_under_a_stamp(store)
    other.put(KIND, "r1", {"status": "failed"}, owner="acme")
    assert build(views, store, "r1") == ({"answer": "failed"}, False)
    assert build(views, store, "r1") == ({"answer": "failed"}, True)


def test_a_write_between_the_token_and_the_keep_is_never_hidden(rstore):
    store, other = rstore(), rstore()
    store.put(KIND, "r1", {"status": "completed"}, owner="acme")
    views = StampedViews(store)
    build(views, store, "r1")  # a tentative view: the next get reads a stamp
    assert views.get(KIND, "r1", "acme", 100.0) is None
    token = views.token(KIND, "r1")
    doc = store.get(KIND, "r1", owner="acme")
    other.put(KIND, "r1", {"status": "failed"}, owner="acme")  # lands after our read
    views.keep(KIND, "r1", "acme", 50.0, {"answer": doc["status"]}, token)
    assert build(views, store, "r1") == ({"answer": "failed"}, False)


def test_another_tenant_a_removal_or_an_earlier_instant_gets_no_kept_answer(rstore):
    store = rstore()
    views = kept_under_a_stamp(store)
    assert views.get(KIND, "r1", "beta", 100.0) is None
    assert views.get(KIND, "r1", "acme", 49.0) is None  # the clock set back before the finish
    assert views.get(KIND, "r1", "acme", 100.0) == {"answer": "completed"}
    store.delete(KIND, "r1")
    assert views.get(KIND, "r1", "acme", 100.0) is None


def test_a_view_kept_without_a_stamp_is_never_answered(rstore):
    store, other = rstore(), rstore()
    store.put(KIND, "r1", {"status": "completed"}, owner="acme")
    store.put(KIND, "r2", {"status": "completed"}, owner="acme")
    views = StampedViews(store)
    views.get(KIND, "r2", "acme", 100.0)
    assert views.token(KIND, "r1") is None  # no stamp read for r1
    views.keep(KIND, "r1", "acme", 50.0, {"answer": "stale?"}, views.token(KIND, "r1"))
    other.put(KIND, "r1", {"status": "failed"}, owner="acme")  # written after it was kept
    assert views.get(KIND, "r1", "acme", 100.0) is None
    assert build(views, store, "r1") == ({"answer": "failed"}, False)


def test_at_most_capacity_answers_are_kept(rstore):
    store = rstore()
    views = StampedViews(store, capacity=3)
    for n in range(5):
        store.put(KIND, f"r{n}", {"status": "completed"}, owner="acme")
        build(views, store, f"r{n}")
        build(views, store, f"r{n}")
    assert len(views) == 3
    assert build(views, store, "r4")[1] is True and build(views, store, "r0")[1] is False
