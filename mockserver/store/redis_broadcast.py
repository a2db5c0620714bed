"""Messages that every process sharing one Redis has acted on before the sender goes on.

A process keeps a few things it would otherwise read from Redis on every request — the shared
clock and configuration document, the journal lines it has not yet written — and needs to be
told, synchronously, when another process changes or wants them. `Broadcast.send(topic)`
publishes ``topic`` on the namespace's channel and waits until every subscribed process has
run its handlers for it and acknowledged (an ``RPUSH`` on a list named by the message's
nonce, counted with ``BLPOP``); ``PUBLISH`` returns how many subscribers there are to wait
for. So when `send` returns, a clock move, a configuration change or a journal flush has
happened in every live process: a request served afterwards by any replica sees it.

Each process runs one listener thread (started with the first handler). It tells its owner
whether what it caches may be trusted: `live` is True only while the subscription stands. On
(re)subscribing every handler runs with topic ``"*"`` (anything may have changed while it was
not listening), then `live` turns True. A subscriber that dies between ``PUBLISH`` and its
acknowledgement makes the sender wait ``ack_timeout`` seconds (once) and log it.

Handlers run on the listener thread: they must be quick and must not wait for anything a
sender might hold while it waits for acknowledgements (setting a flag, writing buffered lines).
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import threading
import time
import weakref
from typing import Any, Callable

import redis

log = logging.getLogger("zenhire_mock.store")

ANY = "*"  # the topic handlers get after (re)subscribing: anything may have changed
PING_EVERY = 0.25  # the listener pings Redis on its subscription this often ...
SILENCE = 1.0  # ... and is not live once Redis has not answered it for this long (a paused Redis)
_PINGS_OUTSTANDING = 16  # pings sent and not answered at most (a silent Redis gets no more)
_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


# Nonces (a message's, its acknowledgement list's name): a random prefix per process (made
# again in a forked child) and a counter — unique across every process on the Redis without
# a system call each.
_process_prefix = os.urandom(6).hex()
_count = itertools.count()


def new_nonce() -> str:
    return f"{_process_prefix}.{next(_count)}"


def _new_process() -> None:
    global _process_prefix
    _process_prefix = os.urandom(6).hex()


os.register_at_fork(after_in_child=_new_process)


class Broadcast:
    """Topics published to every process on one Redis namespace, acknowledged by each."""

    def __init__(self, client: redis.Redis, namespace: str, *, ack_timeout: float = 1.0,
                 op_timeout: float = 2.0, subscriber: redis.Redis | None = None) -> None:
        self._client = client
        # The listener's own client: it must not reconnect and subscribe again behind the
        # listener's back (redis-py does, with retries), or messages sent meanwhile are lost
        # unnoticed; without retries the loss is an error the listener sees ("*" on return).
        self._subscriber = subscriber if subscriber is not None else client
        self._wait_step = max(op_timeout / 2, 0.01)  # one BLPOP blocks less than the socket allows
        self._channel = f"{namespace}:bc"
        self._wake_channel = f"{namespace}:bc-wake:{os.urandom(6).hex()}"  # only this process listens
        self._ack_prefix = f"{namespace}:bc-ack:"
        self.ack_timeout = max(ack_timeout, SILENCE)  # a cut-off subscriber stops trusting first (redis_marks)
        self._handlers: list[Callable[[str], None]] = []
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self._live = False
        # monotonic: every message Redis sent before this instant has been handled (the send
        # time of the last ping whose pong the listener has read; pongs follow the messages)
        self._heard_at = 0.0
        self.received = 0  # messages handled (tests and benches read it)

    @property
    def live(self) -> bool:
        """True while this process is subscribed and has handled every message Redis sent it
        until `SILENCE` seconds ago (a pong read for a ping sent since): a sender that gave up
        waiting for its acknowledgement (after `ack_timeout` ≥ `SILENCE`) finds it not live.
        A Redis that stopped answering without closing the connection (paused, a network
        partition) and a listener that fell behind both end it — measured here, not by the
        listener thread, which may be the one not running."""
        return self._live and time.monotonic() - self._heard_at < SILENCE

    def on(self, handler: Callable[[str], None]) -> None:
        """Run ``handler(topic)`` on every message (``"*"`` after a (re)subscription); starts
        the listener on first use."""
        with self._guard:
            self._handlers.append(handler)
            if self._thread is None:
                self._thread = threading.Thread(target=_listen, args=(weakref.ref(self),),
                                                name="zh-store-broadcast", daemon=True)
                self._thread.start()

    def wait_live(self, timeout: float = 2.0) -> bool:
        """Wait (real time, bounded) until subscribed; True when live."""
        deadline = time.monotonic() + timeout
        while not self.live and time.monotonic() < deadline and not self._closed.is_set():
            time.sleep(0.002)
        return self.live

    @property
    def channel(self) -> str:
        """The channel messages go out on (a store's write scripts publish on it too)."""
        return self._channel

    def send(self, topic: str) -> int:
        """Publish ``topic`` and return once every subscriber has acted on it (or
        ``ack_timeout`` passed); returns how many acknowledged. Redis errors propagate
        (the caller's store turns them into `StoreUnavailable`)."""
        nonce = new_nonce()
        expected = int(self._client.publish(self._channel, f"{topic}\x00{nonce}"))
        return self.wait_acks(nonce, expected, topic)

    def wait_acks(self, nonce: str, expected: int, what: str, *, ready: bool = False) -> int:
        """Wait until ``expected`` subscribers acknowledged the messages published with
        ``nonce`` (by `send`, or by write scripts in the same step as their writes) or
        ``ack_timeout`` passed; returns how many did. ``ready``: the acknowledgements are
        likely there already (take them before blocking)."""
        acks = self._ack_prefix + nonce
        got = 0
        deadline = time.monotonic() + self.ack_timeout
        while got < expected:
            if ready:  # all that are there, in one round trip (any Redis: no LPOP count)
                pipe = self._client.pipeline(transaction=True)
                pipe.lrange(acks, 0, -1)
                pipe.delete(acks)
                got += len(pipe.execute()[0])
                if got >= expected:
                    break
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("shared store: %d of %d processes acknowledged %r within %.1f s "
                            "(a replica stopped?)", got, expected, what[:120], self.ack_timeout)
                break
            if self._client.blpop([acks], timeout=min(left, self._wait_step)) is not None:
                got += 1
                ready = True  # awake: the others may have answered meanwhile
        if got < expected:
            self._client.delete(acks)  # a late acknowledgement would otherwise wait for its expiry
        return got  # all popped: Redis removed the emptied list itself

    def close(self) -> None:
        """Stop listening, and return once this process has left the channel (bounded): a
        `send` from anyone afterwards no longer counts or waits for it."""
        self._closed.set()
        self._live = False
        thread = self._thread
        if thread is None or thread is threading.current_thread() or not thread.is_alive():
            return
        try:
            self._client.publish(self._wake_channel, "close")  # the listener looks up at once
        except _ERRORS:
            pass  # Redis is gone: so is the subscription; the listener ends on its own
        thread.join(timeout=3.0)

    # -- the listener thread's side ---------------------------------------------------------
    def _dispatch(self, topic: str) -> None:
        with self._guard:
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(topic)
            except Exception:  # a handler's bug must not stop the listener
                log.exception("shared store: broadcast handler failed for %r", topic)
        self.received += 1

    def _ack(self, nonce: str) -> None:
        _acknowledge(self._client, self._ack_prefix + nonce)


def _acknowledge(client: redis.Redis, key: str) -> None:
    pipe = client.pipeline(transaction=False)
    pipe.rpush(key, 1)
    pipe.expire(key, 30)
    pipe.execute()


class Watched:
    """A value read through ``read`` (a store document), kept until a broadcast of ``topic``
    (or ``"*"``) says it changed, while the process is subscribed, and for at most ``max_age``
    real seconds (a bound for what no notification could tell). The value returned is shared:
    callers read it and never change it."""

    __slots__ = ("_read", "_broadcast", "_topic", "max_age", "_dirty", "_value", "_read_at")

    def __init__(self, read: Callable[[], Any], broadcast: Broadcast, topic: str, max_age: float) -> None:
        self._read, self._broadcast, self._topic = read, broadcast, topic
        self.max_age = max_age
        self._dirty = True
        self._value: Any = None
        self._read_at = 0.0

    def changed(self, topic: str) -> None:
        """Broadcast handler (listener thread): the next `get` reads again."""
        if topic == self._topic or topic == ANY:
            self._dirty = True

    def get(self) -> Any:
        if not self._dirty and self._broadcast.live and time.monotonic() - self._read_at < self.max_age:
            return self._value
        self._dirty = False  # before the read: a change notified during it marks it again
        read_at = time.monotonic()
        try:
            value = self._read()
        except BaseException:
            self._dirty = True
            raise
        self._value, self._read_at = value, read_at
        return value


def _leave(pubsub: Any, msg: dict | None, client: redis.Redis, channel: str, ack_prefix: str) -> None:
    """Unsubscribe for an owner that is gone or closed, answering every message a sender
    counted us for until Redis confirms (a message published before the UNSUBSCRIBE arrives
    before its confirmations; one published after it does not count us)."""
    pubsub.unsubscribe()
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        if msg is not None and msg["type"] == "message" and _name(msg["channel"]) == channel:
            _acknowledge(client, ack_prefix + msg["data"].decode().partition("\x00")[2])
        elif msg is not None and msg["type"] == "unsubscribe" and not msg["data"]:
            return  # the last channel left (one UNSUBSCRIBE drops them all at once)
        msg = pubsub.get_message(timeout=0.5)


def _name(channel: bytes | str) -> str:
    return channel.decode() if isinstance(channel, bytes) else channel


def _listen(ref: "weakref.ref[Broadcast]") -> None:
    """The listener loop: holds its `Broadcast` only weakly, so a store nobody uses any more
    is collected and its listener ends within a second."""
    down_since: float | None = None
    owner = ref()
    if owner is None:
        return
    # to answer a message after the owner went (and the subscriber's connections stay open
    # until then: a client collected with its owner would close them under the listener):
    client, subscriber, channel, ack_prefix = owner._client, owner._subscriber, owner._channel, owner._ack_prefix
    del owner
    while True:
        owner = ref()
        if owner is None or owner._closed.is_set():
            return
        pubsub = subscriber.pubsub()
        pings: collections.deque[float] = collections.deque()  # send times of pings not yet answered
        try:
            subscribed_at = time.monotonic()  # nothing was sent to us before: "*" covers it
            pubsub.subscribe(owner._channel, owner._wake_channel)
            deadline = time.monotonic() + 2.0
            while True:  # the subscription's confirmation
                msg = pubsub.get_message(timeout=0.5)
                if msg is not None and msg["type"] == "subscribe" and msg["data"] == 2:
                    break  # both channels
                if time.monotonic() > deadline:
                    raise redis.exceptions.TimeoutError("no subscription confirmation")
            owner._dispatch(ANY)
            owner._heard_at = subscribed_at
            pinged = time.monotonic()
            owner._live = not owner._closed.is_set()  # a close meanwhile stays closed
            if down_since is not None:
                log.warning("shared store: change notifications restored after %.1f s",
                            time.monotonic() - down_since)
                down_since = None
            del owner
            while True:
                msg = pubsub.get_message(timeout=PING_EVERY)
                owner = ref()
                if owner is None or owner._closed.is_set():
                    _leave(pubsub, msg, client, channel, ack_prefix)
                    return
                kind = None if msg is None else msg["type"]
                if kind == "message" and _name(msg["channel"]) == channel:
                    topic, _, nonce = msg["data"].decode().partition("\x00")
                    owner._dispatch(topic)
                    owner._ack(nonce)
                elif kind == "pong" and pings:
                    owner._heard_at = pings.popleft()  # every message before its ping: handled
                elif kind == "subscribe":  # subscribed again without us: messages may be lost
                    owner._dispatch(ANY)
                now = time.monotonic()
                if now - pinged >= PING_EVERY and len(pings) < _PINGS_OUTSTANDING:
                    pings.append(now)  # before it is sent: its pong comes after what Redis sent until then
                    pubsub.ping()
                    pinged = now
                del owner
        except Exception as err:  # a connection error, or anything else: subscribe again
            owner = ref()
            if owner is None or owner._closed.is_set():
                return
            owner._live = False
            if down_since is None:
                down_since = time.monotonic()
                if isinstance(err, _ERRORS):
                    log.warning("shared store: change notifications interrupted (%s); every request "
                                "reads the shared state until they are back", " ".join(str(err).split()))
                else:
                    log.exception("shared store: the change listener failed; every request reads the "
                                  "shared state until it has subscribed again")
            del owner
            time.sleep(0.2)
        finally:
            try:
                pubsub.close()
            except Exception:
                pass
