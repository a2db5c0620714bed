"""SPCH-5, SPCH-7, SPCH-8: generated Speech results are deterministic, coherent and on contract."""

from __future__ import annotations

import hashlib
import json
import re

import jsonschema
import pytest

from mockserver.modules.speech.phrasebank import PHRASE_BANKS, transcript_words
from mockserver.modules.speech.results import (
    CEFR_LEVELS,
    DEGRADED_STEP_MESSAGES,
    LANGUAGE_NAMES,
    SPEECH_FAILURE_MESSAGES,
    SUPPORTED_LANGUAGES,
    build_speech_result,
    cefr_level,
    score_percentage,
    speech_failure,
)
from tests.support import contract_document
from tests.support.audio_fixtures import distinct_audio_files

SAMPLE_HASHES = [hashlib.sha256(f"recording-{index}".encode()).hexdigest() for index in range(120)]
SCORE_NAMES = ("overall", "vocabulary", "fluency", "accent")
LABEL_NAMES = {"overall": "cefrLevel", "vocabulary": "vocabularyCefr",
               "fluency": "fluencyCefr", "accent": "accentCefr"}


def result_for(audio_sha256: str, duration: float = 200.0, language: str = "en", **options) -> dict:
    return build_speech_result(audio_sha256=audio_sha256, duration_seconds=duration,
                               language=language, audio_format=options.pop("audio_format", "mp3"),
                               **options)


@pytest.fixture(scope="module")
def sample_results() -> list[dict]:
    durations = (180.0, 195.5, 240.0, 300.0, 421.7, 600.0, 900.0, 2700.0)
    return [result_for(sha, durations[index % len(durations)]) for index, sha in enumerate(SAMPLE_HASHES)]


@pytest.fixture(scope="module")
def contract() -> dict:
    return contract_document()


def branch_validator(contract: dict, branch: str) -> jsonschema.Draft202012Validator:
    schema = dict(contract["components"]["schemas"][branch], components=contract["components"])
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def with_envelope(status: str, payload: dict) -> dict:
    return {"id": "req_1705412345678_abc123", "status": status, "externalId": None,
            "metadata": {"candidateId": "cand-42"}, "tags": ["batch-1"],
            "createdAt": "2026-04-21T12:34:56.789Z", "startedAt": "2026-04-21T12:35:00.000Z",
            "completedAt": "2026-04-21T12:38:00.000Z", **payload}


# --------------------------------------------------------------------------- determinism

def test_same_inputs_give_the_same_payload():
    first = result_for(SAMPLE_HASHES[0], 431.2, "de", speaker_count=3)
    again = result_for(SAMPLE_HASHES[0], 431.2, "de", speaker_count=3)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)


def test_different_audio_gives_different_results():
    files = distinct_audio_files("wav", 240.0, 6)
    results = [result_for(hashlib.sha256(data).hexdigest(), 240.0) for data in files]
    transcripts = {json.dumps(result["transcript"]) for result in results}
    score_sets = {json.dumps(result["scores"], sort_keys=True) for result in results}
    assert len(transcripts) == len(files)
    assert len(score_sets) >= len(files) - 1


def test_scores_spread_across_the_cefr_range(sample_results):
    levels = {result["scores"]["cefrLevel"] for result in sample_results}
    assert {"A2", "B1", "B2", "C1"} <= levels


# --------------------------------------------------------------------------- scores

@pytest.mark.parametrize("score, level", [
    (0.0, "A1"), (0.99, "A1"), (1.0, "A2"), (1.99, "A2"), (2.0, "B1"), (2.74, "B1"),
    (2.75, "B2"), (3.49, "B2"), (3.5, "C1"), (4.24, "C1"), (4.25, "C2"), (5.0, "C2"),
])
def test_cefr_level_follows_the_documented_thresholds(score, level):
    assert cefr_level(score) == level


def test_every_label_and_percentage_matches_its_score(sample_results):
    for result in sample_results:
        scores = result["scores"]
        for name in SCORE_NAMES:
            assert 0 <= scores[name] <= 5
            assert scores[name] == round(scores[name], 1)
            assert scores[LABEL_NAMES[name]] == cefr_level(scores[name])
            assert scores[f"{name}Percentage"] == score_percentage(scores[name]) == round(scores[name] * 20)


def test_overall_is_the_weighted_mean_of_the_three_dimensions(sample_results):
    for result in sample_results:
        scores = result["scores"]
        weighted = 0.4 * scores["vocabulary"] + 0.4 * scores["fluency"] + 0.2 * scores["accent"]
        assert scores["overall"] == pytest.approx(weighted, abs=0.051)


# --------------------------------------------------------------------------- transcript

def test_segments_are_ordered_and_cover_the_real_duration(sample_results):
    for result in sample_results:
        duration = result["audio"]["durationSeconds"]
        segments = result["transcript"]["segments"]
        assert 0 <= segments[0]["start"] < 2.0
        assert duration - 1.0 <= segments[-1]["end"] <= duration
        for previous, segment in zip(segments, segments[1:]):
            assert segment["start"] < segment["end"]
            assert previous["end"] <= segment["start"] <= previous["end"] + 3.0


def test_forty_five_minute_transcript_stays_compact():
    result = result_for(SAMPLE_HASHES[1], 2701.0, "en", speaker_count=2)
    segments = result["transcript"]["segments"]
    assert segments[-1]["end"] == pytest.approx(2701.0, abs=1.0)
    assert max(segment["end"] - segment["start"] for segment in segments) <= 30.0 + 1e-6
    assert 80 <= len(segments) <= 400
    assert len(json.dumps(result, ensure_ascii=False)) < 150_000


def test_a_final_answer_stretched_past_30_seconds_is_split():
    from mockserver.modules.speech.transcript import _end_at, _Turn

    turns = [_Turn("interviewer_0", 0.5, 5.0, ("Why are you interested in this position?",)),
             _Turn("candidate", 5.5, 34.0), _Turn("interviewer_0", 37.8, 40.0, ("Any questions?",))]
    ended = _end_at(turns, 39.5)  # the last question starts too late and is dropped
    assert [turn.role for turn in ended] == ["interviewer_0", "candidate", "candidate"]
    assert ended[-1].end == 39.5
    assert all(turn.end - turn.start <= 30.0 for turn in ended)
    assert ended[1].end < ended[2].start


def test_cut_window_bounds_the_transcript():
    result = result_for(SAMPLE_HASHES[2], 400.0, cut_start_seconds=60.0, cut_end_seconds=40.0)
    segments = result["transcript"]["segments"]
    assert result["audio"]["analyzedFromSeconds"] == 60.0
    assert result["audio"]["analyzedToSeconds"] == 360.0
    assert segments[0]["start"] >= 60.0
    assert 359.0 <= segments[-1]["end"] <= 360.0


def test_word_counts_are_counted_on_the_transcript(sample_results):
    for result in sample_results:
        transcript = result["transcript"]
        for segment in transcript["segments"]:
            assert segment["wordCount"] == len(transcript_words(segment["text"]))
        assert transcript["wordCount"] == sum(segment["wordCount"] for segment in transcript["segments"])
        assert transcript["text"] == "\n".join(segment["text"] for segment in transcript["segments"])


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_candidate_word_count_is_the_candidates_words_in_the_transcript(language):
    for sha in SAMPLE_HASHES[:10]:
        result = result_for(sha, 300.0, language)
        detection = result["candidateDetection"]
        own = [segment for segment in result["transcript"]["segments"]
               if segment["speaker"] == detection["speaker"]]
        assert detection["wordCount"] == sum(segment["wordCount"] for segment in own) > 0


# --------------------------------------------------------------------------- speakers

def speaking_seconds(result: dict) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for segment in result["transcript"]["segments"]:
        seconds[segment["speaker"]] = seconds.get(segment["speaker"], 0.0) + segment["end"] - segment["start"]
    return seconds


def test_speaker_count_is_the_number_of_distinct_speakers(sample_results):
    for result in sample_results:
        segments = result["transcript"]["segments"]
        order = list(dict.fromkeys(segment["speaker"] for segment in segments))
        assert result["speakerCount"] == len(order)
        assert order == [f"speaker_{index}" for index in range(len(order))]  # numbered by first appearance
        for segment in segments:
            number = int(segment["speaker"].removeprefix("speaker_"))
            assert segment["speakerLabel"] == f"Speaker {number + 1}"


def test_both_monologues_and_conversations_occur(sample_results):
    counts = {result["speakerCount"] for result in sample_results}
    assert 1 in counts and 2 in counts


def test_candidate_is_the_speaker_with_most_speaking_time(sample_results):
    for result in sample_results:
        seconds = speaking_seconds(result)
        detection = result["candidateDetection"]
        assert seconds[detection["speaker"]] == max(seconds.values())
        assert detection["speakerLabel"] == f"Speaker {int(detection['speaker'][8:]) + 1}"


def test_confidence_follows_the_candidates_dominance(sample_results):
    seen = set()
    for result in sample_results:
        ranked = sorted(speaking_seconds(result).values(), reverse=True)
        confidence = result["candidateDetection"]["confidence"]
        seen.add(confidence)
        if len(ranked) == 1:
            assert confidence == "high"
            continue
        dominance = ranked[0] / ranked[1]
        expected = "high" if dominance >= 2.0 else "medium" if dominance >= 1.3 else "low"
        assert confidence == expected
    assert {"high", "medium"} <= seen


def test_single_speaker_audio_scores_that_speaker():
    result = result_for(SAMPLE_HASHES[3], 600.0, speaker_count=1)
    assert result["speakerCount"] == 1
    assert {segment["speaker"] for segment in result["transcript"]["segments"]} == {"speaker_0"}
    detection = result["candidateDetection"]
    assert (detection["speaker"], detection["speakerLabel"], detection["confidence"]) == \
        ("speaker_0", "Speaker 1", "high")
    assert result["analysis"]["speakingShare"] == 1.0


@pytest.mark.parametrize("speakers", [2, 3, 4])
def test_requested_speaker_count_is_honoured(speakers):
    result = result_for(SAMPLE_HASHES[4], 360.0, speaker_count=speakers)
    assert result["speakerCount"] == speakers


# --------------------------------------------------------------------------- analysis and texts

def test_words_per_minute_is_measured_on_the_candidates_segments(sample_results):
    for result in sample_results:
        speaker = result["candidateDetection"]["speaker"]
        seconds = speaking_seconds(result)[speaker]
        analysis = result["analysis"]
        assert analysis["wordsPerMinute"] == round(result["candidateDetection"]["wordCount"] / (seconds / 60))
        assert analysis["speakingTimeSeconds"] == pytest.approx(seconds, abs=0.06)
        assert analysis["speakingShare"] == pytest.approx(seconds / sum(speaking_seconds(result).values()), abs=0.006)


def test_more_fluent_candidates_speak_faster(sample_results):
    fast = [r["analysis"]["wordsPerMinute"] for r in sample_results if r["scores"]["fluency"] >= 3.5]
    slow = [r["analysis"]["wordsPerMinute"] for r in sample_results if r["scores"]["fluency"] < 2.0]
    assert fast and slow
    assert sum(fast) / len(fast) > sum(slow) / len(slow) + 20


def test_explainability_quotes_the_levels_and_the_measured_rate(sample_results):
    with_text = [result for result in sample_results if "explainability" in result]
    assert len(with_text) >= 0.9 * len(sample_results)
    for result in with_text:
        explainability = result["explainability"]
        assert result["scores"]["vocabularyCefr"] in explainability["vocab"]
        assert result["scores"]["fluencyCefr"] in explainability["fluency"]
        assert f"{result['analysis']['wordsPerMinute']} words/min" in explainability["fluency"]
        for text in explainability.values():
            assert len(re.findall(r"[.!?](?:\s|$)", text)) == 2  # two sentences per dimension


def test_explainability_is_left_out_in_rare_cases():
    omitted = [sha for sha in SAMPLE_HASHES + [f"extra-{index}" for index in range(200)]
               if "explainability" not in result_for(sha, 200.0)]
    assert 0 < len(omitted) < 40


def test_hr_recommendation_names_the_overall_level_and_the_language():
    result = result_for(SAMPLE_HASHES[5], 300.0, "fr")
    assert f"({result['scores']['cefrLevel']}, overall {result['scores']['overall']}/5)" in result["hrRecommendation"]
    assert "French" in result["hrRecommendation"]


def test_low_confidence_asks_for_a_transcript_review(sample_results):
    for result in sample_results:
        asks = "review the transcript" in result["hrRecommendation"]
        assert asks == (result["candidateDetection"]["confidence"] == "low")


# --------------------------------------------------------------------------- partial (SPCH-7)

def test_partial_keeps_the_full_payload_and_names_the_degraded_step():
    success = result_for(SAMPLE_HASHES[6], 300.0)
    partial = result_for(SAMPLE_HASHES[6], 300.0, degraded=True)
    assert partial["degradedSteps"] == [{"step": "VOCABULARY_BOOST_UNAVAILABLE",
                                         "message": DEGRADED_STEP_MESSAGES["VOCABULARY_BOOST_UNAVAILABLE"]}]
    assert "degradedSteps" not in success
    assert set(success) <= set(partial)
    assert partial["scores"]["vocabulary"] <= success["scores"]["vocabulary"]
    assert partial["scores"]["fluency"] == success["scores"]["fluency"]


def test_trim_fallback_analyses_the_full_clip():
    steps = {}
    for sha in SAMPLE_HASHES[:20]:
        partial = result_for(sha, 400.0, degraded=True, cut_start_seconds=30.0, cut_end_seconds=30.0)
        step = partial["degradedSteps"][0]["step"]
        steps[step] = partial
    fallback = steps["AUDIO_TRIM_FALLBACK"]
    assert (fallback["audio"]["analyzedFromSeconds"], fallback["audio"]["analyzedToSeconds"]) == (0.0, 400.0)
    assert fallback["transcript"]["segments"][-1]["end"] > 399.0
    trimmed = steps["VOCABULARY_BOOST_UNAVAILABLE"]
    assert (trimmed["audio"]["analyzedFromSeconds"], trimmed["audio"]["analyzedToSeconds"]) == (30.0, 370.0)


# --------------------------------------------------------------------------- languages

_SCRIPTS = {
    "latin": r"[A-Za-zÀ-ɏ]",
    "cyrillic": r"[\u0400-\u04FF]",
    "devanagari": r"[\u0900-\u097F]",
    "han": r"[\u4E00-\u9FFF]",
    "kana": r"[\u3040-\u30FF]",
    "hangul": r"[\uAC00-\uD7AF]",
    "arabic": r"[\u0600-\u06FF]",
}
_EXPECTED_SCRIPTS = {
    **{code: {"latin"} for code in ("en", "es", "fr", "de", "pt", "it", "nl", "tr", "pl", "sr")},
    "ru": {"cyrillic"}, "hi": {"devanagari"}, "zh": {"han"}, "ja": {"kana", "han"},
    "ko": {"hangul"}, "ar": {"arabic"},
}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_transcript_is_written_in_the_languages_script(language):
    result = result_for(SAMPLE_HASHES[7], 240.0, language)
    text = result["transcript"]["text"]
    present = {script for script, pattern in _SCRIPTS.items() if re.search(pattern, text)}
    assert present == _EXPECTED_SCRIPTS[language]
    assert result["audio"]["requestedLanguage"] == language
    assert LANGUAGE_NAMES[language] in result["hrRecommendation"]


def test_chinese_and_japanese_are_written_without_spaces():
    for language in ("zh", "ja"):
        text = result_for(SAMPLE_HASHES[8], 240.0, language)["transcript"]["text"]
        assert " " not in text


def test_every_language_has_a_phrase_bank():
    assert set(PHRASE_BANKS) == set(SUPPORTED_LANGUAGES) and len(SUPPORTED_LANGUAGES) == 16


# --------------------------------------------------------------------------- wire shape and contract

def _nested_keys(value, depth=0):
    if isinstance(value, dict):
        for key, child in value.items():
            if depth:
                yield key
            yield from _nested_keys(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _nested_keys(child, depth + 1)


def test_payload_has_no_nested_id_or_status_keys(sample_results):
    partial = result_for(SAMPLE_HASHES[9], 300.0, degraded=True)
    for result in sample_results + [partial]:
        assert not {"id", "status"} & set(result)
        assert not {"id", "status"} & set(_nested_keys(result))


def test_success_payload_validates_against_the_contract(sample_results, contract):
    validator = branch_validator(contract, "SpeechPollSuccess")
    for result in sample_results[::4]:
        validator.validate(with_envelope("success", result))


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_partial_payload_validates_against_the_contract(language, contract):
    result = result_for(SAMPLE_HASHES[10], 2700.0, language, degraded=True, audio_format="webm",
                        cut_start_seconds=100.0)
    branch_validator(contract, "SpeechPollPartial").validate(with_envelope("partial", result))
    assert not branch_validator(contract, "SpeechPollSuccess").is_valid(with_envelope("success", result))


def test_failure_objects_cover_the_documented_codes(contract):
    schema = contract["components"]["schemas"]["SpeechRunError"]
    assert set(SPEECH_FAILURE_MESSAGES) == set(schema["properties"]["code"]["enum"])
    validator = branch_validator(contract, "SpeechRunError")
    for code in SPEECH_FAILURE_MESSAGES:
        validator.validate(speech_failure(code))


def test_exported_vocabularies_match_the_contract(contract):
    schemas = contract["components"]["schemas"]
    assert list(SUPPORTED_LANGUAGES) == schemas["SpeechLanguage"]["enum"]
    assert list(CEFR_LEVELS) == schemas["SpeechCefrLevel"]["enum"]
    assert set(DEGRADED_STEP_MESSAGES) == set(schemas["SpeechDegradedStep"]["properties"]["step"]["enum"])


@pytest.mark.parametrize("bad", [
    {"language": "sv"},
    {"audio_format": "aac"},
    {"duration": 0.0},
    {"duration": float("nan")},
    {"speaker_count": 5},
    {"speaker_count": 0},
    {"cut_start_seconds": -1.0},
    {"cut_start_seconds": 150.0, "cut_end_seconds": 50.0},
])
def test_impossible_inputs_are_refused(bad):
    options = {"duration": 200.0, "language": "en", **bad}
    with pytest.raises(ValueError):
        result_for(SAMPLE_HASHES[11], options.pop("duration"), options.pop("language"), **options)
