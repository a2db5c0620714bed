"""CV DeepSearch error texts and the errors every CVDS endpoint shares.

The codes come from the Ingestion and Search guides; the texts are kept here, in one
place, so a code reads the same wherever it is raised. `require_corpus_id` is the one
fail-closed check for a `corpus_id` query parameter or body field (CVDS-1, CVDS-5, CVDS-6).
"""

from __future__ import annotations

from mockserver.errors import ApiError

# The overview's own example message for MISSING_CORPUS_ID.
MISSING_CORPUS_ID_MESSAGE = "corpus_id is mandatory and fail-closed."
BATCH_TOO_LARGE_MESSAGE = "At most 500 candidates per request. Split the batch."
PAYLOAD_TOO_LARGE_MESSAGE = "Request body over the ~10 MB per-request limit. Split into smaller batches."
CANDIDATE_NOT_FOUND_MESSAGE = "No candidate with that id for your client."
RUN_NOT_FOUND_MESSAGE = "No run with that id for your client."
RESULTS_NOT_READY_MESSAGE = "The run is still pending; poll GET /api/v1/cvds/runs/{id} until it is completed."
RUN_FAILED_MESSAGE = "The run failed; it has no results. Trigger a new search."

CORPUS_REQUIRED_TEXT = "corpus_id is required."
CANDIDATE_CORPUS_MISSING_TEXT = "No corpus_id on the candidate and none at the top level."


def missing_corpus_id(fields: dict[str, list[str]]) -> ApiError:
    """400 MISSING_CORPUS_ID naming the fields that lacked a corpus (ERR-4 shape)."""
    return ApiError(400, "MISSING_CORPUS_ID", MISSING_CORPUS_ID_MESSAGE, details={"fields": fields})


def require_corpus_id(value: object, field: str = "corpus_id") -> str:
    """The corpus id, or 400 MISSING_CORPUS_ID when absent or empty (fail-closed)."""
    if isinstance(value, str) and value != "":
        return value
    raise missing_corpus_id({field: [CORPUS_REQUIRED_TEXT]})


def batch_too_large(count: int, limit: int) -> ApiError:
    return ApiError(400, "BATCH_TOO_LARGE", BATCH_TOO_LARGE_MESSAGE,
                    details={"fields": {"candidates": [f"{count} candidates; at most {limit} per request."]}})


def payload_too_large() -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE", PAYLOAD_TOO_LARGE_MESSAGE)


def candidate_not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", CANDIDATE_NOT_FOUND_MESSAGE)


def run_not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", RUN_NOT_FOUND_MESSAGE)


def results_not_ready() -> ApiError:
    return ApiError(409, "RESULTS_NOT_READY", RESULTS_NOT_READY_MESSAGE)


def run_failed() -> ApiError:
    return ApiError(409, "RUN_FAILED", RUN_FAILED_MESSAGE)
