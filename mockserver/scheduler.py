"""Runs outbound work (webhook attempts) when the virtual clock reaches it.

Everything else in the mock is derived from time at read, so webhooks are the only timed
work; modules whose callbacks depend on time alone (an interview timing out) register a
tick hook (`platform.extras["tick_hooks"]`, called with the virtual now) that queues them. In real and scaled modes a background task sleeps until the next due attempt (in
real seconds); in manual mode the control API's clock moves call `run_due` directly, so a
test that advances the clock sees the deliveries done when the call returns.
"""

from __future__ import annotations

import asyncio
import logging

from .platform.context import Platform

log = logging.getLogger("zenhire_mock")


class Scheduler:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def poke(self) -> None:
        """Something new may be due earlier than planned (an enqueue or a clock jump)."""
        self._wake.set()

    def tick(self) -> None:
        now = self.platform.clock.now()
        for hook in self.platform.extras.get("tick_hooks", []):
            hook(now)

    async def run_due(self, max_rounds: int = 50) -> int:
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

    async def _loop(self) -> None:
        clock = self.platform.clock
        while True:
            try:
                await self.run_due()
            except Exception:  # keep the loop alive; the failure is in the delivery log
                log.exception("webhook scheduler round failed")
            engine = self.platform.webhooks
            due = engine.next_due() if engine is not None else None
            if clock.mode == "manual" or due is None:
                timeout = 1.0
            else:
                timeout = min(max(clock.real_seconds(due - clock.now()), 0.0), 1.0)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            except asyncio.TimeoutError:
                pass

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
