"""The diarized transcript of a generated Speech result: who speaks when, and what they say.

`draw_segments` plans the conversation on the analysed window and writes each segment's text
from the language's phrase bank:

- Interviews alternate interviewer turns (one question, sometimes a follow-up) and candidate
  answers; the candidate's intended share of speaking time is clear (72–85 %), balanced
  (58–64 %) or ambiguous (47–54 %). With more than one interviewer, each takes one of the
  first turns and the lead asks most questions afterwards. The opener comes first, the
  closing question near the end, and its answer runs to the end of the recording.
- Monologues (one speaker) are consecutive segments of one speaker.
- Answers are cut into segments of 10–30 s; the first segment starts within 1.5 s of the
  window start and the last ends within 0.8 s of the window end.
- Text is whole sentences: interviewer questions as asked; candidate segments hold about
  `wordsPerMinute × seconds / 60` words, where the rate rises with fluency, and the share of
  advanced-register sentences rises with vocabulary.
- Speakers are numbered by first appearance: `speaker_0` / "Speaker 1", …
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mockserver.modules.speech.draws import HashStream, clamp
from mockserver.modules.speech.phrasebank import PhraseBank

_MONOLOGUE_RATE = 0.25
_THREE_SPEAKER_RATE = 0.15
_INTERVIEWER_WORDS_PER_MINUTE = 145


@dataclass
class _Turn:
    role: str  # "candidate" or "interviewer_<n>"
    start: float
    end: float
    phrases: tuple[str, ...] | None = None  # an interviewer's question(s); None for the candidate


def draw_segments(speakers: HashStream, words: HashStream, bank: PhraseBank,
                  window: tuple[float, float], scores: dict,
                  speaker_count: int | None) -> list[dict]:
    """Transcript segments `{speaker, speakerLabel, start, end, text, wordCount}` in time order.

    `scores` (0–5 `fluency` and `vocabulary`) set the candidate's speaking rate and register;
    `speaker_count` overrides the drawn number of speakers.
    """
    count = speaker_count if speaker_count is not None else _draw_speaker_count(speakers)
    turns = _plan_turns(speakers, bank, window, count)
    candidate_wpm = clamp(70 + 18 * scores["fluency"] + words.uniform(-6, 6), 60, 170)
    advanced_rate = clamp((scores["vocabulary"] - 1.5) / 3.0, 0.02, 0.95)
    speaker_numbers: dict[str, int] = {}
    segments = []
    previous_phrase: str | None = None
    for turn in turns:
        number = speaker_numbers.setdefault(turn.role, len(speaker_numbers))
        if turn.phrases is not None:
            phrases = list(turn.phrases)
        else:
            target = max(1, round(candidate_wpm * (turn.end - turn.start) / 60))
            phrases = _answer_phrases(words, bank, target, advanced_rate, previous_phrase)
            previous_phrase = phrases[-1]
        word_count = sum(len(bank.words(phrase)) for phrase in phrases)
        segments.append({
            "speaker": f"speaker_{number}",
            "speakerLabel": f"Speaker {number + 1}",
            "start": round(turn.start, 2),
            "end": round(turn.end, 2),
            "text": bank.render(phrases),
            "wordCount": word_count,
        })
    return segments


def _draw_speaker_count(stream: HashStream) -> int:
    draw = stream.unit()
    if draw < _MONOLOGUE_RATE:
        return 1
    return 3 if draw >= 1 - _THREE_SPEAKER_RATE else 2


def _plan_turns(stream: HashStream, bank: PhraseBank, window: tuple[float, float],
                speaker_count: int) -> list[_Turn]:
    """Speaking turns covering the window: question/answer exchanges, or a monologue."""
    window_start, window_end = window
    length = window_end - window_start
    tail = min(stream.uniform(0.1, 0.8), length * 0.05)
    end_target = window_end - tail
    clock = window_start + min(stream.uniform(0.3, 1.5), length * 0.05)
    interviewers = [f"interviewer_{index}" for index in range(speaker_count - 1)]
    candidate_share = _draw_candidate_share(stream, speaker_count)
    candidate_speaks_first = bool(interviewers) and stream.unit() < 0.15
    turns: list[_Turn] = []
    question_seconds = 6.0  # length of the question an answer responds to
    interviewer_turns = 0
    questions = _QuestionPlan(bank, stream.below(len(bank.questions)))
    max_turns = int(length / 2) + 16
    next_is_answer = not interviewers or candidate_speaks_first
    while clock < end_target and len(turns) < max_turns:
        if next_is_answer:
            if interviewers and questions.closed:
                answer = end_target - clock  # the answer to the closing question ends the recording
            elif interviewers:
                answer = question_seconds * candidate_share / (1 - candidate_share)
                answer = clamp(answer * stream.uniform(0.7, 1.3), 3.0, 150.0)
            else:
                answer = end_target - clock
            clock = _add_answer_chunks(stream, turns, clock, answer, end_target, max_turns)
        else:
            speaker = _pick_interviewer(stream, interviewers, interviewer_turns)
            interviewer_turns += 1
            asked = questions.next_turn(stream, near_end=end_target - clock < 45.0)
            word_count = sum(len(bank.words(question)) for question in asked)
            question_seconds = max(2.0, word_count / _INTERVIEWER_WORDS_PER_MINUTE * 60 * stream.uniform(1.0, 1.25))
            turns.append(_Turn(speaker, clock, clock + question_seconds, asked))
            clock += question_seconds + stream.uniform(0.2, 1.0)
        next_is_answer = not interviewers or not next_is_answer
    return _end_at(turns, end_target)


class _QuestionPlan:
    """The interviewer's questions: the opener, then the others in turn, the closer near the end."""

    def __init__(self, bank: PhraseBank, offset: int):
        self._opener, *self._middle, self._closer = bank.questions
        self._offset = offset
        self._asked = 0
        self.closed = False

    def next_turn(self, stream: HashStream, *, near_end: bool) -> tuple[str, ...]:
        if self._asked == 0:
            self._asked = 1
            return (self._opener,)
        if near_end and not self.closed:
            self.closed = True
            return (self._closer,)
        turn = [self._next_middle()]
        if not near_end and stream.unit() < 0.5:  # a follow-up question in the same turn
            turn.append(self._next_middle())
        return tuple(turn)

    def _next_middle(self) -> str:
        question = self._middle[(self._offset + self._asked - 1) % len(self._middle)]
        self._asked += 1
        return question


def _pick_interviewer(stream: HashStream, interviewers: list[str], turns_so_far: int) -> str:
    """Each interviewer takes one of the first turns; then the lead takes 70 % of them."""
    if turns_so_far < len(interviewers):
        return interviewers[turns_so_far]
    if len(interviewers) == 1 or stream.unit() < 0.7:
        return interviewers[0]
    return interviewers[1 + stream.below(len(interviewers) - 1)]


def _draw_candidate_share(stream: HashStream, speaker_count: int) -> float:
    """The candidate's intended share of speaking time: clear, balanced or ambiguous."""
    draw = stream.unit()
    if speaker_count == 1:
        return 1.0
    if draw < 0.7:
        return stream.uniform(0.72, 0.85)
    if draw < 0.9:
        return stream.uniform(0.58, 0.64)
    return stream.uniform(0.47, 0.54)


def _add_answer_chunks(stream: HashStream, turns: list[_Turn], clock: float, answer: float,
                       end_target: float, max_turns: int) -> float:
    """An answer as consecutive candidate segments of 10–30 s; returns the clock after it."""
    remaining = answer
    while remaining > 0 and clock < end_target and len(turns) < max_turns:
        # Whole when it fits in 30 s; otherwise a chunk that leaves at least 10 s behind it.
        chunk = remaining if remaining <= 30.0 else stream.uniform(10.0, min(30.0, remaining - 10.0))
        turns.append(_Turn("candidate", clock, clock + chunk))
        remaining -= chunk
        clock += chunk + stream.uniform(0.3, 1.2)
    return clock + stream.uniform(0.0, 0.5)


def _end_at(turns: list[_Turn], end_target: float) -> list[_Turn]:
    """Drop turns starting in the last 2 s and stretch or cut the last one to `end_target`."""
    kept = [turn for turn in turns if turn.start < end_target - 2.0] or turns[:1]
    last = kept[-1]
    last.end = end_target
    if last.phrases is None and last.end - last.start > 30.0:
        return kept[:-1] + _split_long_turn(last)
    return kept


def _split_long_turn(turn: _Turn) -> list[_Turn]:
    pieces = math.ceil((turn.end - turn.start) / 30.0)
    step = (turn.end - turn.start) / pieces
    return [_Turn(turn.role, turn.start + index * step + (0.4 if index else 0.0),
                  turn.start + (index + 1) * step)
            for index in range(pieces)]


def _answer_phrases(stream: HashStream, bank: PhraseBank, target_words: int, advanced_rate: float,
                    previous: str | None) -> list[str]:
    """Whole sentences adding up to about `target_words` words."""
    phrases: list[str] = []
    total = 0
    for _ in range(target_words):  # each phrase adds at least one word
        pool = bank.advanced_answers if stream.unit() < advanced_rate else bank.everyday_answers
        phrase = pool[stream.below(len(pool))]
        if phrase == previous:
            phrase = pool[(pool.index(phrase) + 1) % len(pool)]
        size = len(bank.words(phrase))
        if phrases and total + size / 2 > target_words:
            break
        phrases.append(phrase)
        previous = phrase
        total += size
        if total >= target_words:
            break
    return phrases
