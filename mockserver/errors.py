"""The one error type of the mock and its rendering into the standard envelope (ERR-1..4).

Handlers and domain rules raise `ApiError`; the app renders it in exactly one place
(`render_error`). Messages for documented codes live in `MESSAGES` so the text is
consistent wherever a code is raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MESSAGES: dict[str, str] = {
    # 401 — middleware-level (no requestId)
    "MISSING_API_KEY": "No API key supplied. Send it in the X-API-Key header (or Authorization: Bearer).",
    "INVALID_API_KEY": "The API key is not recognised or is inactive.",
    "API_KEY_EXPIRED": "The API key has expired. Rotate to a fresh key.",
    "CLIENT_INACTIVE": "The account behind this API key is disabled. Contact support.",
    # 403
    "MISSING_PERMISSION": "This API key's client does not have the required permission for this module.",
    "IP_NOT_ALLOWED": "The API key has an IP allow-list and this request did not come from an allowed address.",
    "MULTILINGUAL_NOT_ENABLED": "Non-English analysis is not enabled on this account.",
    # 402
    "INSUFFICIENT_CREDITS": "Insufficient credits. Top up before retrying.",
    # 404
    "REQUEST_NOT_FOUND": "No request with this id for your client.",
    "NOT_FOUND": "Not found.",
    "ROUTE_NOT_FOUND": "No such endpoint.",
    # 405
    "METHOD_NOT_ALLOWED": "This method is not allowed on this endpoint.",
    # 429
    "RATE_LIMIT_EXCEEDED": "Too many submissions. Retry after the indicated delay.",
    "POLL_RATE_LIMITED": "Polling too fast. Respect the Retry-After header and continue polling the same id.",
    "RATE_LIMITED": "Poll interval too short. Honour Retry-After.",
    # 5xx
    "INTERNAL_ERROR": "An unexpected error occurred.",
    "SERVICE_WARMING_UP": "The scoring service is warming up after a deploy. Retry after the indicated delay.",
    "STEP_FUNCTIONS_FAILED": "The downstream pipeline failed to start. Retry with the same idempotency_key.",
    # 400 — generic
    "INVALID_INPUT": "One or more fields failed validation.",
    "INVALID_PARAMETERS": "One or more parameters are out of bounds.",
    # 400 — Speech (Error codes page)
    "MISSING_AUDIO_FILE": "No audio field in the multipart body.",
    "UNSUPPORTED_FORMAT": "The file isn't a valid MP3/WAV/M4A/WebM/OGG/FLAC.",
    "AUDIO_TOO_SHORT": "Audio is under 3 minutes.",
    "AUDIO_TOO_LONG": "Audio is over 45 minutes.",
    "AUDIO_DURATION_UNAVAILABLE": "The audio duration could not be read (file corrupted or unsupported).",
    "FILE_TOO_LARGE": "The file exceeds 25 MB.",
    "INVALID_LANGUAGE_CODE": "Invalid language code. Must be a 2-letter ISO 639-1 code.",
    "INVALID_EXTERNAL_ID": "externalId must be 1–255 characters.",
    "INVALID_METADATA": "metadata/tags are not valid.",
    "INVALID_STATUS": "The status filter is not a valid lifecycle value.",
    "INVALID_SERVICE_TYPE": "serviceType must be speech or cv_deepmatch.",
    "INVALID_DATE": "createdAfter/createdBefore must be ISO 8601 date-times.",
    # 400 — CV DeepMatch / CV DeepSearch
    "INVALID_FILE_CONTENT": "cv_file did not start with a valid PDF magic header.",
    "INSECURE_WEBHOOK_URL": "webhook_url must use https://.",
    "PRIVATE_WEBHOOK_URL": "webhook_url resolves to a private / loopback / link-local address.",
    "MISSING_CORPUS_ID": "corpus_id is mandatory and fail-closed.",
    "BATCH_TOO_LARGE": "At most 500 candidates per request. Split the batch.",
    "PAYLOAD_TOO_LARGE": "Request body over the ~10 MB per-request limit. Split into smaller batches.",
    # Interview
    "FORBIDDEN": "This persona belongs to another client.",
    "RESULT_NOT_READY": "The session has no result yet. Poll the session until it is completed.",
    "NO_RESULT": "The session ended without this result. Re-invite the candidate from the console.",
}


@dataclass
class ApiError(Exception):
    """A documented error: HTTP status + envelope code (+ optional details / Retry-After)."""

    status: int
    code: str
    message: str | None = None
    details: dict[str, Any] | None = None
    retry_after: int | None = None
    include_request_id: bool = True
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.message is None:
            self.message = MESSAGES.get(self.code, self.code.replace("_", " ").capitalize() + ".")
        Exception.__init__(self, f"{self.status} {self.code}: {self.message}")


def validation_error(code: str, fields: dict[str, list[str]], message: str | None = None,
                     status: int = 400) -> ApiError:
    """A 400 carrying `details.fields` (ERR-4)."""
    return ApiError(status, code, message, details={"fields": fields})


def envelope(err: ApiError, *, timestamp: str, request_id: str | None) -> dict[str, Any]:
    """The standard error envelope body for `err` (ERR-1..3)."""
    body: dict[str, Any] = {"code": err.code, "message": err.message, "timestamp": timestamp}
    if request_id is not None and err.include_request_id:
        body["requestId"] = request_id
    if err.retry_after is not None:
        body["retryAfterSeconds"] = err.retry_after
    if err.details is not None:
        body["details"] = err.details
    return {"error": body}
