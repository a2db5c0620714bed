"""Marks (`store/redis_marks`): a process that took a marked stamp of documents and indexes is
told of every later write to them before the writer's call returns — whichever write it is —
so it may trust what it built with no round trip; and it stops trusting at once when it
cannot be told (notifications down, a purge, the mark's lifetime)."""

from __future__ import annotations

import pytest

from mockserver.store import redis_marks
from tests.support.waiting import wait_until

pytestmark = pytest.mark.usefixtures("redis_server")

RUN = "speech_run"
TXN = "txn"


def marked(store, docs=(), indexes=()):
    """A marked stamp's ticket, taken once the store's listener is live (a ticket from before
    the subscription is given up by design)."""
    store.marked_stamp(list(docs), list(indexes))
    assert store.broadcast.wait_live()
    _, ticket = store.marked_stamp(list(docs), list(indexes))
    assert store.unchanged(ticket)
    return ticket


@pytest.mark.parametrize("write", [
    pytest.param(lambda s: s.put(RUN, "r1", {"status": "failed"}, owner="acme"), id="put"),
    pytest.param(lambda s: s.update(RUN, "r1", lambda cur: dict(cur, status="failed"), owner="acme"), id="update"),
    pytest.param(lambda s: s.delete(RUN, "r1"), id="delete"),
    pytest.param(lambda s: s.take(RUN, "r1"), id="take"),
    pytest.param(lambda s: s.update_and_put(RUN, "r1", lambda cur: dict(cur, status="failed"),
                                            lambda new: [], owner="acme"), id="update_and_put"),
])
def test_every_write_of_a_marked_document_is_told_before_the_writer_returns(rstore, write):
    reader, writer = rstore(), rstore()
    writer.put(RUN, "r1", {"status": "completed"}, owner="acme")
    ticket = marked(reader, docs=[(RUN, "r1")])
    write(writer)
    assert not reader.unchanged(ticket)  # no wait: the writer waited for our acknowledgement


def test_creating_a_marked_document_that_was_absent_is_told(rstore):
    reader, writer = rstore(), rstore()
    ticket = marked(reader, docs=[("account", "acme")])
    writer.put("account", "acme", {"balance": 5}, owner="acme")
    assert not reader.unchanged(ticket)


@pytest.mark.parametrize("change", [
    pytest.param(lambda s: s.put(TXN, "acme|t2", {"at": 2}, owner="acme"), id="member-added"),
    pytest.param(lambda s: s.delete(TXN, "acme|t1"), id="member-removed"),
    pytest.param(lambda s: s.update_and_put("account", "acme", lambda cur: {"balance": 1},
                                            lambda new: [(TXN, "acme|t3", {"at": 3}, "acme")],
                                            owner="acme"), id="member-added-beside-another-write"),
])
def test_a_membership_change_of_a_marked_index_is_told(rstore, change):
    reader, writer = rstore(), rstore()
    writer.put(TXN, "acme|t1", {"at": 1}, owner="acme")
    ticket = marked(reader, indexes=[(TXN, "acme")])
    change(writer)
    assert not reader.unchanged(ticket)


def test_writes_to_what_nobody_marked_tell_nobody(rstore):
    reader, writer = rstore(), rstore()
    writer.put(RUN, "r1", {"status": "completed"}, owner="acme")
    ticket = marked(reader, docs=[(RUN, "r1")], indexes=[(TXN, "acme")])
    heard = reader.broadcast.received
    writer.put(RUN, "r2", {"status": "completed"}, owner="acme")  # another document
    writer.put(TXN, "beta|t1", {"at": 1}, owner="beta")  # another tenant's index
    writer.put("account", "acme", {"balance": 1}, owner="acme")
    assert reader.broadcast.received == heard
    assert reader.unchanged(ticket)


def test_a_member_rewritten_in_place_leaves_an_index_mark_alone_as_its_stamp_does(rstore):
    reader, writer = rstore(), rstore()
    writer.put(TXN, "acme|t1", {"at": 1}, owner="acme")
    ticket = marked(reader, indexes=[(TXN, "acme")])
    writer.put(TXN, "acme|t1", {"at": 1, "note": "rewritten"}, owner="acme")
    assert reader.unchanged(ticket)
    assert reader.stamp([], [(TXN, "acme")]) == reader.marked_stamp([], [(TXN, "acme")])[0]


def test_a_purge_of_everything_or_of_a_tenant_ends_every_ticket(rstore):
    reader, writer = rstore(), rstore()
    writer.put(RUN, "r1", {"status": "completed"}, owner="acme")
    ticket = marked(reader, docs=[(RUN, "r1")])
    writer.purge_owner("beta")  # not even this tenant's: marks are not checked per document
    assert not reader.unchanged(ticket)
    ticket = marked(reader, docs=[(RUN, "r1")])
    writer.purge_all()
    assert not reader.unchanged(ticket)


def test_a_ticket_is_not_trusted_while_notifications_are_down(rstore):
    reader = rstore()
    ticket = marked(reader, docs=[(RUN, "r1")])
    reader.broadcast._live = False  # as the listener sets it when its connection fails
    assert not reader.unchanged(ticket)


def test_a_ticket_ends_at_half_the_life_of_its_mark_in_redis(rstore, monkeypatch):
    reader = rstore()
    ticket = marked(reader, docs=[(RUN, "r1")])
    lifetime = reader._marks.lifetime
    pttl = reader.client.pttl(reader._mark_prefix + reader._doc_key(RUN, "r1"))
    assert 0 < pttl <= lifetime * 1000
    now = redis_marks.time.monotonic()
    monkeypatch.setattr(redis_marks.time, "monotonic", lambda: now + lifetime / 2)
    assert not reader.unchanged(ticket)


def test_no_ticket_holds_in_a_process_that_never_marked(rstore):
    assert not rstore().unchanged(None)


def counting_waits(store):
    """Record each wait for acknowledgements: (how many expected)."""
    waits = []
    original = store.broadcast.wait_acks

    def wait(nonce, expected, what, **kw):
        waits.append(expected)
        return original(nonce, expected, what, **kw)

    store.broadcast.wait_acks = wait
    return waits


def test_a_write_outside_a_request_waits_for_its_acknowledgements_at_once(rstore):
    reader, writer = rstore(), rstore()
    writer.put(RUN, "r1", {"status": "completed"}, owner="acme")
    marked(reader, docs=[(RUN, "r1")])
    waits = counting_waits(writer)
    writer.put(RUN, "r1", {"status": "failed"}, owner="acme")
    writer.put(RUN, "r1", {"status": "completed"}, owner="acme")
    assert waits == [1, 1]


def test_a_requests_told_writes_are_acknowledged_together_when_it_ends(rstore):
    reader, writer = rstore(), rstore()
    writer.put(RUN, "r1", {"status": "completed"}, owner="acme")
    writer.put(TXN, "acme|t1", {"at": 1}, owner="acme")
    ticket = marked(reader, docs=[(RUN, "r1")], indexes=[(TXN, "acme")])
    own = marked(writer, docs=[(RUN, "r1")])
    waits = counting_waits(writer)
    with writer.acks_at_end():
        writer.put(RUN, "r1", {"status": "failed"}, owner="acme")
        assert not writer.unchanged(own)  # its own ticket is given up at the write, not at the end
        writer.put(TXN, "acme|t2", {"at": 2}, owner="acme")
        writer.delete(TXN, "acme|t1")
        assert waits == []  # nothing awaited per write
    assert waits == [6]  # three writes, each told to both processes, awaited once
    assert not reader.unchanged(ticket)
    assert writer.client.keys(f"{writer.namespace}:bc-ack:*") == []  # every acknowledgement taken
    writer.put(RUN, "r1", {"status": "completed"}, owner="acme")  # after the request: at once again
    assert waits == [6, 2]


def test_idempotency_claims_cannot_be_marked_since_their_scripts_tell_nobody(rstore):
    from mockserver.store.memory import _IDEM

    with pytest.raises(ValueError):
        rstore().marked_stamp([(_IDEM, "acme|submit|k1")], [])
    with pytest.raises(ValueError):
        rstore().marked_stamp([], [(_IDEM, "acme")])


def test_a_reader_whose_listener_fell_behind_stops_trusting_before_a_writer_gives_up_on_it(rstore):
    import threading
    import time

    reader, writer, sender = rstore(), rstore(), rstore()
    writer.put(RUN, "r1", {"status": "completed"}, owner="acme")
    ticket = marked(reader, docs=[(RUN, "r1")])
    stalled = threading.Event()
    reader.broadcast.on(lambda topic: (stalled.set(), time.sleep(0.3)) if topic == "stall" else None)
    reader.broadcast.on(lambda topic: time.sleep(0.0001) if topic == "other" else None)  # each takes a while
    stalling = threading.Thread(target=sender.broadcast.send, args=("stall",))
    stalling.start()
    try:
        assert stalled.wait(2.0)
        pipe = sender.client.pipeline(transaction=False)
        for n in range(30_000):  # a backlog: each acknowledged, each quick, all before the write
            pipe.publish(sender.broadcast.channel, f"other\x00filler-{n}")
        pipe.execute()
        started = time.monotonic()
        writer.put(RUN, "r1", {"status": "failed"}, owner="acme")
        assert time.monotonic() - started >= writer.broadcast.ack_timeout  # it gave up waiting for us
        # the writer gave up on our acknowledgement and answered; the reader, still draining
        # the backlog (busy, answering each message), must not trust what the write changed
        assert not reader.unchanged(ticket)
    finally:
        stalling.join()


def test_a_subscription_redis_drops_is_seen_and_every_earlier_ticket_given_up(rstore):
    reader = rstore()
    ticket = marked(reader, docs=[(RUN, "r1")])
    reader.client.client_kill_filter(_type="pubsub")  # as an output-buffer limit or a failover does
    assert wait_until(lambda: not reader.unchanged(ticket), 3.0)
    assert reader.broadcast.wait_live()  # subscribed again, by the listener itself
    assert not reader.unchanged(ticket)  # whatever was published meanwhile never reached it


def test_a_process_gives_up_its_own_tickets_on_what_it_writes_even_when_nobody_was_told(rstore):
    import time

    writer = rstore()
    writer.put(RUN, "r1", {"status": "completed"}, owner="acme")
    own = marked(writer, docs=[(RUN, "r1")])
    writer.broadcast.close()  # its subscription gone ...
    writer.broadcast._live, writer.broadcast._heard_at = True, time.monotonic()  # ... and not yet noticed
    writer.put(RUN, "r1", {"status": "failed"}, owner="acme")  # told to nobody
    assert not writer.unchanged(own)


def test_a_tenant_purge_that_fails_midway_still_ends_every_ticket(rstore, monkeypatch):
    from mockserver.store import StoreUnavailable

    reader, purger = rstore(), rstore()
    purger.put(RUN, "r1", {"status": "completed"}, owner="acme")
    ticket = marked(reader, docs=[(RUN, "r1")])

    def fail(pattern):
        raise StoreUnavailable("Redis store unavailable: as when it fails between the steps")

    monkeypatch.setattr(purger, "_delete_matching", fail)
    with pytest.raises(StoreUnavailable):
        purger.purge_owner("acme")
    assert purger.get(RUN, "r1") is None  # its documents went before the failure
    assert not reader.unchanged(ticket)


def test_a_purge_of_everything_leaves_the_marks_so_a_write_right_after_still_tells(rstore):
    reader, writer = rstore(), rstore()
    writer.put(RUN, "r1", {"status": "completed"}, owner="acme")
    marked(reader, docs=[(RUN, "r1")])
    writer.purge_all()
    assert reader.client.exists(reader._mark_prefix + reader._doc_key(RUN, "r1"))
