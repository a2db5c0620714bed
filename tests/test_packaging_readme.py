"""The README works as written: the two set-up commands come first (one serves, one tests,
and CI runs exactly the test one); every later `zenhire-mock` / `pytest` command names the
venv it runs from; every `serve` option is documented; and the "Try it", "Running" and CLI
commands run (against a mock on a free port instead of 8080, which may be taken here)."""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mockserver.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
VENV_BIN = ".venv/bin/"
SETUP = ["bash scripts/serve.sh", "bash scripts/test.sh"]


def bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, re.S)


def block_after(heading: str) -> str:
    section = README.split(heading, 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def commands(block: str) -> list[str]:
    """The block's commands, comments stripped and continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", block)
    return [re.sub(r"\s+#\s.*$", "", line).strip() for line in text.splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_here(command: str) -> str:
    """A README command with `.venv/bin/` pointing at the venv running these tests."""
    return command.replace(VENV_BIN, str(Path(sys.executable).parent) + "/")


def test_the_two_setup_commands_come_first_and_ci_runs_the_test_one():
    first = bash_blocks()[0]
    assert [c.split("#")[0].strip() for c in commands(first)] == SETUP
    assert README.index(first) < README.index("## ")
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert ci == [SETUP[1]]


def test_every_later_cli_command_names_its_venv():
    for block in bash_blocks()[1:]:
        for command in commands(block):
            if command.startswith("docker "):
                continue
            tokens = command.replace("(", " ").split()
            for i, token in enumerate(tokens):
                if token in ("zenhire-mock", "pytest"):
                    assert i > 0 and tokens[i - 1] == "-m", f"README command without its venv: {command}"


def test_the_readme_says_how_to_activate_the_venv():
    assert "source .venv/bin/activate" in README


def test_every_serve_option_is_documented():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for action in sub.choices["serve"]._actions:
        for option in action.option_strings:
            if option in ("-h", "--help"):
                continue
            assert f"`{option}" in README, f"{option} is not in the README's option table"
            if action.dest != "help":
                env = "ZENHIRE_MOCK_" + action.dest.upper()
                assert env in README, env


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_try_it_running_and_cli_commands_run_as_written(tmp_path):
    port = free_port()
    serve = f"{sys.executable} -m mockserver.cli serve --port {port} --clock manual --log-level warning"
    running = block_after("`.venv/bin/zenhire-mock probe [--port N]` checks it")
    # Keep the server up for the "Running" commands: run them before the Try-it block's `kill %1`.
    script = block_after("## Try it").replace("kill %1", running + f"{VENV_BIN}zenhire-mock probe --port 8080\nkill %1")
    script = as_here(script).replace("8080", str(port)).replace("bash scripts/serve.sh", serve)
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", "set -m\n" + script], capture_output=True, text=True,
                       cwd=tmp_path, timeout=180)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout
    assert '"status":"healthy"' in out.replace(" ", "")
    assert '"availableCredits"' in out
    assert '"webhookAttempts"' in out and '"entries"' in out
    assert f"http://127.0.0.1:{port}/__mock/live: live" in out


@pytest.mark.parametrize("heading,expect", [("## The contract", "submitSpeechAnalysis")])
def test_contract_commands_run_as_written(heading, expect):
    (first, *_) = [c for c in commands(block_after(heading)) if "zenhire-mock" in c]
    r = subprocess.run(as_here(first), shell=True, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert expect in r.stdout


def test_keys_and_verify_help_run_as_written():
    for command in (f"{VENV_BIN}zenhire-mock keys", f"{VENV_BIN}zenhire-mock verify --help"):
        assert command.split()[0] + " " + command.split()[1] in README
        r = subprocess.run(as_here(command), shell=True, capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert r.returncode == 0, (command, r.stderr)
        assert r.stdout


def test_the_shared_state_commands_run_as_written(tmp_path, redis_server):
    """The README's two commands for several workers: a redis-server on loopback with
    persistence off, then `serve --store redis://… --workers 2`; run as written on free
    ports, every process started here is stopped by its PID."""
    import shlex

    from tests.support.redis_server import _ping
    from tests.support.replicas import Replica
    start_redis, serve = commands(block_after("## Several workers or replicas"))
    assert start_redis.endswith("&") and serve.startswith(f"{VENV_BIN}zenhire-mock serve --store redis://")
    redis_argv = shlex.split(start_redis.rstrip("& "))
    assert redis_argv[0] == "redis-server" and {"--save", "--appendonly", "--bind"} <= set(redis_argv)
    assert redis_argv[redis_argv.index("--bind") + 1] == "127.0.0.1"
    readme_port = redis_argv[redis_argv.index("--port") + 1]
    port = str(free_port())
    redis = subprocess.Popen([shutil.which("redis-server") or "/usr/bin/redis-server",
                              *[port if a == readme_port else a for a in redis_argv[1:]], "--dir", str(tmp_path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    replica = None
    try:
        deadline = time.monotonic() + 10
        while not _ping(int(port)):
            assert redis.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        serve_argv = shlex.split(serve.replace(f":{readme_port}/", f":{port}/"))[2:]  # after `zenhire-mock serve`
        replica = Replica("readme", [*serve_argv, "--port", "0", "--log-level", "warning"]).wait_live()
        assert f"store: redis://127.0.0.1:{port}/0 (shared with every process using it); 2 worker processes" \
            in replica.output()
        import httpx
        key = {"X-API-Key": "zh_api_test_full_access_0001"}
        for _ in range(4):  # fresh connections: any worker may answer; all read the one ledger
            assert httpx.get(replica.url + "/api/v1/credits", headers=key, timeout=30).status_code == 200
    finally:
        if replica is not None:
            replica.stop()
        redis.terminate()
        redis.wait(timeout=10)
