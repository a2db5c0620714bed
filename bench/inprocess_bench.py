"""The mock's own per-request cost, without sockets or uvicorn, and where it goes.

Drives the ASGI app directly (a synthetic HTTP scope, the response discarded) for the same
endpoints as http_bench.py, in three variants: the bare Starlette app on the same bytes,
the mock with default settings, and the mock with `--strict`. Prints µs per request and
the difference to bare — the figure to shrink when the HTTP ratios miss their targets.
With `--profile`, runs the default mock under cProfile and prints the top functions, so a
hot spot is named with numbers.

Usage (from the repository root):
  python bench/inprocess_bench.py
  python bench/inprocess_bench.py --profile --endpoint credits
  python bench/inprocess_bench.py --scenarios my.yaml --no-default-scenarios

Not a test: nothing asserts on these figures and CI does not run it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bare_app import build_app as build_bare_app  # noqa: E402
from endpoints import ENDPOINTS, Endpoint  # noqa: E402

SAMPLES = 5


def scope_for(endpoint: Endpoint) -> dict:
    headers = [(b"host", b"127.0.0.1:8080"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    headers += [(k.lower().encode(), v.encode()) for k, v in endpoint.headers.items()]
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": endpoint.path, "raw_path": endpoint.path.encode(), "root_path": "",
            "query_string": b"", "headers": headers, "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8080), "state": {}}


class Collected:
    """The ASGI send side: keeps the status and body of the last response."""

    def __init__(self) -> None:
        self.status = 0
        self.body = b""

    async def send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.body = b""
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


async def _receive() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}


async def drive(app, endpoint: Endpoint, requests: int) -> Collected:
    collected = Collected()
    scope = scope_for(endpoint)
    for _ in range(requests):
        await app(dict(scope), _receive, collected.send)
    return collected


def us_per_request(app, endpoint: Endpoint, requests: int) -> float:
    """Best of SAMPLES runs of ``requests`` sequential requests, in CPU µs per request.

    CPU time of this process, not wall time: other processes sharing the machine delay a
    run but do not add to its figure."""
    best = float("inf")
    for _ in range(SAMPLES):
        started = time.process_time()
        asyncio.run(drive(app, endpoint, requests))
        best = min(best, (time.process_time() - started) / requests)
    return best * 1e6


def build_mock(strict: bool, scenarios: list[str], include_default: bool):
    from mockserver.app import create_app
    from mockserver.config import Settings
    return create_app(Settings(strict=strict, scenarios=scenarios, include_default_scenarios=include_default))


def poll_endpoints_inprocess(mock) -> list[Endpoint]:
    """The poll endpoints of http_bench.py (a finished Speech and CV DeepMatch run), set up on
    ``mock`` in process: `endpoints.poll_endpoints` against a loopback server running it."""
    import socket
    import threading

    import uvicorn

    from endpoints import poll_endpoints

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(mock, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        return poll_endpoints(port)
    finally:
        server.should_exit = True
        thread.join(10)


def captured_for_bare(mock, endpoints: list[Endpoint]) -> dict:
    """Responses the bare app replays: one request per endpoint through the mock."""
    import base64
    out = {}
    for endpoint in endpoints:
        got = asyncio.run(drive(mock, endpoint, 1))
        if got.status != 200:
            raise SystemExit(f"the mock answered {endpoint.path} with {got.status}: {got.body[:300]!r}")
        out[endpoint.path] = {"status": got.status, "headers": {"content-type": "application/json"},
                              "body_b64": base64.b64encode(got.body).decode()}
    return out


def profile(app, endpoint: Endpoint, requests: int, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(drive(app, endpoint, requests))
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--requests", type=int, default=5000, help="requests per sample (default 5000)")
    parser.add_argument("--endpoint", choices=[e.name for e in ENDPOINTS] + ["speech-poll", "cvdm-poll"],
                        action="append", help="default: all (strict is not measured on polls: the runs are the default mock's)")
    parser.add_argument("--scenarios", action="append", default=[])
    parser.add_argument("--no-default-scenarios", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the default mock per endpoint")
    parser.add_argument("--top", type=int, default=30, help="functions shown by --profile")
    args = parser.parse_args(argv)
    include_default = not args.no_default_scenarios
    mock = build_mock(False, args.scenarios, include_default)
    strict = build_mock(True, args.scenarios, include_default)
    every = list(ENDPOINTS)
    if not args.endpoint or {"speech-poll", "cvdm-poll"} & set(args.endpoint):
        every += poll_endpoints_inprocess(mock)  # runs of the default mock: strict has none
    endpoints = [e for e in every if not args.endpoint or e.name in args.endpoint]
    bare = build_bare_app(captured_for_bare(mock, endpoints))
    print(f"CPU µs per request in-process (best of {SAMPLES} x {args.requests}; no sockets, no uvicorn)\n")
    print(f"{'endpoint':<10}{'bare':>9}{'mock':>9}{'strict':>9}{'mock-bare':>11}{'strict-mock':>13}")
    for endpoint in endpoints:
        figures = {name: us_per_request(app, endpoint, args.requests) if app is not None else float("nan")
                   for name, app in (("bare", bare), ("mock", mock),
                                     ("strict", None if endpoint.name.endswith("-poll") else strict))}
        print(f"{endpoint.name:<10}{figures['bare']:>9.1f}{figures['mock']:>9.1f}{figures['strict']:>9.1f}"
              f"{figures['mock'] - figures['bare']:>11.1f}{figures['strict'] - figures['mock']:>13.1f}")
    if args.profile:
        for endpoint in endpoints:
            print(f"\n== cProfile, default mock, {endpoint.name}, {args.requests} requests (sorted by own time)")
            print(profile(mock, endpoint, args.requests, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
