"""Deterministic draws for generated Speech results: the same seed always gives the same values.

`HashStream` is SHA-256 in counter mode, so results stay identical across Python versions and
platforms (unlike `random.Random`, whose derived methods have changed between releases).
Each aspect of a result (scores, speakers, words, …) takes its own stream, so changing how
one is drawn never shifts the others.
"""

from __future__ import annotations

import hashlib


class HashStream:
    """Uniform draws derived from `seed` and `purpose`."""

    def __init__(self, seed: str, purpose: str):
        self._key = hashlib.sha256(f"{seed}|{purpose}".encode()).digest()
        self._counter = 0

    def unit(self) -> float:
        """A draw in [0, 1)."""
        block = hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
        self._counter += 1
        return int.from_bytes(block[:7], "big") / float(1 << 56)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.unit()

    def below(self, count: int) -> int:
        """An integer in [0, count)."""
        return min(count - 1, int(self.unit() * count))


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
