"""Serve an ASGI app (the mock, or a deviant wrapper of it) with uvicorn on 127.0.0.1 in a
background thread, on a free port, for as long as a ``with`` block lasts; and run the
contract suite against a base URL in a subprocess (the suite never shares a process with
the server it judges)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
PRIMARY_KEY = "zh_api_test_full_access_0001"
SECOND_KEY = "zh_api_test_second_tenant_0001"
PYCACHE = Path(tempfile.gettempdir()) / "zenhire-contract-suite-pycache"


def mock_app(**settings):
    """The real mock: manual clock, strict response validation (its own contract bugs fail loudly)."""
    from mockserver.app import create_app
    from mockserver.config import Settings
    settings.setdefault("clock", "manual")
    settings.setdefault("strict", True)
    settings.setdefault("log_level", "critical")
    return create_app(Settings(**settings))


def simulated_operations(app) -> list[str]:
    """Contract operations the running mock build actually serves (a handler is registered).
    The suite is restricted to these, so it keeps passing while modules are still landing
    and covers each new operation as soon as its handler exists."""
    platform = app.state.platform
    return sorted(op for op in platform.contract.operations if op in platform.handlers)


def suite_options(app) -> list[str]:
    """The options every run of the suite against the mock shares."""
    return ["--operations", ",".join(simulated_operations(app))]


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """Run ``app`` on 127.0.0.1:<free port>; yields the base URL."""
    from mockserver.testing import serving
    with serving(app, log_level="critical") as url:
        yield url


@dataclass
class SuiteRun:
    returncode: int
    stdout: str
    stderr: str
    junit: Path | None
    report: Path | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def failures(self, limit: int = 8000) -> str:
        """The run's FAILURES/ERRORS sections and short summary (what a reader needs first)."""
        text = self.stdout
        start = min([i for i in (text.find("= FAILURES ="), text.find("= ERRORS =")) if i >= 0] or [0])
        end = text.find("ZenHire behaviour catalog")
        summary = text[text.find("short test summary info"):] if "short test summary info" in text else ""
        body = text[start:end if end > start else None]
        return (body[:limit] + "\n...\n" + summary[-3000:] + self.stderr[-2000:]).strip()


def run_suite(base_url: str, workdir: Path, *extra: str, primary_key: str = PRIMARY_KEY,
              second_key: str | None = SECOND_KEY, timeout: float = 540, name: str = "suite") -> SuiteRun:
    """``zenhire-mock verify`` against ``base_url`` in a subprocess (the CLI entry point,
    so the run is exactly what an integrator gets)."""
    junit = workdir / f"{name}.junit.xml"
    report = workdir / f"{name}.catalog.json"
    args = [sys.executable, "-m", "mockserver.cli", "verify", "--base-url", base_url, "--api-key", primary_key,
            "--junit", str(junit), "--catalog-report", str(report), *extra]
    if second_key:
        args += ["--second-api-key", second_key]
    # pytest rewrites the asserts of every plugin module (all of Schemathesis) on import; let
    # it cache the result outside the checkout, so runs after the first start in a second.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    return SuiteRun(proc.returncode, proc.stdout, proc.stderr,
                    junit if junit.exists() else None, report if report.exists() else None)
