"""The contract suite against the mock as a stand-in for other implementations: the mock is
started here as its own process (`zenhire-mock serve`, the way an integrator starts it) on a
free 127.0.0.1 port, in each clock mode, and `zenhire-mock verify` must report 0 failed and
0 errors against every one:

- `--no-control --clock real`, `--profile safe`: the closest thing here to the real platform
  (real time, no control API, nothing spent);
- the default real clock, full profile;
- a scaled clock, ×60 and ×600, full profile.

The manual clock is verified by `tests/test_contract_suite.py` (full run, in-process server).
The runs here use the quick Hypothesis profile (`contract-quick`: 4 generated examples per
operation) to keep CI bounded; the stateless conformance layer's breadth is covered on the
manual clock with `contract-ci`. Marked `verify_modes` (deselect with `-m "not verify_modes"`
for quick local runs); they run in the default invocation. Together they take about 3–4
minutes on a 2-core machine (each run is a subprocess against a subprocess server).
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.defects.serving import ROOT, run_suite

pytestmark = pytest.mark.verify_modes

STARTUP_SECONDS = 30
QUICK = ("--hypothesis-profile", "contract-quick")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served(*serve_args: str) -> Iterator[str]:
    """`zenhire-mock serve` as a subprocess on 127.0.0.1:<free port>; yields the base URL once
    the health endpoint answers, and stops exactly that process afterwards."""
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: a chatty server never blocks on it
    proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--strict", "--log-level", "critical", *serve_args],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"the mock exited at start-up: {log.read()[-2000:]}")
            try:
                httpx.get(base_url + "/api/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the mock did not answer within {STARTUP_SECONDS} s") from None
                time.sleep(0.1)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def assert_clean(run, tmp_path: Path) -> dict:
    """0 failed, 0 errors, and a catalog report with no failed ID; returns the report rows."""
    assert run.returncode == 0, run.failures()
    assert run.report is not None, run.output[-3000:]
    rows = {row["id"]: row for row in json.loads(run.report.read_text())["ids"]}
    failed = sorted(i for i, row in rows.items() if row["status"] == "failed")
    assert not failed, failed
    return rows


def test_the_safe_profile_passes_against_a_real_clock_mock_without_a_control_api(tmp_path):
    """Real time, no control API, `--profile safe`, whole suite: what an integrator runs against
    the real platform. Tests needing time beyond `--wait-budget` (runs take minutes) or special
    keys skip with their reason; nothing may fail for lack of either."""
    with served("--clock", "real", "--no-control") as base_url:
        run = run_suite(base_url, tmp_path, "--profile", "safe", "--wait-budget", "20", *QUICK, name="safe-nc")
    rows = assert_clean(run, tmp_path)
    assert "no control API; profile safe" in run.stdout
    assert {"AUTH-1", "AUTH-2", "ERR-1", "HLTH-1"} <= {i for i, r in rows.items() if r["status"] == "passed"}


@pytest.mark.parametrize("serve_args, selection", [
    pytest.param(("--clock", "real"), (), id="real-clock"),
    pytest.param(("--clock", "scaled", "--time-scale", "60"), (), id="scaled-x60"),
    pytest.param(("--clock", "scaled", "--time-scale", "600"), ("-k", "not test_conformance"), id="scaled-x600"),
])
def test_the_full_suite_passes_against_a_running_clock(tmp_path, serve_args, selection):
    """The full profile against a clock that runs on its own (real, or scaled ×60 / ×600), with
    local webhook receivers admitted: every timing assertion must hold against what the target
    reports, never against a fixed number of polls or a millisecond tolerance. Conformance runs
    the quick Hypothesis profile (4 examples). At ×600 the stateless conformance layer (no
    timing in it, ~50 s, already run at ×60 and on the real clock) is left out; the stateful
    layer and every behaviour test run."""
    with served(*serve_args, "--allow-local-webhooks") as base_url:
        run = run_suite(base_url, tmp_path, *QUICK, *selection, name="-".join(serve_args))
    rows = assert_clean(run, tmp_path)
    assert "zenhire-mock (control API); profile full" in run.stdout
    passed = {i for i, r in rows.items() if r["status"] == "passed"}
    assert {"POLL-1", "SPCH-4", "CVDM-4", "INTV-5", "HOOK-5", "CLOCK-2"} <= passed, sorted(
        i for i, r in rows.items() if r["status"] != "passed")
