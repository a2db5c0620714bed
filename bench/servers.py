"""The servers the bench compares, started as child processes and stopped by PID.

- the mock as `zenhire-mock serve --host 127.0.0.1 --port N` runs it (optionally `--strict`);
- the bare Starlette app (`bare_app.py`) serving bytes captured from the mock;
- Stoplight Prism (`@stoplight/prism-cli`, npm) mocking the same openapi.yaml, installed
  into `bench/.prism/` on first use; skipped with a reason when npm is unavailable.

Each server's output goes to a log file so a failed start can be shown.
"""

from __future__ import annotations

import base64
import http.client
import json
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cpus import pin_to

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
PRISM_DIR = BENCH_DIR / ".prism"
PRISM_BIN = PRISM_DIR / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


@dataclass
class ServerSpec:
    name: str
    argv: list[str]
    port: int
    description: str


@dataclass
class RunningServer:
    spec: ServerSpec
    proc: subprocess.Popen
    log_path: Path
    _log_file: object = field(repr=False, default=None)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.spec.port}"

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to this server's PID, SIGKILL if it has not exited after a grace period."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


class ServerStartError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mock_spec(port: int, *, strict: bool = False, extra_args: list[str] | None = None) -> ServerSpec:
    argv = [sys.executable, "-m", "mockserver.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if strict:
        argv.append("--strict")
    argv += extra_args or []
    return ServerSpec(name="mock-strict" if strict else "mock", argv=argv, port=port,
                      description="zenhire-mock serve" + (" --strict" if strict else " (defaults)"))


def bare_spec(port: int, responses_file: Path) -> ServerSpec:
    argv = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--port", str(port), "--responses", str(responses_file)]
    return ServerSpec(name="bare", argv=argv, port=port, description="bare Starlette, same bytes, same uvicorn settings")


def prism_spec(port: int, prism_bin: Path, *, silent: bool) -> ServerSpec:
    argv = [str(prism_bin), "mock", str(REPO_ROOT / "openapi.yaml"), "-h", "127.0.0.1", "-p", str(port)]
    if silent:
        argv += ["-v", "silent"]
    return ServerSpec(name="prism-silent" if silent else "prism", argv=argv, port=port,
                      description="prism mock openapi.yaml" + (" -v silent" if silent else " (defaults)"))


def ensure_prism(install: bool) -> tuple[Path | None, str]:
    """(prism binary or None, a sentence saying what happened)."""
    if PRISM_BIN.exists():
        return PRISM_BIN, f"Prism from {PRISM_DIR.relative_to(REPO_ROOT)}"
    npm = shutil.which("npm")
    if npm is None:
        return None, "Prism skipped: npm is not installed (apt-get install npm, or pass --no-prism)"
    if not install:
        return None, f"Prism skipped: not installed in {PRISM_DIR} and --no-install-prism given"
    PRISM_DIR.mkdir(exist_ok=True)
    package_json = PRISM_DIR / "package.json"
    if not package_json.exists():
        package_json.write_text('{"name": "zenhire-bench-prism", "private": true}\n')
    print(f"installing {PRISM_PACKAGE} into {PRISM_DIR} ...", flush=True)
    out = subprocess.run([npm, "install", "--no-audit", "--no-fund", PRISM_PACKAGE], cwd=PRISM_DIR,
                         capture_output=True, text=True, timeout=600, check=False)
    if out.returncode != 0 or not PRISM_BIN.exists():
        return None, f"Prism skipped: npm install failed: {out.stderr.strip()[-500:]}"
    return PRISM_BIN, f"Prism installed into {PRISM_DIR.relative_to(REPO_ROOT)}"


def start_server(spec: ServerSpec, *, cpu: int | None, log_dir: Path, ready_path: str) -> RunningServer:
    """Start ``spec`` pinned to ``cpu`` and wait until it answers HTTP on ``ready_path``."""
    log_path = log_dir / f"{spec.name}.log"
    log_file = open(log_path, "wb")
    proc = subprocess.Popen(spec.argv, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log_file,
                            stderr=subprocess.STDOUT, preexec_fn=pin_to(cpu))
    server = RunningServer(spec=spec, proc=proc, log_path=log_path, _log_file=log_file)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            server.stop()
            raise ServerStartError(f"{spec.name} exited with {proc.returncode} before answering:\n{server.log_tail()}")
        if _answers(spec.port, ready_path):
            return server
        time.sleep(0.2)
    server.stop()
    raise ServerStartError(f"{spec.name} did not answer within {READY_TIMEOUT_S:.0f}s:\n{server.log_tail()}")


def _answers(port: int, path: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


def fetch(port: int, path: str, headers: dict[str, str], method: str = "GET",
          body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request → (status, lower-cased headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def capture_responses(port: int, endpoints: list[tuple[str, dict[str, str]]], out_file: Path) -> dict:
    """Fetch each (path, headers) once and write what the bare app needs to replay it."""
    captured = {}
    for path, headers in endpoints:
        status, resp_headers, body = fetch(port, path, headers)
        captured[path] = {"status": status, "headers": resp_headers, "body_b64": base64.b64encode(body).decode()}
    out_file.write_text(json.dumps(captured, indent=1))
    return captured
