"""The request journal behaves the same on its two rows backends — this process (`MemoryRows`)
and a capped Redis list shared by every process on one Redis (`Journal.for_store`): order,
client filters, the cap with per-client dropped counts, clears, queries, paging sequences
unique across journals, lines with bytes under ``_detail`` read back as written, and a walk
that neither repeats nor skips a line while others append."""

from __future__ import annotations

import threading

import pytest

from mockserver.platform.journal import Journal
from mockserver.platform.journal_fields import render_detail
from mockserver.store import MemoryStore


@pytest.fixture(params=["memory", "redis"])
def journal_factory(request):
    """Journals of a given capacity on one backend (on Redis: all on the same Redis)."""
    if request.param == "memory":
        return lambda capacity=100: Journal.for_store(MemoryStore(), capacity)
    from mockserver.store.redis_store import RedisStore

    store = RedisStore(request.getfixturevalue("redis_url"))
    request.addfinalizer(store.close)
    return lambda capacity=100: Journal.for_store(store, capacity)


def _line(n, client="acme", **kw):
    return {"time": f"t{n}", "method": "GET", "path": f"/api/v1/x/{n}", "status": 200, "client": client,
            "requestId": f"req_{n}", **kw}


def test_the_backend_follows_the_store(redis_url):
    from mockserver.platform.journal import MemoryRows
    from mockserver.store.redis_journal import RedisRows
    from mockserver.store.redis_store import RedisStore

    assert isinstance(Journal.for_store(MemoryStore(), 5)._rows, MemoryRows)
    store = RedisStore(redis_url)
    assert isinstance(Journal.for_store(store, 5)._rows, RedisRows)
    store.close()


def test_lines_come_back_in_order_and_filtered_by_client(journal_factory):
    journal = journal_factory()
    for n in range(5):
        journal.record(_line(n, client="acme" if n % 2 == 0 else "beta"))
    journal.record(_line(5, client=None))
    assert len(journal) == 6
    assert [e["requestId"] for e in journal.entries()] == [f"req_{n}" for n in range(6)]
    assert [e["requestId"] for e in journal.entries(newest_first=True)][:2] == ["req_5", "req_4"]
    assert [e["requestId"] for e in journal.entries("beta")] == ["req_1", "req_3"]
    assert list(journal.entries("nobody")) == []
    assert journal.entries().__next__() == _line(0)


def test_the_cap_keeps_the_newest_and_counts_what_each_client_lost(journal_factory):
    journal = journal_factory(4)
    for n in range(7):
        journal.record(_line(n, client="acme" if n < 3 else ("beta" if n < 6 else None)))
    assert len(journal) == 4
    assert [e["requestId"] for e in journal.entries()] == ["req_3", "req_4", "req_5", "req_6"]
    assert journal.dropped == {"acme": 3}
    journal.record(_line(7))
    assert journal.dropped == {"acme": 3, "beta": 1}


def test_lines_written_as_one_batch_past_the_cap_are_counted_per_client(journal_factory):
    journal = journal_factory(4)
    store = getattr(journal._rows, "_store", None)
    if store is not None:
        assert store.broadcast.wait_live()  # lines are queued (and written in batches) only then
    for n in range(9):  # queued as requests queue them: one batch for the writer
        journal.record_next(_line(n, client="acme" if n < 3 else ("beta" if n < 5 else None)))
    assert [e["requestId"] for e in journal.entries()] == ["req_5", "req_6", "req_7", "req_8"]
    assert journal.dropped == {"acme": 3, "beta": 2}
    assert [e["seq"] for e in journal.entries()] == sorted({e["seq"] for e in journal.entries()})


def test_clear_one_client_or_everything(journal_factory):
    journal = journal_factory(3)
    for n in range(5):
        journal.record(_line(n, client="acme" if n % 2 else "beta"))
    journal.clear("acme")
    assert [e["requestId"] for e in journal.entries()] == ["req_2", "req_4"]
    assert journal.dropped == {"beta": 1}
    journal.record(_line(9, client="acme"))
    assert [e["requestId"] for e in journal.entries(newest_first=True)] == ["req_9", "req_4", "req_2"]
    journal.clear()
    assert len(journal) == 0 and journal.dropped == {} and list(journal.entries()) == []
    journal.record(_line(10))
    assert [e["requestId"] for e in journal.entries()] == ["req_10"]


def test_query_filters_newest_first_with_a_limit(journal_factory):
    journal = journal_factory()
    for n in range(10):
        journal.record(_line(n, status=404 if n % 3 == 0 else 200, operation="op" if n < 5 else "other",
                             client="acme" if n % 2 else "beta"))
    got = journal.query(status=404, limit=2)
    assert [e["requestId"] for e in got] == ["req_9", "req_6"]
    assert [e["requestId"] for e in journal.query(client="acme", operation="op")] == ["req_3", "req_1"]
    assert [e["requestId"] for e in journal.query(method="get", path_prefix="/api/v1/x/7")] == ["req_7"]


def test_paging_sequences_are_unique_and_increasing_across_journals(journal_factory):
    a, b = journal_factory(), journal_factory()
    seen: list[int] = []
    lock = threading.Lock()

    def take(journal):
        mine = [journal.next_seq() for _ in range(200)]
        assert mine == sorted(mine)
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=take, args=(j,)) for j in (a, a, b, b)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    shared = a._rows is not b._rows and type(a._rows).__name__ == "RedisRows"
    if shared:  # one sequence for every journal on the Redis
        assert sorted(seen) == list(range(1, 801))
    else:
        assert len(set(seen)) == 400  # two journals in memory: each its own


def test_a_line_with_bytes_under_detail_reads_back_and_renders(journal_factory):
    journal = journal_factory()
    raw_headers = b"x-api-key\x00zh_api_test_full_access_0001\nhost\x00testserver"
    journal.record(_line(1, _detail=(raw_headers, "<body>", (("content-type", "application/json"),),
                                     (b'{"id":"x\xc3\xa9"}', 99))))
    (entry,) = journal.entries()
    raw, body, reply_headers, head = entry["_detail"]
    assert raw == raw_headers and body == "<body>" and bytes(head[0]) == b'{"id":"x\xc3\xa9"}' and head[1] == 99
    shown = render_detail(entry)
    assert shown["requestHeaders"]["x-api-key"] == "zh_api[masked]"
    assert shown["responseHeaders"] == {"content-type": "application/json"}
    assert shown["responseBody"].startswith('{"id":"xé"}')


def test_a_walk_neither_repeats_nor_skips_while_others_append(journal_factory):
    journal = journal_factory(2000)
    for n in range(600):
        journal.record(_line(n))
    walked = []
    for i, entry in enumerate(journal.entries(newest_first=True)):
        walked.append(entry["requestId"])
        if i % 100 == 0:
            journal.record(_line(10_000 + i))
    assert walked == [f"req_{n}" for n in range(599, -1, -1)]
    walked = [e["requestId"] for e in journal.entries()]
    assert len(walked) == len(set(walked)) == 606


def test_two_journals_on_one_redis_share_their_lines(redis_url):
    from mockserver.store.redis_store import RedisStore

    one, two = RedisStore(redis_url), RedisStore(redis_url)
    a, b = Journal.for_store(one, 10), Journal.for_store(two, 10)
    a.record(_line(1))
    b.record(_line(2, client="beta"))
    # each process writes its queue on its own thread: across processes the lines are in the
    # order they were written; a read anywhere sees every line recorded before it
    assert sorted(e["requestId"] for e in a.entries()) == ["req_1", "req_2"]
    assert len(b) == 2
    b.record(_line(3, client="beta"))
    assert [e["requestId"] for e in a.entries("beta")][-1] == "req_3"
    one.close()
    two.close()


def test_a_line_made_while_redis_is_down_is_lost_without_failing_and_later_lines_are_kept(request):
    from mockserver.store import StoreUnavailable
    from mockserver.store.redis_store import RedisStore
    from tests.support.redis_server import RedisServer, redis_server_missing

    if redis_server_missing():
        pytest.skip(redis_server_missing())
    server = RedisServer()
    request.addfinalizer(server.stop)
    store = RedisStore(server.url)
    journal = Journal.for_store(store, 10)
    journal.record(_line(1, seq=journal.next_seq()))
    server.kill()
    assert journal.next_seq() == 0
    journal.record(_line(2))  # neither raises nor hangs
    with pytest.raises(StoreUnavailable):
        len(journal)
    server.restart()
    journal.record(_line(3, seq=journal.next_seq()))
    assert [e["requestId"] for e in journal.entries()] == ["req_3"]
    store.close()


def test_record_next_gives_each_line_its_cursor_in_list_order_across_journals(journal_factory):
    a, b = journal_factory(1000), journal_factory(1000)
    errors: list[BaseException] = []

    def write(journal, who):
        try:
            for n in range(150):
                journal.record_next(_line(n, client=who, seq=0, _detail=(b"raw\x00bytes", "body")))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(j, who)) for j, who in ((a, "acme"), (a, "beta"), (b, "gamma"))]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert not errors
    lines = list(a.entries())
    if type(a._rows).__name__ == "RedisRows":  # one list for both journals
        seqs = [e["seq"] for e in lines]
        assert len(lines) == 450 and seqs == sorted(seqs) and len(set(seqs)) == 450  # list order = cursor order
    else:
        seqs = [e["seq"] for e in lines]
        assert len(lines) == 300 and seqs == sorted(seqs) and len(set(seqs)) == 300
    first = next(e for e in lines if e["client"] == "acme")
    assert list(first) == ["time", "method", "path", "status", "client", "requestId", "seq", "_detail"]
    assert first["path"] == "/api/v1/x/0" and bytes(first["_detail"][0]) == b"raw\x00bytes"


def test_record_next_adds_the_cursor_last_to_a_line_without_one(journal_factory):
    journal = journal_factory()
    journal.record_next(_line(1))
    journal.record_next({"seq": 0})
    one, two = journal.entries()
    assert list(one)[-1] == "seq" and one["requestId"] == "req_1"
    assert two == {"seq": one["seq"] + 1}


def test_a_request_line_reads_back_the_same_on_both_backends_and_lines_sharing_a_response_head_too(redis_url):
    from mockserver.platform import journal_line
    from mockserver.store.redis_store import RedisStore

    shared_head = (b'{"id":"req_1","status":"success","note":"caf\xc3\xa9 \\"quoted\\""}', 4096)

    def line(n, head):
        return journal_line.build(1000.0 + n, "GET", f"/api/v1/speech/analyze/req_{n}", 200, "getSpeechAnalysis",
                                  "acme", "zh_api_tes…0001", f"req_{n}", 0.5, 0, "speech", f"req_{n}", None,
                                  f"req_{n}", b"a=%C3%A9", {}, [(b"x-api-key", b"k"), (b"accept", b"*/*")], None,
                                  {"content-type": "application/json"}, head)

    heads = [shared_head, shared_head, None, (b"[1,2]", 5), shared_head]
    store = RedisStore(redis_url)
    try:
        journals = [Journal.for_store(MemoryStore(), 100), Journal.for_store(store, 100)]
        for journal in journals:
            for n, head in enumerate(heads):
                journal.record_line(line(n, head))
        memory, shared = ([{k: v for k, v in e.items() if k != "seq"} for e in j.entries()] for j in journals)
        assert shared == memory
        assert [e["_detail"][3] for e in shared] == heads
    finally:
        store.close()
