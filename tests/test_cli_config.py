"""`zenhire-mock` explains itself: every option of every subcommand has help text, a default
and its environment variable; every configuration error is one line on stderr naming the
setting and the value, exit status 2, no traceback; `serve` prints its banner only once
the socket is bound (so a port in use prints no banner and no keys)."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from mockserver.cli import build_parser
from mockserver.config import env_var

CLI = [sys.executable, "-m", "mockserver.cli"]
SETTING_OPTIONS = {"serve", "keys", "probe"}  # subcommands whose options are ZENHIRE_MOCK_* settings


def run_cli(*args: str, env: dict | None = None, cwd=None, timeout: float = 60) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ZENHIRE_MOCK_")}
    full_env.update(env or {})
    return subprocess.run(CLI + list(args), capture_output=True, text=True, env=full_env, cwd=cwd,
                          timeout=timeout)


def assert_one_line_config_error(result: subprocess.CompletedProcess, *must_name: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in must_name:
        assert text in lines[0], lines[0]
    assert result.stdout == "", "nothing may be printed before a configuration error"
    return lines[0]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


# -- help -----------------------------------------------------------------------------------

def test_every_option_of_every_subcommand_has_help_and_a_default():
    commands = subcommands()
    assert {"serve", "routes", "keys", "probe", "verify"} <= set(commands)
    for name, parser in commands.items():
        formatter = parser._get_formatter()
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction) or not action.option_strings:
                continue
            assert action.help, f"{name} {action.option_strings} has no help"
            if action.required:
                continue
            shown = formatter._get_help_string(action) % dict(vars(action), prog=parser.prog)
            assert "default" in shown, f"{name} {action.option_strings}: no default in {shown!r}"


def test_every_setting_option_names_its_environment_variable():
    for name, parser in subcommands().items():
        if name not in SETTING_OPTIONS:
            continue
        for action in parser._actions:
            if not action.option_strings or action.dest in ("help", "timeout"):
                continue
            assert env_var(action.dest) in action.help, f"{name} {action.option_strings}: {action.help!r}"


def test_serve_help_shows_defaults_and_env_vars_and_no_default_scenarios():
    r = run_cli("serve", "--help")
    assert r.returncode == 0
    for text in ("--no-default-scenarios", "ZENHIRE_MOCK_PORT", "default: 8080", "default: 127.0.0.1",
                 "default: real", "ZENHIRE_MOCK_TIME_SCALE", "ZENHIRE_MOCK_CANDIDATE_BASE_URL"):
        assert text in r.stdout, text


# -- configuration errors: one line, exit 2 -------------------------------------------------

def test_keys_with_a_broken_scenario_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nclients: [\n")
    assert_one_line_config_error(run_cli("keys", "--scenarios", str(bad)), "--scenarios", str(bad), ":3:")


def test_keys_with_a_scenario_that_breaks_the_schema_is_one_line(tmp_path):
    bad = tmp_path / "schema.yaml"
    bad.write_text("version: 1\nclients:\n  - id: x\n    credits: lots\n")
    assert_one_line_config_error(run_cli("keys", "--scenarios", str(bad)), str(bad), "credits")


def test_serve_with_a_missing_scenario_file_is_one_line(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert_one_line_config_error(run_cli("serve", "--scenarios", str(missing), "--port", "0"),
                                 "--scenarios", str(missing))


def test_serve_with_a_state_file_in_a_missing_folder_is_one_line():
    assert_one_line_config_error(run_cli("serve", "--state", "/nonexistent/dir/x.sqlite", "--port", "0"),
                                 "--state", "/nonexistent/dir/x.sqlite")


def test_serve_with_a_state_file_that_is_not_a_database_is_one_line(tmp_path):
    state = tmp_path / "notes.sqlite"
    state.write_text("these are my notes, not a database\n")
    assert_one_line_config_error(run_cli("serve", "--state", str(state), "--port", "0"),
                                 "--state", str(state), "not a SQLite database")
    assert state.read_text().startswith("these are my notes"), "the file must be left alone"


def test_state_from_the_environment_is_named_by_its_variable(tmp_path):
    state = tmp_path / "junk.db"
    state.write_bytes(b"\x00\x01binary junk" * 10)
    assert_one_line_config_error(run_cli("serve", "--port", "0", env={"ZENHIRE_MOCK_STATE": str(state)}),
                                 "ZENHIRE_MOCK_STATE", str(state))


def test_a_non_numeric_port_variable_names_the_variable():
    line = assert_one_line_config_error(run_cli("serve", env={"ZENHIRE_MOCK_PORT": "abc"}),
                                        "ZENHIRE_MOCK_PORT", "'abc'")
    assert "invalid literal" not in line


def test_an_out_of_range_port_variable_is_refused():
    assert_one_line_config_error(run_cli("serve", env={"ZENHIRE_MOCK_PORT": "70000"}),
                                 "ZENHIRE_MOCK_PORT", "70000", "65535")


@pytest.mark.parametrize("value", ["84566", "-1"])
def test_an_out_of_range_port_flag_is_refused(value):
    assert_one_line_config_error(run_cli("serve", f"--port={value}"), "--port", value, "65535")


@pytest.mark.parametrize("variable,value,shown", [
    ("ZENHIRE_MOCK_CLOCK", "fast", "'fast'"), ("ZENHIRE_MOCK_TIME_SCALE", "x2", "'x2'"),
    ("ZENHIRE_MOCK_TIME_SCALE", "0", "=0.0"), ("ZENHIRE_MOCK_STRICT", "maybe", "'maybe'"),
    ("ZENHIRE_MOCK_LOG_LEVEL", "loud", "'loud'"), ("ZENHIRE_MOCK_PREVIEW", "nope", "nope")])
def test_bad_setting_variables_name_the_variable_and_value(variable, value, shown):
    assert_one_line_config_error(run_cli("serve", "--port", "0", env={variable: value}), variable, shown)


def test_a_port_in_use_is_one_line_and_prints_no_banner():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    line = assert_one_line_config_error(result, "--port", str(port), "in use")
    assert "zh_api_test" not in line


def test_a_port_in_use_given_by_variable_names_the_variable():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli("serve", env={"ZENHIRE_MOCK_PORT": str(port)})
    assert_one_line_config_error(result, "ZENHIRE_MOCK_PORT", str(port))


# -- serve: the banner means ready ------------------------------------------------------------

def test_serve_prints_the_bound_port_and_answers_as_soon_as_the_banner_is_out(tmp_path):
    proc = subprocess.Popen(CLI + ["serve", "--port", "0", "--clock", "manual", "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        banner = proc.stdout.readline()
        assert banner.startswith("zenhire-mock serving http://127.0.0.1:"), banner
        base = banner.split()[2]
        assert not base.endswith(":0")
        # No waiting: the socket was listening before the banner was printed.
        assert httpx.get(base + "/api/v1/health", timeout=30).status_code == 200
        assert httpx.get(base + "/__mock/live", timeout=30).json() == {"status": "live"}
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_probe_is_not_live_on_a_closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run_cli("probe", "--port", str(port), "--timeout", "2")
    assert r.returncode == 1
    assert "not live" in r.stderr and "Traceback" not in r.stderr


def test_a_missing_scenario_folder_from_the_variable_names_the_variable(tmp_path):
    missing = tmp_path / "no-such-folder"
    assert_one_line_config_error(run_cli("keys", env={"ZENHIRE_MOCK_SCENARIOS": str(missing)}),
                                 "ZENHIRE_MOCK_SCENARIOS", str(missing))


# -- serve: the store and the workers ------------------------------------------------------------

def test_several_workers_without_a_shared_store_is_one_line():
    line = assert_one_line_config_error(run_cli("serve", "--port", "0", "--workers", "2"), "--workers=2", "--store")
    assert "shared store" in line


def test_workers_from_the_environment_without_a_shared_store_names_the_variable():
    assert_one_line_config_error(run_cli("serve", "--port", "0", env={"ZENHIRE_MOCK_WORKERS": "3"}),
                                 "ZENHIRE_MOCK_WORKERS=3", "shared store")


@pytest.mark.parametrize("args,env,must_name", [
    (("--store", "mongodb://127.0.0.1:27017/0"), {}, ("--store", "mongodb://", "unknown store")),
    ((), {"ZENHIRE_MOCK_STORE": "sqlite:///x.db"}, ("ZENHIRE_MOCK_STORE", "unknown store")),
    (("--store", "redis://127.0.0.1:6390/zero"), {}, ("--store", "'zero'", "whole number")),
    (("--store", "redis://127.0.0.1:port/0"), {}, ("--store", "port")),
    (("--store", "redis:///0"), {}, ("--store", "no host")),
    (("--store", "redis://127.0.0.1:6390/0", "--state", "state.db"), {}, ("--state", "--store", "one of them")),
    (("--store", "unix://"), {}, ("--store", "socket path")),
    (("--workers", "0"), {}, ("--workers", "at least 1")),
    ((), {"ZENHIRE_MOCK_WORKERS": "two"}, ("ZENHIRE_MOCK_WORKERS", "'two'", "whole number")),
])
def test_bad_store_and_worker_settings_are_one_line(tmp_path, args, env, must_name):
    assert_one_line_config_error(run_cli("serve", "--port", "0", *args, env=env, cwd=tmp_path), *must_name)


def test_a_store_error_never_shows_the_password():
    line = assert_one_line_config_error(run_cli("serve", "--store", "redis://app:hunter2@127.0.0.1:6390/db"),
                                        "--store", "redis://app:***@127.0.0.1:6390/db")
    assert "hunter2" not in line


def test_an_unreachable_redis_is_one_line_naming_the_store():
    with socket.socket() as closed:  # a loopback port with nothing listening on it
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        result = run_cli("serve", "--port", "0", "--store", f"redis://127.0.0.1:{port}/0", timeout=120)
    assert_one_line_config_error(result, "--store", f"redis://127.0.0.1:{port}/0", "cannot reach")


def test_settings_survive_the_trip_through_the_environment_a_worker_takes():
    from mockserver.config import Settings
    settings = Settings.from_env(env={}, store="redis://u:pw@127.0.0.1:6390/3", workers=3, scenarios=["a.yaml", "b"],
                                 clock="scaled", time_scale=60.0, clock_start=1.5e9, strict=True, preview=[],
                                 control=False, control_token="t0k", journal_size=50)
    assert Settings.from_env(env=settings.to_env()) == settings
    assert settings.store_label() == "redis://u:***@127.0.0.1:6390/3"
    assert Settings().store_label() == "in memory" and Settings(state="s.db").store_label() == "SQLite file s.db"


def serve_banner(*args: str, cwd) -> tuple[subprocess.Popen, list[str]]:
    """`serve` in the background; its banner lines up to the test keys heading."""
    proc = subprocess.Popen(CLI + ["serve", "--port", "0", "--log-level", "warning", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd)
    lines = []
    while not lines or lines[-1] != "test keys:":
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        lines.append(line.rstrip("\n"))
    return proc, lines


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return err


def test_the_banner_names_the_memory_store_and_one_worker(tmp_path):
    proc, lines = serve_banner(cwd=tmp_path)
    stop(proc)
    assert "store: in memory (this process only); 1 worker process" in lines


def test_serve_on_redis_with_two_workers_names_the_store_and_answers_on_its_port(tmp_path, redis_url):
    proc, lines = serve_banner("--store", redis_url, "--workers", "2", "--clock", "manual", cwd=tmp_path)
    try:
        assert f"store: {redis_url} (shared with every process using it); 2 worker processes" in lines, lines
        base = lines[0].split()[2]
        deadline = time.monotonic() + 60
        while True:  # the workers start after the banner: a bounded wait for the first answer
            try:
                if httpx.get(base + "/__mock/live", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "no worker answered within 60 s"
            time.sleep(0.1)
        r = httpx.get(base + "/api/v1/credits", headers={"X-API-Key": "zh_api_test_full_access_0001"}, timeout=30)
        assert r.status_code == 200, r.text
    finally:
        stop(proc)
