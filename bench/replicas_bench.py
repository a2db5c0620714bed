"""Multi-process bench (issue #15): what a shared Redis store costs, in one run.

Targets, all started by this script on 127.0.0.1 and stopped by PID (as is the
redis-server it starts on a free loopback port, persistence off, and stops at the end):

  mock-memory   `zenhire-mock serve` (one worker, in-memory store), pinned to the server core
  mock-redis    `serve --store redis://…/1` (one worker), pinned to the same core
  mock-redis-2w `serve --store redis://…/2 --workers 2`, not pinned (two workers on the
                machine's cores, sharing them with the load generator and Redis)
  bare          a bare Starlette app answering the mock's captured bytes, pinned like the mocks
  mock-redis-base  with `--baseline DIR`: `serve --store redis://…/3` (one worker) run from another
                source tree (e.g. `git worktree add /tmp/base <commit>`), pinned like mock-redis:
                a change's before and after measured in the same rounds

Endpoints: `GET /api/v1/health`, `GET /api/v1/credits` (authenticated) and the poll of a
finished Speech run (terminal runs are re-fetched freely, so load never meets the throttle).
Each round runs every target once per endpoint (drift hits every target alike); figures
are the median over rounds. Redis runs on the server core by default (`--redis-cpu server`):
the single-worker figures are then "what one core serves, its Redis included", and

  µs Redis adds per request = 1e6/rps(mock-redis) − 1e6/rps(mock-memory)

is the core time the Redis round trips cost (client encoding, the server's work, the
context switches). With `--redis-cpu load` Redis shares the load generator's core instead:
a saturated wrk then starves it, and every blocking round trip waits for a time slice (the
figures show what a starved Redis does to the mock, not what Redis costs). The goal of the
issue is printed against the figures: the Redis path keeps ≥ 60 % of the in-memory
single-worker throughput per worker (mock-redis / mock-memory), and the two-worker total
is shown beside it.

Usage (from the repository root):
  python bench/replicas_bench.py                    # 3 s x 2 rounds per target and endpoint
  python bench/replicas_bench.py --duration 5 --rounds 3 --json bench/results/replicas.json

Not a test: nothing asserts on these figures and CI does not run it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cpus import CpuPlan, plan_cpus, pin_to
from endpoints import ENDPOINTS, Endpoint, poll_endpoints
from loadgen import LoadResult, run_load, wrk_available
from servers import (RunningServer, ServerStartError, bare_spec, capture_responses, free_port, mock_spec,
                     start_server)

TARGETS = ["mock-memory", "mock-redis", "mock-redis-2w", "bare"]
BASELINE = "mock-redis-base"
GOAL_SHARE_PER_WORKER = 0.60
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_START_S = 10.0


class BenchRedis:
    """A redis-server of the bench's own: a free loopback port, no persistence, pinned to
    ``cpu``; stopped by its PID."""

    def __init__(self, cpu: int | None, workdir: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--databases", "4", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pin_to(cpu))
        deadline = time.monotonic() + REDIS_START_S
        while not self._ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on 127.0.0.1:{self.port}")
            time.sleep(0.02)

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_targets(args: argparse.Namespace, plan: CpuPlan, redis: BenchRedis, log_dir: Path,
                  stack: list[RunningServer]) -> tuple[dict[str, RunningServer], list[Endpoint]]:
    """Every target, answering; the poll endpoint of a finished run on each mock (the same
    path everywhere is not possible: each store has its own runs, so each target gets its own)."""
    quiet = ["--log-level", "warning"]
    specs = {
        "mock-memory": (mock_spec(free_port(), extra_args=quiet), plan.server_cpu),
        "mock-redis": (mock_spec(free_port(), extra_args=quiet + ["--store", redis.url(1)]), plan.server_cpu),
        "mock-redis-2w": (mock_spec(free_port(), extra_args=quiet + ["--store", redis.url(2), "--workers", "2"]),
                          None),
    }
    if args.baseline:
        base = mock_spec(free_port(), extra_args=quiet + ["--store", redis.url(3)])
        block = "sys.modules['hiredis'] = None; " if args.baseline_without_hiredis else ""
        boot = (f"import sys, runpy; {block}sys.path.insert(0, {str(Path(args.baseline).resolve())!r}); "
                "sys.argv[0] = 'zenhire-mock'; runpy.run_module('mockserver.cli', run_name='__main__')")
        base.argv = [base.argv[0], "-c", boot] + base.argv[3:]  # `python -m mockserver.cli` from that tree
        specs[BASELINE] = (base, plan.server_cpu)
    servers: dict[str, RunningServer] = {}
    for name in [t for t in args.targets if t != "bare"]:
        spec, cpu = specs[name]
        spec.name = name
        servers[name] = start_server(spec, cpu=cpu, log_dir=log_dir, ready_path="/__mock/live")
        stack.append(servers[name])
    polls = {name: poll_endpoints(server.spec.port)[0] for name, server in servers.items()}
    if "bare" in args.targets:
        any_mock = servers.get("mock-memory") or next(iter(servers.values()))
        poll = polls.get("mock-memory") or next(iter(polls.values()))
        captured = log_dir / "captured.json"
        capture_responses(any_mock.spec.port, [(e.path, e.headers) for e in ENDPOINTS + [poll]], captured)
        servers["bare"] = start_server(bare_spec(free_port(), captured), cpu=plan.server_cpu, log_dir=log_dir,
                                       ready_path=ENDPOINTS[0].path)
        stack.append(servers["bare"])
        polls["bare"] = poll
    return servers, [polls[name] for name in servers]


def measure(servers: dict[str, RunningServer], polls: list[Endpoint], args: argparse.Namespace,
            plan: CpuPlan) -> dict[str, dict[str, list[LoadResult]]]:
    poll_of = dict(zip(servers, polls))
    endpoints = ["health", "credits", "speech-poll"]
    results: dict[str, dict[str, list[LoadResult]]] = {e: {t: [] for t in servers} for e in endpoints}
    for name, server in servers.items():  # warm-up, unrecorded
        for endpoint in ENDPOINTS + [poll_of[name]]:
            run_load(server.base_url + endpoint.path, endpoint.headers, connections=args.connections,
                     duration=args.warmup, cpu=plan.load_cpu, tool=args.loadgen)
    for rnd in range(args.rounds):
        for name, server in servers.items():
            for endpoint in ENDPOINTS + [poll_of[name]]:
                r = run_load(server.base_url + endpoint.path, endpoint.headers, connections=args.connections,
                             duration=args.duration, cpu=plan.load_cpu, tool=args.loadgen)
                results[endpoint.name][name].append(r)
                print(f"  round {rnd + 1} {name:<14} {endpoint.name:<12} {r.rps:>9.0f} req/s  "
                      f"p50 {r.p50_ms:6.2f} ms  non-2xx {r.non_2xx}", flush=True)
    return results


def summarise(results: dict[str, dict[str, list[LoadResult]]]) -> dict:
    table: dict = {}
    for endpoint, by_target in results.items():
        row = {}
        for target, runs in by_target.items():
            if runs:
                row[target] = {"rps": statistics.median(r.rps for r in runs),
                               "p50_ms": statistics.median(r.p50_ms for r in runs),
                               "non_2xx": sum(r.non_2xx for r in runs)}
        mem, red, two = row.get("mock-memory"), row.get("mock-redis"), row.get("mock-redis-2w")
        base = row.get(BASELINE)
        if mem and base and mem["rps"] and base["rps"]:
            row["baseline_adds_us"] = 1e6 / base["rps"] - 1e6 / mem["rps"]
            row["baseline_share_per_worker"] = base["rps"] / mem["rps"]
        if mem and red and mem["rps"] and red["rps"]:
            row["redis_adds_us"] = 1e6 / red["rps"] - 1e6 / mem["rps"]
            row["redis_share_per_worker"] = red["rps"] / mem["rps"]
        if mem and two and mem["rps"]:
            row["two_workers_vs_memory"] = two["rps"] / mem["rps"]
            row["two_workers_per_worker_share"] = two["rps"] / 2 / mem["rps"]
        if row.get("bare") and mem:
            row["memory_share_of_bare"] = mem["rps"] / row["bare"]["rps"]
        table[endpoint] = row
    return table


def report(table: dict, plan: CpuPlan, args: argparse.Namespace, tool: str) -> None:
    print(f"\n== zenhire-mock on Redis: {args.rounds} round(s) x {args.duration:g} s, {args.connections} connections, "
          f"{tool}; {plan.describe()}; redis-server pinned: {args.redis_cpu}")
    header = f"{'endpoint':<12}" + "".join(f"{t:>15}" for t in TARGETS) + f"{'Redis adds':>12}{'redis/mem':>11}{'2w/mem':>9}"
    print(header)
    for endpoint, row in table.items():
        cells = "".join(f"{row[t]['rps']:>11.0f} r/s" if t in row else f"{'-':>15}" for t in TARGETS)
        adds = f"{row['redis_adds_us']:>9.0f} µs" if "redis_adds_us" in row else f"{'-':>12}"
        share = f"{row['redis_share_per_worker']:>10.0%}" if "redis_share_per_worker" in row else f"{'-':>11}"
        two = f"{row['two_workers_vs_memory']:>8.2f}x" if "two_workers_vs_memory" in row else f"{'-':>9}"
        print(f"{endpoint:<12}{cells}{adds} {share}{two}")
    print(f"\ngoal: the Redis path keeps >= {GOAL_SHARE_PER_WORKER:.0%} of the in-memory single-worker throughput "
          "per worker (mock-redis / mock-memory, both on one pinned core)")
    for endpoint, row in table.items():
        if "redis_share_per_worker" in row:
            share = row["redis_share_per_worker"]
            verdict = "met" if share >= GOAL_SHARE_PER_WORKER else "NOT met"
            extra = (f"; --workers 2 on Redis: {row['two_workers_per_worker_share']:.0%} per worker "
                     f"(shares 2 cores with wrk and Redis)") if "two_workers_per_worker_share" in row else ""
            print(f"  {endpoint:<12} {share:6.0%}  {verdict}{extra}")
            if "baseline_share_per_worker" in row:
                print(f"  {'':<12} baseline tree: {row['baseline_share_per_worker']:6.0%} "
                      f"({row[BASELINE]['rps']:.0f} r/s, Redis adds {row['baseline_adds_us']:.0f} µs)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measured run (default 3)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of unrecorded load per target first")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections (default 32)")
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated subset of {','.join(TARGETS)}")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--redis-cpu", choices=["server", "load", "any"], default="server",
                        help="the core redis-server is pinned to (default: the server core)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--baseline", metavar="DIR",
                        help=f"also run `{BASELINE}`: one Redis worker from the source tree DIR, same rounds")
    parser.add_argument("--baseline-without-hiredis", action="store_true",
                        help="the baseline's redis client parses replies in Python (as before hiredis was a dependency)")
    args = parser.parse_args(argv)
    args.targets = [t for t in args.targets.split(",") if t]
    unknown = set(args.targets) - set(TARGETS)
    if args.baseline:
        args.targets.insert(args.targets.index("mock-redis") + 1 if "mock-redis" in args.targets else 0, BASELINE)
    if unknown:
        parser.error(f"unknown target(s): {', '.join(sorted(unknown))}")
    plan = plan_cpus()
    tool = "wrk" if args.loadgen == "wrk" or (args.loadgen == "auto" and wrk_available()) else "python client"
    started: list[RunningServer] = []
    with tempfile.TemporaryDirectory(prefix="zh-replicas-bench-") as tmp:
        log_dir = Path(tmp)
        redis = BenchRedis({"server": plan.server_cpu, "load": plan.load_cpu, "any": None}[args.redis_cpu], log_dir)
        try:
            servers, polls = start_targets(args, plan, redis, log_dir, started)
            results = measure(servers, polls, args, plan)
        except ServerStartError as exc:
            print(f"a server did not start: {exc}", file=sys.stderr)
            return 1
        finally:
            for server in reversed(started):
                server.stop()
            redis.stop()
    table = summarise(results)
    report(table, plan, args, tool)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                               "plan": plan.describe(), "tool": tool, "figures": table}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
