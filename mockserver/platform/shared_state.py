"""What several processes sharing one store (issue #15) agree on besides the documents
themselves: the virtual clock, and the platform's configuration changed at runtime through
the control API (clients, keys, webhook secrets, health overrides, scenario reloads).

Two documents of kind ``_shared``:

- ``platform`` — small, consulted before every request by `Platform.sync`:
  ``{"clock": {mode, scale, wallAnchor, virtualAnchor, version}, "generation": n}``.
  Clock moves replace its ``clock`` part with one compare-and-set (`store.update`), so a
  move on replica A is seen by the next request on replica B. A store that can tell every
  process of a change before the writer goes on (`RedisStore.watched`: writes to ``_shared``
  documents are broadcast and acknowledged) lets each process keep the document and read it
  again only after a change: no store round trip per request for it.
- ``config`` — the registry (every client and key), the health overrides and the count of
  scenario reloads, written with generation ``n`` on each control change; a process re-reads
  it only when ``platform.generation`` differs from the one it applied.

A control change runs inside `changing()`: under the store lock ``shared-config`` it first
brings this process up to date, lets the caller change its in-process views, then writes
``config`` and bumps the generation — concurrent changes on two replicas never lose each
other. With a store of its own (memory, ``--state``) nothing here runs: `SharedState` is not
made and the clock persists through `Platform.save_clock` as before.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from .context import Platform

log = logging.getLogger("zenhire_mock")

KIND = "_shared"
PLATFORM_KEY = "platform"
CONFIG_KEY = "config"
CHANGE_LOCK = "shared-config"


class SharedState:
    """The link between one process's views (clock, registry, overrides, scenarios) and the
    shared documents. ``reload_scenarios`` re-reads this process's scenario files (set by
    the composition root once its reload hook exists)."""

    def __init__(self, platform: "Platform") -> None:
        self.platform = platform
        self.store = platform.store
        self.generation = 0  # the config generation this process has applied
        self.reloads = 0  # scenario reloads applied (the count in the config document)
        self.reload_scenarios: Callable[[], None] | None = None
        watched = getattr(self.store, "watched", None)
        if watched is not None:  # kept here, read again when another process changes it
            self._read_platform = watched(KIND, PLATFORM_KEY).get
        else:
            self._read_platform = lambda: self.store.get(KIND, PLATFORM_KEY)

    # -- start ------------------------------------------------------------------------------
    def join(self) -> None:
        """Adopt the shared clock and configuration, or publish ours when this process is the
        first; log when this process's clock settings differ from those adopted."""
        clock = self.platform.clock
        mine = clock.state()
        doc = self.store.update(KIND, PLATFORM_KEY, lambda cur: cur or {"clock": mine, "generation": 0})
        shared = doc["clock"]
        if (shared["mode"], shared["scale"]) != (mine["mode"], mine["scale"]):
            log.warning("shared store: adopting the clock of the processes already running "
                        "(mode %s, scale %s) instead of this process's settings (mode %s, scale %s)",
                        shared["mode"], shared["scale"], mine["mode"], mine["scale"])
        clock.adopt(shared, force=True)
        clock.publish = self._publish_clock
        if doc["generation"]:
            self._apply_config(doc["generation"])
        else:
            self.reloads = 0

    # -- each request -----------------------------------------------------------------------
    def refresh(self) -> None:
        """The clock, and the configuration when its generation moved: one store read, or
        none while the platform document is known unchanged."""
        doc = self._read_platform()
        if doc is None:  # a reset purged it: put this process's (up-to-date) view back
            self.republish()
            return
        self.platform.clock.adopt(doc["clock"])
        if doc["generation"] != self.generation:
            self._apply_config(doc["generation"])

    # -- the clock ----------------------------------------------------------------------------
    def _publish_clock(self, move: Callable[[dict], dict]) -> dict:
        """Apply ``move`` to the shared clock state atomically; returns the new state."""
        fallback = self.platform.clock.state()

        def apply(cur: dict | None) -> dict:
            cur = cur or {"clock": fallback, "generation": self.generation}
            return {"clock": move(dict(cur["clock"])), "generation": cur["generation"]}

        return self.store.update(KIND, PLATFORM_KEY, apply)["clock"]

    # -- the configuration ----------------------------------------------------------------------
    @contextlib.contextmanager
    def changing(self, *, reload: bool = False) -> Iterator[None]:
        """A control change: exclusive across processes, applied on the latest configuration,
        published when the block ends without an error. ``reload`` counts a scenario reload
        (other processes then re-read their scenario files)."""
        with self.store.lock(CHANGE_LOCK):
            self.refresh()
            yield
            if reload:
                self.reloads += 1
            self._publish_config()

    def _config(self) -> dict:
        platform = self.platform
        registry = platform.registry
        return {"registry": registry.export(), "healthOverrides": dict(platform.health_overrides),
                "reloads": self.reloads}

    def _publish_config(self) -> None:
        generation = max(self.store.incr("shared-config-generation"), self.generation + 1)
        self.store.put(KIND, CONFIG_KEY, dict(self._config(), generation=generation))

        def bump(cur: dict | None) -> dict:
            cur = cur or {"clock": self.platform.clock.state(), "generation": 0}
            return {"clock": cur["clock"], "generation": generation}

        self.store.update(KIND, PLATFORM_KEY, bump)
        self.generation = generation

    def _apply_config(self, generation: int) -> None:
        config = self.store.get(KIND, CONFIG_KEY)
        if config is None:
            self.generation = generation
            return
        platform = self.platform
        if config["reloads"] != self.reloads and self.reload_scenarios is not None:
            self.reload_scenarios()  # our own scenario files, re-read as the other process did
        self.reloads = config["reloads"]
        platform.registry.restore(config["registry"])
        platform.health_overrides = dict(config["healthOverrides"])
        self.generation = config["generation"]

    def republish(self) -> None:
        """Put this process's clock and configuration back after a reset purged the store."""
        state = self.platform.clock.state()
        self.store.update(KIND, PLATFORM_KEY, lambda cur: cur or {"clock": state, "generation": 0})
        with self.store.lock(CHANGE_LOCK):
            if self.store.get(KIND, CONFIG_KEY) is None:
                self._publish_config()

