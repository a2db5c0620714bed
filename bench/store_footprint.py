"""What one stored run holds, per module: bytes per run by store kind and in total.

In process (no sockets): the real app on the manual clock, one tenant with ample credits,
``--runs`` submits of each module (Speech: a real 3-minute MP3; CV DeepMatch: a real PDF CV),
the clock moved so every run finishes and settles. tracemalloc measures what the process
keeps per run; a per-kind walk of the store says where it sits. Bounded: stops after the runs.

    python bench/store_footprint.py --runs 2000
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import tracemalloc
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))

KEY = "zh_api_test_bench_footprint_0001"


def scenario_file(tmp: Path) -> Path:
    path = tmp / "footprint.yaml"
    path.write_text(json.dumps({"version": 1, "description": "footprint bench tenant", "clients": [
        {"id": "footprint", "name": "Footprint bench", "permissions": ["speech", "cvdeepmatch"],
         "credits": 100_000_000, "rateLimitPerMinute": 1_000_000,
         "keys": [{"key": KEY, "label": "bench"}]}]}))
    return path


def deep_size(obj, seen: set[int]) -> int:
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, (list, tuple)):
        size += sum(deep_size(v, seen) for v in obj)
    return size


def store_kinds(store) -> dict[str, tuple[int, int]]:
    """kind -> (documents, bytes held by them and their index entries)."""
    out = {}
    for kind, docs in store._docs.items():
        seen: set[int] = set()
        size = deep_size(docs, seen) + deep_size(store._index.get(kind, {}), seen)
        out[kind] = (len(docs), size)
    return out


def run_module(module: str, runs: int, tmp: Path) -> dict:
    from starlette.testclient import TestClient

    from mockserver.app import create_app
    from mockserver.config import Settings

    app = create_app(Settings(clock="manual", scenarios=[str(scenario_file(tmp))]))
    with TestClient(app, client=("127.0.0.1", 50000)) as api:
        headers = {"X-API-Key": KEY}
        if module == "speech":
            from tests.support.audio_fixtures import audio_file
            audio = audio_file("mp3", 180)

            def submit():
                return api.post("/api/v1/speech/analyze", headers=headers, files={"audio": ("a.mp3", audio)})
        else:
            from test_cvdeepmatch_submit import JOB_DESCRIPTION, config_text, strong_cv
            pdf = strong_cv()
            form = {"position_id": "eng-backend-2026", "job_description": JOB_DESCRIPTION, "config": config_text()}

            def submit():
                return api.post("/api/v1/cvdeepmatch/submit", headers=headers, data=form,
                                files={"cv_file": ("cv.pdf", pdf, "application/pdf")})

        def settle():
            api.post("/__mock/clock/advance", json={"seconds": 4 * 3600})
            api.get("/api/v1/credits", headers=headers)

        warm = max(runs // 10, 20)
        for _ in range(warm):
            assert submit().status_code == 202
        settle()
        gc.collect()
        store = app.state.platform.store
        before_kinds = store_kinds(store)
        tracemalloc.start()
        start, _ = tracemalloc.get_traced_memory()
        for i in range(runs):
            response = submit()
            assert response.status_code == 202, response.text
            if i % 200 == 199:
                api.post("/__mock/clock/advance", json={"seconds": 60})
        settle()
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        after_kinds = store_kinds(store)
    by_kind = {kind: round((size - before_kinds.get(kind, (0, 0))[1]) / runs)
               for kind, (_n, size) in after_kinds.items()}
    return {"module": module, "runs": runs, "bytes_per_run": round((end - start) / runs),
            "mib_per_10k_runs": round((end - start) / runs * 10_000 / 2**20, 1),
            "store_bytes_per_run_by_kind": {k: v for k, v in by_kind.items() if v}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--modules", default="speech,cvdeepmatch")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for module in args.modules.split(","):
            result = run_module(module, args.runs, Path(tmp))
            results.append(result)
            print(f"{module:12s} {result['bytes_per_run']:7d} B/run  {result['mib_per_10k_runs']:6.1f} MiB per 10,000 runs")
            for kind, size in sorted(result["store_bytes_per_run_by_kind"].items(), key=lambda kv: -kv[1]):
                print(f"    {kind:16s} {size:7d} B/run")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
