"""zenhire-mock as users install it: a wheel built from the checkout carries the contract,
the default scenarios and every data file as real files, and a regular (non-editable)
install into a fresh virtual environment works from any directory: `serve` answers,
`routes`, `keys` and `verify --help` work, and `verify` without its extra says in one line
how to install it. The pytest plugin is registered through its entry point."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from mockserver.app import cached_contract
from tests.test_packaging_support import ROOT, clean_env, copy_checkout, make_venv, pip, run, serving

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = copy_checkout(tmp_path_factory.mktemp("checkout") / "zenhire-mock")
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    (built,) = out.glob("zenhire_mock-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (core dependencies only, no `verify` extra)."""
    bin_dir = make_venv(tmp_path_factory.mktemp("venv") / "env")
    pip(bin_dir, "install", "-q", str(wheel))
    return bin_dir


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """An empty working directory far from the checkout."""
    return tmp_path


def wheel_files(wheel: Path) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(wheel) as zf:
        return {info.filename: info for info in zf.infolist()}


def test_the_wheel_holds_the_contract_and_every_default_scenario_as_real_files(wheel):
    entries = wheel_files(wheel)
    expected = {"mockserver/data/openapi.yaml": ROOT / "openapi.yaml"}
    for path in (ROOT / "scenarios").rglob("*"):
        if path.is_file():
            expected["mockserver/data/scenarios/" + path.relative_to(ROOT / "scenarios").as_posix()] = path
    with zipfile.ZipFile(wheel) as zf:
        for name, source in expected.items():
            assert name in entries, f"{name} is not in the wheel"
            assert not stat.S_ISLNK(entries[name].external_attr >> 16), f"{name} is a link in the wheel"
            assert zf.read(name) == source.read_bytes(), f"{name} differs from {source}"
    for name in ("mockserver/data/control-openapi.yaml", "mockserver/data/scenario.schema.json",
                 "mockserver/static/candidate.html", "contract_tests/catalog_ids.txt",
                 "contract_tests/pytest.ini", "contract_tests/README.md"):
        assert name in entries, f"{name} is not in the wheel"


def test_the_wheel_registers_the_cli_and_the_pytest_plugin(wheel):
    with zipfile.ZipFile(wheel) as zf:
        (points,) = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = zf.read(points).decode()
    assert "zenhire-mock = mockserver.cli:main" in text
    assert "[pytest11]" in text and "mockserver.pytest_plugin" in text


def test_installed_routes_and_keys_work_from_any_directory(installed, elsewhere):
    env = clean_env(installed)
    routes = run(["zenhire-mock", "routes"], env=env, cwd=elsewhere)
    assert routes.returncode == 0, routes.stderr
    assert len(routes.stdout.splitlines()) == len(cached_contract().operation_list())
    assert "submitSpeechAnalysis" in routes.stdout
    keys = run(["zenhire-mock", "keys"], env=env, cwd=elsewhere)
    assert keys.returncode == 0, keys.stderr
    assert "zh_api_test_full_access_0001" in keys.stdout
    located = run(["python", "-c", "import mockserver.contract as c, mockserver.scenarios as s; "
                   "print(c.SPEC_PATH); print(s.DEFAULT_SCENARIO)"], env=env, cwd=elsewhere)
    for line in located.stdout.split():
        path = Path(line)
        assert "site-packages" in line and path.is_file() and not path.is_symlink(), line


def test_installed_verify_names_its_extra_until_installed_then_runs_the_suite(installed, wheel, elsewhere):
    """Without the extra: one line naming the install command. With it (installed into this
    module's venv last, which the other tests do not mind): the packaged suite runs."""
    env = clean_env(installed)
    helped = run(["zenhire-mock", "verify", "--help"], env=env, cwd=elsewhere)
    assert helped.returncode == 0, helped.stderr
    assert "--base-url" in helped.stdout
    r = run(["zenhire-mock", "verify", "--base-url", "http://127.0.0.1:9", "--api-key", "k"], env=env, cwd=elsewhere)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "pip install 'zenhire-mock[verify]'" in r.stderr
    pip(installed, "install", "-q", f"zenhire-mock[verify] @ {wheel.as_uri()}")
    with serving(["zenhire-mock", "serve", "--port", "0", "--log-level", "warning"], env=env, cwd=elsewhere) as url:
        verified = run(["zenhire-mock", "verify", "--base-url", url, "--api-key", "zh_api_test_full_access_0001",
                        "-k", "test_universal"], env=env, cwd=elsewhere, timeout=300)
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-2000:]
    assert re.search(r"\b[1-9]\d* passed", verified.stdout) and "catalog totals" in verified.stdout


def test_installed_serve_answers_from_a_temporary_directory(installed, elsewhere):
    env = clean_env(installed)
    with serving(["zenhire-mock", "serve", "--port", "0", "--log-level", "warning"], env=env, cwd=elsewhere) as url:
        assert httpx.get(url + "/api/v1/health", timeout=30).status_code == 200
        credits = httpx.get(url + "/api/v1/credits", headers={"X-API-Key": "zh_api_test_full_access_0001"},
                            timeout=30)
        assert credits.status_code == 200, credits.text
        assert httpx.get(url + "/openapi.yaml", timeout=30).content == (ROOT / "openapi.yaml").read_bytes()
        assert httpx.get(url + "/__mock/live", timeout=30).status_code == 200
