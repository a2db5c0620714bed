"""Load generation: one bounded run of keep-alive GETs against one URL → a `LoadResult`.

`wrk` (Debian package `wrk`) is used when it is on PATH; otherwise a Python asyncio
keep-alive client runs in its own process (pinned like wrk would be). The Python client
tops out around the throughput of the servers it measures, so its figures are marked and
the bench warns that the load generator may be the bottleneck.

Run directly, this file is that Python client: it prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cpus import pin_to

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"
WRK_MARK = "WRK_JSON "
PY_MARK = "PYLOAD_JSON "


@dataclass
class LoadResult:
    tool: str
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    foreign_cpu_share: float | None = None  # set by the bench: other processes' share of a measured core

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return asdict(self) | {"rps": round(self.rps, 1)}


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_load(url: str, headers: dict[str, str], *, connections: int, duration: float,
             cpu: int | None, tool: str = "auto") -> LoadResult:
    """One measured run. ``tool``: "wrk", "python" or "auto" (wrk when installed)."""
    if tool == "wrk" or (tool == "auto" and wrk_available()):
        return _run_wrk(url, headers, connections, duration, cpu)
    return _run_python(url, headers, connections, duration, cpu)


def _run_wrk(url: str, headers: dict[str, str], connections: int, duration: float,
             cpu: int | None) -> LoadResult:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "5s",
            "-s", str(WRK_SCRIPT)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    argv.append(url)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30,
                         preexec_fn=pin_to(cpu), check=False)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith(WRK_MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk produced no report (exit {out.returncode}): {out.stderr.strip()[:500]}")
    data = json.loads(line[len(WRK_MARK):])
    socket_errors = data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"]
    return LoadResult(tool="wrk", requests=data["requests"], seconds=data["duration_us"] / 1e6,
                      p50_ms=data["p50_us"] / 1000, p90_ms=data["p90_us"] / 1000,
                      p99_ms=data["p99_us"] / 1000, non_2xx=data["status_errors"],
                      socket_errors=socket_errors)


def _run_python(url: str, headers: dict[str, str], connections: int, duration: float,
                cpu: int | None) -> LoadResult:
    argv = [sys.executable, str(Path(__file__).resolve()), "--url", url, "--connections", str(connections),
            "--duration", str(duration)]
    for name, value in headers.items():
        argv += ["--header", f"{name}: {value}"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30,
                         preexec_fn=pin_to(cpu), check=False)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith(PY_MARK)), None)
    if line is None:
        raise RuntimeError(f"python load generator failed (exit {out.returncode}): {out.stderr.strip()[:500]}")
    return LoadResult(**json.loads(line[len(PY_MARK):]))


# -- the Python fallback client -------------------------------------------------------------

class _Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.non_2xx = 0
        self.socket_errors = 0


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return None


async def _one_connection(host: str, port: int, request: bytes, deadline: float, tally: _Tally) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        tally.socket_errors += 1
        return
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = _content_length(head)
            if length is None:  # chunked or close-delimited: not something these endpoints send
                tally.socket_errors += 1
                return
            if length:
                await reader.readexactly(length)
            tally.latencies.append(time.perf_counter() - started)
            if not head[9:10] == b"2":
                tally.non_2xx += 1
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        tally.socket_errors += 1
    finally:
        writer.close()


async def _drive(url: str, headers: dict[str, str], connections: int, duration: float) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
             f"Host: {parts.netloc}"] + [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    tally = _Tally()
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(_one_connection(host, port, request, deadline, tally) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    ordered = sorted(tally.latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000 if ordered else 0.0

    return LoadResult(tool="python", requests=len(ordered), seconds=elapsed, p50_ms=pct(50), p90_ms=pct(90),
                      p99_ms=pct(99), non_2xx=tally.non_2xx, socket_errors=tally.socket_errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="keep-alive GET load generator (wrk fallback)")
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args(argv)
    headers = dict(h.split(": ", 1) for h in args.header)
    try:
        from uvloop import run as run_loop
    except ImportError:
        run_loop = asyncio.run
    result = run_loop(_drive(args.url, headers, args.connections, args.duration))
    print(PY_MARK + json.dumps(asdict(result)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
