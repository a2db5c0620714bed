"""`serve --allocator jemalloc` (ZENHIRE_MOCK_ALLOCATOR): the server runs on jemalloc — the same
process, started again with it preloaded — or stops with one line when it cannot; `system`
changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from mockserver import allocator, cli

needs_jemalloc = pytest.mark.skipif(allocator.find_jemalloc() is None or not sys.platform.startswith("linux"),
                                    reason="libjemalloc2 is not installed on this machine")


def _banner(proc: subprocess.Popen, timeout: float = 30.0) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("test keys:"):
            return lines
    raise AssertionError(f"no banner: {lines}")


@needs_jemalloc
def test_serve_with_jemalloc_runs_as_the_same_process_with_jemalloc_loaded():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENHIRE_MOCK_")}
    proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--port", "0", "--allocator", "jemalloc"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        banner = _banner(proc)
        assert any("allocator: jemalloc" in line for line in banner), banner
        with open(f"/proc/{proc.pid}/maps") as maps:  # exec kept the PID
            assert "libjemalloc" in maps.read()
        base = banner[0].split()[2]
        assert httpx.get(f"{base}/api/v1/health", timeout=10).status_code == 200
    finally:
        proc.kill()
        proc.wait(10)


@needs_jemalloc
def test_serve_on_the_system_allocator_does_not_load_jemalloc():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENHIRE_MOCK_")}
    proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        banner = _banner(proc)
        assert not any("allocator" in line for line in banner)
        with open(f"/proc/{proc.pid}/maps") as maps:
            assert "libjemalloc" not in maps.read()
    finally:
        proc.kill()
        proc.wait(10)


def test_jemalloc_asked_for_but_not_installed_stops_with_one_line(monkeypatch, capsys):
    monkeypatch.setattr(allocator, "find_jemalloc", lambda: None)
    monkeypatch.setattr(allocator, "loaded", lambda library=allocator.LIBRARY: False)
    monkeypatch.delenv("ZENHIRE_MOCK_ALLOCATOR_PRELOADED", raising=False)
    code = cli.main(["serve", "--port", "0", "--allocator", "jemalloc"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "libjemalloc is not installed" in err[0] and "libjemalloc2" in err[0]


def test_a_preload_that_did_not_take_stops_instead_of_starting_again(monkeypatch):
    monkeypatch.setattr(allocator, "loaded", lambda library=allocator.LIBRARY: False)
    monkeypatch.setenv("ZENHIRE_MOCK_ALLOCATOR_PRELOADED", "1")
    execs = []
    monkeypatch.setattr(os, "execve", lambda *a: execs.append(a))
    with pytest.raises(allocator.AllocatorError, match="preloaded but is not loaded"):
        allocator.use("jemalloc")
    assert execs == []


def test_the_system_allocator_starts_nothing_again(monkeypatch):
    execs = []
    monkeypatch.setattr(os, "execve", lambda *a: execs.append(a))
    allocator.use("system")
    assert execs == []


def test_an_unknown_allocator_in_the_environment_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setenv("ZENHIRE_MOCK_ALLOCATOR", "tcmalloc")
    assert cli.main(["serve", "--port", "0"]) == 2
    assert "ZENHIRE_MOCK_ALLOCATOR='tcmalloc': must be one of system, jemalloc" in capsys.readouterr().err
