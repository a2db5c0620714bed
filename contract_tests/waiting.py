"""Bounded waiting for a state of the target, measured in the target's own time.

``for _ in until(time_machine, within, what): …`` repeats its body until the body returns
or ``within`` seconds of the target's time have passed (read from the target's clock when it
has a control API, else real time); then the test fails saying what was not reached and how
much target time passed. A test waits for a state, never for a number of polls: however
the target's clock runs (real, scaled, manual), the bound means the same thing. A hard
round limit keeps every loop finite even if time stood still.
"""

from __future__ import annotations

from typing import Iterator

import pytest

ROUND_LIMIT = 1000


def until(time_machine, within: float, what: str, limit: int = ROUND_LIMIT) -> Iterator[int]:
    watch = time_machine.stopwatch()
    for number in range(limit):
        overdue = watch.elapsed() > within
        yield number  # the round that starts past the bound is the last: a final look after the wait
        if overdue:
            break
    pytest.fail(f"{what} was not reached within {within:g} s of the target's time "
                f"({watch.elapsed():.0f} s passed, {number + 1} rounds)")
