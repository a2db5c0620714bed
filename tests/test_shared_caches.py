"""What a process keeps of a shared (Redis) store between requests, and why it is never stale:
the broadcast every process acknowledges before a writer goes on (`redis_broadcast`), the
shared clock/configuration document read again only after a change (`RedisStore.watched`),
the credits view kept under the store's stamp until something changes or falls due, and the
journal's lines queued off the request path yet read by any process right after."""

from __future__ import annotations

import pytest

from mockserver.platform.credits import ACCOUNT, Ledger
from mockserver.platform.journal import Journal
from mockserver.platform.shared_state import KIND, PLATFORM_KEY
from tests.support.store_calls import recorded_calls

pytestmark = pytest.mark.usefixtures("redis_server")




def counting_gets(store):
    """Record the store's document reads (`get_entry`, which `get` goes through)."""
    return recorded_calls(store, "get_entry")


def test_a_broadcast_returns_only_after_every_subscribed_process_ran_its_handlers(rstore):
    a, b, c = rstore(), rstore(), rstore()
    seen_b, seen_c = [], []
    b.broadcast.on(seen_b.append)
    c.broadcast.on(seen_c.append)
    assert b.broadcast.wait_live() and c.broadcast.wait_live()
    acknowledged = a.broadcast.send("journal")
    assert acknowledged == 2
    assert "journal" in seen_b and "journal" in seen_c  # already handled when send returned


def test_a_broadcast_to_nobody_returns_at_once_with_no_acknowledgement(rstore):
    assert rstore().broadcast.send("journal") == 0


def test_a_closed_broadcast_has_left_the_channel_when_close_returns(rstore):
    sender, leaving = rstore(), rstore()
    seen = []
    leaving.broadcast.on(seen.append)
    assert leaving.broadcast.wait_live()
    assert sender.broadcast.send("journal") == 1
    leaving.broadcast.close()  # its Redis connection stays open: only the leave itself counts
    assert not leaving.broadcast.live
    assert sender.broadcast.send("journal") == 0  # not counted, not waited for
    assert seen.count("journal") == 1


def test_a_watched_document_is_read_once_then_again_only_after_another_process_writes_it(rstore):
    writer, reader = rstore(), rstore()
    writer.put(KIND, PLATFORM_KEY, {"clock": {"version": 1}, "generation": 0})
    watched = reader.watched(KIND, PLATFORM_KEY)
    assert reader.broadcast.wait_live()
    reads = counting_gets(reader)
    for _ in range(5):
        assert watched.get()["clock"]["version"] == 1
    assert len(reads) == 1  # the first read; then kept
    writer.update(KIND, PLATFORM_KEY, lambda cur: dict(cur, generation=7))
    assert watched.get()["generation"] == 7  # seen at once: the writer waited for our acknowledgement
    assert len(reads) == 2


def test_a_watched_document_is_read_on_every_get_while_notifications_are_down(rstore):
    writer, reader = rstore(), rstore()
    writer.put(KIND, PLATFORM_KEY, {"generation": 1})
    watched = reader.watched(KIND, PLATFORM_KEY)
    assert reader.broadcast.wait_live()
    watched.get()
    reader.broadcast._live = False  # as the listener sets it when its connection fails
    reads = counting_gets(reader)
    writer.broadcast.close()  # and the writer's change reaches nobody
    writer.put(KIND, PLATFORM_KEY, {"generation": 2})
    assert watched.get()["generation"] == 2
    assert watched.get()["generation"] == 2
    assert len(reads) == 2


def test_a_reset_purge_makes_every_process_read_the_watched_document_again(rstore):
    writer, reader = rstore(), rstore()
    writer.put(KIND, PLATFORM_KEY, {"generation": 3})
    watched = reader.watched(KIND, PLATFORM_KEY)
    assert reader.broadcast.wait_live()
    assert watched.get() == {"generation": 3}
    writer.purge_all()
    assert watched.get() is None


def test_only_broadcast_kinds_can_be_watched(rstore):
    with pytest.raises(ValueError):
        rstore().watched("speech_run", "r1")


def test_the_stamp_moves_with_a_document_write_and_with_index_membership(rstore):
    store = rstore()
    docs, indexes = [(ACCOUNT, "acme")], [("settlement", "acme")]
    first = store.stamp(docs, indexes)
    assert store.stamp(docs, indexes) == first
    store.put(ACCOUNT, "acme", {"balance": 1}, owner="acme")
    second = store.stamp(docs, indexes)
    assert second != first
    store.put(ACCOUNT, "acme", {"balance": 2}, owner="acme")  # a rewrite: the version moves
    third = store.stamp(docs, indexes)
    assert third != second
    store.put("settlement", "acme|r1", {"at": 5}, owner="acme")
    fourth = store.stamp(docs, indexes)
    assert fourth != third
    store.put("settlement", "acme|r2", {"at": 6}, owner="acme")
    store.delete("settlement", "acme|r1")  # {r1} -> {r2}: same count, a higher top
    fifth = store.stamp(docs, indexes)
    assert fifth not in (first, second, third, fourth)
    store.put("settlement", "acme|r3", {"at": 7}, owner="acme")
    store.delete("settlement", "acme|r3")  # {r2}, as before: the same state, the same stamp
    assert store.stamp(docs, indexes) == fifth
    store.put("settlement", "other|r1", {"at": 5}, owner="other")  # another tenant: no move
    assert store.stamp(docs, indexes) == fifth
    store.delete("settlement", "acme|r2")  # the membership of `third` again: {}
    assert store.stamp(docs, indexes) == third


def ledgers(rstore, credits=100):
    return (Ledger(rstore(), lambda client: credits), Ledger(rstore(), lambda client: credits))


def test_a_kept_credits_view_shows_a_change_made_by_another_process_at_once(rstore):
    here, there = ledgers(rstore)
    here.adjust("acme", now=1.0, delta=5)
    assert here.summary("acme", 2.0)["creditBalance"] == 105
    reads = counting_gets(here.store)
    calls = []
    original = here.store.read_view
    here.store.read_view = lambda *a, **k: (calls.append(1), original(*a, **k))[1]
    assert here.summary("acme", 3.0)["creditBalance"] == 105
    assert calls == []  # kept: only the stamp was read
    there.adjust("acme", now=4.0, delta=-30)
    view = here.summary("acme", 5.0)
    assert view["creditBalance"] == 75
    assert view["recentTransactions"][0]["amount"] == -30
    assert calls == [1] and reads == []


def test_a_kept_credits_view_is_read_again_when_a_pending_settlement_falls_due(rstore):
    here, there = ledgers(rstore)
    assert there.hold("acme", "run-1", 10, "speech", 1.0) is None
    there.schedule("acme", "run-1", 50.0, "charge", "speech")
    before = here.summary("acme", 10.0)
    assert (before["heldCredits"], before["creditBalance"]) == (10, 100)
    assert here.summary("acme", 49.0)["heldCredits"] == 10  # kept: nothing due yet
    after = here.summary("acme", 50.0)
    assert (after["heldCredits"], after["creditBalance"]) == (0, 90)
    assert after["usage"]["byModule"]["speech"] == 10


def test_a_settlement_scheduled_after_a_view_was_kept_is_applied_when_due(rstore):
    here, there = ledgers(rstore)
    here.adjust("acme", now=1.0, delta=0)
    assert here.summary("acme", 2.0)["heldCredits"] == 0  # kept, nothing pending
    assert there.hold("acme", "run-2", 20, "speech", 3.0) is None
    there.schedule("acme", "run-2", 10.0, "release", "speech")
    assert here.summary("acme", 4.0)["heldCredits"] == 20
    assert here.summary("acme", 11.0)["heldCredits"] == 0


def test_a_journal_line_queued_by_one_process_is_read_by_another_right_after(rstore):
    one, two = rstore(), rstore()
    a, b = Journal.for_store(one, 100), Journal.for_store(two, 100)
    assert one.broadcast.wait_live() and two.broadcast.wait_live()
    for n in range(20):
        a.record_next({"requestId": f"a{n}", "client": "acme", "method": "GET", "path": "/"})
    assert [e["requestId"] for e in b.entries("acme")] == [f"a{n}" for n in range(20)]
    seqs = [e["seq"] for e in b.entries("acme")]
    assert seqs == sorted(seqs) and len(set(seqs)) == 20


def test_a_journal_clear_also_clears_lines_still_queued_in_another_process(rstore):
    one, two = rstore(), rstore()
    a, b = Journal.for_store(one, 100), Journal.for_store(two, 100)
    assert one.broadcast.wait_live() and two.broadcast.wait_live()
    a.record_next({"requestId": "before", "client": "acme", "method": "GET", "path": "/"})
    b.clear()
    assert list(a.entries()) == [] and len(b) == 0


def test_a_kept_view_of_a_client_without_an_account_follows_its_initial_credits(rstore):
    initial = {"acme": 100}
    ledger = Ledger(rstore(), lambda client: initial[client])
    assert ledger.summary("acme", 1.0)["creditBalance"] == 100
    initial["acme"] = 250  # a control change of the registry (no account written yet)
    assert ledger.summary("acme", 2.0)["creditBalance"] == 250


def test_a_listener_whose_store_is_gone_still_answers_a_broadcast_it_was_counted_for(redis_url, caplog):
    import gc

    from mockserver.store.redis_store import RedisStore

    sender = RedisStore(redis_url)
    forgotten = RedisStore(redis_url)  # never closed: dropped, as a test or a reload may drop one
    forgotten.broadcast.on(lambda topic: None)
    assert forgotten.broadcast.wait_live()
    del forgotten
    gc.collect()  # its listener is still subscribed until it sees the next message
    try:
        sender.broadcast.send("journal")
        sender.broadcast.send("journal")
    finally:
        sender.close()
    assert not [r for r in caplog.records if "acknowledged" in r.getMessage()]


def test_the_stamp_of_one_document_moves_with_its_writes_and_its_removal(rstore):
    store = rstore()
    one = [("speech_run", "r1")]
    absent = store.stamp(one, [])
    store.put("speech_run", "r1", {"status": "queued"}, owner="acme")
    created = store.stamp(one, [])
    store.put("speech_run", "r1", {"status": "completed"}, owner="acme")
    rewritten = store.stamp(one, [])
    assert len({absent, created, rewritten}) == 3
    assert store.stamp(one, []) == rewritten
    store.delete("speech_run", "r1")
    assert store.stamp(one, []) == absent
    store.put("speech_run", "r1", {"status": "queued"}, owner="acme")  # created again: a new sequence
    assert store.stamp(one, []) not in (absent, created, rewritten)


def test_a_listener_that_redis_stops_answering_is_not_live_and_is_again_once_it_answers(rstore):
    from mockserver.store.redis_broadcast import SILENCE

    store = rstore()
    store.broadcast.on(lambda topic: None)
    assert store.broadcast.wait_live()
    store.broadcast._heard_at -= SILENCE  # as when Redis is paused: no pong for SILENCE seconds
    assert not store.broadcast.live
    assert store.broadcast.wait_live()  # the listener's next ping is answered (nothing else is sent)
