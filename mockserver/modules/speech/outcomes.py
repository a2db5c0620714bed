"""How a Speech run will end and how long it takes, fixed at submit (SPCH-4, SPCH-6, SPCH-7).

Without a scenario rule a run succeeds after a processing time drawn from the audio's hash
within the `speech.processingSeconds` setting (default [120, 300]: "typically 2–5 minutes"),
so the same file always takes the same time. A matching scenario rule's `then` may set:

| key | values | effect |
|---|---|---|
| `outcome` | `success`, `partial`, `failed` | the terminal status |
| `errorCode` | one of the nine SPCH-6 codes | the failure (implies `outcome: failed`; default `INTERNAL_ERROR`) |
| `processingSeconds` | number, or `[min, max]` | virtual seconds from start to the terminal status |
| `speakerCount` | 1–4 | speakers in the generated transcript (1 = a monologue, SPCH-8) |

A failed run stops at the pipeline step that failed, so unless `processingSeconds` is given
its processing time is a fraction of the drawn time: transcription and configuration
failures early (30 %), scoring-model failures late (80 %), an unexpected error midway
(50 %); `STUCK_TIMEOUT` is the watchdog firing at twice the drawn time. Processing never
takes less than one virtual second, so every run is `processing` (or `queued`) at its submit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.modules.speech.draws import HashStream
from mockserver.modules.speech.results import MAX_SPEAKERS, SPEECH_FAILURE_MESSAGES

SUCCESS, PARTIAL, FAILED = "success", "partial", "failed"
OUTCOMES = (SUCCESS, PARTIAL, FAILED)
DEFAULT_PROCESSING_SECONDS = (120.0, 300.0)
DEFAULT_FAILURE_CODE = "INTERNAL_ERROR"
MIN_PROCESSING_SECONDS = 1.0  # a run is always seen processing for a moment

# Share of the drawn processing time after which each failure is reported.
FAILURE_AT_FRACTION: dict[str, float] = {
    "TRANSCRIPTION_FAILED": 0.3,
    "TRANSCRIPTION_LOW_CONFIDENCE": 0.3,
    "SERVICE_CONFIGURATION_ERROR": 0.3,
    "SCORING_FAILED": 0.8,
    "VOCAB_MODEL_TIMEOUT": 0.8,
    "FLUENCY_MODEL_TIMEOUT": 0.8,
    "ACCENT_SCORE_UNAVAILABLE": 0.8,
    "INTERNAL_ERROR": 0.5,
    "STUCK_TIMEOUT": 2.0,
}


class OutcomeRuleError(ValueError):
    """A scenario rule's `then` names something a Speech run cannot do."""


@dataclass(frozen=True)
class RunPlan:
    outcome: str
    error_code: str | None
    processing_seconds: float
    speaker_count: int | None


def plan_run(rule: dict[str, Any] | None, audio_sha256: str,
             processing_range: Any = DEFAULT_PROCESSING_SECONDS) -> RunPlan:
    """The ending, duration and speaker count of a run, from the matching rule (or none)."""
    rule = rule or {}
    error_code = rule.get("errorCode")
    outcome = rule.get("outcome", FAILED if error_code else SUCCESS)
    if outcome not in OUTCOMES:
        raise OutcomeRuleError(f"speech outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if outcome == FAILED:
        error_code = error_code or DEFAULT_FAILURE_CODE
        if error_code not in SPEECH_FAILURE_MESSAGES:
            raise OutcomeRuleError(f"unknown Speech failure code {error_code!r}")
    else:
        error_code = None
    speaker_count = rule.get("speakerCount")
    if speaker_count is not None and not (isinstance(speaker_count, int) and 1 <= speaker_count <= MAX_SPEAKERS):
        raise OutcomeRuleError(f"speakerCount must be 1–{MAX_SPEAKERS}")
    stream = HashStream(audio_sha256, "processing-time")
    if "processingSeconds" in rule:
        seconds = _draw_seconds(stream, rule["processingSeconds"])
    else:
        seconds = _draw_seconds(stream, processing_range)
        if error_code is not None:
            seconds *= FAILURE_AT_FRACTION[error_code]
    return RunPlan(outcome=outcome, error_code=error_code,
                   processing_seconds=round(max(seconds, MIN_PROCESSING_SECONDS), 3),
                   speaker_count=speaker_count)


def _draw_seconds(stream: HashStream, spec: Any) -> float:
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        low = high = float(spec)
    elif isinstance(spec, (list, tuple)) and len(spec) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec):
        low, high = float(min(spec)), float(max(spec))
    else:
        raise OutcomeRuleError(f"processingSeconds must be a number or [min, max], not {spec!r}")
    if low < 0:
        raise OutcomeRuleError("processingSeconds cannot be negative")
    return stream.uniform(low, high) if high > low else low
