"""Speech behaviour over HTTP: submit checks (SPCH-1..3, SPCH-9, SPCH-12, SPCH-13, META-1,
META-3), the credit check (CRED-2), the run on the clock (SPCH-4..8, SPCH-10, SPCH-11),
polling (POLL-1..6), credits settlement (CRED-3, CRED-6, A1, A9), queueing (RATE-2), the runs
list (LIST-1, LIST-2, LIST-4, AUTH-7) and the wire format (JSON-1, META-2, META-4).

Requests the contract refuses before charging (400s, the 402 itself) and reads run in every
profile; submits that start work ask `credit_guard` first, so the `safe` profile spends
nothing. Outcomes only a mock can be asked for (`X-Mock-Scenario`), throwaway tenants and
ledger-exact checks need the control API and skip without it; time passes through
`time_machine` (the mock's clock, or a bounded real wait).
"""

from __future__ import annotations

import json
import re
import struct
import zlib

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import (REQUEST_ID, Observed, assert_error, assert_no_problems, compact_json_problems,
                                   parse_timestamp)
from contract_tests.contract import schema_problems
from contract_tests.strategies import wav_bytes
from contract_tests.waiting import until

SUBMIT = "/api/v1/speech/analyze"
RUNS = "/api/v1/speech/runs"
SCENARIO_HEADER = "X-Mock-Scenario"
TERMINAL = ("success", "partial", "failed")
CEFR_BOUNDS = ((1.0, "A1"), (2.0, "A2"), (2.75, "B1"), (3.5, "B2"), (4.25, "C1"))
RUN_BUDGET_SECONDS = 20 * 60  # the 20-minute budget of the docs' client (runs take 2–5 minutes)


# --------------------------------------------------------------------------- media

def wav(seconds: float, sample_rate: int = 8000, level: int = 0) -> bytes:
    """A real 8-bit mono PCM WAV of `seconds` (a tone; `level` varies the content)."""
    return wav_bytes(seconds, sample_rate=sample_rate, frequency=220 + 37 * level)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x80\x00")) + chunk(b"IEND", b""))


_MEDIA: dict = {}


def media(name: str) -> bytes:
    """Cached recordings: 3:00, 2:59, 2:00, 45:01 (2 kHz keeps it ~5 MB), a cut header, a PNG."""
    if name not in _MEDIA:
        _MEDIA[name] = {
            "3:00": lambda: wav(180.0),
            "3:00b": lambda: wav(180.0, level=3),
            "2:59": lambda: wav(179.0),
            "2:00": lambda: wav(120.0),
            "45:01": lambda: wav(2701.0, sample_rate=2000),
            "truncated": lambda: wav(200.0)[:30],
            "png": png,
        }[name]()
    return _MEDIA[name]


# --------------------------------------------------------------------------- helpers

def submit(api, audio: bytes | None = None, *, filename: str = "interview.wav", content_type: str = "audio/wav",
           headers: dict | None = None, **fields):
    parts = []
    if audio is not None:
        parts.append(("audio", (filename, audio, content_type)))
    parts += [(name, (None, str(value).encode())) for name, value in fields.items() if value is not None]
    return api.post(SUBMIT, files=parts, headers=headers or {})


def poll(api, run_id: str):
    return api.get(f"{SUBMIT}/{run_id}")


def accepted(resp, op) -> dict:
    assert resp.status_code == 202, f"expected 202, got {resp.status_code}: {resp.text[:300]}"
    body = resp.json()
    assert_no_problems(schema_problems(op, 202, body))
    assert_no_problems(compact_json_problems(Observed.from_httpx(resp)))
    return body


def cefr(score: float) -> str:
    return next((level for bound, level in CEFR_BOUNDS if score < bound), "C2")


def wait_until_terminal(api, run_id: str, time_machine, op) -> dict:
    """Poll as the docs advise (pollIntervalSeconds / Retry-After) until a terminal status."""
    for _ in until(time_machine, RUN_BUDGET_SECONDS, f"a terminal status of run {run_id}"):
        resp = poll(api, run_id)
        if resp.status_code == 429:
            time_machine.wait_advertised(int(resp.headers["Retry-After"]), "the poll interval of a Speech run")
            continue
        assert resp.status_code == 200, resp.text[:300]
        body = resp.json()
        assert_no_problems(schema_problems(op, 200, body))
        if body["status"] in TERMINAL:
            return body
        assert resp.headers.get("Retry-After"), "a non-terminal poll carries Retry-After (POLL-3)"
        time_machine.wait_advertised(max(int(resp.headers["Retry-After"]), body["pollIntervalSeconds"]),
                                     "a Speech run to finish (typically 2–5 minutes)")


@pytest.fixture(scope="module")
def speech_ops(operation):
    return operation("submitSpeechAnalysis"), operation("getSpeechAnalysis")


@pytest.fixture(scope="module")
def list_op(operation):
    return operation("listSpeechRuns")


@pytest.fixture(scope="module")
def finished_run(api, speech_ops, credit_guard_module, time_machine):
    """One 3-minute run with correlation fields, followed to its end (shared by the read tests)."""
    submit_op, poll_op = speech_ops
    credit_guard_module.allow("a 3-minute Speech submit")
    resp = submit(api, media("3:00b"), language="en", externalId="ct-speech-run",
                  metadata=json.dumps({"suite": "contract", "round": 2}), tags="ct-speech,contract")
    body = accepted(resp, submit_op)
    result = wait_until_terminal(api, body["id"], time_machine, poll_op)
    return {"submit": body, "submit_text": resp.text, "result": result}


@pytest.fixture(scope="module")
def credit_guard_module(target):
    return target.credits


# --------------------------------------------------------------------------- refused before charging

@covers("SPCH-2", "SPCH-13")
def test_audio_under_three_minutes_is_too_short(api, speech_ops):
    assert_error(submit(api, media("2:59")), 400, "AUDIO_TOO_SHORT", speech_ops[0])


@covers("A12")
def test_a_two_minute_recording_is_still_too_short(api, speech_ops):
    """A12: the changelog's 2-minute example does not lower the documented 3-minute minimum."""
    assert_error(submit(api, media("2:00")), 400, "AUDIO_TOO_SHORT", speech_ops[0])


@covers("SPCH-2")
def test_audio_over_forty_five_minutes_is_too_long(api, speech_ops):
    assert_error(submit(api, media("45:01")), 400, "AUDIO_TOO_LONG", speech_ops[0])


@covers("SPCH-2")
def test_a_file_cut_inside_its_header_has_no_readable_duration(api, speech_ops):
    assert_error(submit(api, media("truncated")), 400, "AUDIO_DURATION_UNAVAILABLE", speech_ops[0])


@covers("SPCH-2")
def test_a_png_named_mp3_is_an_unsupported_format(api, speech_ops):
    assert_error(submit(api, media("png"), filename="interview.mp3", content_type="audio/mpeg"),
                 400, "UNSUPPORTED_FORMAT", speech_ops[0])


@covers("SPCH-2", "ERR-4")
def test_no_audio_part_is_missing_audio_file(api, speech_ops):
    err = assert_error(submit(api, None, language="en"), 400, "MISSING_AUDIO_FILE", speech_ops[0])
    assert (err.get("details") or {}).get("fields"), err


@covers("SPCH-2")
def test_a_file_over_25_mb_is_too_large(api, speech_ops):
    assert_error(submit(api, b"RIFF" + bytes(25 * 1024 * 1024)), 400, "FILE_TOO_LARGE", speech_ops[0])


@covers("SPCH-3")
@pytest.mark.parametrize("language", ["xx", "eng"])
def test_a_language_outside_the_sixteen_is_invalid(api, speech_ops, language):
    assert_error(submit(api, media("3:00"), language=language), 400, "INVALID_LANGUAGE_CODE", speech_ops[0])


@covers("SPCH-3")
def test_non_english_without_the_multilingual_permission_is_403(api, speech_ops, provision):
    tenant = provision.tenant("monolingual", permissions=["speech"], multilingual=False)
    assert_error(submit(api.with_key(tenant.key), media("3:00"), language="es"), 403,
                 "MULTILINGUAL_NOT_ENABLED", speech_ops[0])


@covers("META-1")
@pytest.mark.parametrize("fields", [
    {"metadata": "{not json"},
    {"metadata": json.dumps({f"k{i}": i for i in range(51)})},
    {"metadata": json.dumps({f"key{i:02d}": "v" * 480 for i in range(17)})},  # over 8 KB in total
    {"tags": json.dumps([f"t{i}" for i in range(21)])},
    {"tags": json.dumps(["x" * 41])},
])
def test_correlation_fields_beyond_the_limits_are_invalid_metadata(api, speech_ops, fields):
    assert_error(submit(api, media("3:00"), **fields), 400, "INVALID_METADATA", speech_ops[0])


@covers("META-3")
@pytest.mark.parametrize("external_id", ["", "x" * 256])
def test_an_external_id_outside_1_to_255_characters_is_invalid(api, speech_ops, external_id):
    assert_error(submit(api, media("3:00"), externalId=external_id), 400, "INVALID_EXTERNAL_ID", speech_ops[0])


@covers("SPCH-12")
def test_speech_submit_has_no_webhook_url(api, target, speech_ops, credit_guard, time_machine):
    """Speech has no webhooks: the form declares no webhook_url. Sent anyway it is an unknown
    field, treated as the target's contract says: refused naming it where the form is closed,
    else ignored — the run is accepted and nothing about a callback comes back."""
    op = speech_ops[0]
    assert "webhook_url" not in json.dumps(op.request_schema("multipart/form-data") or {})
    hook = "https://hooks.example.com/zh"
    if not op.admits_unknown_fields("multipart/form-data"):
        err = assert_error(submit(api, media("3:00"), webhook_url=hook), 400, op.documented_codes(400) or None, op)
        assert "webhook_url" in json.dumps(err.get("details") or {}), err
        return
    credit_guard.allow("a 3-minute Speech submit whose unknown webhook_url is ignored")
    body = accepted(submit(api, media("3:00"), webhook_url=hook), op)
    assert "webhook" not in json.dumps(body) and hook not in json.dumps(body), body
    if target.control is not None:  # leave nothing in flight on the primary tenant
        result = wait_until_terminal(api, body["id"], time_machine, speech_ops[1])
        assert "webhook" not in json.dumps(result), result


@covers("SPCH-9")
def test_cut_settings_leaving_under_three_minutes_are_invalid_parameters(api, speech_ops):
    props = (speech_ops[0].request_schema("multipart/form-data") or {}).get("properties", {})
    if "cutStartSeconds" not in props:
        pytest.skip("the contract names no cut settings")
    assert_error(submit(api, media("3:00"), cutStartSeconds="10"), 400, "INVALID_PARAMETERS", speech_ops[0])


@covers("CRED-2", "SPCH-13")
def test_duration_checks_come_before_the_402_whose_details_name_cost_and_available(api, speech_ops, provision):
    client = api.with_key(provision.tenant("speech-poor", permissions=["speech"], credits=2).key)
    assert_error(submit(client, media("2:59")), 400, "AUDIO_TOO_SHORT", speech_ops[0])
    err = assert_error(submit(client, media("3:00")), 402, "INSUFFICIENT_CREDITS", speech_ops[0])
    assert err["details"]["cost"] == 3 and err["details"]["available"] == 2, err


# --------------------------------------------------------------------------- the runs list (reads)

@covers("LIST-2")
@pytest.mark.parametrize("params, code", [
    ({"status": "completed"}, "INVALID_STATUS"),
    ({"serviceType": "interview"}, "INVALID_SERVICE_TYPE"),
    ({"createdAfter": "yesterday"}, "INVALID_DATE"),
    ({"createdBefore": "2026-13-45"}, "INVALID_DATE"),
])
def test_invalid_list_filters_are_refused_with_their_code(api, list_op, params, code):
    assert_error(api.get(RUNS, params=params), 400, code, list_op)


@covers("LIST-1", "LIST-2", "LIST-4")
def test_the_list_is_newest_first_twenty_by_default_and_compact(api, list_op):
    resp = api.get(RUNS)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert_no_problems(schema_problems(list_op, 200, body))
    assert len(body["runs"]) <= 20 and isinstance(body["pagination"]["hasMore"], bool)
    stamps = [row["createdAt"] for row in body["runs"]]
    assert stamps == sorted(stamps, reverse=True)
    assert all("scores" not in row and "transcript" not in row for row in body["runs"])


# --------------------------------------------------------------------------- a run on the clock

@covers("SPCH-1", "SPCH-4", "SPCH-5", "SPCH-11", "META-2", "META-4", "JSON-1")
def test_a_run_goes_to_a_terminal_status_with_a_coherent_result(finished_run):
    submitted, result = finished_run["submit"], finished_run["result"]
    assert REQUEST_ID.match(submitted["id"]) and submitted["status"] in ("processing", "queued")
    assert submitted["pollIntervalSeconds"] >= 1
    assert result["id"] == submitted["id"] and result["status"] in TERMINAL
    assert result["externalId"] == "ct-speech-run"
    assert result["metadata"] == {"suite": "contract", "round": 2} and result["tags"] == ["ct-speech", "contract"]
    assert not {"requestId", "request_id"} & set(result)
    if result["status"] == "failed":
        assert result["error"]["code"] and "scores" not in result and "explainability" not in result
        return
    scores = result["scores"]
    for name in ("vocabulary", "fluency", "accent"):
        assert 0 <= scores[name] <= 5 and scores[f"{name}Cefr"] == cefr(scores[name]), scores
    assert scores["cefrLevel"] == cefr(scores["overall"]), scores
    detection = result["candidateDetection"]
    assert re.match(r"^speaker_[0-9]+$", detection["speaker"])
    assert detection["speakerLabel"] == f"Speaker {int(detection['speaker'].split('_')[1]) + 1}"
    assert detection["confidence"] in ("high", "medium", "low") and result["speakerCount"] >= 1
    assert result["audio"]["requestedLanguage"] == "en"


@covers("JSON-1")
def test_the_docs_bash_loop_finds_the_submit_id_and_status(finished_run):
    text = finished_run["submit_text"]
    assert re.match(r'.*"id":"([^"]*)".*', text).group(1) == finished_run["submit"]["id"]
    assert re.match(r'.*"status":"([^"]*)".*', text).group(1) == finished_run["submit"]["status"]


@covers("POLL-2", "POLL-4")
def test_a_terminal_run_is_re_fetched_freely(api, finished_run):
    run_id = finished_run["result"]["id"]
    for _ in range(3):
        resp = poll(api, run_id)
        assert resp.status_code == 200 and resp.json()["status"] in TERMINAL, resp.text[:300]


@covers("AUTH-6", "POLL-5")
def test_another_tenant_cannot_see_the_run(second_api, finished_run, speech_ops):
    assert_error(poll(second_api, finished_run["result"]["id"]), 404, "REQUEST_NOT_FOUND", speech_ops[1])


@covers("LIST-1", "LIST-2", "META-2")
def test_the_run_is_found_by_every_filter_it_matches(api, finished_run):
    run_id = finished_run["result"]["id"]
    created = finished_run["result"]["createdAt"]
    queries = [{"externalId": "ct-speech-run"}, {"tags": "ct-speech,contract"},
               {"metadata_key": "suite", "metadata_value": "contract"}, {"serviceType": "speech"},
               {"status": finished_run["result"]["status"]}, {"createdAfter": created}]
    for params in queries:
        resp = api.get(RUNS, params=dict(params, limit=100))
        assert resp.status_code == 200, resp.text
        assert run_id in [row["id"] for row in resp.json()["runs"]], f"{params} does not find {run_id}"
    resp = api.get(RUNS, params={"externalId": "ct-speech-run", "tags": "ct-speech,not-this-one"})
    assert run_id not in [row["id"] for row in resp.json()["runs"]]


@covers("POLL-1", "POLL-3", "POLL-6", "CLOCK-2")
def test_polls_of_one_live_id_are_throttled_to_one_per_ten_seconds(api, target, speech_ops, credit_guard, time_machine):
    credit_guard.allow("a 3-minute Speech submit")
    body = accepted(submit(api, media("3:00")), speech_ops[0])
    watch = time_machine.stopwatch()
    first = poll(api, body["id"])  # right after the submit (POLL-6)
    assert first.status_code == 200, first.text[:300]
    if first.json()["status"] in TERMINAL:
        pytest.skip("the run finished before it could be polled twice")
    assert int(first.headers["Retry-After"]) >= 1 and first.json()["pollIntervalSeconds"] >= 1
    second = poll(api, body["id"])
    if second.status_code != 429 and watch.elapsed() >= 10:
        pytest.skip(f"{watch.elapsed():.1f} s of the target's time passed between two back-to-back polls "
                    "(a fast-running clock): the 10 s window cannot be observed")
    err = assert_error(second, 429, "POLL_RATE_LIMITED", speech_ops[1])
    assert 1 <= err["retryAfterSeconds"] <= 10
    if target.control is not None:  # leave nothing in flight on the primary tenant
        wait_until_terminal(api, body["id"], time_machine, speech_ops[1])


# --------------------------------------------------------------------------- credits (a tenant of its own)

def _tenant_api(api, provision, label: str, credits: int = 100, **fields):
    return api.with_key(provision.tenant(label, permissions=["speech"], credits=credits, **fields).key)


@covers("CRED-2", "CRED-3", "CRED-1")
def test_the_exact_cost_is_held_at_submit_and_charged_on_success(api, provision, speech_ops, credit_guard, time_machine):
    credit_guard.allow("a 3-minute Speech submit")
    client = _tenant_api(api, provision, "speech-ledger")
    body = accepted(submit(client, media("3:00")), speech_ops[0])
    held = client.get("/api/v1/credits").json()
    assert (held["creditBalance"], held["heldCredits"], held["availableCredits"]) == (100, 3, 97), held
    result = wait_until_terminal(client, body["id"], time_machine, speech_ops[1])
    after = client.get("/api/v1/credits").json()
    expected = 100 if result["status"] == "failed" else 97
    assert (after["creditBalance"], after["heldCredits"]) == (expected, 0), after
    kinds = [t["type"] for t in after["recentTransactions"] if t.get("runId") == body["id"]]
    assert "hold" in kinds and ("release" if result["status"] == "failed" else "charge") in kinds, kinds


@covers("CRED-3", "SPCH-6", "SPCH-11")
def test_a_failed_run_is_a_200_and_its_hold_is_released(api, provision, control, speech_ops, credit_guard, time_machine):
    credit_guard.allow("a 3-minute Speech submit")
    client = _tenant_api(api, provision, "speech-failed")
    body = accepted(submit(client, media("3:00"), headers={SCENARIO_HEADER: "speech-failed-SCORING_FAILED"}),
                    speech_ops[0])
    result = wait_until_terminal(client, body["id"], time_machine, speech_ops[1])
    if result["status"] != "failed":
        pytest.skip("the target does not inject the speech-failed-SCORING_FAILED scenario")
    assert result["error"]["code"] == "SCORING_FAILED" and "scores" not in result
    after = client.get("/api/v1/credits").json()
    assert (after["creditBalance"], after["heldCredits"]) == (100, 0), after


@covers("SPCH-7", "A1", "CRED-3")
def test_a_partial_run_carries_the_full_payload_and_is_charged_in_full(api, provision, control, speech_ops,
                                                                      credit_guard, time_machine):
    credit_guard.allow("a 3-minute Speech submit")
    client = _tenant_api(api, provision, "speech-partial")
    body = accepted(submit(client, media("3:00"), headers={SCENARIO_HEADER: "speech-partial"}), speech_ops[0])
    result = wait_until_terminal(client, body["id"], time_machine, speech_ops[1])
    if result["status"] != "partial":
        pytest.skip("the target does not inject the speech-partial scenario")
    assert {"scores", "candidateDetection", "transcript", "hrRecommendation"} <= set(result)
    assert client.get("/api/v1/credits").json()["creditBalance"] == 97


@covers("SPCH-8")
def test_a_single_speaker_recording_scores_that_speaker(api, control, speech_ops, credit_guard, time_machine):
    credit_guard.allow("a 3-minute Speech submit")
    body = accepted(submit(api, media("3:00"), headers={SCENARIO_HEADER: "speech-single-speaker"}), speech_ops[0])
    result = wait_until_terminal(api, body["id"], time_machine, speech_ops[1])
    if result["status"] not in ("success", "partial") or result["speakerCount"] != 1:
        pytest.skip("the target does not inject the speech-single-speaker scenario")
    assert result["candidateDetection"]["speaker"] == "speaker_0"


@covers("RATE-2", "SPCH-10", "CRED-6", "A9")
def test_submits_past_the_cap_are_queued_in_fifo_order_and_held_not_charged(api, provision, speech_ops,
                                                                            credit_guard, time_machine):
    credit_guard.allow("two 3-minute Speech submits")
    client = _tenant_api(api, provision, "speech-cap1", maxConcurrentRequests=1)
    first = accepted(submit(client, media("3:00")), speech_ops[0])
    second = accepted(submit(client, media("3:00b")), speech_ops[0])
    queued = poll(client, second["id"])
    summary = client.get("/api/v1/credits").json()
    looked_by = time_machine.now()  # the target's time once all of the above was answered
    first_result = wait_until_terminal(client, first["id"], time_machine, speech_ops[1])
    second_result = wait_until_terminal(client, second["id"], time_machine, speech_ops[1])
    if parse_timestamp(first_result["completedAt"]) > looked_by:
        # The first run was still processing through every look above (on a fast-running clock
        # it may not be: then the queue had already moved on and only FIFO is checked).
        assert first["status"] == "processing", first
        assert second["status"] == "queued" and second["queuePosition"] == 1 and second["activeRequests"] == 1, second
        assert queued.status_code == 200 and queued.json()["status"] == "queued" \
            and queued.json()["queuePosition"] == 1, queued.text[:300]
        assert summary["heldCredits"] == 6 and summary["usage"]["totalCharged"] == 0, summary
    assert parse_timestamp(second_result["startedAt"]) >= parse_timestamp(first_result["completedAt"]) - 0.001, \
        "FIFO: the queued run took the first run's slot"


@covers("AUTH-7", "LIST-1")
def test_runs_inherit_the_keys_project_and_filter_by_it(api, provision, control, speech_ops, credit_guard):
    credit_guard.allow("two 3-minute Speech submits")
    tenant = provision.tenant("speech-project", permissions=["speech"], credits=100)
    project_key = provision.key_on(tenant.client_id, project="ct-alpha")
    plain = accepted(submit(api.with_key(tenant.key), media("3:00")), speech_ops[0])
    in_project = accepted(submit(api.with_key(project_key), media("3:00b")), speech_ops[0])
    client = api.with_key(tenant.key)
    alpha = [row["id"] for row in client.get(RUNS, params={"project": "ct-alpha"}).json()["runs"]]
    none = [row["id"] for row in client.get(RUNS, params={"project": "none"}).json()["runs"]]
    assert alpha == [in_project["id"]] and none == [plain["id"]]
