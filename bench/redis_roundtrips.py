"""Redis round trips and commands per request on the shared store (issue #15's hot paths).

The mock runs in this process (the real app through Starlette's TestClient, manual clock,
`--store redis://…` on a redis-server this script starts on a free loopback port, persistence
off, and stops by PID). For each request kind it counts, over ``--repeat`` requests:

- round trips on the request's path: packets the redis-py client sends and waits for
  (`Connection.send_packed_command`; a pipeline of several commands is one) while serving it;
- background round trips: those the request causes off its path — the journal writer thread
  appending its line (written here right after each request, so no line is left unattributed)
  and broadcast acknowledgements;
- commands: the server's own count (`INFO commandstats` deltas; a script is one EVALSHA,
  whatever it runs inside).

Request kinds: `GET /api/v1/health`; `GET /api/v1/credits` with nothing to settle; the same
with one settlement due (a Speech run finished since the last read); the poll of a finished
Speech run; a Speech submit (a fresh idempotency key each). Figures are per request.

Usage (repository root): python bench/redis_roundtrips.py [--repeat 20] [--json FILE]
Not a test: nothing asserts on these counts and CI does not run it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

import redis  # noqa: E402
from redis.connection import Connection  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from endpoints import API_KEY  # noqa: E402
from mockserver.app import create_app  # noqa: E402
from mockserver.config import Settings  # noqa: E402
from mockserver.store.redis_store import RedisStore  # noqa: E402
from replicas_bench import BenchRedis  # noqa: E402
from tests.support.audio_fixtures import audio_file  # noqa: E402

KEY = {"X-API-Key": API_KEY}


_BACKGROUND_THREADS = ("zh-journal-writer", "zh-store-broadcast")


class RoundTrips:
    """Counts every packet redis-py sends (each awaits its reply: one round trip), on the
    request's path (``count``) and off it (``background``: the mock's writer and listener
    threads, and what `off_path` wraps)."""

    def __init__(self) -> None:
        self.count = 0
        self.background = 0
        self._off_path = False
        self._original = Connection.send_packed_command

        counter = self

        def counted(conn, command, check_health=True):
            if counter._off_path or threading.current_thread().name in _BACKGROUND_THREADS:
                counter.background += 1
            else:
                counter.count += 1
            return counter._original(conn, command, check_health)

        Connection.send_packed_command = counted

    def off_path(self, action) -> None:
        self._off_path = True
        try:
            action()
        finally:
            self._off_path = False

    def restore(self) -> None:
        Connection.send_packed_command = self._original


def commandstats(client: redis.Redis) -> Counter:
    stats = client.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()})


def measure(action, repeat: int, trips: RoundTrips, probe: redis.Redis, settle, prepare=None) -> dict:
    """Round trips and commands of ``action`` per call; what ``prepare`` does is not counted.
    ``settle`` writes the journal's queued line after each call (counted off the path)."""
    total_trips = total_background = 0
    commands: Counter = Counter()
    for _ in range(repeat):
        if prepare is not None:
            prepare()
            trips.off_path(settle)
        before = commandstats(probe)
        start, start_background = trips.count, trips.background
        action()
        trips.off_path(settle)
        total_trips += trips.count - start
        total_background += trips.background - start_background
        after = commandstats(probe)
        before["info"] += 1  # the commandstats read itself
        commands.update(after - before)
    return {"round_trips": total_trips / repeat, "background_round_trips": total_background / repeat,
            "commands": sum(commands.values()) / repeat,
            "by_command": {k: v / repeat for k, v in sorted(commands.items())}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", help="also write the counts to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="zh-roundtrips-") as tmp:
        server = BenchRedis(None, Path(tmp))
        try:
            url = server.url(0)
            probe = redis.Redis.from_url(url)
            store = RedisStore(url)
            app = create_app(Settings(clock="manual"), store=store)
            trips = RoundTrips()
            try:
                with TestClient(app, client=("127.0.0.1", 50000)) as api:
                    results = run(api, args.repeat, trips, probe, app.state.platform.journal.flush)
            finally:
                trips.restore()
                store.close()
        finally:
            server.stop()
    print(f"{'request':<42}{'round trips':>12}{'background':>11}{'commands':>10}   commands by name")
    for name, row in results.items():
        detail = ", ".join(f"{k} {v:g}" for k, v in row["by_command"].items())
        print(f"{name:<42}{row['round_trips']:>12.2f}{row['background_round_trips']:>11.2f}"
              f"{row['commands']:>10.2f}   {detail}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


def run(api: TestClient, repeat: int, trips: RoundTrips, probe: redis.Redis, settle) -> dict:
    audio = audio_file("flac", 180)

    def submit(key_suffix=[0]) -> str:
        key_suffix[0] += 1
        res = api.post("/api/v1/speech/analyze", headers=KEY | {"Idempotency-Key": f"rt-{key_suffix[0]}"},
                       data={"language": "en"}, files={"audio": ("a.flac", audio, "audio/flac")})
        assert res.status_code == 202, res.text
        return res.json()["id"]

    def get(path: str, headers=None) -> None:
        res = api.get(path, headers=headers or {})
        assert res.status_code == 200, (path, res.status_code, res.text)

    def advance(seconds: float) -> None:
        res = api.post("/__mock/clock/advance", json={"seconds": seconds})
        assert res.status_code == 200, res.text

    run_id = submit()
    advance(86400)
    get("/api/v1/credits", KEY)  # settles the first run
    out = {}
    out["GET /api/v1/health"] = measure(lambda: get("/api/v1/health"), repeat, trips, probe, settle)
    out["GET /api/v1/credits (nothing due)"] = measure(lambda: get("/api/v1/credits", KEY),
                                                        repeat, trips, probe, settle)

    def one_due() -> None:
        submit()
        advance(86400)

    out["GET /api/v1/credits (one settlement due)"] = measure(lambda: get("/api/v1/credits", KEY), repeat, trips, probe, settle, prepare=one_due)
    out["GET /api/v1/speech/analyze/{id} (done)"] = measure(lambda: get(f"/api/v1/speech/analyze/{run_id}", KEY), repeat, trips, probe, settle)
    out["POST /api/v1/speech/analyze"] = measure(submit, repeat, trips, probe, settle, prepare=lambda: advance(3600))
    return out


if __name__ == "__main__":
    sys.exit(main())
