"""Where the running mock spends its time under load: py-spy on `zenhire-mock serve`.

Starts the mock as `serve` runs it (pinned to one core), drives one endpoint with the
bench's load generator on another core, samples the server with `py-spy record` meanwhile,
and prints the functions with the largest own ("self") and inclusive shares of samples.
Unlike inprocess_bench.py this sees uvicorn, httptools and the event loop too.

Needs py-spy (`pip install py-spy`) and permission to ptrace a child process.

Usage (from the repository root):
  python bench/profile_live.py --endpoint credits --duration 5
  python bench/profile_live.py --mock-arg=--strict --keep bench/results/strict.txt

Not a test: nothing asserts on these figures and CI does not run it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

from cpus import plan_cpus
from endpoints import ENDPOINTS
from loadgen import run_load
from servers import ServerStartError, free_port, mock_spec, start_server


def frame_name(frame: str) -> str:
    """`func (path/to/file.py:12)` → `func file.py`."""
    func, _, where = frame.partition(" (")
    return f"{func} {where.rsplit('/', 1)[-1].split(':')[0]}".strip()


def summarise_collapsed(text: str, top: int) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """(samples, top inclusive shares, top self shares) from py-spy's raw collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [frame_name(f) for f in stack.split(";")]
        for name in set(frames):
            inclusive[name] += samples
        own[frames[-1]] += samples
    if not total:
        return 0, [], []
    return (total, [(n, c / total) for n, c in inclusive.most_common(top)],
            [(n, c / total) for n, c in own.most_common(top)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--endpoint", choices=[e.name for e in ENDPOINTS], default="credits")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds sampled (default 5)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--mock-arg", action="append", default=[], help="extra argument for `zenhire-mock serve`")
    parser.add_argument("--keep", help="also keep py-spy's raw collapsed stacks in this file")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("py-spy is not installed (pip install py-spy)", file=sys.stderr)
        return 2
    endpoint = next(e for e in ENDPOINTS if e.name == args.endpoint)
    plan = plan_cpus()
    with tempfile.TemporaryDirectory(prefix="zenhire-profile-") as tmp:
        try:
            server = start_server(mock_spec(free_port(), extra_args=args.mock_arg), cpu=plan.server_cpu,
                                  log_dir=Path(tmp), ready_path=endpoint.path)
        except ServerStartError as exc:
            print(f"profile aborted: {exc}", file=sys.stderr)
            return 1
        raw = Path(tmp) / "stacks.txt"
        try:
            load = threading.Thread(target=run_load, args=(server.base_url + endpoint.path, endpoint.headers),
                                    kwargs={"connections": args.connections, "duration": args.duration + 2,
                                            "cpu": plan.load_cpu}, daemon=True)
            load.start()
            spy = subprocess.run([py_spy, "record", "-p", str(server.proc.pid), "-d", str(max(1, round(args.duration))),
                                  "-r", str(args.rate), "-f", "raw", "-o", str(raw)],
                                 capture_output=True, text=True, timeout=args.duration + 60, check=False)
            load.join(timeout=args.duration + 40)
        finally:
            server.stop()
        if not raw.exists():
            print(f"py-spy failed (exit {spy.returncode}): {spy.stderr.strip()[-800:]}", file=sys.stderr)
            return 1
        text = raw.read_text()
        if args.keep:
            Path(args.keep).parent.mkdir(parents=True, exist_ok=True)
            Path(args.keep).write_text(text)
    total, inclusive, own = summarise_collapsed(text, args.top + 12)
    own = own[:args.top]
    print(f"{total} samples of the mock serving {endpoint.path} ({plan.describe()})\n")
    print("inclusive share (function and everything it calls)")
    for name, share in inclusive:
        if share > 0.995:  # the process's own outer frames: always on the stack
            continue
        print(f"  {share:6.1%}  {name}")
    print("\nown share (time in the function itself)")
    for name, share in own:
        print(f"  {share:6.1%}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
