"""Interview results through HTTP (INTV-7): the recording is a real, playable WAV whose length
is the session's, the transcript follows the persona's role and language and the session's
duration, and both answer 409 until (or unless) a result exists."""

from __future__ import annotations

import io
import wave

from conftest import SECOND
from mockserver.modules.interview.media import PHRASES
from test_interview_support import (
    SESSIONS, act_ok, make_persona, make_session, run_interview, token_of,
)


def test_recording_is_a_playable_wav_whose_duration_matches_the_session(api):
    created = run_interview(api, 750.25)
    r = api.call("GET", f"{SESSIONS}/{created['id']}/recording")
    assert r.status_code == 200
    assert r.headers["content-type"] == "audio/wav"
    assert int(r.headers["content-length"]) == len(r.content)
    assert created["id"] in r.headers["content-disposition"]
    with wave.open(io.BytesIO(r.content)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        duration = wav.getnframes() / wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    assert abs(duration - 750.25) < 0.001
    assert len(frames) == wav.getnframes() * 2
    assert len(set(frames[:20000])) > 50  # sound, not digital silence
    again = api.call("GET", f"{SESSIONS}/{created['id']}/recording").content
    assert again == r.content  # the same session always streams the same bytes


def test_transcript_follows_the_personas_role_and_language_and_the_duration(api):
    created = run_interview(api, 600, role_name="Desarrolladora backend", language="es")
    r = api.call("GET", f"{SESSIONS}/{created['id']}/transcript")
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == created["id"] and body["language"] == "es"
    assert body["duration_seconds"] == 600
    turns = body["turns"]
    assert [t["speaker"] for t in turns[:4]] == ["interviewer", "candidate", "interviewer", "candidate"]
    assert turns[0]["speaker"] == turns[-1]["speaker"] == "interviewer"
    assert turns[-1]["end"] == 600
    assert all(a["end"] <= b["start"] for a, b in zip(turns, turns[1:]))
    assert "Desarrolladora backend" in turns[0]["text"] and "Hola" in turns[0]["text"]
    assert "Desarrolladora backend" in turns[-1]["text"]  # the closing names the role too


def test_results_are_409_result_not_ready_until_the_session_completes(api):
    persona = make_persona(api)
    created = make_session(api, persona["id"])
    for part in ("recording", "transcript"):
        r = api.call("GET", f"{SESSIONS}/{created['id']}/{part}")
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "RESULT_NOT_READY"
        assert r.json()["error"]["details"] == {"status": "initiated"}
    act_ok(api, "start", token_of(created))
    r = api.call("GET", f"{SESSIONS}/{created['id']}/recording")
    assert r.json()["error"]["details"] == {"status": "in_progress"}


def test_a_session_that_ended_without_a_result_answers_409_no_result(api):
    persona = make_persona(api)
    created = make_session(api, persona["id"])
    act_ok(api, "start", token_of(created))
    api.advance(2700)
    for part in ("recording", "transcript"):
        r = api.call("GET", f"{SESSIONS}/{created['id']}/{part}")
        assert r.status_code == 409 and r.json()["error"]["code"] == "NO_RESULT"
        assert r.json()["error"]["details"] == {"status": "failed"}


def test_a_partial_result_is_served_for_a_dropped_interview_that_kept_it(api):
    persona = make_persona(api, role_name="Data Analyst")
    created = make_session(api, persona["id"])
    act_ok(api, "start", token_of(created))
    api.advance(95)
    act_ok(api, "drop", token_of(created), keep_recording=True)
    recording = api.call("GET", f"{SESSIONS}/{created['id']}/recording")
    with wave.open(io.BytesIO(recording.content)) as wav:
        assert abs(wav.getnframes() / wav.getframerate() - 95) < 0.001
    turns = api.call("GET", f"{SESSIONS}/{created['id']}/transcript").json()["turns"]
    assert turns[-1]["end"] == 95
    closing = PHRASES["en"]["closing"].format(role="Data Analyst")
    assert all(turn["text"] != closing for turn in turns)  # it did not end normally: no closing


def test_another_clients_results_are_404(api):
    created = run_interview(api, 60)
    for part in ("recording", "transcript"):
        r = api.call("GET", f"{SESSIONS}/{created['id']}/{part}", key=SECOND)
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
