"""Several `zenhire-mock serve` processes sharing one Redis, for tests of the mock as one
platform across replicas (tests/test_replicas.py) and the multi-process bench.

`Replica` is one ``python -m mockserver.cli serve`` subprocess on a port the OS picked
(``--port 0``; the port is read from the banner, printed only once the socket is bound),
ready once ``/__mock/live`` answers 200 (a bounded poll). It is stopped with SIGTERM, or
killed with SIGKILL (``kill -9``), always by its own PID; with ``--workers N`` the worker
processes it spawned are found under /proc and stopped by their PIDs too.

`replicas(k, store_url, ...)` starts ``k`` of them with the same settings (manual clock
pinned to one start instant unless told otherwise) and stops them all afterwards.
`ReplicaClient` is an httpx client bound to one replica with the test helpers' ``call``
signature (``call(method, path, key=..., **kw)``), so the Speech / CV DeepMatch helpers
of the single-process tests drive a replica unchanged.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parents[2]
FULL_KEY = "zh_api_test_full_access_0001"
START_SECONDS = 60.0
STOP_SECONDS = 15.0
BANNER = re.compile(r"zenhire-mock serving (http://127\.0\.0\.1:(\d+))")
LIVENESS = "/__mock/live"


class ReplicaFailed(RuntimeError):
    """A replica exited or did not become live in time; the message ends with its output."""


class Replica:
    """One `zenhire-mock serve` process on 127.0.0.1 (see the module docstring)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        self.name = name
        self.args = args
        self.log = tempfile.NamedTemporaryFile(mode="w+", prefix=f"zh-replica-{name}-", suffix=".log")
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("ZENHIRE_MOCK_")}
        full_env.update(env or {})
        self.proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", *args], cwd=ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT, env=full_env)
        self.url = ""
        self.port = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self, limit: int = 4000) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-limit:]

    def wait_live(self, timeout: float = START_SECONDS) -> "Replica":
        """Bounded poll: the banner (port bound), then 200 on the liveness endpoint."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise ReplicaFailed(f"replica {self.name} exited ({self.proc.returncode}): {self.output()}")
            if not self.url:
                found = BANNER.search(self.output(100_000))
                if found:
                    self.url, self.port = found.group(1), int(found.group(2))
            if self.url:
                try:
                    if httpx.get(self.url + LIVENESS, timeout=2).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise ReplicaFailed(f"replica {self.name} not live within {timeout:g} s: {self.output()}")
            time.sleep(0.05)

    def children(self) -> list[int]:
        """PIDs of the processes this replica started (its uvicorn workers), from /proc."""
        pids: list[int] = []
        task_dir = Path(f"/proc/{self.pid}/task")
        with contextlib.suppress(OSError):
            for task in task_dir.iterdir():
                with contextlib.suppress(OSError):
                    pids += [int(p) for p in (task / "children").read_text().split()]
        return pids

    def workers(self) -> list[int]:
        """PIDs of this replica's uvicorn worker processes (``--workers N``; multiprocessing's
        resource tracker, also a child, is not one)."""
        found = []
        for pid in self.children():
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
        return found

    def kill(self) -> None:
        """``kill -9`` this replica (and any worker it spawned), by PID, and reap it."""
        doomed = self.children()
        self._signal(self.pid, signal.SIGKILL)
        for pid in doomed:
            self._signal(pid, signal.SIGKILL)
        self.proc.wait(timeout=STOP_SECONDS)

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL if it is still there after `STOP_SECONDS`."""
        if self.proc.poll() is None:
            doomed = self.children()
            self._signal(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()
            for pid in doomed:  # workers end with their supervisor; make sure of it
                self._signal(pid, signal.SIGKILL)
        self.log.close()

    @staticmethod
    def _signal(pid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def serve_args(store_url: str, *extra: str, clock: str = "manual", clock_start: float | None = None) -> list[str]:
    """The options every replica of a group shares: loopback, any free port, the shared
    store, strict responses, local webhook receivers admitted, quiet logs."""
    args = ["--host", "127.0.0.1", "--port", "0", "--store", store_url, "--strict", "--allow-local-webhooks",
            "--log-level", "warning", "--clock", clock]
    if clock != "real":
        args += ["--clock-start", repr(clock_start if clock_start is not None else float(int(time.time())))]
    return args + list(extra)


@contextlib.contextmanager
def replicas(count: int, store_url: str, *extra: str, clock: str = "manual",
             env: dict[str, str] | None = None) -> Iterator[list[Replica]]:
    """``count`` replicas sharing ``store_url``, all live when the block starts; every one
    still running is stopped when it ends."""
    start = float(int(time.time()))
    group = [Replica(chr(ord("A") + i), serve_args(store_url, *extra, clock=clock, clock_start=start), env)
             for i in range(count)]
    try:
        for replica in group:
            replica.wait_live()
        yield group
    finally:
        for replica in group:
            replica.stop()


class ReplicaClient(httpx.Client):
    """An httpx client for one replica with the single-process tests' ``call`` helper and
    the control operations the replica tests use."""

    def __init__(self, replica: Replica, **kw) -> None:
        kw.setdefault("timeout", 60)
        super().__init__(base_url=replica.url, **kw)
        self.replica = replica

    def call(self, method: str, path: str, key: str | None = FULL_KEY, **kw) -> httpx.Response:
        headers = dict(kw.pop("headers", None) or {})
        if key is not None:
            headers["X-API-Key"] = key
        return self.request(method, path, headers=headers, **kw)

    def control(self, method: str, path: str, expect: int = 200, **kw) -> dict:
        r = self.request(method, "/__mock" + path, **kw)
        assert r.status_code == expect, f"{self.replica.name}: {method} /__mock{path} -> {r.status_code} {r.text[:500]}"
        return r.json()

    def advance(self, seconds: float) -> dict:
        return self.control("POST", "/clock/advance", json={"seconds": seconds})

    def now(self) -> float:
        from mockserver.clock import parse_iso
        return parse_iso(self.control("GET", "/clock")["now"])

    def deliveries(self, client: str | None = None) -> list[dict]:
        return self.control("GET", "/webhooks/deliveries", params={"client": client} if client else None)["deliveries"]
