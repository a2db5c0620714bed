"""The C allocator `serve` runs on (``--allocator``, ``ZENHIRE_MOCK_ALLOCATOR``).

A sandbox that runs for weeks stores runs all the while. Under glibc's malloc the process
grows faster than what it holds: documents written and dropped in between (holds,
settlements, the journal's blocks) leave free space in the heap that is not given back (the
bench measured 34.6 MiB RSS per 10,000 Speech runs stored over HTTP against ≈ 22 MiB of live
data; `malloc_trim` and glibc's tunables did not change it). jemalloc returns it: 19.1 MiB per
10,000 runs, and submits got faster (bench/README.md).

``--allocator jemalloc`` makes `serve` start again, as the same process (``exec``), with
jemalloc preloaded (``LD_PRELOAD``; Debian's package ``libjemalloc2``, which ``redis-server``
also depends on); worker processes inherit it. Without the library it stops with one line
saying what to install. ``system`` (the default) changes nothing. Linux only.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

LIBRARY = "jemalloc"
_MARK = "ZENHIRE_MOCK_ALLOCATOR_PRELOADED"  # set for the restarted process: never a second exec


class AllocatorError(RuntimeError):
    """The allocator asked for cannot be used here (one line, for the CLI)."""


def find_jemalloc() -> str | None:
    """The jemalloc shared library the dynamic linker would load (its soname), or None."""
    return ctypes.util.find_library(LIBRARY)


def loaded(library: str = LIBRARY) -> bool:
    """Whether ``library`` is mapped into this process (Linux: /proc/self/maps)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            return any(f"lib{library}" in line for line in maps)
    except OSError:
        return False


def use(allocator: str) -> None:
    """Run on ``allocator``: returns when this process already does; for jemalloc not yet
    loaded, replaces the process with itself preloading it (does not return), or raises
    `AllocatorError`."""
    if allocator == "system" or loaded():
        return
    if not sys.platform.startswith("linux"):
        raise AllocatorError("--allocator jemalloc is for Linux (it preloads libjemalloc)")
    if os.environ.get(_MARK):
        raise AllocatorError("jemalloc was preloaded but is not loaded (LD_PRELOAD refused it?); "
                             "run with --allocator system")
    library = find_jemalloc()
    if library is None:
        raise AllocatorError("--allocator jemalloc: libjemalloc is not installed "
                             "(Debian/Ubuntu: apt-get install libjemalloc2)")
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join(filter(None, [library, env.get("LD_PRELOAD", "")]))
    env[_MARK] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
