"""The `speech` scenario of http_bench.py: concurrent Speech clients on a scaled clock.

Starts the mock as `serve --clock scaled --time-scale S` plus a generated scenario file that
gives every bench client its own tenant (ample credits, so neither credits nor the
per-client concurrency cap couple the clients), pinned to the server core. Then
`speech_load.py` runs on the load core: each client submits a real 3-minute MP3 and polls at
the documented minimum interval (10 virtual seconds, POLL-1) until the run ends. Reports
submissions/s, polls/s, latencies, RSS growth per 10,000 stored runs, and how GET /credits
and the first page of GET /speech/runs slow down as runs accumulate.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from cpus import CpuPlan, pin_to
from servers import (BENCH_DIR, REPO_ROOT, ServerStartError, fetch, free_port, mock_spec,
                     start_server)
from speech_load import MARK, multipart_audio

AUDIO_SECONDS = 180


def client_keys(count: int) -> list[str]:
    return [f"zh_api_test_bench_speech_{i:03d}" for i in range(count)]


def bench_clients_yaml(keys: list[str]) -> str:
    """A scenario file with one tenant per bench client (JSON is valid YAML)."""
    clients = [{"id": f"bench-{i:03d}", "name": f"Speech bench client {i}", "permissions": ["speech"],
                "credits": 1_000_000, "keys": [{"key": key, "label": "speech bench"}]}
               for i, key in enumerate(keys)]
    return json.dumps({"version": 1, "description": "zenhire-mock bench: Speech load tenants",
                       "clients": clients}, indent=1)


def bench_audio() -> bytes:
    """A real 3-minute MP3 from the project's test fixtures (built in memory, ~180 KB)."""
    sys.path.insert(0, str(REPO_ROOT))
    from tests.support.audio_fixtures import audio_file
    return audio_file("mp3", AUDIO_SECONDS)


def check_served(port: int, key: str, audio: bytes) -> None:
    content_type, body = multipart_audio(audio, "bench.mp3")
    status, _, payload = fetch(port, "/api/v1/speech/analyze", {"X-API-Key": key, "Content-Type": content_type},
                               method="POST", body=body)
    if status != 202:
        raise ServerStartError(f"submitSpeechAnalysis answered {status}, not 202 — is Speech served by this "
                               f"build? {payload[:300]!r}")


def run_speech_scenario(args: argparse.Namespace, plan: CpuPlan) -> dict:
    keys = client_keys(args.clients)
    poll_every = args.poll_min_virtual / args.time_scale
    with tempfile.TemporaryDirectory(prefix="zenhire-bench-speech-") as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "bench-clients.yaml").write_text(bench_clients_yaml(keys))
        audio = bench_audio()
        (tmpdir / "bench.mp3").write_bytes(audio)
        extra = ["--clock", "scaled", "--time-scale", f"{args.time_scale:g}",
                 "--scenarios", str(tmpdir / "bench-clients.yaml")] + args.mock_arg
        server = start_server(mock_spec(free_port(), extra_args=extra), cpu=plan.server_cpu, log_dir=tmpdir,
                              ready_path="/api/v1/health")
        try:
            check_served(server.spec.port, keys[0], audio)
            print(f"{args.clients} clients, clock x{args.time_scale:g}, polls every {poll_every * 1000:.1f} ms "
                  f"real ({args.poll_min_virtual:g} virtual s), {args.duration:g} s timed, "
                  f"then filling to {args.memory_runs} stored runs\n", flush=True)
            argv = [sys.executable, str(BENCH_DIR / "speech_load.py"), "--base-url", server.base_url,
                    "--audio", str(tmpdir / "bench.mp3"), "--duration", str(args.duration),
                    "--poll-every", str(poll_every), "--memory-runs", str(args.memory_runs),
                    "--server-pid", str(server.proc.pid)] + [a for key in keys for a in ("--key", key)]
            out = subprocess.run(argv, capture_output=True, text=True, timeout=args.duration + 900,
                                 preexec_fn=pin_to(plan.load_cpu), check=False)
        finally:
            server.stop()
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith(MARK)), None)
        if line is None:
            raise ServerStartError(f"speech load client failed (exit {out.returncode}): {out.stderr[-1500:]}\n"
                                   f"server log: {server.log_tail(1500)}")
    figures = json.loads(line[len(MARK):])
    print_speech_report(figures)
    return {"scenario": "speech", "time_scale": args.time_scale, "figures": figures}


def print_speech_report(f: dict) -> None:
    mib = 1024 * 1024
    print(f"submissions/s   {f['submissions_per_s']:8.1f}   ({f['submissions']} in {f['seconds']:.1f} s; "
          f"p50 {f['submit_p50_ms']:.2f} ms, p99 {f['submit_p99_ms']:.2f} ms)")
    print(f"polls/s         {f['polls_per_s']:8.1f}   ({f['polls']} polls, {f['throttled_polls']} throttled 429; "
          f"p50 {f['poll_p50_ms']:.2f} ms, p99 {f['poll_p99_ms']:.2f} ms)")
    print(f"completed runs  {sum(f['completed'].values()):8d}   {f['completed']}")
    print(f"submit-only     {f['fill_submissions_per_s']:8.1f}/s ({f['fill_runs']} runs to reach "
          f"{f['stored_runs_at_end']} stored)")
    if f["rss_growth_per_10k_runs"] is not None:
        print(f"memory          {f['rss_growth_per_10k_runs'] / mib:8.1f} MiB RSS growth per 10,000 stored runs "
              f"({f['rss_before_fill'] / mib:.0f} → {f['rss_after_fill'] / mib:.0f} MiB)")
    before, after = f["probes_after_warmup"], f["probes_at_end"]
    for name, label in (("credits_ms", "GET /credits"), ("list_runs_ms", "GET /speech/runs?limit=20")):
        print(f"{label:<27} {before[name]:8.2f} ms with {before['stored_runs']} runs stored, "
              f"{after[name]:8.2f} ms with {after['stored_runs']}")
    if f["unexpected"]:
        print(f"unexpected answers: {f['unexpected']}")
