"""The `footprint` scenario of http_bench.py: what the mock costs before and as history grows.

Three measurements, each beside its peers where the peer has the figure:

1. Start-up and idle memory — each target (the mock as `serve` runs it, the bare Starlette
   app, Prism when installed) is started once to warm caches, then ``--start-repeats``
   times, pinned to the server core; the figure is the median time from spawn to the first 200 on /api/v1/health
   (polled every 5 ms) and the process's RSS 1 s later (/proc/PID/status VmRSS).
2. History — ``--history-runs`` Speech runs (a real 3-minute FLAC) are submitted in
   process through the real app on a manual clock that moves one virtual hour every 50
   submits (runs finish and settle), written through to a `--state` SQLite file; the fill
   process's RSS is read every 10,000 runs (process total). Then `serve --state FILE
   --clock manual` is started and GET /api/v1/credits and GET /api/v1/speech/runs?limit=20
   are loaded (wrk) for a tenant with the whole history and for an empty tenant in the same
   process: the ratio is how much the history costs an endpoint.
3. Stored-run footprint per module (store_footprint.py, in process, tracemalloc).

Bounded: fixed counts, every server stopped by PID, loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cpus import CpuPlan, pin_to
from loadgen import run_load
from servers import (BENCH_DIR, REPO_ROOT, ServerStartError, bare_spec, capture_responses, ensure_prism,
                     free_port, mock_spec, prism_spec, start_server)

HISTORY_KEY = "zh_api_test_bench_history_0001"
EMPTY_KEY = "zh_api_test_bench_history_empty_0001"
HEALTH = "/api/v1/health"
ADVANCE_EVERY = 50
HOUR = 3600.0
# Starts are measured as an installed server starts: with bytecode caches (pip writes them at
# install; a shell with PYTHONDONTWRITEBYTECODE=1 would make every start recompile sources).
START_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _first_200(port: int, deadline: float) -> bool:
    import http.client
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            conn.request("GET", HEALTH)
            if conn.getresponse().status == 200:
                return True
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.005)
    return False


def start_once(argv: list[str], port: int, cpu: int | None, log: Path) -> tuple[float, float | None]:
    """(seconds from spawn to the first 200 on /health, RSS MiB one second later)."""
    with open(log, "ab") as out:
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=pin_to(cpu), env=START_ENV)
        try:
            if not _first_200(port, started + 60):
                raise ServerStartError(f"{argv[:4]} did not answer {HEALTH} within 60 s (log: {log})")
            elapsed = time.monotonic() - started
            time.sleep(1.0)
            return elapsed, rss_mib(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def measure_start(args: argparse.Namespace, plan: CpuPlan, tmp: Path) -> dict:
    probe = start_server(mock_spec(free_port()), cpu=plan.server_cpu, log_dir=tmp, ready_path=HEALTH)
    try:
        capture_responses(probe.spec.port, [(HEALTH, {})], tmp / "health.json")
    finally:
        probe.stop()
    targets = {"mock": lambda port: mock_spec(port).argv,
               "bare": lambda port: bare_spec(port, tmp / "health.json").argv}
    if not args.no_prism:
        prism_bin, message = ensure_prism(install=not args.no_install_prism)
        print(message, flush=True)
        if prism_bin is not None:
            targets["prism"] = lambda port: prism_spec(port, prism_bin, silent=True).argv
    figures: dict[str, dict] = {}
    samples: dict[str, list[tuple[float, float | None]]] = {name: [] for name in targets}
    for repeat in range(args.start_repeats + 1):  # alternate targets so drift hits all alike
        for name, argv_for in targets.items():
            port = free_port()
            got = start_once(argv_for(port), port, plan.server_cpu, tmp / f"start-{name}.log")
            if repeat:  # the first start of each only warms caches (bytecode, parsed contract)
                samples[name].append(got)
    for name, got in samples.items():
        rss = [r for _s, r in got if r is not None]
        figures[name] = {"start_s": statistics.median(s for s, _r in got),
                         "start_s_all": [round(s, 3) for s, _r in got],
                         "idle_rss_mib": statistics.median(rss) if rss else None}
    print(f"\n{'target':<8}{'start → first 200 (s)':>24}{'idle RSS (MiB)':>16}")
    for name, f in figures.items():
        rss = f"{f['idle_rss_mib']:.0f}" if f["idle_rss_mib"] is not None else "?"
        print(f"{name:<8}{f['start_s']:>24.3f}{rss:>16}")
    if "bare" in figures:
        ratio = figures["mock"]["start_s"] / figures["bare"]["start_s"]
        print(f"mock start / bare start: {ratio:.2f}x   (target <= 2x: {'MET' if ratio <= 2 else 'NOT MET'})")
        figures["start_ratio_vs_bare"] = ratio
    idle = figures["mock"]["idle_rss_mib"]
    if idle is not None:
        print(f"mock idle RSS: {idle:.0f} MiB   (target <= 60 MiB: {'MET' if idle <= 60 else 'NOT MET'})")
    return figures


def tenants_file(tmp: Path) -> Path:
    path = tmp / "history-tenants.yaml"
    clients = [{"id": cid, "name": cid, "permissions": ["speech", "cvdeepmatch"], "credits": 1_000_000_000,
                "rateLimitPerMinute": 1_000_000, "keys": [{"key": key, "label": "bench"}]}
               for cid, key in (("bench-history", HISTORY_KEY), ("bench-empty", EMPTY_KEY))]
    path.write_text(json.dumps({"version": 1, "description": "history bench tenants", "clients": clients}))
    return path


def fill_history(runs: int, state: Path, tenants: Path) -> dict:
    """Submit ``runs`` Speech runs in process (real app, manual clock, written to ``state``)."""
    sys.path.insert(0, str(REPO_ROOT))
    from starlette.testclient import TestClient

    from mockserver.app import create_app
    from mockserver.config import Settings
    from tests.support.audio_fixtures import audio_file

    audio = audio_file("flac", 180)
    app = create_app(Settings(clock="manual", state=str(state), scenarios=[str(tenants)]))
    rss_at: dict[int, float] = {}
    started = time.monotonic()
    with TestClient(app, client=("127.0.0.1", 50000)) as api:
        headers = {"X-API-Key": HISTORY_KEY}
        rss_at[0] = rss_mib(os.getpid())
        for i in range(1, runs + 1):
            response = api.post("/api/v1/speech/analyze", headers=headers, files={"audio": ("a.flac", audio)})
            if response.status_code != 202:
                raise ServerStartError(f"history fill: submit {i} answered {response.status_code}: {response.text[:300]}")
            if i % ADVANCE_EVERY == 0:
                api.post("/__mock/clock/advance", json={"seconds": HOUR})
            if i % 10_000 == 0:
                rss_at[i] = rss_mib(os.getpid())
                print(f"  history: {i} runs stored, fill process RSS {rss_at[i]:.0f} MiB, "
                      f"{time.monotonic() - started:.0f} s", flush=True)
        api.post("/__mock/clock/advance", json={"seconds": 24 * HOUR})
        api.get("/api/v1/credits", headers=headers)  # settle every run
    persistence = getattr(app.state.platform.store, "_persistence", None)
    if persistence is not None:
        persistence.close()  # after the lifespan wrote the clock: the server reads this file next
    steps = sorted(rss_at)
    growth = [(rss_at[b] - rss_at[a]) * 10_000 / (b - a) for a, b in zip(steps, steps[1:]) if b > a]
    return {"runs": runs, "fill_seconds": time.monotonic() - started,
            "rss_mib_at": rss_at, "rss_growth_mib_per_10k": max(growth) if growth else None}


def measure_history(args: argparse.Namespace, plan: CpuPlan, tmp: Path) -> dict:
    state, tenants = tmp / "history.sqlite", tenants_file(tmp)
    print(f"\nfilling a history of {args.history_runs} Speech runs in process ...", flush=True)
    fill = fill_history(args.history_runs, state, tenants)
    if fill["rss_growth_mib_per_10k"] is not None:
        print(f"  RSS growth per 10,000 stored Speech runs (fill process, worst 10k step): "
              f"{fill['rss_growth_mib_per_10k']:.1f} MiB", flush=True)
    port = free_port()
    spec = mock_spec(port, extra_args=["--state", str(state), "--clock", "manual", "--scenarios", str(tenants)])
    started = time.monotonic()
    server = start_server(spec, cpu=plan.server_cpu, log_dir=tmp, ready_path=HEALTH)
    reload_s = time.monotonic() - started
    figures: dict[str, dict] = {}
    try:
        for name, path in (("credits", "/api/v1/credits"), ("runs", "/api/v1/speech/runs?limit=20")):
            for tenant, key in (("empty", EMPTY_KEY), ("history", HISTORY_KEY)):
                result = run_load(server.base_url + path, {"X-API-Key": key}, connections=args.history_connections,
                                  duration=args.history_duration, cpu=plan.load_cpu, tool=args.loadgen)
                figures.setdefault(name, {})[tenant] = {"rps": result.rps, "p50_ms": result.p50_ms,
                                                        "p99_ms": result.p99_ms, "non_2xx": result.non_2xx}
        rss = rss_mib(server.proc.pid)
    finally:
        server.stop()
    print(f"\nserve --state with {args.history_runs} runs: ready in {reload_s:.1f} s, RSS {rss:.0f} MiB")
    print(f"{'endpoint':<9}{'tenant':<9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for name, per_tenant in figures.items():
        for tenant, f in per_tenant.items():
            print(f"{name:<9}{tenant:<9}{f['rps']:>9.0f}{f['p50_ms']:>9.2f}{f['p99_ms']:>9.2f}"
                  + (f"  non-2xx {f['non_2xx']}" if f["non_2xx"] else ""))
        ratio = per_tenant["history"]["p50_ms"] / per_tenant["empty"]["p50_ms"] if per_tenant["empty"]["p50_ms"] else 0
        per_tenant["p50_ratio"] = ratio
        print(f"  {name}: p50 with {args.history_runs} runs / empty tenant = {ratio:.2f}x "
              f"(target <= 1.5x: {'MET' if ratio <= 1.5 else 'NOT MET'})")
    return {"fill": fill, "reload_s": reload_s, "rss_mib_with_history": rss, "latency": figures}


def measure_store_footprint(args: argparse.Namespace) -> list[dict]:
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False)
    out.close()
    try:
        subprocess.run([sys.executable, str(BENCH_DIR / "store_footprint.py"), "--runs", str(args.footprint_runs),
                        "--json", out.name], cwd=REPO_ROOT, check=True, timeout=1800)
        return json.loads(Path(out.name).read_text())
    finally:
        os.unlink(out.name)


def run_footprint_scenario(args: argparse.Namespace, plan: CpuPlan) -> dict:
    with tempfile.TemporaryDirectory(prefix="zenhire-footprint-") as tmp:
        tmp_path = Path(tmp)
        print("start-up and idle memory", flush=True)
        start = measure_start(args, plan, tmp_path)
        history = measure_history(args, plan, tmp_path)
    print("\nstored-run footprint per module (in process)", flush=True)
    footprint = measure_store_footprint(args)
    for item in footprint:
        verdict = "MET" if item["mib_per_10k_runs"] <= 25 else "NOT MET"
        print(f"  {item['module']}: {item['mib_per_10k_runs']} MiB per 10,000 runs (target <= 25: {verdict})")
    return {"scenario": "footprint", "start": start, "history": history, "store_footprint": footprint}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("footprint scenario")
    group.add_argument("--start-repeats", type=int, default=3, help="starts per target (default 3)")
    group.add_argument("--history-runs", type=int, default=100_000, help="stored runs (default 100000)")
    group.add_argument("--history-duration", type=float, default=3.0, help="seconds of load per figure")
    group.add_argument("--history-connections", type=int, default=4, help="connections for history figures")
    group.add_argument("--footprint-runs", type=int, default=2000, help="runs per module for store_footprint.py")
