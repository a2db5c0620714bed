"""End to end: the docs' "Your first request" Python client, run essentially verbatim
against a real uvicorn on 127.0.0.1 with a scaled clock (SPCH-1, SPCH-4, SPCH-5, POLL-3, CLOCK-2).

The client is copied from docs/003 ("Full working example"): `requests` for the submit,
polling that sleeps `pollIntervalSeconds` then escalates 15 → 30 → 60 s, `Retry-After` on
429, return on success/partial, raise on failed. Only `API_BASE`, `API_KEY` and `AUDIO`
point at the test server and a generated recording. The clock runs 60× faster, so the
advertised 15-virtual-second interval is 1 real second; the scenario makes processing take
30–45 virtual seconds, so the run is done by the client's first poll and the whole flow
takes about a second of real time (the client's own escalation would sleep a real 15 s).
"""

from __future__ import annotations

import sys
import time

import pytest
import requests

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.testing import serving
from tests.conftest import FULL
from tests.support.audio_fixtures import audio_file

TIME_SCALE = 60.0
SCENARIO = """version: 1
settings:
  speech:
    processingSeconds: [30, 45]
"""

# --------------------------------------------------------------------------- the docs' client
# From "Your first request" → "Full working example" (Python); constants set by `serve`.
API_BASE = "https://platform.zenhire.ai"
API_KEY = "zh_…"
AUDIO = "interview.mp3"


def analyze(audio_path: str, external_id: str | None = None) -> dict:
    # 1. Submit
    with open(audio_path, "rb") as f:
        data = {"language": "en"}
        if external_id:
            data["externalId"] = external_id
        r = requests.post(
            f"{API_BASE}/api/v1/speech/analyze",
            headers={"X-API-Key": API_KEY},
            files={"audio": f},
            data=data,
            timeout=60,
        )
    r.raise_for_status()
    submit = r.json()
    request_id = submit["id"]
    print(f"Submitted: {request_id} (status={submit['status']})")

    # 2. Poll
    start = time.time()
    interval = submit.get("pollIntervalSeconds", 15)
    while time.time() - start < 20 * 60:  # 20-minute budget
        time.sleep(interval)
        resp = requests.get(
            f"{API_BASE}/api/v1/speech/analyze/{request_id}",
            headers={"X-API-Key": API_KEY},
            timeout=30,
        )
        if resp.status_code == 429:
            retry_after = int(resp.headers.get("Retry-After", interval))
            time.sleep(retry_after)
            continue
        resp.raise_for_status()
        data = resp.json()
        status = data["status"]
        if status in ("success", "partial"):
            return data
        if status == "failed":
            err = data.get("error") or {}
            raise RuntimeError(f"{err.get('code')}: {err.get('message')}")
        # Escalate: 15s for first 2 min, then 30s, then 60s
        elapsed = time.time() - start
        interval = 15 if elapsed < 120 else 30 if elapsed < 300 else 60
    raise TimeoutError(
        f"Polling budget exhausted for {request_id} "
        "— the id is still valid, you can resume later."
    )


def main() -> None:
    result = analyze(AUDIO, external_id="candidate-abc-123")
    s = result["scores"]
    print(f"Overall: {s['overall']} ({s['cefrLevel']})")
    print(f" Vocab: {s['vocabulary']} ({s['vocabularyCefr']})")
    print(f" Fluency: {s['fluency']} ({s['fluencyCefr']})")
    print(f" Accent: {s['accent']} ({s['accentCefr']})")
    print(f"\n{result['hrRecommendation']}")


# --------------------------------------------------------------------------- the server

@pytest.fixture
def serve(tmp_path):
    """A real uvicorn on a free 127.0.0.1 port, 60× scaled clock, strict contract checks."""
    scenario = tmp_path / "fast.yaml"
    scenario.write_text(SCENARIO)
    app = create_app(Settings(clock="scaled", time_scale=TIME_SCALE, strict=True, scenarios=[str(scenario)]))
    with serving(app) as url:
        yield url


def test_the_docs_first_request_client_gets_a_success_in_seconds(serve, tmp_path, monkeypatch, capsys):
    recording = tmp_path / "interview.mp3"
    recording.write_bytes(audio_file("mp3", 4 * 60 + 5))
    client_module = sys.modules[__name__]
    monkeypatch.setattr(client_module, "API_BASE", serve)
    monkeypatch.setattr(client_module, "API_KEY", FULL)
    monkeypatch.setattr(client_module, "AUDIO", str(recording))

    started = time.monotonic()
    main()
    elapsed = time.monotonic() - started

    out = capsys.readouterr().out
    assert "Submitted: req_" in out and "(status=processing)" in out
    assert "Overall: " in out and " Vocab: " in out and " Fluency: " in out and " Accent: " in out
    assert "proficiency" in out  # the HR recommendation
    assert elapsed < 10, f"the flow took {elapsed:.1f} s"

    journal = requests.get(f"{serve}/__mock/journal", params={"path": "/api/v1/speech"}, timeout=5).json()
    calls = [(e["method"], e["status"]) for e in reversed(journal["entries"])]
    assert calls[0] == ("POST", 202)
    assert calls[-1] == ("GET", 200)
    assert all(status in (200, 202, 429) for _, status in calls)
