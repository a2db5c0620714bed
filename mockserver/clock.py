"""The one source of "now" for the whole mock (CLOCK-1, CLOCK-2).

Three modes:
- ``real``: virtual time is wall time.
- ``scaled``: virtual time runs ``scale`` times faster than wall time, from the moment the
  clock was made (or from a given start).
- ``manual``: virtual time moves only when ``advance``/``set`` is called (control API).

Simulation code never reads wall time; it asks a ``Clock``. The one exception is a transport
fact: ``wall_now`` gives the real time for what a receiver checks against its own clock (the
``t=`` of a webhook signature, HOOK-8), never for simulated state. Intervals the mock advertises
to clients (``Retry-After``, ``pollIntervalSeconds``, ``retryAfterSeconds``) are converted
with ``advertise`` into the client's real seconds, so an unmodified client that obeys them
works in every mode.

Shared (several processes on one store, issue #15): the clock's whole state — mode, scale,
wall anchor, virtual anchor and a version — is a document in the store. `state` and `adopt`
copy it out and in (the platform's sync adopts it once per request, so `now` stays free of
I/O); when ``publish`` is set, `advance` and `set` go through it: one compare-and-set on the
shared document, computed from the shared state, never from this process's copy.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timezone
from typing import Callable

MODES = ("real", "scaled", "manual")


class Clock:
    """Virtual clock. ``now()`` returns virtual epoch seconds (float)."""

    def __init__(self, mode: str = "real", scale: float = 1.0, start: float | None = None,
                 wall: Callable[[], float] = time.time) -> None:
        if mode not in MODES:
            raise ValueError(f"clock mode must be one of {', '.join(MODES)}, not {mode!r}")
        if mode == "scaled" and not (scale > 0):
            raise ValueError("time scale must be a positive number")
        self.mode = mode
        self.scale = float(scale) if mode == "scaled" else 1.0
        self._wall = wall
        self._lock = threading.Lock()
        self._wall_anchor = wall()
        self._virtual_anchor = float(start) if start is not None else self._wall_anchor
        self.version = 0  # counts moves of a shared clock (0 for a clock of one process)
        # Set when the clock is shared: applies a move (state -> state) atomically, returns the result.
        self.publish: Callable[[Callable[[dict], dict]], dict] | None = None

    # -- sharing -------------------------------------------------------------------------
    def state(self) -> dict:
        """The whole clock as a plain document (the shared clock's stored form)."""
        with self._lock:
            return {"mode": self.mode, "scale": self.scale, "wallAnchor": self._wall_anchor,
                    "virtualAnchor": self._virtual_anchor, "version": self.version}

    def adopt(self, state: dict, *, force: bool = False) -> None:
        """Take ``state`` (from `state`, possibly another process's) unless it is the one
        already held (same version)."""
        if state["version"] == self.version and not force:
            return
        with self._lock:
            self.mode, self.scale = state["mode"], float(state["scale"])
            self._wall_anchor, self._virtual_anchor = state["wallAnchor"], state["virtualAnchor"]
            self.version = state["version"]

    def _at(self, state: dict) -> float:
        if state["mode"] == "manual":
            return state["virtualAnchor"]
        return state["virtualAnchor"] + (self._wall() - state["wallAnchor"]) * state["scale"]

    # -- reading -------------------------------------------------------------------------
    def now(self) -> float:
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> float:
        if self.mode == "manual":
            return self._virtual_anchor
        return self._virtual_anchor + (self._wall() - self._wall_anchor) * self.scale

    def wall_now(self) -> float:
        """Real (wall-clock) epoch seconds, whatever the mode: only for transport facts a
        receiver compares with its own clock (a webhook signature's ``t=``, HOOK-8)."""
        return self._wall()

    def iso(self, ts: float | None = None) -> str:
        """ISO 8601 UTC with milliseconds, e.g. ``2026-04-21T12:34:56.789Z`` (ERR-1)."""
        return iso(self.now() if ts is None else ts)

    # -- moving --------------------------------------------------------------------------
    def advance(self, seconds: float) -> float:
        """Move virtual time forward by ``seconds`` (any mode); returns the new now."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        if self.publish is not None:
            def move(state: dict) -> dict:
                state["virtualAnchor"] += seconds
                state["version"] += 1
                return state
            self.adopt(self.publish(move))
            return self.now()
        with self._lock:
            self._virtual_anchor += seconds
        return self.now()

    def set(self, ts: float) -> float:
        """Jump to virtual epoch ``ts`` (forward only). Shared: a concurrent move by another
        process that already went past ``ts`` wins (the clock never goes back)."""
        current = self.now()
        if ts < current:
            raise ValueError("the clock only moves forward")
        if self.publish is not None:
            def move(state: dict) -> dict:
                gap = ts - self._at(state)
                if gap > 0:
                    state["virtualAnchor"] += gap
                    state["version"] += 1
                return state
            self.adopt(self.publish(move))
            return self.now()
        return self.advance(ts - current)

    def reach(self, ts: float) -> float:
        """Move forward to virtual epoch ``ts`` unless the clock is already there: a running
        clock may pass ``ts`` on its own between a caller's reading and this move (at ×600
        one virtual second is under 2 real ms), which is no error — it never goes back."""
        if self.publish is not None:
            return self.set(max(ts, self.now()))  # set's shared move is already "at least"
        with self._lock:
            gap = ts - self._now_locked()
            if gap > 0:
                self._virtual_anchor += gap
        return self.now()

    # -- converting ----------------------------------------------------------------------
    def real_seconds(self, virtual_seconds: float) -> float:
        """How many of the client's real seconds ``virtual_seconds`` of virtual time takes."""
        return virtual_seconds / self.scale

    def advertise(self, virtual_seconds: float) -> int:
        """An interval to advertise to a client: whole real seconds, at least 1, rounded up."""
        return max(1, math.ceil(self.real_seconds(virtual_seconds) - 1e-9))

    def describe(self) -> dict:
        return {"mode": self.mode, "scale": self.scale, "now": self.iso(), "epoch": self.now()}


_ISO_PREFIXES: dict[int, str] = {}  # second -> "YYYY-MM-DDTHH:MM:SS." (a run's several instants)


_ISO_TEXTS: dict[float, str] = {}  # instant -> its text: a run's instants are shown again and again


def iso(ts: float) -> str:
    """ISO 8601 UTC with milliseconds; the texts of recent instants, and per-second prefixes,
    are kept (hot path: every list row and poll shows two or three)."""
    text = _ISO_TEXTS.get(ts)
    if text is None:
        if len(_ISO_TEXTS) >= 4096:
            _ISO_TEXTS.clear()
        text = _ISO_TEXTS[ts] = _iso_text(ts)
    return text


def _iso_text(ts: float) -> str:
    second = int(ts // 1)
    micros = round((ts - second) * 1_000_000)  # as datetime.fromtimestamp rounds
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    millis = micros // 1000
    prefix = _ISO_PREFIXES.get(second)
    if prefix is None:
        if len(_ISO_PREFIXES) >= 4096:
            _ISO_PREFIXES.clear()
        prefix = _ISO_PREFIXES[second] = datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.")
    return f"{prefix}{millis:03d}Z"


def parse_iso(text: str) -> float:
    """Parse an ISO 8601 date-time (``Z`` or offset; date-only allowed) to epoch seconds."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()
