"""`zenhire-mock grade` run as a separate process against a live mock (uvicorn on a free
127.0.0.1 port): exit codes by threshold, the text and JSON reports, JUnit XML with one
testcase per rule checked (a failure for each rule broken at or above the threshold), the
control token, and exit 2 when the report cannot be had."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import httpx
import pytest

from conftest import FULL
from test_grading_docs_clients import live_mock

SPEECH = "/api/v1/speech/analyze"


def run_grade(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mockserver.cli", "grade", *args],
                          capture_output=True, text=True, timeout=60)


def submit_and_poll_too_fast(base: str) -> str:
    from tests.support.audio_fixtures import audio_file
    with httpx.Client(base_url=base, headers={"X-API-Key": FULL}, trust_env=False) as http:
        run_id = http.post(SPEECH, data={"language": "en"},
                           files={"audio": ("a.wav", audio_file("wav", 200), "audio/wav")}).json()["id"]
        http.post("/__mock/clock/advance", json={"seconds": 15})
        http.get(f"{SPEECH}/{run_id}")
        assert http.get(f"{SPEECH}/{run_id}").status_code == 429  # POLL_TOO_FAST
        http.post("/__mock/clock/advance", json={"seconds": 600})
        assert http.get(f"{SPEECH}/{run_id}").json()["status"] in ("success", "partial")
        return run_id


def submit_and_never_read(base: str) -> None:
    from tests.support.audio_fixtures import audio_file
    with httpx.Client(base_url=base, headers={"X-API-Key": FULL}, trust_env=False) as http:
        assert http.post(SPEECH, data={"language": "en"},
                         files={"audio": ("a.wav", audio_file("wav", 200), "audio/wav")}).status_code == 202


@pytest.fixture(scope="module")
def misbehaving_mock():
    with live_mock() as base:
        submit_and_poll_too_fast(base)
        yield base


def test_grade_exits_1_on_an_error_finding_and_prints_the_rule_with_its_docs_sentence(misbehaving_mock):
    done = run_grade("--base-url", misbehaving_mock, "--client", "acme")
    assert done.returncode == 1, done.stderr
    assert "[ERROR] POLL_TOO_FAST x1" in done.stdout
    assert "Minimum interval per run id is 10 seconds" in done.stdout
    assert "requests graded" in done.stdout


def test_grade_json_prints_the_report_of_the_control_api(misbehaving_mock):
    done = run_grade("--base-url", misbehaving_mock, "--client", "acme", "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report == httpx.get(f"{misbehaving_mock}/__mock/grades", params={"client": "acme"}, trust_env=False).json()
    assert [f["rule"] for f in report["findings"]] == ["POLL_TOO_FAST"]


def test_junit_lists_one_testcase_per_rule_checked_with_a_failure_for_the_broken_one(misbehaving_mock, tmp_path):
    junit = tmp_path / "grade.xml"
    done = run_grade("--base-url", misbehaving_mock, "--client", "acme", "--junit", str(junit))
    assert done.returncode == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    rules = httpx.get(f"{misbehaving_mock}/__mock/grades", params={"client": "acme"},
                      trust_env=False).json()["rules_checked"]
    assert [c.get("name") for c in cases] == rules
    failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert list(failed) == ["POLL_TOO_FAST"]
    assert failed["POLL_TOO_FAST"].get("type") == "error" and "POLL_RATE_LIMITED" in failed["POLL_TOO_FAST"].text
    assert suite.get("tests") == str(len(rules)) and suite.get("failures") == "1"


def test_an_advice_only_client_passes_by_default_and_fails_with_fail_on_advice(tmp_path):
    with live_mock() as base:
        submit_and_never_read(base)
        relaxed = run_grade("--base-url", base, "--client", "acme")
        strict = run_grade("--base-url", base, "--client", "acme", "--fail-on", "advice",
                           "--junit", str(tmp_path / "advice.xml"))
        warning = run_grade("--base-url", base, "--client", "acme", "--fail-on", "warning")
    assert relaxed.returncode == 0 and "[ADVICE] RUN_NEVER_READ" in relaxed.stdout  # shown, not failing
    assert warning.returncode == 0
    assert strict.returncode == 1 and "[ADVICE] RUN_NEVER_READ" in strict.stdout
    cases = ET.parse(tmp_path / "advice.xml").getroot().find("testsuite").findall("testcase")
    assert [c.get("name") for c in cases if c.find("failure") is not None] == ["RUN_NEVER_READ"]


def test_a_clean_client_exits_0_and_its_junit_has_no_failure(tmp_path):
    with live_mock() as base:
        done = run_grade("--base-url", base, "--client", "acme", "--junit", str(tmp_path / "clean.xml"))
    assert done.returncode == 0 and "no findings" in done.stdout
    assert "<failure" not in (tmp_path / "clean.xml").read_text()


def test_grade_sends_the_control_token_and_exits_2_without_it():
    with live_mock(control_token="t0ken") as base:
        refused = run_grade("--base-url", base, "--client", "acme")
        allowed = run_grade("--base-url", base, "--client", "acme", "--control-token", "t0ken")
    assert refused.returncode == 2 and "401" in refused.stderr
    assert allowed.returncode == 0


def test_an_unknown_client_or_an_unreachable_mock_exits_2(misbehaving_mock):
    unknown = run_grade("--base-url", misbehaving_mock, "--client", "nobody")
    assert unknown.returncode == 2 and "no client 'nobody'" in unknown.stderr
    unreachable = run_grade("--base-url", "http://127.0.0.1:9", "--client", "acme", "--timeout", "2")
    assert unreachable.returncode == 2
