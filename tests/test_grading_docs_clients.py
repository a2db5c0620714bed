"""The docs' own clients grade clean: "Your first request" in Python (run verbatim against a
scaled clock), the docs' bash curl loop with 15 s polls (run verbatim by bash, its `sleep` and
`date +%s` bound to the mock's manual clock through the control API), and the CV DeepMatch
integration flow (idempotency key, the guide's poll backoff table, a receiver verifying every
callback with the docs' verifier — receiver probes switched on).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import requests

import test_docs_first_request as first_request
from conftest import FULL, Api
from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.testing import serving
from test_cvdeepmatch_submit import accepted_id, poll, submit
from test_cvdeepmatch_webhooks import hook_app
from test_docs_first_request import serve  # noqa: F401  (the scaled-clock uvicorn fixture)
from test_grading_webhooks import docs_receiver, probes_on, secret_of
from tests.support.audio_fixtures import audio_file

DOCS_BUNDLE = Path(__file__).resolve().parents[2] / "shared" / "docs" / "000_dc2af59d6d78446e.txt"

# The docs' bash client ("Your first request", bash tab), verbatim but for API_BASE.
DOCS_BASH_CLIENT = r'''#!/usr/bin/env bash
set -euo pipefail
API_BASE="https://platform.zenhire.ai"
API_KEY="${ZENHIRE_API_KEY:?set ZENHIRE_API_KEY}"
AUDIO="interview.mp3"
# 1. Submit
SUBMIT=$(curl -sS -X POST "$API_BASE/api/v1/speech/analyze" \
-H "X-API-Key: $API_KEY" \
-F "audio=@$AUDIO" \
-F "language=en" \
-F "externalId=candidate-abc-123")
REQUEST_ID=$(echo "$SUBMIT" | python3 -c "import sys, json; print(json.load(sys.stdin)['id'])")
echo "Submitted: $REQUEST_ID"
# 2. Poll
INTERVAL=15
START=$(date +%s)
while true; do
sleep "$INTERVAL"
NOW=$(date +%s)
if (( NOW - START > 20 * 60 )); then
echo "Polling budget exhausted"
exit 1
fi
RESP=$(curl -sS -w "\n%{http_code}" "$API_BASE/api/v1/speech/analyze/$REQUEST_ID" \
-H "X-API-Key: $API_KEY")
HTTP_CODE=$(echo "$RESP" | tail -1)
BODY=$(echo "$RESP" | sed '$d')
if [[ "$HTTP_CODE" == "429" ]]; then
sleep 15; continue
fi
STATUS=$(echo "$BODY" | python3 -c "import sys, json; print(json.load(sys.stdin)['status'])")
case "$STATUS" in
success|partial)
echo "$BODY" | python3 -m json.tool
exit 0 ;;
failed)
echo "Analysis failed: $BODY"
exit 1 ;;
esac
ELAPSED=$(( $(date +%s) - START ))
INTERVAL=$(( ELAPSED < 120 ? 15 : ELAPSED < 300 ? 30 : 60 ))
done
'''

# Time for the script: `sleep N` moves the mock's manual clock N seconds, `date +%s` reads it.
CLOCK_SHIMS = r'''
sleep() { curl -sS -X POST "$MOCK/__mock/clock/advance" -H 'Content-Type: application/json' \
  -d "{\"seconds\": $1}" >/dev/null; }
date() {
  if [[ "${1:-}" == "+%s" ]]; then
    curl -sS "$MOCK/__mock/clock" | python3 -c "import sys, json; print(int(json.load(sys.stdin)['epoch']))"
  else command date "$@"; fi
}
'''


@contextlib.contextmanager
def live_mock(**settings):
    """A real uvicorn on a free 127.0.0.1 port (manual clock, strict unless told)."""
    settings.setdefault("clock", "manual")
    settings.setdefault("strict", True)
    app = create_app(Settings(**settings))
    with serving(app) as url:
        yield url


def http_grade(base: str, client: str = "acme") -> dict:
    response = requests.get(f"{base}/__mock/grades", params={"client": client}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_bash_client_is_kept_verbatim_from_the_docs():
    if not DOCS_BUNDLE.exists():
        import pytest
        pytest.skip("the docs bundle is not on this machine")
    text = DOCS_BUNDLE.read_text(encoding="utf-8")
    assert DOCS_BASH_CLIENT in text


def test_the_docs_python_first_request_client_grades_clean(serve, tmp_path, monkeypatch, capsys):  # noqa: F811
    recording = tmp_path / "interview.mp3"
    recording.write_bytes(audio_file("mp3", 4 * 60 + 5))
    monkeypatch.setattr(first_request, "API_BASE", serve)
    monkeypatch.setattr(first_request, "API_KEY", FULL)
    monkeypatch.setattr(first_request, "AUDIO", str(recording))
    first_request.main()
    assert "Overall: " in capsys.readouterr().out
    report = http_grade(serve)
    assert report["requests_covered"] >= 2
    assert report["findings"] == [], report["findings"]


def test_the_docs_bash_curl_loop_with_15_second_polls_grades_clean(tmp_path):
    (tmp_path / "interview.mp3").write_bytes(audio_file("mp3", 4 * 60 + 5))
    script = DOCS_BASH_CLIENT.replace("#!/usr/bin/env bash\nset -euo pipefail\n",
                                      "#!/usr/bin/env bash\nset -euo pipefail\n" + CLOCK_SHIMS)
    with live_mock() as base:
        script = script.replace('API_BASE="https://platform.zenhire.ai"', f'API_BASE="{base}"')
        (tmp_path / "client.sh").write_text(script)
        done = subprocess.run(["bash", "client.sh"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              env={"PATH": _path(), "ZENHIRE_API_KEY": FULL, "MOCK": base})
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Submitted: req_" in done.stdout and '"scores"' in done.stdout
        report = http_grade(base)
    polls = report["requests_covered"] - 1
    assert polls >= 8  # 2-5 minutes of processing, polled every 15 s then 30 s
    assert report["findings"] == [], report["findings"]


def _path() -> str:
    import os
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def test_the_docs_cv_deepmatch_flow_with_a_verifying_receiver_grades_clean_even_with_probes():
    with Api(hook_app()) as api:
        probes_on(api)
        receiver = docs_receiver(secret_of(api))
        with receiver:
            run_id = accepted_id(submit(api, webhook_url=receiver.url, idempotency_key="demo-2026-05-19-001"))
            status = "processing"
            for wait in (10, 15, 30, 60, 60, 60, 60):  # "Recommended backoff"
                api.advance(wait)
                status = poll(api, run_id).json()["status"]
                if status in ("finished", "failed"):
                    break
            assert status == "finished"
        assert receiver.verdicts == [200, 401, 401, 401]  # the callback, then the three probes
        report = api.get("/__mock/grades", params={"client": "acme"}).json()
    assert report["findings"] == [], report["findings"]
