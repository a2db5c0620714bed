"""Runs outbound work (webhook attempts) when the virtual clock reaches it, and owns the
one tick bus.

Everything else in the mock is derived from time at read, so webhooks are the only timed
work; modules whose callbacks depend on time alone (an interview timing out) subscribe to
the tick bus (`scheduler.on_tick(hook)`, called with the virtual now before every round and
at every step of a clock move) and queue them. In real and scaled modes a background task sleeps until the next due attempt (in
real seconds); in manual mode the control API's clock moves call `run_due` directly, so a
test that advances the clock sees the deliveries done when the call returns.

Several processes may share the store (issue #15): every round starts with
`platform.sync()` (the shared clock and configuration), the due attempts come from the
shared pending queue, and each attempt is leased by the one process that makes it. The
background task wakes at least every `MAX_SLEEP_SECONDS`, so a delivery another process
enqueued is noticed within that bound. A clock move makes every attempt due on the way,
wherever it was enqueued; one that another process is making (leased) is waited for — until
its holder records it, or its lease expires and this process takes it over — before the
clock moves past it, so the move returns with everything due made.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from .platform.context import Platform
from .store.base import StoreUnavailable

log = logging.getLogger("zenhire_mock")

MAX_SLEEP_SECONDS = 1.0  # how late a delivery enqueued by another process may be noticed
LEASE_POLL_SECONDS = 0.02  # how often a clock move looks again at an attempt leased elsewhere


class Scheduler:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # One runner at a time: a clock move waits for an attempt already under way, so
        # the attempt's retry is planned from the time it was made, not from after the move.
        self._running = asyncio.Lock()
        self._tick_hooks: list[Callable[[float], None]] = []

    def on_tick(self, hook: Callable[[float], None]) -> None:
        """Call ``hook(virtual_now)`` on every tick (time-driven work due by then)."""
        self._tick_hooks.append(hook)

    def poke(self) -> None:
        """Something new may be due earlier than planned (an enqueue or a clock jump).
        Safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    def tick(self) -> None:
        now = self.platform.clock.now()
        for hook in self._tick_hooks:
            hook(now)

    async def run_due(self, max_rounds: int = 50) -> int:
        async with self._running:
            self.platform.sync()
            return await self._run_due(max_rounds)

    async def _run_due(self, max_rounds: int) -> int:
        engine = self.platform.webhooks
        if engine is None:
            return 0
        self.tick()
        done = 0
        for _ in range(max_rounds):
            due = engine.next_due()
            if due is None or due > self.platform.clock.now():
                break
            made = await engine.run_due()
            done += made
            if not made:
                break
        return done

    async def advance_to(self, target: float, max_steps: int = 10000) -> int:
        """Move the clock to ``target`` *through* every webhook attempt due on the way: each
        is made at its own virtual time (so retries keep their 1 s / 4 s spacing and each
        attempt is signed with its own time, HOOK-5/HOOK-8), then the clock lands on
        ``target``. An attempt due on the way that another process is making is waited for
        (until recorded, or its lease expired and it is made here). Returns the number of
        attempts this process made."""
        clock, engine = self.platform.clock, self.platform.webhooks
        made = 0
        async with self._running:
            self.platform.sync()
            for _ in range(max_steps):
                self.tick()
                due = engine.next_due(include_leased=True) if engine is not None else None
                if due is None or due > target:
                    break
                free = engine.next_due()
                if free is not None and free <= max(due, clock.now()):
                    clock.reach(free)
                    made += await engine.run_due()
                    continue
                if not await self._wait_for_leased(due):
                    break
            clock.reach(target)
            return made + await self._run_due(50)

    async def _wait_for_leased(self, up_to: float) -> bool:
        """Wait (polling) until no attempt due by ``up_to`` is held by a live lease; their
        leases expire within ``engine.lease_seconds``. False when that bound passed in real
        time and one is still held (a lease clock that does not move): the move goes on."""
        engine = self.platform.webhooks
        loop = asyncio.get_running_loop()
        give_up = loop.time() + engine.lease_seconds + 1.0
        while engine.in_flight(up_to):
            if loop.time() > give_up:
                log.warning("clock move: webhook attempts %s still leased after %.0f s; moving on",
                            engine.in_flight(up_to), engine.lease_seconds)
                return False
            await asyncio.sleep(LEASE_POLL_SECONDS)
            self.platform.sync()
        return True

    async def _serve(self) -> None:
        clock = self.platform.clock
        outage = False  # the store was unreachable in the last round (logged once per outage)
        while True:
            timeout = MAX_SLEEP_SECONDS
            try:
                await self.run_due()
                engine = self.platform.webhooks
                due = engine.next_due() if engine is not None else None
                if clock.mode != "manual" and due is not None:
                    timeout = min(max(clock.real_seconds(due - clock.now()), 0.0), MAX_SLEEP_SECONDS)
                if outage:
                    log.warning("webhook scheduler resumed: the store is reachable again")
                    outage = False
            except StoreUnavailable as err:  # nothing was attempted; try again next round
                if not outage:
                    log.warning("webhook scheduler paused: %s", err)
                    outage = True
            except Exception:  # keep the loop alive; the failure is in the delivery log
                log.exception("webhook scheduler round failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            except asyncio.TimeoutError:
                pass

    def start(self) -> None:
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._serve())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
