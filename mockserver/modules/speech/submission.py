"""What a Speech submit carries, checked beyond what the contract's schema can say.

The pipeline has already validated the multipart form against openapi.yaml (the audio part
is present and at most 25 MB, `language` is one of the 16 codes, `externalId` is 1–255
characters, `metadata` is JSON text of a valid map, the cut settings are decimal numbers).
This module adds the rest, in the order the submit applies it (SPCH-13):

1. `require_multilingual` — a non-`en` language needs the client's multilingual permission
   (403 MULTILINGUAL_NOT_ENABLED; SPCH-3).
2. `read_correlation` — the `tags` text (JSON array or comma list) and the 8 KB total of
   `metadata` (400 INVALID_METADATA; META-1, META-3).
3. `read_audio` — the container from the file's bytes, the duration from its headers, and
   the content hash (400 UNSUPPORTED_FORMAT, AUDIO_DURATION_UNAVAILABLE; SPCH-2).
4. `check_duration` — 3 to 45 minutes inclusive (400 AUDIO_TOO_SHORT, AUDIO_TOO_LONG).
5. `check_cut_window` — the cut settings must leave at least 3 minutes (400 INVALID_PARAMETERS; SPCH-9).
6. `speech_cost` — 1 credit per started minute, minimum 1 (CRED-2); the credit check itself
   (402) is the handler's last step.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from mockserver.errors import ApiError, validation_error
from mockserver.media.audio import AudioProbeError, probe_audio
from mockserver.platform.metadata import metadata_problems, parse_tags_text

DEFAULT_LANGUAGE = "en"
MIN_DURATION_SECONDS = 180.0   # 3 minutes (A12)
MAX_DURATION_SECONDS = 2700.0  # 45 minutes
SECONDS_PER_CREDIT = 60.0
_HASH_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Correlation:
    """The caller's correlation fields, echoed on every response (META-2, META-3)."""

    external_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CutWindow:
    """Seconds trimmed from each end of the recording before analysis (SPCH-9)."""

    start_seconds: float = 0.0
    end_seconds: float = 0.0


@dataclass(frozen=True)
class AudioFacts:
    """What the submit learnt from the uploaded file itself."""

    format: str
    duration_seconds: float
    sha256: str
    size_bytes: int


def require_multilingual(language: str, multilingual_enabled: bool) -> None:
    if language != DEFAULT_LANGUAGE and not multilingual_enabled:
        raise ApiError(403, "MULTILINGUAL_NOT_ENABLED",
                       "Non-English analysis is not enabled on this account. "
                       "Contact your account manager to enable it; English (en) is always available.")


def read_correlation(form: dict[str, str], json_fields: dict[str, Any]) -> Correlation:
    """externalId as sent, metadata (parsed by the pipeline) within 8 KB, tags parsed from text."""
    metadata = json_fields.get("metadata", {}) if "metadata" in form else {}
    problems = metadata_problems(metadata)
    if problems:
        raise validation_error("INVALID_METADATA", {"metadata": problems},
                               "metadata must be a JSON object within the documented limits.")
    tags: list[str] = []
    if "tags" in form:
        try:
            tags = parse_tags_text(form["tags"])
        except ValueError as exc:
            raise validation_error("INVALID_METADATA", {"tags": [str(exc)]},
                                   "tags must be at most 20 distinct strings of 1–40 characters.") from None
    return Correlation(external_id=form.get("externalId"), metadata=metadata, tags=tags)


def read_cut_window(form: dict[str, str]) -> CutWindow:
    """The cut settings as numbers (their text format was checked by the contract)."""
    return CutWindow(start_seconds=float(form.get("cutStartSeconds", "0") or 0),
                     end_seconds=float(form.get("cutEndSeconds", "0") or 0))


def read_audio(fileobj: BinaryIO, filename: str | None, content_type: str | None) -> AudioFacts:
    """Probe the container and duration from the bytes, then hash the whole file.

    Blocking file I/O: the handler runs it in a worker thread.
    """
    try:
        probe = probe_audio(fileobj, filename=filename, content_type=content_type)
    except AudioProbeError as exc:
        raise validation_error(exc.code, {"audio": [str(exc)]}) from None
    digest = hashlib.sha256()
    size = 0
    fileobj.seek(0)
    while True:
        chunk = fileobj.read(_HASH_CHUNK_BYTES)
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
    fileobj.seek(0)
    return AudioFacts(format=probe.format, duration_seconds=probe.duration_seconds,
                      sha256=digest.hexdigest(), size_bytes=size)


def format_duration(seconds: float) -> str:
    """`m:ss` of a duration, with milliseconds when it is not whole (`2:59`, `45:00.992`)."""
    millis = round(seconds * 1000)
    minutes, rest = divmod(millis, 60_000)
    whole, fraction = divmod(rest, 1000)
    return f"{minutes}:{whole:02d}" + (f".{fraction:03d}" if fraction else "")


def check_duration(duration_seconds: float) -> None:
    if duration_seconds < MIN_DURATION_SECONDS:
        raise validation_error("AUDIO_TOO_SHORT", {"audio": [
            f"The audio lasts {duration_seconds:g} s; at least {MIN_DURATION_SECONDS:g} s is required."]},
            f"Audio is {format_duration(duration_seconds)} long; the minimum is 3 minutes.")
    if duration_seconds > MAX_DURATION_SECONDS:
        raise validation_error("AUDIO_TOO_LONG", {"audio": [
            f"The audio lasts {duration_seconds:g} s; at most {MAX_DURATION_SECONDS:g} s is accepted."]},
            f"Audio is {format_duration(duration_seconds)} long; the maximum is 45 minutes.")


def check_cut_window(cut: CutWindow, duration_seconds: float) -> None:
    """The analysed window must keep at least the 3-minute minimum of the recording."""
    kept = duration_seconds - cut.start_seconds - cut.end_seconds
    if kept < MIN_DURATION_SECONDS:
        message = (f"cutStartSeconds + cutEndSeconds leave {max(kept, 0):g} s of a {duration_seconds:g} s "
                   f"recording; at least {MIN_DURATION_SECONDS:g} s must remain.")
        fields = {name: [message] for name, value in (("cutStartSeconds", cut.start_seconds),
                                                       ("cutEndSeconds", cut.end_seconds)) if value > 0}
        raise validation_error("INVALID_PARAMETERS", fields, "The cut settings are out of bounds for this recording.")


def speech_cost(duration_seconds: float) -> int:
    """Credits for a recording: 1 per started minute, minimum 1 (CRED-2)."""
    return max(1, math.ceil(duration_seconds / SECONDS_PER_CREDIT - 1e-9))
