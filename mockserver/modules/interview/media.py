"""Interview results: the recording (a real PCM WAV, streamed) and the transcript (INTV-7).

Both are derived deterministically from ``(duration_seconds, seed)`` — the seed is normally
the session id — so the same session always yields the same bytes and text, and nothing
needs to be stored. ``plan_turns`` lays out alternating interviewer/candidate turns with
pauses over the whole duration; the transcript fills those turns with phrases in the
interview language (questions mention the role), and the WAV voices exactly those turns
(speech-like harmonic syllables at two pitches, quiet room tone in the pauses — the
synthesis itself is `mockserver.media.speech_synth`). The phrases are data
(`mockserver/data/interview_phrases.json`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Iterator

from mockserver.media.speech_synth import DEFAULT_CHUNK_BYTES, DEFAULT_SAMPLE_RATE, VoicedSpan, seeded_rng
from mockserver.media.speech_synth import wav_stream as synth_wav_stream
from mockserver.modules.interview.prompts import normalise_role_name

INTERVIEWER = "interviewer"
CANDIDATE = "candidate"

SINGLE_TURN_BELOW_SECONDS = 6.0   # shorter recordings hold a single interviewer turn

# Characters spoken per second, to size the text of a turn to its length.
_CHARS_PER_SECOND: dict[str, float] = {"zh": 4.5, "ja": 7.0, "ko": 6.0}
_DEFAULT_CHARS_PER_SECOND = 14.0
_NO_SPACE_LANGUAGES = frozenset({"zh", "ja"})
_MAX_SENTENCES_PER_TURN = 12


@dataclass(frozen=True)
class TurnSlot:
    """Who speaks when (seconds from the start of the recording)."""

    speaker: str
    start: float
    end: float


# -- timing -------------------------------------------------------------------------------
def plan_turns(duration_seconds: float, seed: str) -> list[TurnSlot]:
    """Alternating turns (interviewer first and last) covering ``duration_seconds``.

    A short lead-in silence precedes the first turn; the last turn ends exactly at the
    duration. Turn lengths are drawn (interviewer 4–12 s, candidate 12–45 s, pauses
    0.4–1.6 s) and then scaled so the sequence fits the duration exactly.
    """
    if duration_seconds <= 0:
        return []
    duration = float(duration_seconds)
    rng = seeded_rng(seed, "timing")
    lead = min(rng.uniform(0.3, 0.8), duration * 0.1)
    if duration < SINGLE_TURN_BELOW_SECONDS:
        return [TurnSlot(INTERVIEWER, round(lead, 3), round(duration, 3))]
    available = duration - lead
    lengths: list[float] = []
    pauses: list[float] = []
    total = 0.0
    max_turns = int(duration / 2) + 6   # every turn is ≥ 4 s, so the loop ends well before this
    for index in range(max_turns):
        speaker = INTERVIEWER if index % 2 == 0 else CANDIDATE
        if index:
            pause = rng.uniform(0.4, 1.6)
            pauses.append(pause)
            total += pause
        length = rng.uniform(4.0, 12.0) if speaker == INTERVIEWER else rng.uniform(12.0, 45.0)
        lengths.append(length)
        total += length
        if total >= available and speaker == INTERVIEWER and index >= 2:
            break
    if len(lengths) % 2 == 0:  # never ends on the candidate: the interviewer closes
        pause, length = rng.uniform(0.4, 1.6), rng.uniform(4.0, 12.0)
        pauses.append(pause)
        lengths.append(length)
        total += pause + length
    scale = available / total
    slots: list[TurnSlot] = []
    cursor = lead
    for index, length in enumerate(lengths):
        speaker = INTERVIEWER if index % 2 == 0 else CANDIDATE
        start = cursor
        end = duration if index == len(lengths) - 1 else start + length * scale
        slots.append(TurnSlot(speaker, round(start, 3), round(end, 3)))
        if index < len(pauses):
            cursor = end + pauses[index] * scale
    return slots


# -- transcript ---------------------------------------------------------------------------
def build_transcript(role_name: str, language: str, duration_seconds: float, seed: str, *,
                     ended_normally: bool = True) -> list[dict[str, Any]]:
    """Transcript turns ``{speaker, start, end, text}`` for the recording of that duration.

    Interviewer turns greet, ask role-specific questions and (when ``ended_normally``)
    close; candidate turns answer. Text is in ``language``'s script and sized to each turn.
    """
    if language not in PHRASES:
        raise ValueError(f"unsupported interview language {language!r}")
    bank = PHRASES[language]
    role = normalise_role_name(role_name)
    rng = seeded_rng(seed, f"text:{language}")
    questions = list(bank["questions"])
    answers = list(bank["answers"])
    rng.shuffle(questions)
    rng.shuffle(answers)
    joiner = "" if language in _NO_SPACE_LANGUAGES else " "
    rate = _CHARS_PER_SECOND.get(language, _DEFAULT_CHARS_PER_SECOND)
    slots = plan_turns(duration_seconds, seed)
    turns: list[dict[str, Any]] = []
    question_index = 0
    answer_index = 0
    for position, slot in enumerate(slots):
        target_chars = (slot.end - slot.start) * rate
        is_last = position == len(slots) - 1
        if slot.speaker == INTERVIEWER:
            if position == 0:
                text = bank["greeting"].format(role=role)
            elif is_last and ended_normally:
                text = bank["closing"].format(role=role)
            else:
                text = questions[question_index % len(questions)].format(role=role)
                question_index += 1
                if target_chars > 1.4 * len(text):
                    text = joiner.join((bank["acks"][question_index % len(bank["acks"])], text))
        else:
            sentences: list[str] = []
            for _ in range(_MAX_SENTENCES_PER_TURN):
                sentences.append(answers[answer_index % len(answers)])
                answer_index += 1
                if len(joiner.join(sentences)) >= 0.85 * target_chars:
                    break
            text = joiner.join(sentences)
        turns.append({"speaker": slot.speaker, "start": slot.start, "end": slot.end, "text": text})
    return turns


def transcript_body(session_id: str, language: str, duration_seconds: float,
                    turns: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``GET /sessions/{id}/transcript`` body (one canonical ``id`` — META-4)."""
    return {"id": session_id, "language": language, "duration_seconds": duration_seconds,
            "turns": turns}


# -- WAV ----------------------------------------------------------------------------------
# The interviewer speaks low, the candidate high (f0 ranges in Hz; one pitch drawn per session).
VOICES: dict[str, tuple[float, float]] = {INTERVIEWER: (110.0, 135.0), CANDIDATE: (160.0, 225.0)}


def wav_stream(duration_seconds: float, seed: str, sample_rate: int = DEFAULT_SAMPLE_RATE, *,
               chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[bytes]:
    """The recording: the session's turns voiced over room tone (see ``media.speech_synth``)."""
    spans = [VoicedSpan(slot.speaker, slot.start, slot.end) for slot in plan_turns(duration_seconds, seed)]
    return synth_wav_stream(duration_seconds, spans, seed, VOICES, sample_rate, chunk_bytes=chunk_bytes)


# -- phrase banks -------------------------------------------------------------------------
# Per language: a greeting and a closing naming the role, role-specific questions, short
# acknowledgements, and candidate answer sentences — all in the language's own script.
# The phrases are data: mockserver/data/interview_phrases.json.
def _load_phrases() -> dict[str, dict[str, Any]]:
    raw = json.loads(resources.files("mockserver").joinpath("data/interview_phrases.json").read_text("utf-8"))
    return {language: {name: tuple(value) if isinstance(value, list) else value for name, value in bank.items()}
            for language, bank in raw.items()}


PHRASES: dict[str, dict[str, Any]] = _load_phrases()
