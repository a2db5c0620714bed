"""The Speech load client: N concurrent clients, each submitting audio and polling its run
to completion against a mock on a scaled clock. Run by `speech_scenario.py` in its own
process (pinned to the load core); prints one JSON line.

Phases, each bounded:
1. warm-up: every client completes one run (not counted);
2. timed: for ``--duration`` seconds every client loops submit → poll every ``--poll-every``
   real seconds until `success`/`partial`/`failed`; submissions/s and polls/s are counted
   (a 429 on a poll is counted as throttled and the client polls again after the interval);
3. memory: clients only submit until ``--memory-runs`` runs are stored, and the server's
   RSS (from /proc, same machine) before and after gives the growth per 10,000 runs;
4. probes: GET /api/v1/credits and GET /api/v1/speech/runs?limit=20, timed right after the
   warm-up and again at the end, show how reads scale with the number of stored runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

MARK = "SPEECH_JSON "
TERMINAL = {"success", "partial", "failed"}
MAX_POLLS_PER_RUN = 100_000
PROBES = 20


class Connection:
    """One keep-alive HTTP/1.1 connection; responses must carry Content-Length."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str],
                      body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):  # one reconnect if the server closed an idle connection
            try:
                if self._writer is None:
                    self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
                head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                        f"Content-Length: {len(body)}"] + [f"{k}: {v}" for k, v in headers.items()]
                self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
                raw = await self._reader.readuntil(b"\r\n\r\n")
                lines = raw.decode("latin-1").split("\r\n")
                status = int(lines[0].split(" ", 2)[1])
                resp_headers = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        resp_headers[name.strip().lower()] = value.strip()
                length = int(resp_headers.get("content-length", "0"))
                payload = await self._reader.readexactly(length) if length else b""
                if resp_headers.get("connection", "").lower() == "close":
                    await self.close()
                return status, resp_headers, payload
            except (OSError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._reader = None


def multipart_audio(audio: bytes, filename: str) -> tuple[str, bytes]:
    boundary = "zenhirebench7d1f0c"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + audio + \
        f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nen\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


class Tally:
    def __init__(self) -> None:
        self.submitted = 0
        self.polls = 0
        self.throttled = 0
        self.completed: Counter[str] = Counter()
        self.unexpected: Counter[str] = Counter()
        self.submit_latency: list[float] = []
        self.poll_latency: list[float] = []


class SpeechClient:
    def __init__(self, base_url: str, key: str, audio: bytes, poll_every: float) -> None:
        parts = urlsplit(base_url)
        self.conn = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        content_type, self.body = multipart_audio(audio, "bench.mp3")
        self.submit_headers = {"X-API-Key": key, "Content-Type": content_type}
        self.read_headers = {"X-API-Key": key}
        self.poll_every = poll_every

    async def submit(self, tally: Tally) -> str | None:
        started = time.perf_counter()
        status, _, payload = await self.conn.request("POST", "/api/v1/speech/analyze", self.submit_headers, self.body)
        tally.submit_latency.append(time.perf_counter() - started)
        if status != 202:
            tally.unexpected[f"submit {status} {_error_code(payload)}"] += 1
            return None
        tally.submitted += 1
        return json.loads(payload)["id"]

    async def poll_to_end(self, run_id: str, tally: Tally, deadline: float) -> None:
        for _ in range(MAX_POLLS_PER_RUN):
            await asyncio.sleep(self.poll_every)
            if time.perf_counter() >= deadline:
                return
            started = time.perf_counter()
            status, _, payload = await self.conn.request("GET", f"/api/v1/speech/analyze/{run_id}", self.read_headers)
            tally.poll_latency.append(time.perf_counter() - started)
            tally.polls += 1
            if status == 429:
                tally.throttled += 1
                continue
            if status != 200:
                tally.unexpected[f"poll {status} {_error_code(payload)}"] += 1
                return
            run_status = json.loads(payload)["status"]
            if run_status in TERMINAL:
                tally.completed[run_status] += 1
                return

    async def loop_runs(self, tally: Tally, deadline: float, max_runs: int) -> None:
        for _ in range(max_runs):
            if time.perf_counter() >= deadline:
                return
            run_id = await self.submit(tally)
            if run_id is not None:
                await self.poll_to_end(run_id, tally, deadline)

    async def submit_only(self, tally: Tally, shared: dict, target: int, deadline: float) -> None:
        while shared["stored"] < target and time.perf_counter() < deadline:
            shared["stored"] += 1  # claim before awaiting so clients do not overshoot
            if await self.submit(tally) is None:
                shared["stored"] -= 1
                return


def _error_code(payload: bytes) -> str:
    try:
        return json.loads(payload)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""


def rss_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


async def probe(client: SpeechClient) -> dict[str, float]:
    """Median ms of GET /credits and of the first page of GET /speech/runs."""
    out = {}
    for name, path in (("credits_ms", "/api/v1/credits"), ("list_runs_ms", "/api/v1/speech/runs?limit=20")):
        samples = []
        for _ in range(PROBES):
            started = time.perf_counter()
            status, _, _ = await client.conn.request("GET", path, client.read_headers)
            samples.append(time.perf_counter() - started)
            if status != 200:
                out[name + "_status"] = status
        out[name] = statistics.median(samples) * 1000
    return out


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000 if ordered else 0.0


async def run(args: argparse.Namespace) -> dict:
    audio = open(args.audio, "rb").read()
    clients = [SpeechClient(args.base_url, key, audio, args.poll_every) for key in args.key]
    warm = Tally()
    warm_deadline = time.perf_counter() + args.warmup_timeout
    await asyncio.gather(*(c.loop_runs(warm, warm_deadline, 1) for c in clients))
    probes_before = await probe(clients[0])
    stored_before = warm.submitted

    tally = Tally()
    started = time.perf_counter()
    await asyncio.gather(*(c.loop_runs(tally, started + args.duration, MAX_POLLS_PER_RUN) for c in clients))
    elapsed = time.perf_counter() - started

    rss_before = rss_bytes(args.server_pid)
    fill = Tally()
    shared = {"stored": stored_before + tally.submitted}
    fill_started = time.perf_counter()
    await asyncio.gather(*(c.submit_only(fill, shared, args.memory_runs, fill_started + args.fill_timeout)
                           for c in clients))
    fill_elapsed = time.perf_counter() - fill_started
    rss_after = rss_bytes(args.server_pid)
    probes_after = await probe(clients[0])
    for client in clients:
        await client.conn.close()

    runs_added = fill.submitted
    growth = None
    if rss_before is not None and rss_after is not None and runs_added:
        growth = (rss_after - rss_before) / runs_added * 10_000
    return {
        "clients": len(clients), "seconds": elapsed, "submissions": tally.submitted, "polls": tally.polls,
        "submissions_per_s": tally.submitted / elapsed, "polls_per_s": tally.polls / elapsed,
        "throttled_polls": tally.throttled, "completed": dict(tally.completed),
        "unexpected": dict(tally.unexpected + warm.unexpected + fill.unexpected),
        "submit_p50_ms": _pct(tally.submit_latency, 50), "submit_p99_ms": _pct(tally.submit_latency, 99),
        "poll_p50_ms": _pct(tally.poll_latency, 50), "poll_p99_ms": _pct(tally.poll_latency, 99),
        "fill_runs": runs_added, "fill_seconds": fill_elapsed,
        "fill_submissions_per_s": runs_added / fill_elapsed if fill_elapsed else 0.0,
        "stored_runs_at_end": shared["stored"], "rss_before_fill": rss_before, "rss_after_fill": rss_after,
        "rss_growth_per_10k_runs": growth, "probes_after_warmup": probes_before | {"stored_runs": stored_before},
        "probes_at_end": probes_after | {"stored_runs": shared["stored"]},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--key", action="append", required=True, help="one API key per client")
    parser.add_argument("--audio", required=True)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--poll-every", type=float, required=True, help="real seconds between polls")
    parser.add_argument("--memory-runs", type=int, default=10_000)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--warmup-timeout", type=float, default=30.0)
    parser.add_argument("--fill-timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    try:
        from uvloop import run as run_loop
    except ImportError:
        run_loop = asyncio.run
    print(MARK + json.dumps(run_loop(run(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
