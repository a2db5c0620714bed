"""The contract suite against the mock, started here on 127.0.0.1 (uvicorn in a thread,
manual clock, strict response validation): it must pass through `zenhire-mock verify`, write
JUnit XML and the catalog report, fail on a wrong key, and spend nothing in the safe profile.
The suite is restricted to the operations the mock build simulates (`simulated_operations`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from contract_tests.catalog import catalog
from contract_tests.checks import CUSTOM_CHECK_NAMES
from tests.defects.serving import PRIMARY_KEY, mock_app, run_suite, serve, suite_options
from tests.defects.variants import DEFECTS

SHARED_CATALOG = Path(__file__).resolve().parents[2] / "shared" / "CATALOG.md"
ALWAYS_ASSERTED = {"AUTH-1", "AUTH-2", "AUTH-3", "AUTH-5", "AUTH-6", "ERR-1", "ERR-2", "CRED-1", "HLTH-1",
                   "JSON-1", "A5", "A7"}


@pytest.fixture(scope="module")
def mock():
    app = mock_app()
    with serve(app) as base_url:
        yield app, base_url


def _junit_counts(path: Path) -> dict[str, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    return {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}


def test_the_suite_passes_against_the_mock(mock, tmp_path):
    app, base_url = mock
    run = run_suite(base_url, tmp_path, *suite_options(app), name="full")
    assert run.returncode == 0, run.failures()
    assert "ZenHire behaviour catalog" in run.stdout and "catalog totals:" in run.stdout
    counts = _junit_counts(run.junit)
    assert counts["tests"] > 40 and counts["failures"] == 0 and counts["errors"] == 0, counts
    report = json.loads(run.report.read_text())
    rows = {row["id"]: row for row in report["ids"]}
    assert set(rows) == set(catalog())
    assert not [i for i, r in rows.items() if r["status"] == "failed"]
    passed = {i for i, r in rows.items() if r["status"] == "passed"}
    assert ALWAYS_ASSERTED <= passed, f"not asserted: {sorted(ALWAYS_ASSERTED - passed)}"
    skipped = [r for r in rows.values() if r["status"] == "skipped"]
    assert all(r["skipReasons"] or r["note"] for r in skipped), skipped
    assert report["untested"] == [i for i, r in rows.items() if r["status"] == "no test"]


def test_the_cvds_preview_passes_and_its_completion_webhook_is_asserted(tmp_path):
    """With the provisional results switched on (`--preview cvds-results`), the CV DeepSearch
    part of the suite passes too, and HOOK-7 (the completion callback) is asserted."""
    app = mock_app(preview=["cvds-results"], allow_local_webhooks=True)
    cvds = [op for op in suite_options(app)[1].split(",") if "Cvds" in op]
    with serve(app) as base_url:
        run = run_suite(base_url, tmp_path, "--operations", ",".join(cvds), name="preview")
    assert run.returncode == 0, run.failures()
    rows = {row["id"]: row for row in json.loads(run.report.read_text())["ids"]}
    assert rows["HOOK-7"]["status"] == "passed" and rows["CVDS-9"]["status"] == "passed"


def test_a_wrong_api_key_fails_the_run(mock, tmp_path):
    app, base_url = mock
    run = run_suite(base_url, tmp_path, *suite_options(app), "-x", "-k", "conformance or given_api_key",
                    primary_key="zh_api_test_not_a_real_key_0000", second_key=None, name="wrongkey")
    assert run.returncode != 0, run.output[-3000:]
    assert "--api-key is rejected" in run.output or "every authenticated request was answered 401" in run.output


def test_the_safe_profile_spends_no_credits(tmp_path):
    """On a fresh mock (no earlier run's work left to finish and charge), the safe profile
    leaves every tenant's account untouched: nothing charged, nothing held."""
    app = mock_app()
    with serve(app) as base_url:
        run = run_suite(base_url, tmp_path, *suite_options(app), "--profile", "safe", name="safe")
        clients = httpx.get(base_url + "/__mock/clients").json()["clients"]
        usage = {c["id"]: httpx.get(base_url + "/api/v1/credits",
                                    headers={"X-API-Key": c["keys"][0]["key"]}).json() for c in clients
                 if c["active"] and c["keys"]}
    assert run.returncode == 0, run.failures()
    assert "profile safe" in run.stdout
    charged = {cid: (u.get("usage", {}).get("totalCharged"), u.get("heldCredits")) for cid, u in usage.items()
               if "usage" in u and (u["usage"]["totalCharged"] or u["heldCredits"])}
    assert not charged, f"the safe profile spent credits: {charged}"


def test_the_packaged_catalog_matches_the_shared_catalog():
    if not SHARED_CATALOG.exists():
        pytest.skip("the shared catalog is not next to this checkout")
    shared = re.findall(r"^- ((?:A\d+)|(?:[A-Z]+-\d+)) ", SHARED_CATALOG.read_text(), flags=re.M)
    assert list(catalog()) == shared


def _schemathesis_cli(base_url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """The Schemathesis CLI with the suite's checks loaded as hooks, on the Universal operations."""
    args = [sys.executable, "-m", "schemathesis.cli", "run", base_url + "/openapi.json",
            "-H", f"X-API-Key: {PRIMARY_KEY}", "--include-operation-id", "getCredits",
            "--include-operation-id", "getHealth", "-c", ",".join(CUSTOM_CHECK_NAMES),
            "--phases", "examples,coverage,fuzzing", "--max-examples", "5"]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="contract_tests.checks")
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)


def test_the_schemathesis_cli_runs_the_suites_checks(mock, tmp_path):
    _, base_url = mock
    run = _schemathesis_cli(base_url, tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    defect = next(d for d in DEFECTS if d.name == "error-not-wrapped")
    with serve(defect.build(mock_app())) as deviant_url:
        run = _schemathesis_cli(deviant_url, tmp_path)
    assert run.returncode != 0 and "zenhire_error_envelope" in run.stdout, run.stdout[-3000:]
