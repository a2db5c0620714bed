"""The pytest plugin a user gets with the package: the README's example runs as a user's
own test file (no conftest, the plugin found through its `pytest11` entry point); options
from the command line, the ini file and the marker reach the mock; the in-process handle
drives the clock, the control operations, the delivery log and the journal; the live
server serves a real URL; importing the plugin stays cheap and its fixture names clash with
none of this repo's."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
import types
from importlib import metadata
from pathlib import Path

import httpx
import pytest

from test_cvdeepmatch_submit import submit
from tests.support.webhook_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parent.parent
FAST_MATCH = {"X-Mock-Scenario": "cvdm-fast"}  # the match finishes 5 virtual seconds after submit


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest in ``folder`` as a user runs it: their files only, plugins from entry points."""
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", *args],
                          capture_output=True, text=True, cwd=folder, timeout=300)


def readme_test_files() -> dict[str, str]:
    """The README's Python blocks that start with a ``# test_….py`` line."""
    text = (ROOT / "README.md").read_text()
    files = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        found = re.match(r"# (test_\w+\.py)", block)
        if found:
            files[found.group(1)] = block
    return files


# -- as a user's test files ----------------------------------------------------------------------

def test_the_readme_plugin_example_passes_as_a_users_test_file(tmp_path):
    files = readme_test_files()
    assert files, "the README has no plugin example"
    count = 0
    for name, code in files.items():
        (tmp_path / name).write_text(code)
        count += len(re.findall(r"^def test_", code, re.M))
    r = run_pytest(tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert f"{count} passed" in r.stdout, r.stdout[-2000:]


def test_ini_command_line_and_marker_options_reach_the_mock(tmp_path):
    (tmp_path / "extra.yaml").write_text("version: 1\nclients:\n  - id: extra-co\n    credits: 7\n")
    (tmp_path / "other.yaml").write_text("version: 1\nclients:\n  - id: other-co\n    credits: 3\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nzenhire_mock_scenarios = extra.yaml\nzenhire_mock_clock = scaled\n")
    (tmp_path / "test_options.py").write_text(textwrap.dedent('''
        import os
        import pytest

        def ids(handle):
            return {c["id"] for c in handle.clients()}

        def test_ini_scenarios_and_clock(zenhire_mock):
            assert "extra-co" in ids(zenhire_mock) and "acme" in ids(zenhire_mock)
            assert zenhire_mock.platform.clock.mode == "scaled"

        @pytest.mark.zenhire_mock(scenarios=["other.yaml"], include_default_scenarios=False, clock="manual")
        def test_marker_adds_scenarios_and_overrides(zenhire_mock):
            assert ids(zenhire_mock) == {"extra-co", "other-co"}
            assert zenhire_mock.platform.clock.mode == "manual"

        @pytest.mark.zenhire_mock(time_scale=120)
        def test_marker_on_the_live_server(zenhire_mock_server):
            assert zenhire_mock_server.platform.clock.scale == 120
            assert "extra-co" in ids(zenhire_mock_server)
    '''))
    r = run_pytest(tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "3 passed" in r.stdout
    (tmp_path / "test_cli_clock.py").write_text(
        "def test_clock(zenhire_mock):\n    assert zenhire_mock.platform.clock.mode == 'real'\n")
    r = run_pytest(tmp_path, "--zenhire-mock-clock", "real", "test_cli_clock.py")
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout[-4000:]


def test_a_bad_clock_option_is_a_usage_error(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nzenhire_mock_clock = sideways\n")
    (tmp_path / "test_x.py").write_text("def test_x(zenhire_mock):\n    pass\n")
    r = run_pytest(tmp_path)
    assert r.returncode != 0
    assert "zenhire_mock_clock='sideways'" in r.stdout + r.stderr


def test_the_store_option_puts_the_fixtures_and_helpers_on_one_shared_redis(tmp_path, redis_url):
    """``--zenhire-mock-store`` (or the ini key) reaches both fixtures; a credit change made
    through one mock is what every other mock on the same Redis answers, whether it is a
    fixture, ``mock_platform(store=...)`` or ``live_server(store=...)``."""
    (tmp_path / "test_shared.py").write_text(textwrap.dedent(f'''
        from mockserver.testing import live_server, mock_platform

        URL = {redis_url!r}

        def balance(handle):
            r = handle.request("GET", "/api/v1/credits")
            assert r.status_code == 200, r.text
            return r.json()["creditBalance"]

        def test_the_in_process_fixture_keeps_its_state_in_redis(zenhire_mock):
            assert zenhire_mock.platform.settings.store == URL and zenhire_mock.platform.store.shared
            zenhire_mock.set_credits("acme", balance=4321)
            with mock_platform(store=URL) as other:
                assert balance(other) == 4321
            with live_server(store=URL) as served:
                assert balance(served) == 4321

        def test_the_live_server_fixture_shares_it_too(zenhire_mock_server):
            assert zenhire_mock_server.platform.store.shared
            with mock_platform(store=URL) as other:
                other.set_credits("acme", balance=1234)
            assert balance(zenhire_mock_server) == 1234
    '''))
    r = run_pytest(tmp_path, "--zenhire-mock-store", redis_url)
    assert r.returncode == 0 and "2 passed" in r.stdout, r.stdout[-4000:] + r.stderr[-2000:]
    (tmp_path / "pytest.ini").write_text(f"[pytest]\nzenhire_mock_store = {redis_url}\n")
    r = run_pytest(tmp_path)
    assert r.returncode == 0 and "2 passed" in r.stdout, r.stdout[-4000:] + r.stderr[-2000:]


def test_a_bad_store_option_is_a_usage_error_without_the_password(tmp_path):
    (tmp_path / "test_x.py").write_text("def test_x(zenhire_mock):\n    pass\n")
    r = run_pytest(tmp_path, "--zenhire-mock-store", "mongodb://user:hunter2@127.0.0.1:1/0")
    assert r.returncode != 0
    assert "unknown store" in r.stdout + r.stderr and "hunter2" not in r.stdout + r.stderr


def test_the_default_store_is_this_process_memory(zenhire_mock):
    assert zenhire_mock.platform.settings.store == "memory"
    assert zenhire_mock.platform.store.shared is False


# -- the handle, in this process (the plugin is installed with the package) ------------------------------

def test_the_plugin_is_registered_through_its_entry_point():
    points = {ep.name: ep.value for ep in metadata.entry_points(group="pytest11")}
    assert points.get("zenhire_mock") == "mockserver.pytest_plugin"


def test_the_clock_moves_only_when_the_test_moves_it(zenhire_mock):
    start = zenhire_mock.platform.clock.now()
    assert zenhire_mock.platform.clock.now() == start
    moved = zenhire_mock.advance(90)
    assert zenhire_mock.platform.clock.now() == pytest.approx(start + 90)
    assert moved["now"] == zenhire_mock.now()
    zenhire_mock.set_time(start + 3600)
    assert zenhire_mock.platform.clock.now() == pytest.approx(start + 3600)


def test_control_operations_change_what_the_api_answers(zenhire_mock):
    zenhire_mock.set_credits("acme", balance=5)
    assert zenhire_mock.request("GET", "/api/v1/credits").json()["availableCredits"] == 5
    new_id = zenhire_mock.add_client({"id": "newco", "credits": 9, "permissions": ["speech"],
                                      "keys": [{"key": "zh_api_test_newco_0001"}]})
    assert new_id == "newco"
    r = zenhire_mock.request("GET", "/api/v1/credits", key="zh_api_test_newco_0001")
    assert r.status_code == 200 and r.json()["availableCredits"] == 9
    zenhire_mock.set_health({"database": "unhealthy"})
    assert zenhire_mock.client.get("/api/v1/health").status_code == 503
    entries = zenhire_mock.journal(client="newco")
    assert [e["operation"] for e in entries] == ["getCredits"]


@pytest.mark.zenhire_mock(allow_local_webhooks=True)
def test_the_delivery_log_shows_a_webhook_the_receiver_got(zenhire_mock):
    with WebhookReceiver() as receiver:
        caller = types.SimpleNamespace(call=zenhire_mock.request)
        r = submit(caller, webhook_url=receiver.url, headers=FAST_MATCH)
        assert r.status_code == 202, r.text
        (pending,) = zenhire_mock.deliveries()
        assert pending["state"] == "pending" and pending["attempts"] == [] and receiver.requests == []
        zenhire_mock.advance(5)
        (delivered,) = zenhire_mock.deliveries(client="acme")
        assert delivered["state"] == "delivered" and len(delivered["attempts"]) == 1
        assert len(receiver.requests) == 1
        assert r.json()["id"] in receiver.requests[0].body.decode()


def test_the_live_server_answers_another_process_on_loopback(zenhire_mock_server):
    assert zenhire_mock_server.url.startswith("http://127.0.0.1:")
    script = ("import sys, urllib.request; r = urllib.request.Request(sys.argv[1] + '/api/v1/credits', "
              "headers={'X-API-Key': 'zh_api_test_full_access_0001'}); "
              "print(urllib.request.urlopen(r).status)")
    out = subprocess.run([sys.executable, "-c", script, zenhire_mock_server.url], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "200", out.stderr
    assert zenhire_mock_server.journal(limit=1)[0]["operation"] == "getCredits"
    assert httpx.get(zenhire_mock_server.url + "/__mock/live").status_code == 200


# -- cheap and clash-free ------------------------------------------------------------------------------

def test_importing_the_plugin_imports_none_of_the_mock():
    script = ("import sys, mockserver.pytest_plugin; "
              "print(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('starlette', 'uvicorn', 'httpx', 'yaml', 'jsonschema', 'jsonschema_rs') or m == 'mockserver.app'))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def fixture_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef) and any("fixture" in ast.unparse(d) for d in node.decorator_list):
            names.add(node.name)
    return names


def test_the_plugin_fixture_names_clash_with_none_of_this_repos():
    ours = fixture_names(ROOT / "mockserver" / "pytest_plugin.py")
    assert ours == {"zenhire_mock", "zenhire_mock_server"}
    theirs = set()
    for path in [ROOT / "tests" / "conftest.py", ROOT / "contract_tests" / "plugin.py",
                 *ROOT.glob("tests/**/conftest.py"), *ROOT.glob("contract_tests/**/conftest.py")]:
        theirs |= fixture_names(path)
    assert theirs and not ours & theirs


def test_the_readme_context_manager_example_runs_outside_pytest(tmp_path):
    text = (ROOT / "README.md").read_text()
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "from mockserver.testing import" in b]
    out = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", out.stdout.strip()), out.stdout
