"""Which CPU the servers run on and which one the load generator runs on.

Servers are pinned to one core each (all on the same core, measured one at a time) and the
load generator to another, so a server's figure is "what one core serves" and the load
generator never competes with it. With a single usable CPU nothing is pinned and the
figures say so. `ForeignLoad` tells how much other processes disturbed a run.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class CpuPlan:
    server_cpu: int | None
    load_cpu: int | None

    @property
    def pinned(self) -> bool:
        return self.server_cpu is not None

    def describe(self) -> str:
        if not self.pinned:
            return "not pinned (fewer than 2 usable CPUs or no sched_setaffinity)"
        return f"servers pinned to CPU {self.server_cpu}, load generator to CPU {self.load_cpu}"


def plan_cpus() -> CpuPlan:
    """Server on the first usable CPU, load generator on the second."""
    if not hasattr(os, "sched_getaffinity"):
        return CpuPlan(None, None)
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        return CpuPlan(None, None)
    return CpuPlan(usable[0], usable[1])


def pin_to(cpu: int | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that pins the child process (and its children) to ``cpu``."""
    if cpu is None:
        return None

    def pin() -> None:
        os.sched_setaffinity(0, {cpu})

    return pin


class ForeignLoad:
    """How much of the two measured cores went to processes other than the bench's own.

    Around one run it reads /proc/stat (each core's busy ticks), /proc/<pid>/stat (the
    server's own ticks) and the bench's reaped children's CPU time (the load generator,
    which the caller runs to completion inside the block). What is left on either core is
    other work; a figure taken while that share is large measures the machine, not the
    server. Linux only; elsewhere `share()` is None.
    """

    def __init__(self, plan: CpuPlan, server_pid: int) -> None:
        self.plan, self.server_pid = plan, server_pid
        self._start: dict | None = None
        self._end: dict | None = None

    def __enter__(self) -> "ForeignLoad":
        self._start = self._sample()
        return self

    def __exit__(self, *exc) -> None:
        self._end = self._sample()

    def shares(self) -> dict[str, float] | None:
        """Other processes' share (0..1) of the server core and of the load-generator core."""
        if not self._start or not self._end:
            return None
        out = {}
        for role, own_key in (("server", "server_own"), ("load", "children_own")):
            total = self._end[role][0] - self._start[role][0]
            busy = self._end[role][1] - self._start[role][1]
            own = self._end[own_key] - self._start[own_key]
            if total <= 0:
                return None
            out[role] = min(max((busy - own) / total, 0.0), 1.0)
        return out

    def share(self) -> float | None:
        """The larger of the two shares: how disturbed this run was."""
        shares = self.shares()
        return max(shares.values()) if shares else None

    def _sample(self) -> dict | None:
        if not self.plan.pinned:
            return None
        try:
            with open("/proc/stat") as fh:
                lines = {ln.split()[0]: ln for ln in fh if ln.startswith("cpu")}
            cores = {}
            for role, cpu in (("server", self.plan.server_cpu), ("load", self.plan.load_cpu)):
                ticks = [int(x) for x in lines[f"cpu{cpu}"].split()[1:]]
                total, idle = sum(ticks[:8]), ticks[3] + ticks[4]
                cores[role] = (total, total - idle)
            with open(f"/proc/{self.server_pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            server_own = int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)
        except (OSError, KeyError, ValueError, IndexError):
            return None
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        hz = os.sysconf("SC_CLK_TCK")
        return cores | {"server_own": server_own, "children_own": (children.ru_utime + children.ru_stime) * hz}
