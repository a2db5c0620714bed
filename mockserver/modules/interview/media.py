"""Interview results: the recording (a real PCM WAV, streamed) and the transcript (INTV-7).

Both are derived deterministically from ``(duration_seconds, seed)`` — the seed is normally
the session id — so the same session always yields the same bytes and text, and nothing
needs to be stored. ``plan_turns`` lays out alternating interviewer/candidate turns with
pauses over the whole duration; the transcript fills those turns with phrases in the
interview language (questions mention the role), and the WAV voices exactly those turns
(speech-like harmonic syllables at two pitches, quiet room tone in the pauses).

The WAV is mono 16-bit PCM; the header carries the exact data size, so
``wav_size(duration, sample_rate)`` is the ``Content-Length`` before any byte is generated.
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
from typing import Any, Iterator

from mockserver.modules.interview.prompts import normalise_role_name

INTERVIEWER = "interviewer"
CANDIDATE = "candidate"

DEFAULT_SAMPLE_RATE = 8000
SAMPLE_WIDTH = 2                  # 16-bit PCM
WAV_HEADER_SIZE = 44
DEFAULT_CHUNK_BYTES = 64 * 1024
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


def _rng(seed: str, purpose: str) -> random.Random:
    digest = hashlib.sha256(f"{purpose}:{seed}".encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


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
    rng = _rng(seed, "timing")
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
    rng = _rng(seed, f"text:{language}")
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
    rng = _rng(voice_seed, "syllables")
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
    rng = _rng(str(sample_rate), "room-tone")
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


def _pcm_pieces(duration_seconds: float, seed: str, sample_rate: int) -> Iterator[bytes]:
    total = wav_frames(duration_seconds, sample_rate)
    voice_rng = _rng(seed, "voices")
    voices = {
        INTERVIEWER: _syllable_bank(round(voice_rng.uniform(110.0, 135.0), 1), sample_rate,
                                    f"{seed}:interviewer"),
        CANDIDATE: _syllable_bank(round(voice_rng.uniform(160.0, 225.0), 1), sample_rate,
                                  f"{seed}:candidate"),
    }
    rng = _rng(seed, "audio")
    cursor = 0
    for slot in plan_turns(duration_seconds, seed):
        start = min(total, round(slot.start * sample_rate))
        end = min(total, round(slot.end * sample_rate))
        if start > cursor:
            yield from _room_tone_frames(start - cursor, sample_rate, cursor)
            cursor = start
        if end > cursor:
            yield from _voiced_frames(end - cursor, voices[slot.speaker], sample_rate, rng)
            cursor = end
    if total > cursor:
        yield from _room_tone_frames(total - cursor, sample_rate, cursor)


def wav_stream(duration_seconds: float, seed: str, sample_rate: int = DEFAULT_SAMPLE_RATE, *,
               chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[bytes]:
    """The recording as a mono 16-bit PCM WAV: the 44-byte header (exact sizes) first, then
    the samples in chunks of about ``chunk_bytes``. Exactly ``wav_size(...)`` bytes in all."""
    if sample_rate < 4000:
        raise ValueError("sample_rate must be at least 4000 Hz")
    frames = wav_frames(duration_seconds, sample_rate)
    yield wav_header(frames, sample_rate)
    expected = frames * SAMPLE_WIDTH
    emitted = 0
    buffer = bytearray()
    for piece in _pcm_pieces(duration_seconds, seed, sample_rate):
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


# -- phrase banks -------------------------------------------------------------------------
# Per language: a greeting and a closing naming the role, role-specific questions, short
# acknowledgements, and candidate answer sentences — all in the language's own script.
PHRASES: dict[str, dict[str, Any]] = {
    "en": {
        "greeting": "Hello, and thank you for joining. I am the ZenHire AI interviewer, and today we will talk about the {role} position. This interview is recorded.",
        "questions": (
            "To begin, could you walk me through your background and how it led you to the {role} role?",
            "What experience do you have that is most relevant to working as a {role}?",
            "Tell me about a concrete problem you solved in your work. What did you do, and what was the result?",
            "How do you usually work with colleagues and other teams?",
            "Why do you want to work as a {role} with us?",
            "Which skills would you like to develop further in a {role} position?",
        ),
        "acks": ("Thank you, that is helpful.", "I see, thank you."),
        "closing": "Thank you for your time today. That concludes our interview for the {role} position; the hiring team will follow up with you soon.",
        "answers": (
            "In my last position I was responsible for several projects, from planning to delivery.",
            "I enjoy breaking a difficult problem into smaller steps and solving them one at a time.",
            "We had a deadline that was at risk, so I reorganised the work and we delivered on time.",
            "I try to communicate clearly and to ask for feedback early.",
            "I have been working in this field for about five years, and I keep learning every day.",
            "What motivates me most is seeing my work help real people.",
            "When we disagree in the team, I listen first and then we look at the facts together.",
            "I would like to grow into a role with more responsibility.",
        ),
    },
    "es": {
        "greeting": "Hola y gracias por conectarte. Soy el entrevistador de IA de ZenHire y hoy hablaremos del puesto de {role}. Esta entrevista se graba.",
        "questions": (
            "Para empezar, ¿podrías contarme tu trayectoria y cómo te llevó al puesto de {role}?",
            "¿Qué experiencia tienes que sea más relevante para trabajar como {role}?",
            "Cuéntame un problema concreto que hayas resuelto en tu trabajo. ¿Qué hiciste y cuál fue el resultado?",
            "¿Cómo sueles trabajar con tus compañeros y con otros equipos?",
            "¿Por qué quieres trabajar como {role} con nosotros?",
            "¿Qué habilidades te gustaría desarrollar en un puesto de {role}?",
        ),
        "acks": ("Gracias, es muy útil.", "Entiendo, gracias."),
        "closing": "Gracias por tu tiempo. Con esto terminamos la entrevista para el puesto de {role}; el equipo de selección se pondrá en contacto contigo pronto.",
        "answers": (
            "En mi último puesto era responsable de varios proyectos, desde la planificación hasta la entrega.",
            "Me gusta dividir un problema difícil en pasos más pequeños y resolverlos uno a uno.",
            "Teníamos un plazo en riesgo, así que reorganicé el trabajo y entregamos a tiempo.",
            "Intento comunicarme con claridad y pedir opiniones desde el principio.",
            "Llevo unos cinco años trabajando en este campo y sigo aprendiendo cada día.",
            "Lo que más me motiva es ver que mi trabajo ayuda a personas reales.",
            "Cuando no estamos de acuerdo en el equipo, primero escucho y luego revisamos los datos juntos.",
            "Me gustaría crecer hacia un puesto con más responsabilidad.",
        ),
    },
    "fr": {
        "greeting": "Bonjour et merci de vous être connecté. Je suis l'intervieweur IA de ZenHire et nous allons parler aujourd'hui du poste de {role}. Cet entretien est enregistré.",
        "questions": (
            "Pour commencer, pouvez-vous me présenter votre parcours et ce qui vous a mené au poste de {role} ?",
            "Quelle expérience est la plus pertinente pour travailler comme {role} ?",
            "Parlez-moi d'un problème concret que vous avez résolu. Qu'avez-vous fait et quel a été le résultat ?",
            "Comment travaillez-vous habituellement avec vos collègues et les autres équipes ?",
            "Pourquoi souhaitez-vous travailler comme {role} chez nous ?",
            "Quelles compétences aimeriez-vous développer dans un poste de {role} ?",
        ),
        "acks": ("Merci, c'est très utile.", "Je vois, merci."),
        "closing": "Merci pour votre temps. Notre entretien pour le poste de {role} est terminé ; l'équipe de recrutement reviendra vers vous prochainement.",
        "answers": (
            "Dans mon dernier poste, j'étais responsable de plusieurs projets, de la planification à la livraison.",
            "J'aime découper un problème difficile en petites étapes et les résoudre une par une.",
            "Une échéance était menacée, alors j'ai réorganisé le travail et nous avons livré à temps.",
            "J'essaie de communiquer clairement et de demander des retours très tôt.",
            "Je travaille dans ce domaine depuis environ cinq ans et j'apprends encore chaque jour.",
            "Ce qui me motive le plus, c'est de voir mon travail aider de vraies personnes.",
            "Quand nous ne sommes pas d'accord, j'écoute d'abord, puis nous examinons les faits ensemble.",
            "J'aimerais évoluer vers un poste avec plus de responsabilités.",
        ),
    },
    "de": {
        "greeting": "Hallo und danke, dass Sie dabei sind. Ich bin der KI-Interviewer von ZenHire, und heute sprechen wir über die Position {role}. Dieses Gespräch wird aufgezeichnet.",
        "questions": (
            "Können Sie mir zu Beginn Ihren Werdegang schildern und wie er Sie zur Position {role} geführt hat?",
            "Welche Erfahrung ist für die Arbeit als {role} am wichtigsten?",
            "Erzählen Sie mir von einem konkreten Problem, das Sie gelöst haben. Was haben Sie getan, und was war das Ergebnis?",
            "Wie arbeiten Sie normalerweise mit Kolleginnen, Kollegen und anderen Teams zusammen?",
            "Warum möchten Sie bei uns als {role} arbeiten?",
            "Welche Fähigkeiten möchten Sie in der Position {role} weiterentwickeln?",
        ),
        "acks": ("Danke, das ist hilfreich.", "Verstehe, vielen Dank."),
        "closing": "Vielen Dank für Ihre Zeit. Damit ist unser Gespräch zur Position {role} beendet; das Recruiting-Team meldet sich bald bei Ihnen.",
        "answers": (
            "In meiner letzten Position war ich für mehrere Projekte von der Planung bis zur Auslieferung verantwortlich.",
            "Ich zerlege ein schwieriges Problem gern in kleinere Schritte und löse sie nacheinander.",
            "Eine Frist war gefährdet, also habe ich die Arbeit neu organisiert, und wir haben pünktlich geliefert.",
            "Ich versuche, klar zu kommunizieren und früh um Rückmeldung zu bitten.",
            "Ich arbeite seit etwa fünf Jahren in diesem Bereich und lerne jeden Tag dazu.",
            "Am meisten motiviert mich, wenn meine Arbeit echten Menschen hilft.",
            "Wenn wir im Team unterschiedlicher Meinung sind, höre ich zuerst zu, und dann schauen wir uns gemeinsam die Fakten an.",
            "Ich möchte in eine Rolle mit mehr Verantwortung hineinwachsen.",
        ),
    },
    "pt": {
        "greeting": "Olá e obrigado por participar. Sou o entrevistador de IA da ZenHire e hoje vamos falar sobre a vaga de {role}. Esta entrevista é gravada.",
        "questions": (
            "Para começar, você pode me contar sua trajetória e como ela o levou à vaga de {role}?",
            "Qual experiência sua é mais relevante para trabalhar como {role}?",
            "Conte-me sobre um problema concreto que você resolveu. O que você fez e qual foi o resultado?",
            "Como você costuma trabalhar com colegas e com outras equipes?",
            "Por que você quer trabalhar como {role} conosco?",
            "Quais habilidades você gostaria de desenvolver em uma vaga de {role}?",
        ),
        "acks": ("Obrigado, isso ajuda bastante.", "Entendo, obrigado."),
        "closing": "Obrigado pelo seu tempo. Encerramos aqui a entrevista para a vaga de {role}; a equipe de recrutamento entrará em contato em breve.",
        "answers": (
            "No meu último cargo, eu era responsável por vários projetos, do planejamento à entrega.",
            "Gosto de dividir um problema difícil em etapas menores e resolvê-las uma a uma.",
            "Tínhamos um prazo em risco, então reorganizei o trabalho e entregamos no prazo.",
            "Procuro me comunicar com clareza e pedir feedback desde cedo.",
            "Trabalho nesta área há cerca de cinco anos e continuo aprendendo todos os dias.",
            "O que mais me motiva é ver que o meu trabalho ajuda pessoas reais.",
            "Quando discordamos na equipe, primeiro escuto e depois analisamos os fatos juntos.",
            "Gostaria de crescer para uma função com mais responsabilidade.",
        ),
    },
    "it": {
        "greeting": "Buongiorno e grazie per essersi collegato. Sono l'intervistatore IA di ZenHire e oggi parleremo del ruolo di {role}. Questo colloquio viene registrato.",
        "questions": (
            "Per cominciare, può raccontarmi il suo percorso e come l'ha portata al ruolo di {role}?",
            "Quale esperienza è più rilevante per lavorare come {role}?",
            "Mi parli di un problema concreto che ha risolto. Che cosa ha fatto e quale è stato il risultato?",
            "Come lavora di solito con i colleghi e con gli altri team?",
            "Perché vuole lavorare con noi come {role}?",
            "Quali competenze vorrebbe sviluppare in un ruolo di {role}?",
        ),
        "acks": ("Grazie, è molto utile.", "Capisco, grazie."),
        "closing": "Grazie per il suo tempo. Il nostro colloquio per il ruolo di {role} è concluso; il team di selezione la contatterà presto.",
        "answers": (
            "Nel mio ultimo ruolo ero responsabile di diversi progetti, dalla pianificazione alla consegna.",
            "Mi piace suddividere un problema difficile in passi più piccoli e risolverli uno alla volta.",
            "Una scadenza era a rischio, quindi ho riorganizzato il lavoro e abbiamo consegnato in tempo.",
            "Cerco di comunicare in modo chiaro e di chiedere un riscontro fin dall'inizio.",
            "Lavoro in questo settore da circa cinque anni e continuo a imparare ogni giorno.",
            "Ciò che mi motiva di più è vedere che il mio lavoro aiuta persone reali.",
            "Quando nel team non siamo d'accordo, prima ascolto e poi esaminiamo i fatti insieme.",
            "Vorrei crescere verso un ruolo con più responsabilità.",
        ),
    },
    "nl": {
        "greeting": "Hallo en bedankt dat u meedoet. Ik ben de AI-interviewer van ZenHire en vandaag praten we over de functie {role}. Dit gesprek wordt opgenomen.",
        "questions": (
            "Kunt u om te beginnen uw achtergrond toelichten en vertellen hoe u bij de functie {role} bent gekomen?",
            "Welke ervaring is het meest relevant voor het werk als {role}?",
            "Vertel me over een concreet probleem dat u hebt opgelost. Wat deed u en wat was het resultaat?",
            "Hoe werkt u meestal samen met collega's en andere teams?",
            "Waarom wilt u bij ons als {role} werken?",
            "Welke vaardigheden wilt u verder ontwikkelen in de functie {role}?",
        ),
        "acks": ("Dank u, dat is nuttig.", "Ik begrijp het, dank u."),
        "closing": "Bedankt voor uw tijd. Daarmee is ons gesprek over de functie {role} afgerond; het wervingsteam neemt binnenkort contact met u op.",
        "answers": (
            "In mijn vorige functie was ik verantwoordelijk voor meerdere projecten, van planning tot oplevering.",
            "Ik deel een moeilijk probleem graag op in kleinere stappen en los die een voor een op.",
            "Een deadline kwam in gevaar, dus ik heb het werk anders ingedeeld en we hebben op tijd opgeleverd.",
            "Ik probeer duidelijk te communiceren en vroeg om feedback te vragen.",
            "Ik werk al ongeveer vijf jaar in dit vakgebied en leer nog elke dag bij.",
            "Wat mij het meest motiveert, is zien dat mijn werk echte mensen helpt.",
            "Als we het in het team oneens zijn, luister ik eerst en bekijken we daarna samen de feiten.",
            "Ik wil graag doorgroeien naar een rol met meer verantwoordelijkheid.",
        ),
    },
    "hi": {
        "greeting": "नमस्ते, जुड़ने के लिए धन्यवाद। मैं ZenHire का एआई साक्षात्कारकर्ता हूँ और आज हम {role} पद के बारे में बात करेंगे। यह साक्षात्कार रिकॉर्ड किया जा रहा है।",
        "questions": (
            "शुरुआत में, क्या आप अपनी पृष्ठभूमि के बारे में बता सकते हैं और यह आपको {role} पद तक कैसे लाई?",
            "{role} के रूप में काम करने के लिए आपका कौन सा अनुभव सबसे अधिक प्रासंगिक है?",
            "मुझे किसी ठोस समस्या के बारे में बताइए जिसे आपने हल किया। आपने क्या किया और परिणाम क्या रहा?",
            "आप आमतौर पर सहकर्मियों और दूसरी टीमों के साथ कैसे काम करते हैं?",
            "आप हमारे साथ {role} के रूप में क्यों काम करना चाहते हैं?",
            "{role} पद पर आप कौन से कौशल और विकसित करना चाहेंगे?",
        ),
        "acks": ("धन्यवाद, यह उपयोगी है।", "समझ गया, धन्यवाद।"),
        "closing": "आपके समय के लिए धन्यवाद। {role} पद के लिए हमारा साक्षात्कार यहीं समाप्त होता है; भर्ती टीम जल्द ही आपसे संपर्क करेगी।",
        "answers": (
            "अपनी पिछली नौकरी में मैं योजना से लेकर डिलीवरी तक कई परियोजनाओं के लिए ज़िम्मेदार था।",
            "मुझे किसी कठिन समस्या को छोटे चरणों में बाँटकर एक-एक करके हल करना पसंद है।",
            "एक समय-सीमा खतरे में थी, इसलिए मैंने काम को फिर से व्यवस्थित किया और हमने समय पर डिलीवरी की।",
            "मैं स्पष्ट रूप से संवाद करने और जल्दी प्रतिक्रिया माँगने की कोशिश करता हूँ।",
            "मैं लगभग पाँच साल से इस क्षेत्र में काम कर रहा हूँ और हर दिन कुछ नया सीखता हूँ।",
            "मुझे सबसे ज़्यादा प्रेरणा तब मिलती है जब मेरा काम असली लोगों की मदद करता है।",
            "जब टीम में असहमति होती है, तो मैं पहले सुनता हूँ और फिर हम मिलकर तथ्यों को देखते हैं।",
            "मैं अधिक ज़िम्मेदारी वाली भूमिका में आगे बढ़ना चाहूँगा।",
        ),
    },
    "zh": {
        "greeting": "您好，感谢您参加面试。我是 ZenHire 的 AI 面试官，今天我们将讨论{role}这个职位。本次面试将被录音。",
        "questions": (
            "首先，请您介绍一下您的背景，以及它如何让您选择{role}这个职位。",
            "在担任{role}方面，您最相关的经验是什么？",
            "请讲一个您在工作中解决过的具体问题。您做了什么，结果如何？",
            "您通常如何与同事和其他团队合作？",
            "您为什么想加入我们担任{role}？",
            "在{role}这个职位上，您希望进一步提升哪些技能？",
        ),
        "acks": ("谢谢，这很有帮助。", "明白了，谢谢。"),
        "closing": "感谢您抽出时间。{role}职位的面试到此结束，招聘团队会尽快与您联系。",
        "answers": (
            "在上一份工作中，我负责多个项目，从规划一直到交付。",
            "我喜欢把一个困难的问题拆成几个小步骤，然后逐一解决。",
            "当时有一个截止日期面临风险，我重新安排了工作，我们按时完成了交付。",
            "我努力清楚地沟通，并尽早征求反馈。",
            "我在这个领域工作了大约五年，每天都在学习新东西。",
            "最让我有动力的是看到我的工作真正帮助到别人。",
            "团队里有分歧时，我会先倾听，然后我们一起看事实。",
            "我希望成长为承担更多责任的角色。",
        ),
    },
    "ja": {
        "greeting": "こんにちは。ご参加いただきありがとうございます。私は ZenHire の AI 面接官です。本日は{role}のポジションについてお話しします。この面接は録音されます。",
        "questions": (
            "まず、これまでのご経歴と、{role}のポジションを志望するに至った経緯を教えてください。",
            "{role}として働くうえで、最も関連のあるご経験は何ですか。",
            "仕事で解決した具体的な問題について教えてください。何をして、どのような結果になりましたか。",
            "普段、同僚や他のチームとはどのように協力していますか。",
            "なぜ当社で{role}として働きたいのですか。",
            "{role}のポジションで、今後どのようなスキルを伸ばしたいですか。",
        ),
        "acks": ("ありがとうございます。参考になります。", "なるほど、ありがとうございます。"),
        "closing": "本日はお時間をいただきありがとうございました。{role}のポジションの面接は以上です。採用チームから近日中にご連絡いたします。",
        "answers": (
            "前職では、計画から納品まで複数のプロジェクトを担当していました。",
            "難しい問題を小さなステップに分けて、一つずつ解決するのが好きです。",
            "締め切りに間に合わない恐れがあったので、作業を組み直して期限内に納品しました。",
            "分かりやすく伝えること、そして早めにフィードバックをもらうことを心がけています。",
            "この分野で約五年働いており、今も毎日学び続けています。",
            "自分の仕事が実際に人の役に立つのを見ることが、一番のやりがいです。",
            "チームで意見が分かれたときは、まず話を聞き、それから一緒に事実を確認します。",
            "より大きな責任を持つ役割に成長したいと考えています。",
        ),
    },
    "ko": {
        "greeting": "안녕하세요, 참여해 주셔서 감사합니다. 저는 ZenHire의 AI 면접관이며 오늘은 {role} 직무에 대해 이야기하겠습니다. 이 면접은 녹음됩니다.",
        "questions": (
            "먼저 지금까지의 경력과 {role} 직무에 지원하게 된 계기를 말씀해 주시겠어요?",
            "{role}(으)로 일하는 데 가장 관련 있는 경험은 무엇인가요?",
            "업무에서 해결한 구체적인 문제에 대해 말씀해 주세요. 무엇을 했고 결과는 어땠나요?",
            "평소 동료나 다른 팀과 어떻게 협업하시나요?",
            "왜 저희 회사에서 {role}(으)로 일하고 싶으신가요?",
            "{role} 직무에서 더 발전시키고 싶은 역량은 무엇인가요?",
        ),
        "acks": ("감사합니다, 도움이 됩니다.", "알겠습니다, 감사합니다."),
        "closing": "시간 내주셔서 감사합니다. {role} 직무 면접은 여기까지입니다. 채용팀에서 곧 연락드리겠습니다.",
        "answers": (
            "이전 직장에서는 기획부터 납품까지 여러 프로젝트를 담당했습니다.",
            "어려운 문제를 작은 단계로 나누어 하나씩 해결하는 것을 좋아합니다.",
            "마감이 위험했던 적이 있어서 업무를 다시 조정했고, 제때 납품했습니다.",
            "명확하게 소통하고 피드백을 일찍 요청하려고 노력합니다.",
            "이 분야에서 약 5년 동안 일했고 지금도 매일 배우고 있습니다.",
            "제 일이 실제 사람들에게 도움이 되는 것을 볼 때 가장 큰 동기를 얻습니다.",
            "팀에서 의견이 다를 때는 먼저 듣고, 그다음 함께 사실을 살펴봅니다.",
            "더 많은 책임을 맡는 역할로 성장하고 싶습니다.",
        ),
    },
    "ar": {
        "greeting": "مرحبًا، وشكرًا على انضمامك. أنا المحاور الآلي من ZenHire، وسنتحدث اليوم عن وظيفة {role}. يتم تسجيل هذه المقابلة.",
        "questions": (
            "في البداية، هل يمكنك أن تحدثني عن مسيرتك وكيف قادتك إلى وظيفة {role}؟",
            "ما هي خبرتك الأكثر صلة بالعمل بصفة {role}؟",
            "حدثني عن مشكلة محددة قمت بحلها في عملك. ماذا فعلت وما كانت النتيجة؟",
            "كيف تعمل عادةً مع زملائك ومع الفرق الأخرى؟",
            "لماذا تريد العمل معنا بصفة {role}؟",
            "ما المهارات التي تود تطويرها في وظيفة {role}؟",
        ),
        "acks": ("شكرًا، هذا مفيد.", "فهمت، شكرًا لك."),
        "closing": "شكرًا على وقتك. بهذا تنتهي مقابلتنا لوظيفة {role}، وسيتواصل معك فريق التوظيف قريبًا.",
        "answers": (
            "في وظيفتي السابقة كنت مسؤولًا عن عدة مشاريع من التخطيط حتى التسليم.",
            "أحب تقسيم المشكلة الصعبة إلى خطوات أصغر وحلها واحدة تلو الأخرى.",
            "كان هناك موعد نهائي مهدد، فأعدت تنظيم العمل وسلمنا في الوقت المحدد.",
            "أحاول أن أتواصل بوضوح وأن أطلب الملاحظات مبكرًا.",
            "أعمل في هذا المجال منذ نحو خمس سنوات وما زلت أتعلم كل يوم.",
            "أكثر ما يحفزني هو أن أرى عملي يساعد أشخاصًا حقيقيين.",
            "عندما نختلف في الفريق، أستمع أولًا ثم نراجع الحقائق معًا.",
            "أود أن أنمو نحو دور يحمل مسؤولية أكبر.",
        ),
    },
    "tr": {
        "greeting": "Merhaba, katıldığınız için teşekkür ederim. Ben ZenHire'ın yapay zekâ mülakatçısıyım ve bugün {role} pozisyonu hakkında konuşacağız. Bu mülakat kaydediliyor.",
        "questions": (
            "Başlangıç olarak geçmişinizi ve sizi {role} pozisyonuna nasıl getirdiğini anlatır mısınız?",
            "{role} olarak çalışmak için en ilgili deneyiminiz nedir?",
            "İşinizde çözdüğünüz somut bir problemi anlatın. Ne yaptınız ve sonuç ne oldu?",
            "Genellikle iş arkadaşlarınızla ve diğer ekiplerle nasıl çalışırsınız?",
            "Neden bizimle {role} olarak çalışmak istiyorsunuz?",
            "{role} pozisyonunda hangi becerilerinizi geliştirmek istersiniz?",
        ),
        "acks": ("Teşekkürler, bu faydalı.", "Anlıyorum, teşekkür ederim."),
        "closing": "Zaman ayırdığınız için teşekkür ederim. {role} pozisyonu için mülakatımız burada sona eriyor; işe alım ekibi kısa süre içinde sizinle iletişime geçecek.",
        "answers": (
            "Son görevimde planlamadan teslimata kadar birkaç projeden sorumluydum.",
            "Zor bir problemi küçük adımlara bölüp tek tek çözmeyi severim.",
            "Bir teslim tarihi risk altındaydı, işi yeniden düzenledim ve zamanında teslim ettik.",
            "Açık iletişim kurmaya ve erkenden geri bildirim istemeye çalışırım.",
            "Yaklaşık beş yıldır bu alanda çalışıyorum ve her gün yeni bir şey öğreniyorum.",
            "Beni en çok motive eden şey, işimin gerçek insanlara yardım ettiğini görmek.",
            "Ekipte anlaşamadığımızda önce dinlerim, sonra gerçeklere birlikte bakarız.",
            "Daha fazla sorumluluk içeren bir role doğru gelişmek istiyorum.",
        ),
    },
    "pl": {
        "greeting": "Dzień dobry i dziękuję za dołączenie. Jestem rekruterem AI firmy ZenHire, a dziś porozmawiamy o stanowisku {role}. Ta rozmowa jest nagrywana.",
        "questions": (
            "Na początek proszę opowiedzieć o swojej dotychczasowej drodze zawodowej i o tym, co skłoniło do ubiegania się o stanowisko {role}.",
            "Które doświadczenie jest najważniejsze dla pracy na stanowisku {role}?",
            "Proszę opowiedzieć o konkretnym problemie rozwiązanym w pracy. Co zostało zrobione i jaki był wynik?",
            "Jak zwykle wygląda współpraca z kolegami i innymi zespołami?",
            "Co motywuje do pracy u nas na stanowisku {role}?",
            "Jakie umiejętności warto byłoby rozwinąć na stanowisku {role}?",
        ),
        "acks": ("Dziękuję, to pomocne.", "Rozumiem, dziękuję."),
        "closing": "Dziękuję za poświęcony czas. To koniec naszej rozmowy o stanowisku {role}; zespół rekrutacyjny wkrótce się odezwie.",
        "answers": (
            "Na poprzednim stanowisku odpowiadałem za kilka projektów, od planowania aż po wdrożenie.",
            "Lubię dzielić trudny problem na mniejsze kroki i rozwiązywać je po kolei.",
            "Termin był zagrożony, więc przeorganizowałem pracę i oddaliśmy projekt na czas.",
            "Staram się jasno komunikować i wcześnie prosić o opinię.",
            "Pracuję w tej branży od około pięciu lat i codziennie uczę się czegoś nowego.",
            "Najbardziej motywuje mnie to, że moja praca pomaga prawdziwym ludziom.",
            "Gdy w zespole się nie zgadzamy, najpierw słucham, a potem razem analizujemy fakty.",
            "Chciałbym rozwijać się w kierunku roli z większą odpowiedzialnością.",
        ),
    },
    "ru": {
        "greeting": "Здравствуйте, спасибо, что присоединились. Я ИИ-интервьюер ZenHire, и сегодня мы поговорим о должности {role}. Это интервью записывается.",
        "questions": (
            "Для начала расскажите, пожалуйста, о своём опыте и о том, как он привёл вас к должности {role}.",
            "Какой ваш опыт наиболее важен для работы в роли {role}?",
            "Расскажите о конкретной проблеме, которую вы решили на работе. Что вы сделали и каким был результат?",
            "Как вы обычно работаете с коллегами и другими командами?",
            "Почему вы хотите работать у нас в роли {role}?",
            "Какие навыки вы хотели бы развить на должности {role}?",
        ),
        "acks": ("Спасибо, это полезно.", "Понятно, спасибо."),
        "closing": "Спасибо за уделённое время. На этом наше интервью на должность {role} завершено; команда по подбору свяжется с вами в ближайшее время.",
        "answers": (
            "На прошлой работе я отвечал за несколько проектов, от планирования до сдачи.",
            "Мне нравится разбивать сложную задачу на небольшие шаги и решать их по очереди.",
            "Срок был под угрозой, поэтому я перестроил работу, и мы сдали всё вовремя.",
            "Я стараюсь говорить ясно и заранее просить обратную связь.",
            "Я работаю в этой области около пяти лет и каждый день узнаю что-то новое.",
            "Больше всего меня мотивирует, когда моя работа помогает реальным людям.",
            "Когда в команде возникают разногласия, я сначала слушаю, а потом мы вместе смотрим на факты.",
            "Я хотел бы вырасти до роли с большей ответственностью.",
        ),
    },
    "sr": {
        "greeting": "Здраво и хвала што сте се придружили. Ја сам АИ интервјуер компаније ZenHire, и данас ћемо разговарати о позицији {role}. Овај интервју се снима.",
        "questions": (
            "За почетак, можете ли да ми испричате о свом досадашњем искуству и како вас је довело до позиције {role}?",
            "Које ваше искуство је најважније за рад на позицији {role}?",
            "Испричајте ми о конкретном проблему који сте решили на послу. Шта сте урадили и какав је био резултат?",
            "Како обично сарађујете са колегама и другим тимовима?",
            "Зашто желите да радите код нас на позицији {role}?",
            "Које вештине бисте желели да развијете на позицији {role}?",
        ),
        "acks": ("Хвала, то је корисно.", "Разумем, хвала."),
        "closing": "Хвала на издвојеном времену. Овим је наш интервју за позицију {role} завршен; тим за запошљавање ће вас ускоро контактирати.",
        "answers": (
            "На претходном послу био сам одговоран за неколико пројеката, од планирања до испоруке.",
            "Волим да тежак проблем поделим на мање кораке и решавам их један по један.",
            "Један рок је био угрожен, па сам реорганизовао посао и испоручили смо на време.",
            "Трудим се да јасно комуницирам и да рано тражим повратне информације.",
            "У овој области радим око пет година и сваког дана учим нешто ново.",
            "Највише ме мотивише када видим да мој рад помаже стварним људима.",
            "Када се у тиму не слажемо, прво слушам, а онда заједно погледамо чињенице.",
            "Желео бих да напредујем ка улози са више одговорности.",
        ),
    },
}
