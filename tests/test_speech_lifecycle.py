"""A Speech run on the virtual clock: lifecycle, results, failures, queueing and polling
(SPCH-4..8, SPCH-10, SPCH-11, RATE-2, POLL-1..6, META-2, META-4, AUTH-6, JSON-1, CLOCK-2).

Time only moves through `api.advance()` (manual clock); nothing sleeps.
"""

from __future__ import annotations

import asyncio
import math

import httpx
import pytest

from mockserver.modules.speech.results import SPEECH_FAILURE_MESSAGES, cefr_level
from tests.conftest import CAP2, FULL, SECOND, make_app
from tests.test_speech_support import (
    SED_ID,
    SED_STATUS,
    SUBMIT,
    advance_to,
    assert_error,
    audio,
    poll,
    run_doc,
    submit,
    submitted,
)

FAILURE_CODES = sorted(SPEECH_FAILURE_MESSAGES)


def finish(api, run_id: str) -> dict:
    """Advance to the run's finish and return its terminal poll body."""
    advance_to(api, run_doc(api, run_id)["finish_at"])
    r = poll(api, run_id)
    assert r.status_code == 200, r.text
    return r.json()


# --------------------------------------------------------------------------- SPCH-4: lifecycle

def test_a_run_is_processing_then_succeeds_within_two_to_five_minutes(api):
    run_id = submitted(api)["id"]
    doc = run_doc(api, run_id)
    assert 120.0 <= doc["finish_at"] - doc["start_at"] <= 300.0
    assert poll(api, run_id).json()["status"] == "processing"
    advance_to(api, doc["finish_at"] - 0.5)
    assert poll(api, run_id).json()["status"] == "processing"
    api.advance(0.5)
    body = poll(api, run_id).json()
    assert body["status"] == "success"
    assert body["completedAt"] > body["startedAt"] >= body["createdAt"]


def test_processing_time_is_the_same_for_the_same_audio_and_differs_between_recordings(api):
    first = run_doc(api, submitted(api, data=audio("flac", 200.0, 1))["id"])
    again = run_doc(api, submitted(api, key=SECOND, data=audio("flac", 200.0, 1))["id"])
    other = run_doc(api, submitted(api, key=SECOND, data=audio("flac", 200.0, 2))["id"])
    assert first["finish_at"] - first["start_at"] == again["finish_at"] - again["start_at"]
    assert first["finish_at"] - first["start_at"] != other["finish_at"] - other["start_at"]


def test_processing_time_follows_the_scenario_setting(tmp_path):
    path = tmp_path / "fast.yaml"
    path.write_text("version: 1\nsettings:\n  speech:\n    processingSeconds: [30, 40]\n")
    from tests.conftest import Api
    with Api(make_app(scenarios=[str(path)])) as api:
        doc = run_doc(api, submitted(api)["id"])
        assert 30.0 <= doc["finish_at"] - doc["start_at"] <= 40.0


# --------------------------------------------------------------------------- SPCH-5, SPCH-8: results

def test_a_success_carries_a_full_result_that_hangs_together(api):
    body = finish(api, submitted(api, data=audio("wav", 600.0))["id"])
    scores = body["scores"]
    for name in ("vocabulary", "fluency", "accent"):
        assert 0 <= scores[name] <= 5
        assert scores[f"{name}Cefr"] == cefr_level(scores[name])
        assert scores[f"{name}Percentage"] == round(scores[name] * 20)
    weighted = 0.4 * scores["vocabulary"] + 0.4 * scores["fluency"] + 0.2 * scores["accent"]
    assert abs(scores["overall"] - weighted) <= 0.051
    assert scores["cefrLevel"] == cefr_level(scores["overall"])
    assert scores["cefrLevel"] in body["hrRecommendation"]
    segments = body["transcript"]["segments"]
    speakers = {s["speaker"] for s in segments}
    assert body["speakerCount"] == len(speakers)
    detection = body["candidateDetection"]
    assert detection["speaker"] in speakers
    assert detection["speakerLabel"] == f"Speaker {int(detection['speaker'].split('_')[1]) + 1}"
    assert detection["confidence"] in ("high", "medium", "low")
    assert detection["wordCount"] == sum(s["wordCount"] for s in segments if s["speaker"] == detection["speaker"])
    assert body["transcript"]["wordCount"] == sum(s["wordCount"] for s in segments)
    assert all(0 <= s["start"] < s["end"] <= body["audio"]["durationSeconds"] for s in segments)
    assert body["audio"] == {"requestedLanguage": "en", "durationSeconds": 600.0, "format": "wav",
                             "analyzedFromSeconds": 0.0, "analyzedToSeconds": 600.0}
    assert "degradedSteps" not in body and "error" not in body


def test_the_same_recording_gives_the_same_result_and_another_recording_a_different_one(api):
    first = finish(api, submitted(api, data=audio("ogg", 300.0, 1))["id"])
    again = finish(api, submitted(api, data=audio("ogg", 300.0, 1))["id"])
    other = finish(api, submitted(api, data=audio("ogg", 300.0, 3))["id"])
    assert first["scores"] == again["scores"] and first["transcript"] == again["transcript"]
    assert first["transcript"] != other["transcript"]


def test_results_are_produced_at_every_confidence_level(api):
    seen = set()
    for variant in range(80):  # low confidence (an evenly split interview) is the rare case
        body = finish(api, submitted(api, data=audio("flac", 600.0, variant))["id"])
        seen.add(body["candidateDetection"]["confidence"])
        assert body["scores"]["overall"] >= 0
        if seen == {"high", "medium", "low"}:
            break
    assert seen == {"high", "medium", "low"}


def test_a_single_speaker_recording_scores_that_speaker(api):
    body = finish(api, submitted(api, scenario="speech-single-speaker")["id"])
    assert body["speakerCount"] == 1
    assert body["candidateDetection"]["speaker"] == "speaker_0"
    assert body["candidateDetection"]["speakerLabel"] == "Speaker 1"
    assert body["candidateDetection"]["wordCount"] == body["transcript"]["wordCount"]


# --------------------------------------------------------------------------- SPCH-6, SPCH-7, SPCH-11

@pytest.mark.parametrize("code", FAILURE_CODES)
def test_every_failure_code_is_reachable_and_reported_in_a_200(api, code):
    run_id = submitted(api, scenario=f"speech-failed-{code}")["id"]
    assert poll(api, run_id).json()["status"] == "processing"
    body = finish(api, run_id)
    assert body["status"] == "failed"
    assert body["error"] == {"code": code, "message": SPEECH_FAILURE_MESSAGES[code]}
    for absent in ("scores", "explainability", "transcript", "pollIntervalSeconds"):
        assert absent not in body


def test_a_stuck_run_outlasts_the_normal_window_before_its_watchdog_fails_it(api):
    doc = run_doc(api, submitted(api, scenario="speech-failed-STUCK_TIMEOUT")["id"])
    assert doc["finish_at"] - doc["start_at"] > 300.0


def test_a_partial_run_carries_the_full_payload_and_its_degraded_step(api):
    body = finish(api, submitted(api, scenario="speech-partial")["id"])
    assert body["status"] == "partial"
    for field in ("scores", "hrRecommendation", "candidateDetection", "speakerCount", "transcript", "audio"):
        assert field in body
    assert body["degradedSteps"][0]["step"] in ("VOCABULARY_BOOST_UNAVAILABLE", "AUDIO_TRIM_FALLBACK")


def test_scenario_rules_pick_outcomes_by_external_id_tags_metadata_and_language(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("""version: 1
rules:
  - {when: {module: speech, externalId: "fail-*"}, then: {errorCode: TRANSCRIPTION_FAILED}}
  - {when: {module: speech, tags: [degrade]}, then: {outcome: partial}}
  - {when: {module: speech, metadata: {tier: slow}}, then: {processingSeconds: 1000}}
  - {when: {module: speech, language: ja}, then: {errorCode: TRANSCRIPTION_LOW_CONFIDENCE}}
""")
    from tests.conftest import Api
    with Api(make_app(scenarios=[str(path)])) as api:
        assert finish(api, submitted(api, externalId="fail-7")["id"])["error"]["code"] == "TRANSCRIPTION_FAILED"
        assert finish(api, submitted(api, tags="x,degrade")["id"])["status"] == "partial"
        slow = run_doc(api, submitted(api, metadata='{"tier": "slow"}')["id"])
        assert slow["finish_at"] - slow["start_at"] == 1000.0
        assert finish(api, submitted(api, language="ja")["id"])["error"]["code"] == "TRANSCRIPTION_LOW_CONFIDENCE"
        assert finish(api, submitted(api, externalId="ok-7")["id"])["status"] == "success"


def test_a_rule_naming_an_impossible_speech_outcome_stops_the_mock_at_start(tmp_path):
    from mockserver.scenarios import ScenarioError
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nrules:\n  - {name: bad, when: {module: speech}, then: {errorCode: NOPE}}\n")
    with pytest.raises(ScenarioError, match="bad"):
        make_app(scenarios=[str(path)])


# --------------------------------------------------------------------------- RATE-2, SPCH-10: queueing

def test_at_the_cap_submits_are_queued_with_position_and_active_requests(api):
    bodies = [submitted(api, key=CAP2, data=audio("flac", 200.0, i)) for i in range(5)]
    assert [b["status"] for b in bodies] == ["processing", "processing", "queued", "queued", "queued"]
    assert [b["activeRequests"] for b in bodies] == [1, 2, 2, 2, 2]
    assert [b.get("queuePosition") for b in bodies] == [None, None, 1, 2, 3]
    assert all(b["pollIntervalSeconds"] == 20 for b in bodies[2:])


def test_queued_runs_start_in_fifo_order_as_slots_free(api):
    ids = [submitted(api, key=CAP2, data=audio("flac", 200.0, i))["id"] for i in range(5)]
    docs = [run_doc(api, run_id) for run_id in ids]
    starts = [d["start_at"] for d in docs]
    assert starts == sorted(starts)
    first_free = min(d["finish_at"] for d in docs[:2])
    assert docs[2]["start_at"] == first_free
    body = poll(api, ids[4]).json()
    assert body["status"] == "queued" and body["queuePosition"] == 3
    advance_to(api, first_free)
    assert poll(api, ids[2]).json()["status"] == "processing"
    assert docs[3]["start_at"] > first_free  # the other slot is still busy
    body = poll(api, ids[4]).json()
    assert body["status"] == "queued" and body["queuePosition"] == 2
    advance_to(api, docs[3]["start_at"])
    assert poll(api, ids[3]).json()["status"] == "processing"
    api.advance(10)
    body = poll(api, ids[4]).json()
    assert body["status"] == "queued" and body["queuePosition"] == 1


def test_no_more_than_the_cap_is_ever_processing(api):
    ids = [submitted(api, key=CAP2, data=audio("flac", 200.0, i))["id"] for i in range(7)]
    docs = [run_doc(api, run_id) for run_id in ids]
    for doc in docs:
        at_start = sum(1 for d in docs if d["start_at"] <= doc["start_at"] < d["finish_at"])
        assert at_start <= 2


def test_every_key_of_a_client_shares_its_fifo_queue(api):
    assert [submitted(api, key=CAP2)["status"] for _ in range(3)] == ["processing", "processing", "queued"]
    body = submitted(api, key=FULL)
    assert body["status"] == "queued" and body["queuePosition"] == 2  # behind the earlier queued run
    assert submitted(api, key=SECOND)["status"] == "processing"       # another client: its own pool


def test_the_default_cap_is_eight(api):
    statuses = [submitted(api, data=audio("flac", 200.0, i))["status"] for i in range(9)]
    assert statuses == ["processing"] * 8 + ["queued"]


def test_the_cap_holds_under_concurrent_submits():
    app = make_app()

    async def burst():
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            async def one(i):
                return await client.post(SUBMIT, headers={"X-API-Key": CAP2},
                                         files={"audio": ("a.flac", audio("flac", 200.0, i))})
            return await asyncio.gather(*(one(i) for i in range(12)))

    bodies = [r.json() for r in asyncio.run(burst())]
    assert all(b["status"] in ("processing", "queued") for b in bodies)
    assert sum(b["status"] == "processing" for b in bodies) == 2
    assert sorted(b["queuePosition"] for b in bodies if b["status"] == "queued") == list(range(1, 11))
    assert all(b["activeRequests"] <= 2 for b in bodies)


# --------------------------------------------------------------------------- POLL-1..6, CLOCK-2

def test_the_first_poll_may_follow_the_submit_at_once(api):
    run_id = submitted(api)["id"]
    r = poll(api, run_id)
    assert r.status_code == 200
    assert r.headers["Retry-After"] == "15" and r.json()["pollIntervalSeconds"] == 15


def test_polling_one_id_faster_than_every_ten_seconds_is_429_with_the_wait(api):
    run_id = submitted(api)["id"]
    assert poll(api, run_id).status_code == 200
    api.advance(3)
    r = poll(api, run_id)
    error = assert_error(r, 429, "POLL_RATE_LIMITED")
    assert r.headers["Retry-After"] == "7" and error["retryAfterSeconds"] == 7
    api.advance(6.5)
    r = poll(api, run_id)
    assert_error(r, 429, "POLL_RATE_LIMITED")
    assert r.headers["Retry-After"] == "1"  # 0.5 s left, rounded up to a whole second
    api.advance(0.5)
    assert poll(api, run_id).status_code == 200


def test_the_poll_window_is_per_id(api):
    first, second = submitted(api)["id"], submitted(api)["id"]
    assert poll(api, first).status_code == 200
    assert poll(api, second).status_code == 200
    assert poll(api, first).status_code == 429


def test_a_terminal_run_is_fetched_freely(api):
    run_id = submitted(api, scenario="speech-fast")["id"]
    assert poll(api, run_id).status_code == 200
    api.advance(10)
    for _ in range(5):
        r = poll(api, run_id)
        assert r.status_code == 200 and r.json()["status"] == "success"
        assert "Retry-After" not in r.headers
        assert "pollIntervalSeconds" not in r.json()


def test_the_poll_interval_escalates_with_time_since_submit(api):
    run_id = submitted(api, scenario="speech-slow")["id"]
    seen = {}
    for at in (0, 110, 120, 290, 300, 600):  # at least 10 s apart (POLL-1)
        advance_to(api, run_doc(api, run_id)["created_at"] + at)
        r = poll(api, run_id)
        assert r.status_code == 200, r.text
        seen[at] = (r.json()["pollIntervalSeconds"], int(r.headers["Retry-After"]))
    assert seen == {0: (15, 15), 110: (15, 15), 120: (30, 30), 290: (30, 30), 300: (60, 60), 600: (60, 60)}


def test_advertised_intervals_are_in_the_clients_real_seconds_on_a_scaled_clock():
    from tests.conftest import Api
    with Api(make_app(clock="scaled", time_scale=60.0)) as api:
        body = submitted(api)
        assert body["pollIntervalSeconds"] == 1  # 15 virtual seconds at 60× is a quarter real second
        r = poll(api, body["id"])
        assert r.headers["Retry-After"] == str(r.json()["pollIntervalSeconds"]) == "1"


def test_a_run_id_never_expires(api):
    run_id = submitted(api)["id"]
    api.advance(30 * 24 * 3600)
    assert poll(api, run_id).json()["status"] == "success"


def test_a_run_survives_a_restart_when_state_persists(tmp_path):
    from tests.conftest import Api
    state = str(tmp_path / "state.db")
    with Api(make_app(state=state)) as api:
        run_id = submitted(api, externalId="persisted")["id"]
        finish_at = run_doc(api, run_id)["finish_at"]
    with Api(make_app(state=state)) as api:
        advance_to(api, finish_at)
        body = poll(api, run_id).json()
        assert body["status"] == "success" and body["externalId"] == "persisted"


@pytest.mark.parametrize("run_id", ["req_0000000000000_nope", "anything", "550e8400-e29b-41d4-a716-446655440000"])
def test_an_unknown_id_is_request_not_found(api, run_id):
    assert_error(poll(api, run_id), 404, "REQUEST_NOT_FOUND")


def test_another_clients_run_is_not_found(api):
    run_id = submitted(api)["id"]
    assert_error(poll(api, run_id, key=SECOND), 404, "REQUEST_NOT_FOUND")
    assert poll(api, run_id).status_code == 200


# --------------------------------------------------------------------------- META-2, META-4, JSON-1

def test_correlation_fields_are_echoed_in_every_status(api):
    fields = {"externalId": "cand-9", "metadata": '{"round": 2, "remote": true}', "tags": "q2,backend"}
    queued = [submitted(api, key=CAP2, **fields) for _ in range(3)][-1]
    assert queued["status"] == "queued"
    statuses = set()
    doc = run_doc(api, queued["id"])
    for at in (doc["created_at"], doc["start_at"], doc["finish_at"]):
        advance_to(api, at)
        body = poll(api, queued["id"]).json()
        statuses.add(body["status"])
        assert body["externalId"] == "cand-9"
        assert body["metadata"] == {"round": 2, "remote": True}
        assert body["tags"] == ["q2", "backend"]
        assert not {"requestId", "request_id"} & set(body)
    assert statuses == {"queued", "processing", "success"}


def test_runs_without_correlation_fields_echo_null_and_empties(api):
    body = finish(api, submitted(api)["id"])
    assert body["externalId"] is None and body["metadata"] == {} and body["tags"] == []


@pytest.mark.parametrize("scenario, terminal", [(None, "success"), ("speech-partial", "partial"),
                                                ("speech-failed-SCORING_FAILED", "failed")])
def test_the_docs_bash_loop_reads_the_right_id_and_status(api, scenario, terminal):
    """Metadata keys named id/status must not fool the greedy sed of the cURL recipe."""
    submit_response = submit(api, scenario=scenario, externalId="candidate-abc-123",
                             metadata='{"id": "decoy-id", "status": "decoy-status"}')
    text = submit_response.text
    assert '": "' not in text and '", "' not in text  # compact separators
    run_id = SED_ID.match(text).group(1)
    assert run_id == submit_response.json()["id"]
    assert SED_STATUS.match(text).group(1) == "processing"
    advance_to(api, run_doc(api, run_id)["finish_at"])
    body = poll(api, run_id).text
    assert SED_ID.match(body).group(1) == run_id
    assert SED_STATUS.match(body).group(1) == terminal


def test_queued_and_processing_bodies_match_the_bash_loop_too(api):
    texts = [submit(api, key=CAP2).text for _ in range(3)]
    assert [SED_STATUS.match(t).group(1) for t in texts] == ["processing", "processing", "queued"]
    run_id = SED_ID.match(texts[2]).group(1)
    assert SED_STATUS.match(poll(api, run_id, key=CAP2).text).group(1) == "queued"


def test_the_advertised_cadence_never_goes_below_ten_virtual_seconds(api):
    run_id = submitted(api, scenario="speech-slow")["id"]
    created = run_doc(api, run_id)["created_at"]
    for at in range(0, 900, 97):
        advance_to(api, created + at)
        interval = poll(api, run_id).json().get("pollIntervalSeconds")
        if interval is not None:
            assert interval >= 10 and math.isfinite(interval)
