"""Scenario outcomes for CV DeepSearch: what a matching rule's `then` may say, read and checked.

Ingest — evaluated per candidate (facts: operation `ingestCvdsCandidates`, module
`cvdeepsearch`, `externalId`, `tags`, `field: {corpus_id}`, the `X-Mock-Scenario` header):
  embedding: embedded | failed    how the candidate's (new) embedding ends
  embeddingSeconds: number ≥ 0    how long it stays `pending` (instead of the batch pace)

Search trigger (facts: operation `submitCvdsSearch`, `field: {corpus_id, position_id,
idempotency_key}`, the header):
  run: completed | failed         force the ending (`completed` even for an empty corpus)
  errorCode, errorMessage         the failed run's `error` (default SEARCH_FAILED)
  searchSeconds: number > 0       how long the run stays `pending`
  startFailures: all | N          502 STEP_FUNCTIONS_FAILED on every attempt, or on the first
                                  N attempts per idempotency key (per position_id without one)

A value of the wrong kind is the scenario author's bug: it answers 500 INTERNAL_ERROR naming
the rule, rather than silently doing something else.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from mockserver.errors import ApiError
from mockserver.modules.cvdeepsearch.runs import SEARCH_FAILED_ERROR

_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
EMBEDDING_ENDINGS = ("embedded", "failed")
RUN_ENDINGS = ("completed", "failed")


@dataclass(frozen=True)
class EmbeddingChoice:
    """How a rule shapes one candidate's embedding (None: the module's own rule)."""

    outcome: str | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class SearchChoice:
    """How a rule shapes one search trigger (defaults: the module's own behaviour)."""

    ending: str | None = None                # None | "completed" | "failed"
    error: dict[str, str] | None = None      # the error of a forced failure
    seconds: float | None = None
    start_failures: float = 0                # attempts answered 502; math.inf = every one

    def fails_to_start(self, attempt: int) -> bool:
        """True when attempt number `attempt` (1-based) is answered 502."""
        return attempt <= self.start_failures


def _bad(then: dict[str, Any], problem: str) -> ApiError:
    name = then.get("_rule") or "(unnamed)"
    return ApiError(500, "INTERNAL_ERROR", f"Scenario rule {name!r}: {problem}")


def _seconds(then: dict[str, Any], name: str, *, allow_zero: bool) -> float | None:
    value = then.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0 or (value == 0 and not allow_zero):
        raise _bad(then, f"{name} must be a {'non-negative' if allow_zero else 'positive'} number of seconds.")
    return float(value)


def embedding_choice(then: dict[str, Any] | None) -> EmbeddingChoice:
    if not then:
        return EmbeddingChoice()
    outcome = then.get("embedding")
    if outcome is not None and outcome not in EMBEDDING_ENDINGS:
        raise _bad(then, "embedding must be embedded or failed.")
    return EmbeddingChoice(outcome=outcome, seconds=_seconds(then, "embeddingSeconds", allow_zero=True))


def search_choice(then: dict[str, Any] | None) -> SearchChoice:
    if not then:
        return SearchChoice()
    ending = then.get("run")
    if ending is not None and ending not in RUN_ENDINGS:
        raise _bad(then, "run must be completed or failed.")
    error = None
    if ending == "failed":
        code = then.get("errorCode", SEARCH_FAILED_ERROR["code"])
        message = then.get("errorMessage", SEARCH_FAILED_ERROR["message"])
        if not isinstance(code, str) or not _CODE.match(code):
            raise _bad(then, "errorCode must be UPPER_SNAKE_CASE.")
        if not isinstance(message, str) or not message:
            raise _bad(then, "errorMessage must be a non-empty string.")
        error = {"code": code, "message": message}
    failures = then.get("startFailures", 0)
    if failures == "all":
        start_failures = math.inf
    elif isinstance(failures, int) and not isinstance(failures, bool) and failures >= 0:
        start_failures = float(failures)
    else:
        raise _bad(then, "startFailures must be 'all' or a non-negative integer.")
    return SearchChoice(ending=ending, error=error, seconds=_seconds(then, "searchSeconds", allow_zero=False),
                        start_failures=start_failures)
