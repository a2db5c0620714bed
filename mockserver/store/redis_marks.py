"""Views of shared (Redis) documents that a process answers from with no round trip at all:
marks in Redis, tickets and the invalidations heard in the process.

A stamp (`RedisStore.stamp`) lets a process keep a view it built and check it with one small
read per request. A *marked* stamp (`RedisStore.marked_stamp`) sets, in the same atomic step, a
mark on each document and index it reads (``{namespace}:m:{key}``, expiring after
``lifetime`` seconds). Every script that then writes one of them — a document rewritten,
created or removed, an index gaining or losing a member — publishes the names it touched on
the broadcast channel in that same step and its writer waits until every subscribed process
has acknowledged (`redis_scripts._TELL`, `Broadcast.wait_acks`). Each process hears those
messages here (`Marks`, on the broadcast's listener thread) before it acknowledges them.

So a view kept with the `Ticket` taken just before its marked stamp is as it was for as long as
`Marks.holds(ticket)`: no message naming one of its keys was heard since, no ``"*"`` (a
re-subscription after an outage, a purge), the process is subscribed, and the mark has not
expired (the ticket ends at half the mark's lifetime, measured from before the mark was set).
A write that landed between the ticket and the stamp is in the stamp; one after it was told
to this process before its writer answered anyone. A process whose writer dies between its
script and the acknowledgements still had the message delivered (published in the script).
"Live" (`Broadcast.live`) means the listener has handled every message Redis sent it until
`SILENCE` seconds ago (the send time of the last ping whose pong it read: pongs come after the
messages before them). A writer that cannot get an acknowledgement answers only after
`ack_timeout` (not less than `SILENCE`): by then a subscriber that is cut off, paused, or
behind on its messages is no longer live, so it trusts nothing. A subscription Redis drops is
no longer counted; the listener (on a client that never reconnects behind its back) sees the
loss, trusts nothing until it has subscribed again, then gives up every earlier ticket ("*").
Between the drop and the listener seeing it (at most `SILENCE`) a write is not told to it: the
one window, documented in docs/shared-state.md. A process's own writes give up its own
tickets at once, told or not (`written_here`); a purge gives up all of them, even one that
failed midway.
"""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar
from typing import Any, Callable

from .redis_broadcast import ANY, new_nonce

TOPIC = "m"  # a marks message: TOPIC, then each name after SEP
SEP = "\x01"
LIFETIME = 10.0  # seconds a mark lives in Redis; a ticket trusts it for half of that
_TOLD_BOUND = 65536  # names remembered; past it every earlier ticket is given up at once


class Ticket:
    """What a view was kept with: the heard-invalidations count before its marked stamp, the
    key names it marked, and the monotonic instant it is trusted until."""

    __slots__ = ("epoch", "names", "until")

    def __init__(self, epoch: int, names: tuple[str, ...], until: float) -> None:
        self.epoch, self.names, self.until = epoch, names, until


class Marks:
    """The invalidations this process heard for marked keys (`holds` answers without Redis)."""

    def __init__(self, broadcast: Any, prefix: str, lifetime: float = LIFETIME) -> None:
        self.prefix = prefix
        self.lifetime = lifetime
        self._broadcast = broadcast
        self._epoch = 0  # messages heard (a name told at epoch e drops tickets taken before e)
        self._floor = 0  # tickets taken before it are all given up (a "*", the bound reached)
        self._told: dict[str, int] = {}
        self._marked: set[str] = set()  # names this process has marked (what its own writes must drop)
        self._guard = threading.Lock()  # the listener and a writer here may both record
        broadcast.on(self._heard)

    def ticket(self, names: tuple[str, ...]) -> Ticket:
        """Taken just before the marked stamp of ``names`` is read."""
        marked = self._marked
        if len(marked) >= _TOLD_BOUND:
            with self._guard:
                self._floor = self._epoch + 1  # forgotten marks: every earlier ticket goes
                self._epoch += 1
                marked.clear()
        marked.update(names)
        return Ticket(self._epoch, names, time.monotonic() + self.lifetime / 2)

    def holds(self, ticket: Ticket | None) -> bool:
        """True while nothing the ticket names can have been written since its stamp."""
        if ticket is None or not self._broadcast.live or time.monotonic() >= ticket.until:
            return False
        told = self._told
        for name in ticket.names:
            if told.get(name, -1) > ticket.epoch:
                return False
        return ticket.epoch >= self._floor  # read last: a bound reached clears `_told` after raising it

    def written_here(self, names: list[str]) -> None:
        """This process wrote ``names``: its own tickets on those it marked are given up at
        once (it may owe the acknowledgements until its request ends, `acks_at_end`, or its
        own subscription may be the one that missed the message)."""
        marked = self._marked
        hit = [name for name in names if name in marked]
        if hit:
            self._heard(TOPIC + SEP + SEP.join(hit))

    def written_here_all(self) -> None:
        """This process purged: every ticket it holds is given up at once."""
        self._heard(ANY)

    def _heard(self, topic: str) -> None:
        """Broadcast handler (listener thread): record before the epoch moves, so a ticket
        taken meanwhile is given up rather than trusted."""
        with self._guard:
            self._record(topic)

    def _record(self, topic: str) -> None:
        epoch = self._epoch + 1
        if topic == ANY:
            self._floor = epoch
        elif topic.startswith(TOPIC + SEP):
            if len(self._told) >= _TOLD_BOUND:
                self._floor = epoch
                self._told.clear()
            for name in topic[len(TOPIC) + 1:].split(SEP):
                self._told[name] = epoch
        else:
            return
        self._epoch = epoch


class AcksOwed:
    """The acknowledgements a request's told writes are owed: every write script of the
    request publishes with one nonce (made at its first write), and the request waits for them
    all once, before it answers (`RedisStore.acks_at_end`) — one round trip or two instead of
    one per write."""

    __slots__ = ("nonce", "expected", "open")

    def __init__(self) -> None:
        self.nonce: str | None = None
        self.expected = 0
        self.open = True


_OWED: ContextVar[AcksOwed | None] = ContextVar("zh_acks_owed", default=None)


def acks_owed() -> AcksOwed | None:
    """The current request's owed acknowledgements, or None outside one (wait per write)."""
    owed = _OWED.get()
    return owed if owed is not None and owed.open else None


def write_nonce() -> str:
    """The nonce a write script publishes with: the current request's, else a new one."""
    owed = acks_owed()
    if owed is None:
        return new_nonce()
    if owed.nonce is None:
        owed.nonce = new_nonce()
    return owed.nonce


class AcksAtEnd:
    """``with``: the block is a request whose owed acknowledgements ``wait(nonce, expected)``
    awaits once when it ends (a plain class: entered on every request of a shared store)."""

    __slots__ = ("_wait", "_owed", "_token")

    def __init__(self, wait: Callable[[str, int], Any]) -> None:
        self._wait = wait

    def __enter__(self) -> AcksOwed:
        self._owed = AcksOwed()
        self._token = _OWED.set(self._owed)
        return self._owed

    def __exit__(self, *exc: Any) -> None:
        _OWED.reset(self._token)
        owed = self._owed
        owed.open = False
        if owed.expected:
            self._wait(owed.nonce, owed.expected)
