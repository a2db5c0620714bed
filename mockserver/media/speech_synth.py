"""Speech-like audio as a streamed mono 16-bit PCM WAV: voiced spans (harmonic syllables at
a voice's pitch, coloured by vowel formants, in phrases with short gaps) over quiet room
tone. Deterministic from a text seed, so the same seed always yields the same bytes and
nothing needs storing; the header carries the exact data size, so ``wav_size(duration,
sample_rate)`` is the ``Content-Length`` before any byte is generated.

Used by Interview recordings (INTV-7); any module that must return a recording can use it.
"""

from __future__ import annotations

import hashlib
import math
import random
import struct
import sys
from array import array
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Mapping, Sequence

DEFAULT_SAMPLE_RATE = 8000        # telephone quality: small, and plenty for speech
SAMPLE_WIDTH = 2                  # 16-bit PCM
WAV_HEADER_SIZE = 44
DEFAULT_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class VoicedSpan:
    """A voice speaking from ``start`` to ``end`` (seconds from the start of the recording)."""

    voice: str
    start: float
    end: float


def seeded_rng(seed: str, purpose: str) -> random.Random:
    """A generator fixed by ``(seed, purpose)``: independent streams per purpose."""
    digest = hashlib.sha256(f"{purpose}:{seed}".encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def wav_frames(duration_seconds: float, sample_rate: int = DEFAULT_SAMPLE_RATE) -> int:
    return max(0, round(duration_seconds * sample_rate))


def wav_size(duration_seconds: float, sample_rate: int = DEFAULT_SAMPLE_RATE) -> int:
    """Total byte size of the WAV ``wav_stream`` produces (the Content-Length)."""
    return WAV_HEADER_SIZE + wav_frames(duration_seconds, sample_rate) * SAMPLE_WIDTH


def wav_header(frames: int, sample_rate: int) -> bytes:
    data_size = frames * SAMPLE_WIDTH
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + data_size, b"WAVE", b"fmt ", 16,
                       1, 1, sample_rate, sample_rate * SAMPLE_WIDTH, SAMPLE_WIDTH,
                       8 * SAMPLE_WIDTH, b"data", data_size)


def _pcm(samples: list[int]) -> bytes:
    data = array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    return data.tobytes()


# Vowel formants (F1, F2, F3 in Hz) used to colour the syllables.
_VOWELS: tuple[tuple[int, int, int], ...] = (
    (730, 1090, 2440), (530, 1840, 2480), (270, 2290, 3010), (570, 840, 2410), (300, 870, 2240),
)
_WAVETABLE_SIZE = 512
_SYLLABLES_PER_VOICE = 14


def _vowel_wavetable(f0: float, formants: tuple[int, int, int], nyquist: float) -> list[float]:
    """One pitch period of a vowel: harmonics of f0 weighted by formant resonances."""
    weights: list[tuple[int, float]] = []
    harmonic = 1
    while harmonic * f0 < min(3800.0, nyquist * 0.9) and harmonic <= 40:
        frequency = harmonic * f0
        resonance = sum(1.0 / (1.0 + ((frequency - formant) / 90.0) ** 2) for formant in formants)
        weights.append((harmonic, (0.35 / harmonic ** 0.7 + resonance) / harmonic ** 0.3))
        harmonic += 1
    table = [sum(weight * math.sin(2 * math.pi * h * i / _WAVETABLE_SIZE) for h, weight in weights)
             for i in range(_WAVETABLE_SIZE)]
    peak = max(abs(value) for value in table) or 1.0
    return [value / peak for value in table]


@lru_cache(maxsize=64)
def _syllable_bank(f0: float, sample_rate: int, voice_seed: str) -> tuple[bytes, ...]:
    """Pre-rendered syllables for one voice: a short noisy onset (consonant) then a voiced
    vowel with a falling pitch contour and a smooth envelope."""
    rng = seeded_rng(voice_seed, "syllables")
    nyquist = sample_rate / 2
    tables = [_vowel_wavetable(f0, formants, nyquist) for formants in _VOWELS]
    bank: list[bytes] = []
    for _ in range(_SYLLABLES_PER_VOICE):
        length = int(rng.uniform(0.12, 0.26) * sample_rate)
        onset = int(rng.uniform(0.01, 0.03) * sample_rate)
        table = tables[rng.randrange(len(tables))]
        gain = rng.uniform(0.45, 0.8) * 32767
        pitch_start = f0 * rng.uniform(1.0, 1.12)
        pitch_end = f0 * rng.uniform(0.85, 0.98)
        phase = 0.0
        samples: list[int] = []
        for i in range(length):
            x = i / length
            envelope = math.sin(math.pi * x) ** 0.6
            pitch = pitch_start + (pitch_end - pitch_start) * x
            phase = (phase + pitch * _WAVETABLE_SIZE / sample_rate) % _WAVETABLE_SIZE
            value = table[int(phase)] * envelope
            if i < onset:
                value = value * (i / onset) + rng.uniform(-0.25, 0.25) * (1 - i / onset)
            samples.append(int(max(-32767, min(32767, value * gain))))
        bank.append(_pcm(samples))
    return tuple(bank)


@lru_cache(maxsize=8)
def _room_tone(sample_rate: int) -> bytes:
    """One second of quiet background noise (pauses are never digital silence)."""
    rng = seeded_rng(str(sample_rate), "room-tone")
    level = 0.0
    samples: list[int] = []
    for _ in range(sample_rate):
        level = 0.9 * level + rng.uniform(-18.0, 18.0)
        samples.append(int(level))
    return _pcm(samples)


def _room_tone_frames(frames: int, sample_rate: int, offset: int) -> Iterator[bytes]:
    tone = _room_tone(sample_rate)
    tone_frames = len(tone) // SAMPLE_WIDTH
    position = offset % tone_frames
    remaining = frames
    for _ in range(frames // tone_frames + 2):
        if remaining <= 0:
            return
        take = min(remaining, tone_frames - position)
        yield tone[position * SAMPLE_WIDTH:(position + take) * SAMPLE_WIDTH]
        remaining -= take
        position = 0


def _voiced_frames(frames: int, bank: tuple[bytes, ...], sample_rate: int,
                   rng: random.Random) -> Iterator[bytes]:
    """Syllables separated by short gaps and phrase breaks; room tone where none fits."""
    remaining = frames
    until_break = rng.randint(3, 7)
    # each iteration consumes at least one gap frame, so this bound is never reached early
    for _ in range(frames + 1):
        if remaining <= 0:
            return
        syllable = bank[rng.randrange(len(bank))]
        syllable_frames = len(syllable) // SAMPLE_WIDTH
        if syllable_frames > remaining:
            yield from _room_tone_frames(remaining, sample_rate, rng.randrange(sample_rate))
            return
        yield syllable
        remaining -= syllable_frames
        until_break -= 1
        if until_break <= 0:
            gap_seconds, until_break = rng.uniform(0.15, 0.3), rng.randint(3, 7)
        else:
            gap_seconds = rng.uniform(0.02, 0.08)
        gap = max(1, min(remaining, int(gap_seconds * sample_rate)))
        if remaining > 0:
            yield from _room_tone_frames(gap, sample_rate, rng.randrange(sample_rate))
            remaining -= gap


def _pcm_pieces(duration_seconds: float, spans: Sequence[VoicedSpan], seed: str,
                voices: Mapping[str, tuple[float, float]], sample_rate: int) -> Iterator[bytes]:
    total = wav_frames(duration_seconds, sample_rate)
    voice_rng = seeded_rng(seed, "voices")
    banks = {name: _syllable_bank(round(voice_rng.uniform(low, high), 1), sample_rate, f"{seed}:{name}")
             for name, (low, high) in voices.items()}
    rng = seeded_rng(seed, "audio")
    cursor = 0
    for span in spans:
        start = min(total, round(span.start * sample_rate))
        end = min(total, round(span.end * sample_rate))
        if start > cursor:
            yield from _room_tone_frames(start - cursor, sample_rate, cursor)
            cursor = start
        if end > cursor:
            yield from _voiced_frames(end - cursor, banks[span.voice], sample_rate, rng)
            cursor = end
    if total > cursor:
        yield from _room_tone_frames(total - cursor, sample_rate, cursor)


def wav_stream(duration_seconds: float, spans: Sequence[VoicedSpan], seed: str,
               voices: Mapping[str, tuple[float, float]], sample_rate: int = DEFAULT_SAMPLE_RATE, *,
               chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[bytes]:
    """``spans`` voiced (each by its voice's syllables; one pitch per voice drawn from its
    range) as a mono 16-bit PCM WAV: the 44-byte header (exact sizes) first, then the samples
    in chunks of about ``chunk_bytes``. Exactly ``wav_size(...)`` bytes in all."""
    if sample_rate < 4000:
        raise ValueError("sample_rate must be at least 4000 Hz")
    frames = wav_frames(duration_seconds, sample_rate)
    yield wav_header(frames, sample_rate)
    expected = frames * SAMPLE_WIDTH
    emitted = 0
    buffer = bytearray()
    for piece in _pcm_pieces(duration_seconds, spans, seed, voices, sample_rate):
        buffer += piece
        if len(buffer) >= chunk_bytes:
            emitted += len(buffer)
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        emitted += len(buffer)
        yield bytes(buffer)
    if emitted != expected:
        raise RuntimeError(f"WAV data size mismatch: wrote {emitted} bytes, header says {expected}")
