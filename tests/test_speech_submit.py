"""Speech submit: the form, the real audio and the check order (SPCH-1, SPCH-2, SPCH-3, SPCH-9,
SPCH-12, SPCH-13, META-1, META-3, ERR-4, ERR-5, AUTH-7).

Every audio file is a real one built by tests/support/audio_fixtures.py; durations are read
from the files' own headers by the mock.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import ENGLISH_ONLY, IP_RESTRICTED, LOW, NO_PERMS, SLOW_SUBMIT
from tests.support.audio_fixtures import (
    AUDIO_FORMATS,
    audio_file,
    png_file,
    truncated_audio_file,
    wav_file,
    webm_opus_file,
)
from tests.test_speech_support import (
    REQUEST_ID,
    advance_to,
    assert_error,
    audio,
    credits,
    poll,
    run_doc,
    submit,
    submitted,
)

LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl", "hi", "zh", "ja", "ko", "ar", "tr", "pl", "ru", "sr")
# The smallest duration at or above 3:00 and the largest at or below 45:00 that each format's
# frame size allows (M4A frames are 64 ms: 180 s would be 179.968 s).
THREE_MINUTES = {"m4a": 180.04}
FORTY_FIVE_MINUTES = {"m4a": 2699.97}


def recording(audio_format: str, seconds: float) -> bytes:
    """Long WAVs drop to 4 kHz so a 45-minute file stays far below 25 MB."""
    if audio_format == "wav" and seconds > 600:
        return wav_file(seconds, sample_rate=4000)
    return audio_file(audio_format, seconds)


def held_for(api, run_id: str) -> int:
    """Credits held for a run (its hold transaction on GET /api/v1/credits)."""
    holds = [t for t in credits(api)["recentTransactions"] if t["type"] == "hold" and t["runId"] == run_id]
    assert len(holds) == 1
    return holds[0]["amount"]


# --------------------------------------------------------------------------- SPCH-1

def test_submit_answers_202_with_a_req_id_and_a_poll_interval(api):
    body = submitted(api, language="en", externalId="candidate-abc-123")
    assert REQUEST_ID.match(body["id"])
    assert body["status"] == "processing"
    assert body["pollIntervalSeconds"] == 15
    assert body["externalId"] == "candidate-abc-123"
    assert body["metadata"] == {} and body["tags"] == []


def test_language_defaults_to_english(api):
    body = submitted(api)
    advance_to(api, run_doc(api, body["id"])["finish_at"])
    assert poll(api, body["id"]).json()["audio"]["requestedLanguage"] == "en"


# --------------------------------------------------------------------------- SPCH-2: the audio

@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_three_minutes_of_every_format_is_accepted_and_costs_three_credits(api, audio_format):
    data = recording(audio_format, THREE_MINUTES.get(audio_format, 180.0))
    body = submitted(api, data=data, filename=f"interview.{audio_format}")
    assert held_for(api, body["id"]) == (4 if audio_format == "m4a" else 3)  # 180.032 s starts a 4th minute
    assert run_doc(api, body["id"])["audio"]["format"] == audio_format


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_two_minutes_fifty_nine_of_every_format_is_too_short(api, audio_format):
    r = submit(api, data=recording(audio_format, 179.0), filename=f"interview.{audio_format}")
    error = assert_error(r, 400, "AUDIO_TOO_SHORT")
    assert error["message"].startswith("Audio is 2:5") and "the minimum is 3 minutes" in error["message"]
    assert "audio" in error["details"]["fields"]


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_forty_five_minutes_is_accepted_and_forty_five_one_is_too_long(api, audio_format):
    ok = submit(api, data=recording(audio_format, FORTY_FIVE_MINUTES.get(audio_format, 2700.0)))
    assert ok.status_code == 202, ok.text
    assert held_for(api, ok.json()["id"]) == 45
    error = assert_error(submit(api, data=recording(audio_format, 2701.0)), 400, "AUDIO_TOO_LONG")
    assert "the maximum is 45 minutes" in error["message"]


def test_a_header_stating_forty_five_one_is_believed_without_the_rest_of_the_file(api):
    """MP3 Info frame and WebM Segment Duration state 2701 s; only the first frames follow."""
    mp3_head = audio_file("mp3", 2701.0)[: 36 * 12]
    webm = webm_opus_file(2701.0)
    webm_head = webm[: webm.index(b"\x1f\x43\xb6\x75") + 2000]  # Info, Tracks and part of a cluster
    for data in (mp3_head, webm_head):
        error = assert_error(submit(api, data=data), 400, "AUDIO_TOO_LONG")
        assert "45:01" in error["message"]


@pytest.mark.parametrize("audio_format", AUDIO_FORMATS)
def test_a_file_cut_inside_its_headers_has_no_readable_duration(api, audio_format):
    r = submit(api, data=truncated_audio_file(audio_format), filename=f"interview.{audio_format}")
    assert_error(r, 400, "AUDIO_DURATION_UNAVAILABLE")


def test_a_png_renamed_to_mp3_is_an_unsupported_format(api):
    r = api.call("POST", "/api/v1/speech/analyze",
                 files={"audio": ("interview.mp3", png_file(), "audio/mpeg")})
    error = assert_error(r, 400, "UNSUPPORTED_FORMAT")
    assert "interview.mp3" in error["details"]["fields"]["audio"][0]


def test_the_format_comes_from_the_bytes_not_the_name_or_type(api):
    r = api.call("POST", "/api/v1/speech/analyze",
                 files={"audio": ("interview.mp3", audio("ogg", 200.0), "audio/mpeg")})
    assert r.status_code == 202, r.text
    assert run_doc(api, r.json()["id"])["audio"]["format"] == "ogg"


def test_no_audio_part_is_missing_audio_file(api):
    r = api.call("POST", "/api/v1/speech/analyze", data={"language": "en"},
                 files={"unrelated": ("x.txt", b"hello")})
    assert_error(r, 400, "MISSING_AUDIO_FILE")
    r = api.call("POST", "/api/v1/speech/analyze", data={"audio": "not a file", "language": "en"})
    assert_error(r, 400, "MISSING_AUDIO_FILE")


def test_a_file_of_exactly_25_mb_is_accepted_and_one_byte_more_is_too_large(api):
    limit = 25 * 1024 * 1024
    sample_rate = 11025  # 8-bit mono: 25 MB is 39:37, inside the 45-minute limit
    exact = wav_file((limit - 44) / sample_rate, sample_rate=sample_rate)
    assert len(exact) == limit
    ok = submit(api, data=exact, filename="long.wav")
    assert ok.status_code == 202, ok.text
    assert held_for(api, ok.json()["id"]) == 40
    error = assert_error(submit(api, data=exact + b"\x00", filename="long.wav"), 400, "FILE_TOO_LARGE")
    assert "audio" in error["details"]["fields"]


# --------------------------------------------------------------------------- SPCH-3: languages

@pytest.mark.parametrize("language", LANGUAGES)
def test_every_supported_language_is_analysed_and_echoed(api, language):
    body = submitted(api, language=language)
    advance_to(api, run_doc(api, body["id"])["finish_at"])
    result = poll(api, body["id"]).json()
    assert result["status"] == "success"
    assert result["audio"]["requestedLanguage"] == language


@pytest.mark.parametrize("language", ["xx", "eng", "EN", "", "e"])
def test_a_language_outside_the_sixteen_is_invalid_language_code(api, language):
    error = assert_error(submit(api, language=language), 400, "INVALID_LANGUAGE_CODE")
    assert "language" in error["details"]["fields"]


def test_non_english_needs_the_multilingual_permission(api):
    assert_error(submit(api, key=ENGLISH_ONLY, language="es"), 403, "MULTILINGUAL_NOT_ENABLED")
    assert submit(api, key=ENGLISH_ONLY, language="en").status_code == 202
    assert submit(api, key=ENGLISH_ONLY).status_code == 202


# --------------------------------------------------------------------------- SPCH-9: cut settings

def test_cut_settings_narrow_the_analysed_window(api):
    body = submitted(api, data=audio("flac", 400.0), cutStartSeconds="30", cutEndSeconds="20.5")
    advance_to(api, run_doc(api, body["id"])["finish_at"])
    result = poll(api, body["id"]).json()
    assert result["audio"]["analyzedFromSeconds"] == 30.0
    assert result["audio"]["analyzedToSeconds"] == 379.5
    assert all(30.0 <= s["start"] <= s["end"] <= 379.5 for s in result["transcript"]["segments"])


def test_cut_settings_leaving_under_three_minutes_are_invalid_parameters(api):
    error = assert_error(submit(api, data=audio("flac", 200.0), cutStartSeconds="15", cutEndSeconds="10"),
                         400, "INVALID_PARAMETERS")
    assert set(error["details"]["fields"]) == {"cutStartSeconds", "cutEndSeconds"}


@pytest.mark.parametrize("value", ["-1", "abc", "2521", "1.2345"])
def test_a_cut_setting_out_of_bounds_is_invalid_parameters(api, value):
    error = assert_error(submit(api, cutStartSeconds=value), 400, "INVALID_PARAMETERS")
    assert "cutStartSeconds" in error["details"]["fields"]


# --------------------------------------------------------------------------- SPCH-12

def test_speech_has_no_webhook_url_field_so_one_sent_is_ignored(api):
    """SPCH-12: webhook_url is not part of Speech's contract. Undeclared fields are ignored by
    default (tests/test_unknown_fields.py has the strict switch): no callback is ever queued."""
    response = submit(api, webhook_url="https://hooks.example.com/zh")
    assert response.status_code == 202, response.text
    assert "webhook_url" not in response.text
    assert api.get("/__mock/webhooks/deliveries").json()["deliveries"] == []


# --------------------------------------------------------------------------- META-1, META-3

def test_metadata_and_tags_are_echoed_on_the_202(api):
    body = submitted(api, metadata=json.dumps({"candidateId": "cand-42", "round": 2, "remote": True}),
                     tags='["batch-2026-q2", "backend"]')
    assert body["metadata"] == {"candidateId": "cand-42", "round": 2, "remote": True}
    assert body["tags"] == ["batch-2026-q2", "backend"]
    assert submitted(api, tags=" a , b,c ")["tags"] == ["a", "b", "c"]


@pytest.mark.parametrize("metadata", [
    "{not json",
    "[1, 2]",
    json.dumps({f"k{i}": i for i in range(51)}),
    json.dumps({"k" * 41: "v"}),
    json.dumps({"k": "v" * 501}),
    json.dumps({"k": {"nested": 1}}),
    json.dumps({"k": None}),
])
def test_metadata_breaking_the_limits_is_invalid_metadata(api, metadata):
    error = assert_error(submit(api, metadata=metadata), 400, "INVALID_METADATA")
    assert any(name.startswith("metadata") for name in error["details"]["fields"])


def test_metadata_over_8_kb_in_total_is_invalid_metadata(api):
    just_under = {f"key{i:02d}": "v" * 480 for i in range(16)}  # ≈ 7.9 KB serialised
    assert submit(api, metadata=json.dumps(just_under)).status_code == 202
    over = {f"key{i:02d}": "v" * 480 for i in range(17)}        # ≈ 8.4 KB serialised
    error = assert_error(submit(api, metadata=json.dumps(over)), 400, "INVALID_METADATA")
    assert "metadata" in error["details"]["fields"]


@pytest.mark.parametrize("tags", [
    json.dumps([f"t{i}" for i in range(21)]),
    '["same", "same"]',
    json.dumps(["x" * 41]),
    '["ok", ""]',
    "a,,b",
    '[1, 2]',
    '["unclosed"',
])
def test_tags_breaking_the_limits_are_invalid_metadata(api, tags):
    error = assert_error(submit(api, tags=tags), 400, "INVALID_METADATA")
    assert "tags" in error["details"]["fields"]


def test_twenty_distinct_tags_of_forty_characters_are_accepted(api):
    tags = [f"{i:02d}" + "x" * 38 for i in range(20)]
    assert submitted(api, tags=json.dumps(tags))["tags"] == tags


@pytest.mark.parametrize("external_id", ["", "x" * 256])
def test_external_id_outside_1_to_255_characters_is_invalid_external_id(api, external_id):
    r = api.call("POST", "/api/v1/speech/analyze", files={"audio": ("a.flac", audio())},
                 data={"externalId": external_id})
    assert_error(r, 400, "INVALID_EXTERNAL_ID")


def test_external_id_of_255_characters_is_accepted_and_need_not_be_unique(api):
    external_id = "c" * 255
    first = submitted(api, externalId=external_id)
    second = submitted(api, externalId=external_id)
    assert first["id"] != second["id"]
    assert first["externalId"] == second["externalId"] == external_id


# --------------------------------------------------------------------------- SPCH-13: check order

def test_authentication_comes_before_everything(api):
    r = api.call("POST", "/api/v1/speech/analyze", key=None, files={"audio": ("a.mp3", png_file())})
    error = assert_error(r, 401, "MISSING_API_KEY")
    assert "requestId" not in error


def test_the_module_permission_403_comes_before_the_400s(api):
    r = api.call("POST", "/api/v1/speech/analyze", key=NO_PERMS, data={"language": "xx"})
    assert_error(r, 403, "MISSING_PERMISSION")


def test_the_ip_allow_list_403_comes_before_the_400s(api):
    r = api.call("POST", "/api/v1/speech/analyze", key=IP_RESTRICTED, data={"language": "xx"})
    assert_error(r, 403, "IP_NOT_ALLOWED")


def test_the_submit_rate_limit_429_comes_before_the_400s(api):
    for _ in range(3):
        assert submit(api, key=SLOW_SUBMIT).status_code == 202
    r = api.call("POST", "/api/v1/speech/analyze", key=SLOW_SUBMIT, data={"language": "xx"})
    error = assert_error(r, 429, "RATE_LIMIT_EXCEEDED")
    assert r.headers["Retry-After"] == str(error["retryAfterSeconds"])


def test_the_multilingual_403_follows_the_form_and_precedes_the_audio_checks(api):
    """The documented order: the form's 400s, then MULTILINGUAL_NOT_ENABLED, then the audio."""
    r = api.call("POST", "/api/v1/speech/analyze", key=ENGLISH_ONLY, data={"language": "es"})
    assert_error(r, 400, "MISSING_AUDIO_FILE")
    assert_error(submit(api, key=ENGLISH_ONLY, language="es", data=png_file()), 403, "MULTILINGUAL_NOT_ENABLED")
    assert_error(submit(api, key=ENGLISH_ONLY, language="es", tags='["a","a"]'), 403, "MULTILINGUAL_NOT_ENABLED")


def test_the_audio_checks_come_before_the_credit_check(api):
    assert_error(submit(api, key=LOW, data=audio("flac", 179.0)), 400, "AUDIO_TOO_SHORT")
    assert_error(submit(api, key=LOW, data=truncated_audio_file("flac")), 400, "AUDIO_DURATION_UNAVAILABLE")
    assert_error(submit(api, key=LOW, data=png_file()), 400, "UNSUPPORTED_FORMAT")
    assert_error(submit(api, key=LOW, data=audio("flac", 180.0), cutStartSeconds="5"), 400, "INVALID_PARAMETERS")
    error = assert_error(submit(api, key=LOW, data=audio("flac", 180.0)), 402, "INSUFFICIENT_CREDITS")
    assert error["details"] == {"cost": 3, "available": 2}


def test_the_field_checks_come_before_the_audio_checks(api):
    assert_error(submit(api, data=png_file(), tags='["a","a"]'), 400, "INVALID_METADATA")
    assert_error(submit(api, data=png_file(), externalId=""), 400, "INVALID_EXTERNAL_ID")


# --------------------------------------------------------------------------- ERR-5, ERR-6 (scenario faults)

def test_warming_up_scenario_answers_503_with_retry_after(api):
    r = submit(api, scenario="warming-up")
    error = assert_error(r, 503, "SERVICE_WARMING_UP")
    assert error["retryAfterSeconds"] == 45
    assert r.headers["Retry-After"] == "45"
    assert credits(api)["heldCredits"] == 0


def test_internal_error_scenario_answers_500_on_every_speech_operation(api):
    assert_error(submit(api, scenario="internal-error"), 500, "INTERNAL_ERROR")
    run_id = submitted(api)["id"]
    headers = {"X-Mock-Scenario": "internal-error"}
    assert_error(api.call("GET", f"/api/v1/speech/analyze/{run_id}", headers=headers), 500, "INTERNAL_ERROR")
    assert_error(api.call("GET", "/api/v1/speech/runs", headers=headers), 500, "INTERNAL_ERROR")
