"""Waiting in tests for what only real time brings about (a listener noticing a lost
connection, a silence lasting, another process's delivery): a bounded poll, never a fixed sleep."""

from __future__ import annotations

import time
from typing import Any, Callable


def wait_until(condition: Callable[[], Any], seconds: float, what: str = "condition", step: float = 0.01) -> Any:
    """Poll ``condition`` every ``step`` s for at most ``seconds`` (real time); its first truthy
    value, or AssertionError naming ``what`` when the time is up."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds:g} s")
        time.sleep(step)
