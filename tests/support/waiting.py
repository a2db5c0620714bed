"""Waiting in tests for what only real time brings about (a listener noticing a lost
connection, a silence lasting): a bounded poll, never a fixed sleep."""

from __future__ import annotations

import time
from typing import Callable


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    """Poll ``condition`` every 10 ms for at most ``seconds`` (real time); True once it holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
