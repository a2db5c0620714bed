"""Interview phrases, per supported Speech language, that generated transcripts are made of.

Each language has interviewer questions and candidate answers in two registers (everyday and
advanced), written in the language's own script: Latin for the European languages, Turkish
and Serbian (Latin alphabet), Devanagari for Hindi, Han for Chinese, kana/kanji for
Japanese, Hangul for Korean, Arabic for Arabic, Cyrillic for Russian.

A word is a whitespace-separated token holding a letter or digit (`transcript_words`).
Chinese and Japanese are written without spaces; their phrases are stored with spaces
between words so a phrase's word count is known, and rendered without them
(`PhraseBank.words` / `PhraseBank.render`). The phrases live in
`mockserver/data/speech_phrases.json`; this module gives them their behaviour.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources


def transcript_words(text: str) -> list[str]:
    """Whitespace-separated tokens holding at least one letter or digit."""
    return [token for token in text.split() if any(char.isalnum() for char in token)]


@dataclass(frozen=True)
class PhraseBank:
    """The phrases of one language and how to turn them into transcript text."""

    name: str
    questions: tuple[str, ...]
    everyday_answers: tuple[str, ...]
    advanced_answers: tuple[str, ...]
    spaced_script: bool = True  # False: words are written without spaces between them

    def words(self, phrase: str) -> list[str]:
        """The phrase's words (the unit of word counts and words per minute); punctuation is no word."""
        return transcript_words(phrase)

    def render(self, phrases: list[str]) -> str:
        """Phrases as transcript text in the language's own spacing."""
        if self.spaced_script:
            return " ".join(phrases)
        return "".join(phrase.replace(" ", "") for phrase in phrases)


def _load_banks() -> dict[str, PhraseBank]:
    raw = json.loads(resources.files("mockserver").joinpath("data/speech_phrases.json").read_text("utf-8"))
    return {code: PhraseBank(name=bank["name"], questions=tuple(bank["questions"]),
                             everyday_answers=tuple(bank["everyday_answers"]),
                             advanced_answers=tuple(bank["advanced_answers"]),
                             spaced_script=bank.get("spaced_script", True))
            for code, bank in raw.items()}


# The phrases themselves are data: mockserver/data/speech_phrases.json.
PHRASE_BANKS: dict[str, PhraseBank] = _load_banks()
