"""CV DeepSearch errors: the documented codes every CVDS endpoint shares, built in one place.

Texts of the documented codes (MISSING_CORPUS_ID, BATCH_TOO_LARGE, PAYLOAD_TOO_LARGE,
STEP_FUNCTIONS_FAILED, …) live in `mockserver.errors.MESSAGES`; this module keeps only the
CVDS-specific wording of the generic NOT_FOUND (the Ingestion and Search guides' own
"No candidate/run with that id for your client.") and of the inferred preview 409s.
`require_corpus_id` is the one fail-closed check for a `corpus_id` query parameter or body
field (CVDS-1, CVDS-5, CVDS-6).
"""

from __future__ import annotations

from mockserver.errors import ApiError

CANDIDATE_NOT_FOUND_MESSAGE = "No candidate with that id for your client."
RUN_NOT_FOUND_MESSAGE = "No run with that id for your client."
RESULTS_NOT_READY_MESSAGE = "The run is still pending; poll GET /api/v1/cvds/runs/{id} until it is completed."
RUN_FAILED_MESSAGE = "The run failed; it has no results. Trigger a new search."

CORPUS_REQUIRED_TEXT = "corpus_id is required."
CANDIDATE_CORPUS_MISSING_TEXT = "No corpus_id on the candidate and none at the top level."


def missing_corpus_id(fields: dict[str, list[str]]) -> ApiError:
    """400 MISSING_CORPUS_ID naming the fields that lacked a corpus (ERR-4 shape)."""
    return ApiError(400, "MISSING_CORPUS_ID", details={"fields": fields})


def require_corpus_id(value: object, field: str = "corpus_id") -> str:
    """The corpus id, or 400 MISSING_CORPUS_ID when absent or empty (fail-closed)."""
    if isinstance(value, str) and value != "":
        return value
    raise missing_corpus_id({field: [CORPUS_REQUIRED_TEXT]})


def batch_too_large(count: int, limit: int) -> ApiError:
    return ApiError(400, "BATCH_TOO_LARGE",
                    details={"fields": {"candidates": [f"{count} candidates; at most {limit} per request."]}})


def step_functions_failed() -> ApiError:
    """502: the search pipeline did not start; retry-safe with the same idempotency_key (CVDS-10)."""
    return ApiError(502, "STEP_FUNCTIONS_FAILED")


def candidate_not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", CANDIDATE_NOT_FOUND_MESSAGE)


def run_not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", RUN_NOT_FOUND_MESSAGE)


def results_not_ready() -> ApiError:
    return ApiError(409, "RESULTS_NOT_READY", RESULTS_NOT_READY_MESSAGE)


def run_failed() -> ApiError:
    return ApiError(409, "RUN_FAILED", RUN_FAILED_MESSAGE)
