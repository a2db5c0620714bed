"""Scenario outcomes for CV DeepMatch: what a matching rule's `then` may say, read and checked.

Facts a rule can match on at submit: operation `submitCvDeepMatch`, module `cvdeepmatch`,
client, key, the `X-Mock-Scenario` header, `tags`, `metadata`, any header, and the form
fields (`field: {position_id: "fail-*"}`). Keys of `then`:

  outcome: finished | failed | step_functions_failed
      `finished` / `failed` force the run's ending (default: what the CV gives — a CV
      without extractable text fails with CV_PARSE_FAILED, every other CV finishes);
      `step_functions_failed` answers the submit 502 STEP_FUNCTIONS_FAILED (no run, no hold,
      the idempotency key stays free — IDEM-4).
  errorCode: CV_PARSE_FAILED | MATCHING_FAILED | STUCK_TIMEOUT | INTERNAL_ERROR
  errorMessage: text            the failed run's `error` (default MATCHING_FAILED + its message)
  processingSeconds: N | [min, max]
      how long the run stays `processing` (default: the `cvdeepmatch.processingSeconds`
      setting, else 60–180 s). Past the 10-minute watchdog the run fails with STUCK_TIMEOUT
      at 10 minutes (CVDM-6).
  startFailures: all | N        with `step_functions_failed`: every submit is 502 (default),
                                or only the first N per idempotency key (per position_id
                                without one), so a retry with the same key starts the run.

A value of the wrong kind is the scenario author's bug: `check_rule` refuses it when the
scenarios load, and a request meeting one anyway answers 500 INTERNAL_ERROR naming the rule.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from mockserver.errors import ApiError

FINISHED, FAILED, STEP_FUNCTIONS_FAILED = "finished", "failed", "step_functions_failed"
OUTCOMES = (FINISHED, FAILED, STEP_FUNCTIONS_FAILED)
KNOWN_KEYS = frozenset({"outcome", "errorCode", "errorMessage", "processingSeconds", "startFailures", "_rule"})

RUN_ERROR_MESSAGES: dict[str, str] = {
    "CV_PARSE_FAILED": "No text could be extracted from the CV. Submit a text-based PDF.",
    "MATCHING_FAILED": "The matching engine could not score this CV. Resubmit with a new idempotency_key.",
    "STUCK_TIMEOUT": "The match did not finish within 10 minutes and was stopped. Resubmit with a new idempotency_key.",
    "INTERNAL_ERROR": "An unexpected error occurred while matching.",
}
DEFAULT_FAILURE_CODE = "MATCHING_FAILED"

DEFAULT_PROCESSING_SECONDS: tuple[float, float] = (60.0, 180.0)  # "typical end-to-end latency is 1–3 minutes"
WATCHDOG_SECONDS = 600.0  # "still processing after 10 minutes … something is wrong on our side"


@dataclass(frozen=True)
class MatchChoice:
    """How a rule shapes one submit (defaults: the module's own behaviour)."""

    outcome: str | None = None                  # None | finished | failed | step_functions_failed
    error: dict[str, str] | None = None         # the forced failure's `error`
    seconds: float | tuple[float, float] | None = None
    start_failures: float = 0                   # submits answered 502; math.inf = every one

    def fails_to_start(self, attempt: int) -> bool:
        """True when start attempt number ``attempt`` (1-based) is answered 502."""
        return self.outcome == STEP_FUNCTIONS_FAILED and attempt <= self.start_failures


@dataclass(frozen=True)
class RunPlan:
    """A run's fixed ending: `finished` or `failed` (with its error) after ``seconds``."""

    outcome: str
    error: dict[str, str] | None
    seconds: float


def rule_problems(then: dict[str, Any]) -> list[str]:
    """Everything wrong with a rule's `then` for this module; [] when it is usable."""
    problems = [f"unknown key {key!r}" for key in then if key not in KNOWN_KEYS]
    outcome = then.get("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        problems.append(f"outcome must be one of {', '.join(OUTCOMES)}")
    code = then.get("errorCode")
    if code is not None and code not in RUN_ERROR_MESSAGES:
        problems.append(f"errorCode must be one of {', '.join(RUN_ERROR_MESSAGES)}")
    message = then.get("errorMessage")
    if message is not None and not (isinstance(message, str) and message.strip()):
        problems.append("errorMessage must be non-empty text")
    if "processingSeconds" in then and _seconds_range(then["processingSeconds"]) is None:
        problems.append("processingSeconds must be a positive number or a [min, max] pair")
    if "startFailures" in then:
        if _start_failures(then["startFailures"]) is None:
            problems.append("startFailures must be all or a whole number ≥ 1")
        elif outcome != STEP_FUNCTIONS_FAILED:
            problems.append("startFailures needs outcome: step_functions_failed")
    return problems


def match_choice(then: dict[str, Any] | None) -> MatchChoice:
    """The choice a rule's `then` makes (raise 500 naming the rule when it is malformed)."""
    if not then:
        return MatchChoice()
    problems = rule_problems(then)
    if problems:
        name = then.get("_rule") or "(unnamed)"
        raise ApiError(500, "INTERNAL_ERROR", f"Scenario rule {name!r}: {'; '.join(problems)}.")
    outcome = then.get("outcome")
    error = None
    if outcome == FAILED or "errorCode" in then:
        code = then.get("errorCode", DEFAULT_FAILURE_CODE)
        error = {"code": code, "message": then.get("errorMessage") or RUN_ERROR_MESSAGES[code]}
        outcome = outcome or FAILED
    start_failures = 0.0
    if outcome == STEP_FUNCTIONS_FAILED:
        start_failures = _start_failures(then.get("startFailures", "all")) or 0.0
    seconds = _seconds_range(then["processingSeconds"]) if "processingSeconds" in then else None
    return MatchChoice(outcome=outcome, error=error, seconds=seconds, start_failures=start_failures)


def draw_seconds(span: float | tuple[float, float] | list, rng: random.Random) -> float:
    """One processing duration from a fixed value or a [min, max] range."""
    low, high = _seconds_range(span) or DEFAULT_PROCESSING_SECONDS
    return low if high <= low else rng.uniform(low, high)


def plan_run(choice: MatchChoice, natural_outcome: str, natural_error: dict | None,
             seconds: float) -> RunPlan:
    """The run's ending: the rule's forced one, else the CV's own; the watchdog caps it (CVDM-6)."""
    if seconds > WATCHDOG_SECONDS:
        return RunPlan(FAILED, {"code": "STUCK_TIMEOUT", "message": RUN_ERROR_MESSAGES["STUCK_TIMEOUT"]},
                       WATCHDOG_SECONDS)
    if choice.outcome == FAILED:
        return RunPlan(FAILED, choice.error, seconds)
    if choice.outcome == FINISHED or natural_outcome == FINISHED:
        return RunPlan(FINISHED, None, seconds)
    return RunPlan(FAILED, natural_error, seconds)


def _seconds_range(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)):
        if len(value) != 2 or not all(_positive(v) for v in value) or value[0] > value[1]:
            return None
        return float(value[0]), float(value[1])
    if _positive(value):
        return float(value), float(value)
    return None


def _positive(value: Any) -> bool:
    return (not isinstance(value, bool) and isinstance(value, (int, float))
            and math.isfinite(value) and value > 0)


def _start_failures(value: Any) -> float | None:
    if value == "all":
        return math.inf
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return float(value)
    return None
