"""Interview recordings (real PCM WAV, streamed) and transcripts (INTV-7)."""

from __future__ import annotations

import array
import hashlib
import io
import math
import struct
import sys
import unicodedata
import wave

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.media.speech_synth import WAV_HEADER_SIZE, wav_frames, wav_size
from mockserver.modules.interview.media import (
    CANDIDATE,
    INTERVIEWER,
    PHRASES,
    build_transcript,
    plan_turns,
    transcript_body,
    wav_stream,
)
from mockserver.modules.interview.prompts import SUPPORTED_LANGUAGES


def _wav_bytes(duration: float, seed: str = "session-1", sample_rate: int = 8000) -> bytes:
    return b"".join(wav_stream(duration, seed, sample_rate))


def _samples(data: bytes) -> tuple[array.array, int]:
    with wave.open(io.BytesIO(data)) as reader:
        frames = reader.readframes(reader.getnframes())
        rate = reader.getframerate()
    samples = array.array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples, rate


def _rms(samples: array.array, start: int, end: int) -> float:
    window = samples[start:end]
    return math.sqrt(sum(value * value for value in window) / max(1, len(window)))


# -- WAV ------------------------------------------------------------------------------------
@pytest.mark.parametrize("duration", [0.0, 2.5, 7.0, 61.234, 300.0])
def test_wav_parses_with_the_stdlib_and_reports_the_duration(duration):
    data = _wav_bytes(duration)
    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getnchannels() == 1
        assert reader.getsampwidth() == 2
        assert reader.getframerate() == 8000
        assert reader.getcomptype() == "NONE"
        assert abs(reader.getnframes() / reader.getframerate() - duration) <= 1 / 8000


@pytest.mark.parametrize("duration", [0.0, 3.3, 95.5])
def test_streamed_size_equals_the_size_announced_in_the_header(duration):
    chunks = list(wav_stream(duration, "seed-x"))
    data = b"".join(chunks)
    riff_size = struct.unpack_from("<I", data, 4)[0]
    data_size = struct.unpack_from("<I", data, 40)[0]
    assert chunks[0] == data[:WAV_HEADER_SIZE] and len(chunks[0]) == WAV_HEADER_SIZE
    assert len(data) == riff_size + 8 == WAV_HEADER_SIZE + data_size == wav_size(duration)
    assert data_size == wav_frames(duration) * 2


def test_long_recordings_stream_in_bounded_chunks():
    chunk_bytes = 32 * 1024
    sizes = [len(chunk) for chunk in wav_stream(120.0, "seed-y", chunk_bytes=chunk_bytes)]
    assert len(sizes) > 10
    assert max(sizes[1:]) < chunk_bytes + 8000 * 2  # at most one second of samples over
    assert sum(sizes) == wav_size(120.0)


def test_other_sample_rates_are_honoured():
    data = _wav_bytes(10.0, sample_rate=16000)
    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getframerate() == 16000
        assert reader.getnframes() == 160000
    assert len(data) == wav_size(10.0, 16000)


def test_same_seed_same_bytes_different_seed_different_bytes():
    digest = lambda seed: hashlib.sha256(_wav_bytes(40.0, seed)).hexdigest()  # noqa: E731
    assert digest("a") == digest("a")
    assert digest("a") != digest("b")


def test_wav_is_voiced_during_turns_and_quiet_but_not_silent_between_them():
    duration = 180.0
    samples, rate = _samples(_wav_bytes(duration, "voices"))
    slots = plan_turns(duration, "voices")
    voiced = [_rms(samples, int(s.start * rate), int(s.end * rate)) for s in slots]
    gaps = [_rms(samples, int(a.end * rate) + 1, int(b.start * rate) - 1)
            for a, b in zip(slots, slots[1:]) if b.start - a.end > 0.2]
    assert gaps, "expected pauses between turns"
    assert min(voiced) > 10 * max(gaps)
    assert all(gap > 0 for gap in gaps), "pauses carry room tone, not digital silence"


def _pitch(window: array.array, rate: int) -> float:
    """Fundamental frequency of a voiced window by autocorrelation (80–400 Hz)."""
    best_lag, best = 0, -math.inf
    for lag in range(rate // 400, rate // 80 + 1):
        score = sum(window[i] * window[i + lag] for i in range(len(window) - lag))
        if score > best:
            best_lag, best = lag, score
    return rate / best_lag


def test_interviewer_and_candidate_speak_at_different_pitches():
    duration = 120.0
    samples, rate = _samples(_wav_bytes(duration, "pitch"))
    window = int(0.04 * rate)

    def median_pitch(speaker: str) -> float:
        pitches: list[float] = []
        for slot in plan_turns(duration, "pitch"):
            if slot.speaker != speaker:
                continue
            for start in range(int(slot.start * rate), int(slot.end * rate) - window, window):
                if len(pitches) >= 40:
                    break
                if _rms(samples, start, start + window) > 3000:
                    pitches.append(_pitch(samples[start:start + window], rate))
        assert len(pitches) >= 10
        return sorted(pitches)[len(pitches) // 2]

    interviewer, candidate = median_pitch(INTERVIEWER), median_pitch(CANDIDATE)
    assert 90 <= interviewer <= 160
    assert 140 <= candidate <= 260
    assert candidate > 1.15 * interviewer


def test_a_45_minute_recording_streams_its_exact_size():
    assert sum(len(chunk) for chunk in wav_stream(2700.0, "long")) == wav_size(2700.0)


# -- turn plan and transcript ---------------------------------------------------------------
@pytest.mark.parametrize("duration", [6.0, 30.0, 451.7, 2700.0])
def test_turns_alternate_and_cover_the_duration(duration):
    turns = build_transcript("Backend Engineer", "en", duration, "cover")
    speakers = [turn["speaker"] for turn in turns]
    assert speakers[0] == INTERVIEWER and speakers[-1] == INTERVIEWER
    assert all(a != b for a, b in zip(speakers, speakers[1:]))
    assert turns[0]["start"] < 1.0
    assert turns[-1]["end"] == round(duration, 3)
    for turn in turns:
        assert 0 <= turn["start"] < turn["end"] <= duration
        assert turn["text"].strip()
    for previous, current in zip(turns, turns[1:]):
        assert previous["end"] <= current["start"] <= previous["end"] + 2.0


@settings(max_examples=300, deadline=None)
@given(duration=st.floats(min_value=0.001, max_value=3600.0), seed=st.text(max_size=12))
def test_turn_plan_properties_hold_for_any_duration_and_seed(duration, seed):
    slots = plan_turns(duration, seed)
    assert slots[0].speaker == INTERVIEWER and slots[-1].speaker == INTERVIEWER
    assert slots[-1].end == round(duration, 3)
    for slot in slots:
        assert 0 <= slot.start < slot.end
    for previous, current in zip(slots, slots[1:]):
        assert previous.speaker != current.speaker
        assert previous.end <= current.start <= previous.end + 2.0


def test_transcript_timings_are_the_turns_the_wav_voices():
    turns = build_transcript("Nurse", "de", 200.0, "same-plan")
    assert [(t["speaker"], t["start"], t["end"]) for t in turns] == \
        [(s.speaker, s.start, s.end) for s in plan_turns(200.0, "same-plan")]


def test_short_and_empty_recordings():
    assert build_transcript("Nurse", "en", 0.0, "s") == []
    [only] = build_transcript("Nurse", "en", 3.0, "s")
    assert only["speaker"] == INTERVIEWER and only["end"] == 3.0


def test_interviewer_greets_asks_about_the_role_and_closes():
    turns = build_transcript("Backend Engineer", "en", 600.0, "role")
    interviewer = [t["text"] for t in turns if t["speaker"] == INTERVIEWER]
    assert "Backend Engineer" in interviewer[0]
    assert interviewer[-1] == PHRASES["en"]["closing"].format(role="Backend Engineer")
    assert any("Backend Engineer" in text for text in interviewer[1:-1])
    assert all(text.rstrip().endswith("?") for text in interviewer[1:-1])


def test_an_interrupted_interview_ends_on_a_question_not_the_closing():
    turns = build_transcript("Backend Engineer", "en", 600.0, "role", ended_normally=False)
    assert turns[-1]["text"] != PHRASES["en"]["closing"].format(role="Backend Engineer")


def test_longer_candidate_turns_carry_more_text():
    turns = [t for t in build_transcript("Pilot", "en", 1200.0, "len") if t["speaker"] == CANDIDATE]
    shortest = min(turns, key=lambda t: t["end"] - t["start"])
    longest = max(turns, key=lambda t: t["end"] - t["start"])
    assert len(longest["text"]) > len(shortest["text"])


def test_transcript_is_deterministic_per_seed():
    assert build_transcript("Pilot", "fr", 300.0, "a") == build_transcript("Pilot", "fr", 300.0, "a")
    assert build_transcript("Pilot", "fr", 300.0, "a") != build_transcript("Pilot", "fr", 300.0, "b")


_SCRIPTS = {"hi": ("DEVANAGARI",), "zh": ("CJK",), "ja": ("HIRAGANA", "KATAKANA", "CJK"),
            "ko": ("HANGUL",), "ar": ("ARABIC",), "ru": ("CYRILLIC",), "sr": ("CYRILLIC",)}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_candidate_text_is_in_the_interview_language(language):
    turns = build_transcript("QA Engineer", language, 240.0, "lang")
    candidate_text = " ".join(t["text"] for t in turns if t["speaker"] == CANDIDATE)
    assert any(answer in candidate_text for answer in PHRASES[language]["answers"])
    letters = [ch for ch in candidate_text if ch.isalpha()]
    if language in _SCRIPTS:
        in_script = [ch for ch in letters
                     if any(script in unicodedata.name(ch, "") for script in _SCRIPTS[language])]
        assert len(in_script) > 0.8 * len(letters)
    else:
        assert all("LATIN" in unicodedata.name(ch, "") for ch in letters)


def test_every_language_has_a_full_phrase_bank():
    assert set(PHRASES) == set(SUPPORTED_LANGUAGES)
    for bank in PHRASES.values():
        assert "{role}" in bank["greeting"] and "{role}" in bank["closing"]
        assert sum("{role}" in q for q in bank["questions"]) >= 3
        assert len(bank["answers"]) >= 6 and len(bank["acks"]) >= 2


def test_transcript_body_has_one_canonical_id():
    turns = build_transcript("Pilot", "en", 60.0, "id")
    body = transcript_body("9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d", "en", 60.0, turns)
    assert set(body) == {"id", "language", "duration_seconds", "turns"}
