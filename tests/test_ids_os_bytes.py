"""Unseeded ids take the operating system's bytes a page at a time (`ids.OsBytes`): each byte
is handed out once, across page refills, threads and a fork (the child drops its parent's
page, so the two never hand out the same ids)."""

from __future__ import annotations

import os
import re
import threading

import pytest

from mockserver.platform.ids import Ids, OsBytes


def test_the_bytes_of_a_page_are_handed_out_once_and_a_new_page_follows():
    source = OsBytes(page=16)
    draws = [source.take(6) for _ in range(10)]  # 2 draws a page, 4 bytes of each page left over
    assert all(len(d) == 6 for d in draws)
    assert len(set(draws)) == len(draws)
    assert len(source.take(64)) == 64  # more than a page: drawn directly


def test_threads_never_share_a_draw():
    source = OsBytes(page=64)
    got: list[bytes] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [source.take(8) for _ in range(500)]
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == len(set(got)) == 2000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_draws_other_bytes_than_its_parent():
    ids = Ids()
    ids.request_id(0.0)  # the page is filled before the fork
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, through the pipe
        os.close(read_end)
        os.write(write_end, ids.request_id(0.0).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        child = pipe.read().decode()
    parent = ids.request_id(0.0)
    assert re.fullmatch(r"req_\d{13}_[0-9a-f]{12}", child) and child != parent


def test_request_ids_keep_their_format():
    ids = Ids()
    assert re.fullmatch(r"req_\d{13}_[0-9a-f]{12}", ids.request_id(1765000000.123))
    assert len({ids.request_id(0.0) for _ in range(1000)}) == 1000
