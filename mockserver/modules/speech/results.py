"""The result payload of a finished Speech run: scores, candidate detection, transcript (SPCH-5, 7, 8).

`build_speech_result` is a pure function of the audio (its SHA-256 and real duration) and the
request (language, format, cut window): the same inputs always give the same payload and
different audio gives different results. It returns every field of the `success`/`partial`
poll body except the run envelope (`id`, `status`, `externalId`, `metadata`, `tags` and the
timestamps), which the handler adds.

The rules that make a payload hang together (the contract states them too):

- Scores are 0–5 with one decimal; `overall` = 0.4·vocabulary + 0.4·fluency + 0.2·accent;
  each `…Percentage` = score × 20 (0–100); every CEFR label is `cefr_level(score)`:
  < 1.0 A1, < 2.0 A2, < 2.75 B1, < 3.5 B2, < 4.25 C1, else C2.
- The transcript (`speech_transcript`) is diarized into segments of 10–30 s (interviewer
  questions are shorter) that lie inside the analysed window and end within a second of its
  end. Speakers are numbered by first appearance (`speaker_0` → "Speaker 1");
  `speakerCount` is the number of distinct speakers in the segments.
- The candidate is the speaker with the most speaking time; `wordCount` is the candidate's
  word count in the transcript; `confidence` follows their dominance over the next speaker
  (≥ 2× speaking time high, ≥ 1.3× medium, else low). One speaker → `speakerCount` 1, that
  speaker scored, confidence high (SPCH-8). About a quarter of recordings are monologues.
- The candidate's speaking rate (`analysis.wordsPerMinute`, from the transcript) rises with
  fluency; advanced phrasing in the transcript rises with vocabulary; `explainability`
  quotes the CEFR labels and that rate. It is left out for ~4 % of recordings (the docs:
  "in rare cases where a per-dimension feature breakdown couldn't be produced").
- `partial` (degraded=True, SPCH-7, the changelog's reading A1): the same payload plus
  `degradedSteps`: the advanced-vocabulary boost did not run (the vocabulary score is
  reported without it), or — when a cut window was requested — trimming fell back to the
  full clip (the transcript then covers the whole recording).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mockserver.media.audio import ACCEPTED_AUDIO_FORMATS
from mockserver.modules.speech.draws import HashStream, clamp
from mockserver.modules.speech.phrasebank import PHRASE_BANKS
from mockserver.modules.speech.transcript import draw_segments

SUPPORTED_LANGUAGES: tuple[str, ...] = (
    "en", "es", "fr", "de", "pt", "it", "nl", "hi", "zh", "ja", "ko", "ar", "tr", "pl", "ru", "sr",
)
LANGUAGE_NAMES: dict[str, str] = {code: PHRASE_BANKS[code].name for code in SUPPORTED_LANGUAGES}

CEFR_LEVELS: tuple[str, ...] = ("A1", "A2", "B1", "B2", "C1", "C2")
# Upper bounds (exclusive) of each level on the 0–5 scale; C2 is everything from 4.25 up.
CEFR_UPPER_BOUNDS: tuple[tuple[float, str], ...] = (
    (1.0, "A1"), (2.0, "A2"), (2.75, "B1"), (3.5, "B2"), (4.25, "C1"),
)

# SPCH-6: the codes a `failed` run reports, with the docs' meaning as the message.
SPEECH_FAILURE_MESSAGES: dict[str, str] = {
    "TRANSCRIPTION_FAILED": "Transcription failed: audio quality issue or transcription provider error.",
    "TRANSCRIPTION_LOW_CONFIDENCE": "The audio content does not match the requested language.",
    "SCORING_FAILED": "The scoring service failed after a retry.",
    "VOCAB_MODEL_TIMEOUT": "The vocabulary model timed out.",
    "FLUENCY_MODEL_TIMEOUT": "The fluency model timed out.",
    "ACCENT_SCORE_UNAVAILABLE": "Accent could not be measured, so no score was returned. Resubmit the audio.",
    "SERVICE_CONFIGURATION_ERROR": "An external provider is misconfigured. Contact support.",
    "STUCK_TIMEOUT": "The run exceeded its watchdog timeout.",
    "INTERNAL_ERROR": "An unexpected error occurred. Contact support.",
}

# SPCH-7: optional steps whose degradation turns `success` into `partial` (changelog examples).
DEGRADED_STEP_MESSAGES: dict[str, str] = {
    "VOCABULARY_BOOST_UNAVAILABLE":
        "The advanced-vocabulary boost could not run; the vocabulary score is reported without it.",
    "AUDIO_TRIM_FALLBACK":
        "Audio trimming failed; the full clip was analysed instead of the requested cut window.",
}

MAX_SPEAKERS = 4
_EXPLAINABILITY_MISSING_RATE = 0.04


def cefr_level(score: float) -> str:
    """The CEFR label of a 0–5 score (see CEFR_UPPER_BOUNDS)."""
    for upper_bound, level in CEFR_UPPER_BOUNDS:
        if score < upper_bound:
            return level
    return "C2"


def score_percentage(score: float) -> int:
    """A 0–5 score on the 0–100 scale."""
    return round(score * 20)


def speech_failure(code: str) -> dict:
    """The `error` object of a `failed` poll body for one of the SPCH-6 codes."""
    return {"code": code, "message": SPEECH_FAILURE_MESSAGES[code]}


def build_speech_result(*, audio_sha256: str, duration_seconds: float, language: str,
                        audio_format: str, speaker_count: int | None = None,
                        degraded: bool = False, cut_start_seconds: float = 0.0,
                        cut_end_seconds: float = 0.0) -> dict:
    """The `success` (or, with `degraded`, `partial`) payload for one analysed recording.

    `cut_start_seconds` / `cut_end_seconds` trim the analysed window from each end of the
    recording. `speaker_count` (1–4) overrides the number of speakers the hash would pick.
    """
    _check_inputs(audio_sha256, duration_seconds, language, audio_format, speaker_count,
                  cut_start_seconds, cut_end_seconds)
    seed = f"{audio_sha256}|{language}|{duration_seconds:.3f}"
    cut_requested = cut_start_seconds > 0 or cut_end_seconds > 0
    degraded_step = _pick_degraded_step(HashStream(seed, "degraded"), cut_requested) if degraded else None
    if cut_requested and degraded_step != "AUDIO_TRIM_FALLBACK":
        window = (cut_start_seconds, duration_seconds - cut_end_seconds)
    else:
        window = (0.0, duration_seconds)

    scores = _draw_scores(HashStream(seed, "scores"),
                          vocabulary_boost=degraded_step != "VOCABULARY_BOOST_UNAVAILABLE")
    bank = PHRASE_BANKS[language]
    segments = draw_segments(HashStream(seed, "speakers"), HashStream(seed, "transcript"), bank, window,
                             scores, speaker_count)
    stats = _speaker_stats(segments)
    detection = _detect_candidate(stats, HashStream(seed, "reason"))
    analysis = _candidate_analysis(stats, detection["speaker"])

    result: dict = {
        "scores": scores,
        "hrRecommendation": _hr_recommendation(scores, bank.name, detection["confidence"]),
        "candidateDetection": detection,
        "speakerCount": len(stats),
        "analysis": analysis,
        "transcript": {
            "text": "\n".join(segment["text"] for segment in segments),
            "wordCount": sum(segment["wordCount"] for segment in segments),
            "segments": segments,
        },
        "audio": {
            "requestedLanguage": language,
            "durationSeconds": round(duration_seconds, 3),
            "format": audio_format,
            "analyzedFromSeconds": round(window[0], 3),
            "analyzedToSeconds": round(window[1], 3),
        },
    }
    if HashStream(seed, "explainability").unit() >= _EXPLAINABILITY_MISSING_RATE:
        result["explainability"] = _explainability(scores, analysis, detection, len(segments))
    if degraded_step is not None:
        result["degradedSteps"] = [{"step": degraded_step,
                                    "message": DEGRADED_STEP_MESSAGES[degraded_step]}]
    return result


# --------------------------------------------------------------------------- inputs

def _check_inputs(audio_sha256, duration_seconds, language, audio_format, speaker_count,
                  cut_start_seconds, cut_end_seconds) -> None:
    if not audio_sha256:
        raise ValueError("audio_sha256 is required")
    if not (isinstance(duration_seconds, (int, float)) and math.isfinite(duration_seconds)
            and duration_seconds > 0):
        raise ValueError(f"duration_seconds must be a positive number, not {duration_seconds!r}")
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    if audio_format not in ACCEPTED_AUDIO_FORMATS:
        raise ValueError(f"unsupported audio format {audio_format!r}")
    if speaker_count is not None and not 1 <= speaker_count <= MAX_SPEAKERS:
        raise ValueError(f"speaker_count must be 1..{MAX_SPEAKERS}")
    if cut_start_seconds < 0 or cut_end_seconds < 0:
        raise ValueError("cut settings cannot be negative")
    if duration_seconds - cut_start_seconds - cut_end_seconds < 1.0:
        raise ValueError("the cut window leaves no audio to analyse")


# --------------------------------------------------------------------------- scores

def _draw_scores(stream: HashStream, *, vocabulary_boost: bool) -> dict:
    proficiency = 0.8 + 2.0 * (stream.unit() + stream.unit())  # triangular on [0.8, 4.8]
    vocabulary_base = clamp(proficiency + stream.uniform(-0.5, 0.4), 0.5, 4.9)
    boost = stream.uniform(0.1, 0.3) if vocabulary_base >= 3.0 else 0.0
    vocabulary = clamp(vocabulary_base + (boost if vocabulary_boost else 0.0), 0.5, 5.0)
    fluency = clamp(proficiency + stream.uniform(-0.5, 0.5), 0.5, 5.0)
    accent = clamp(proficiency + stream.uniform(-0.7, 0.4), 0.5, 5.0)
    tenths = {name: round(value * 10) for name, value in
              (("vocabulary", vocabulary), ("fluency", fluency), ("accent", accent))}
    overall_tenths = round((4 * tenths["vocabulary"] + 4 * tenths["fluency"] + 2 * tenths["accent"]) / 10)
    overall = overall_tenths / 10
    vocabulary, fluency, accent = (tenths[name] / 10 for name in ("vocabulary", "fluency", "accent"))
    return {
        "overall": overall,
        "cefrLevel": cefr_level(overall),
        "vocabulary": vocabulary,
        "vocabularyCefr": cefr_level(vocabulary),
        "fluency": fluency,
        "fluencyCefr": cefr_level(fluency),
        "accent": accent,
        "accentCefr": cefr_level(accent),
        "overallPercentage": score_percentage(overall),
        "vocabularyPercentage": score_percentage(vocabulary),
        "fluencyPercentage": score_percentage(fluency),
        "accentPercentage": score_percentage(accent),
    }


def _pick_degraded_step(stream: HashStream, cut_requested: bool) -> str:
    steps = ["VOCABULARY_BOOST_UNAVAILABLE"] + (["AUDIO_TRIM_FALLBACK"] if cut_requested else [])
    return steps[stream.below(len(steps))]


# --------------------------------------------------------------------------- detection and texts

_HIGH_CONFIDENCE_REASONS = (
    "Speaker answers questions and describes experience",
    "Speaker gives the longest answers and talks about their own work history",
    "Speaker responds to the interviewer's questions and holds most of the speaking time",
)


@dataclass
class _SpeakerStats:
    label: str
    seconds: float = 0.0
    words: int = 0


def _speaker_stats(segments: list[dict]) -> dict[str, _SpeakerStats]:
    """Speaking time and word count per speaker, in order of first appearance."""
    stats: dict[str, _SpeakerStats] = {}
    for segment in segments:
        entry = stats.setdefault(segment["speaker"], _SpeakerStats(segment["speakerLabel"]))
        entry.seconds += segment["end"] - segment["start"]
        entry.words += segment["wordCount"]
    return stats


def _detect_candidate(stats: dict[str, _SpeakerStats], stream: HashStream) -> dict:
    """The candidate is the speaker with the most speaking time; confidence is their dominance."""
    ranked = sorted(stats, key=lambda speaker: (stats[speaker].seconds, stats[speaker].words), reverse=True)
    candidate = ranked[0]
    if len(ranked) == 1:
        confidence, reason = "high", "Only one speaker detected; the whole recording is scored"
    else:
        dominance = stats[candidate].seconds / max(stats[ranked[1]].seconds, 0.01)
        if dominance >= 2.0:
            confidence = "high"
            reason = _HIGH_CONFIDENCE_REASONS[stream.below(len(_HIGH_CONFIDENCE_REASONS))]
        elif dominance >= 1.3:
            confidence, reason = "medium", "Speaker answers most questions, but speaking time is fairly balanced"
        else:
            confidence = "low"
            reason = "Speaking time is almost evenly split; speaker chosen by a narrow margin"
    return {
        "speaker": candidate,
        "speakerLabel": stats[candidate].label,
        "confidence": confidence,
        "reason": reason,
        "wordCount": stats[candidate].words,
    }


def _candidate_analysis(stats: dict[str, _SpeakerStats], candidate: str) -> dict:
    """The candidate's speaking rate and share, as measured on the transcript."""
    speaking_seconds = stats[candidate].seconds
    return {
        "wordsPerMinute": round(stats[candidate].words / (speaking_seconds / 60)),
        "speakingTimeSeconds": round(speaking_seconds, 1),
        "speakingShare": round(speaking_seconds / sum(entry.seconds for entry in stats.values()), 2),
    }


_HR_BY_LEVEL = {
    "C2": "Exceptional {language} proficiency ({level}, overall {overall}/5). Suitable for any role, "
          "including negotiation, public speaking and other demanding communication in {language}.",
    "C1": "Strong {language} proficiency ({level}, overall {overall}/5). Recommended for client-facing "
          "and senior roles that depend on clear, persuasive communication in {language}.",
    "B2": "Solid working proficiency in {language} ({level}, overall {overall}/5). Suitable for most "
          "professional roles; consider a follow-up conversation for roles centred on client communication.",
    "B1": "Functional {language} proficiency ({level}, overall {overall}/5). Suitable for roles with "
          "routine communication in {language}; language support is advisable for client-facing work.",
    "A2": "Limited {language} proficiency ({level}, overall {overall}/5). Recommended only for roles with "
          "minimal spoken {language}, ideally alongside language training.",
    "A1": "Very limited {language} proficiency ({level}, overall {overall}/5). Not recommended for roles "
          "that require spoken {language}.",
}


def _hr_recommendation(scores: dict, language_name: str, confidence: str) -> str:
    text = _HR_BY_LEVEL[scores["cefrLevel"]].format(
        language=language_name, level=scores["cefrLevel"], overall=scores["overall"])
    if confidence == "low":
        text += " Candidate detection confidence is low: review the transcript before deciding."
    return text


def _explainability(scores: dict, analysis: dict, detection: dict, segment_count: int) -> dict:
    vocabulary_level = scores["vocabularyCefr"]
    fluency_level = scores["fluencyCefr"]
    rate = analysis["wordsPerMinute"]
    words = detection["wordCount"]
    if vocabulary_level in ("C1", "C2"):
        vocab = (f"Advanced vocabulary with consistent use of {vocabulary_level}-level words and precise phrasing. "
                 f"Word choice stays varied and accurate across {words} words of speech.")
    elif vocabulary_level == "B2":
        vocab = (f"Good range of vocabulary at {vocabulary_level} level, with less common words used accurately. "
                 f"Some everyday expressions repeat across {words} words, which keeps it below C1.")
    elif vocabulary_level == "B1":
        vocab = (f"Adequate everyday vocabulary at {vocabulary_level} level for familiar work topics. "
                 f"Abstract or less common words are rare across {words} words, and ideas are often rephrased simply.")
    else:
        vocab = (f"Basic vocabulary at {vocabulary_level} level, relying on short, common words. "
                 f"The limited range across {words} words makes detailed or abstract ideas hard to express.")
    if fluency_level in ("C1", "C2"):
        fluency = (f"Fluid delivery at {rate} words/min with few hesitations, consistent with {fluency_level}. "
                   f"Ideas connect smoothly across {segment_count} transcript segments.")
    elif fluency_level == "B2":
        fluency = (f"Generally fluent delivery at {rate} words/min, consistent with {fluency_level}. "
                   f"Short pauses appear when reaching for less common expressions.")
    elif fluency_level == "B1":
        fluency = (f"Steady but deliberate delivery at {rate} words/min, consistent with {fluency_level}. "
                   f"Noticeable pauses and restarts occur in longer answers.")
    else:
        fluency = (f"Slow, effortful delivery at {rate} words/min, consistent with {fluency_level}. "
                   f"Frequent pauses break up sentences and interrupt the flow of ideas.")
    return {"vocab": vocab, "fluency": fluency}
