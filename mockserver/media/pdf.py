"""CV uploads for CV DeepMatch: the PDF gate (CVDM-2) and tolerant text extraction.

The gate runs in the documented order: the extension/MIME check (`INVALID_INPUT` with
`details.fields.cv_file`, DOCX included), then the magic-byte check (`INVALID_FILE_CONTENT`
when the bytes do not start with `%PDF-`). `pdf_upload_problems` and `has_pdf_magic` are the
two steps apart, for a caller that reports the name/MIME problems together with other field
errors; `check_pdf_upload` runs both. The 5 MB cap (`MAX_CV_BYTES`) is enforced by the request
pipeline while it streams the upload, so an oversized body is never buffered whole.

The docs' gate is "application/pdf MIME + .pdf extension", both required: a part sent with
no Content-Type, or with the generic `application/octet-stream`, is not sent as a PDF and is
refused like any other non-PDF type (`INVALID_INPUT` at `cv_file`). `application/x-pdf`, the
legacy alias of the PDF type, is accepted (inferred).
"""

from __future__ import annotations

import io
import logging
from typing import BinaryIO


from mockserver.errors import ApiError

MAX_CV_BYTES = 5 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
PDF_EXTENSION = ".pdf"
PDF_MIME_TYPES = frozenset({"application/pdf", "application/x-pdf"})
MAX_PAGES_READ = 50

CV_FIELD = "cv_file"
MSG_NOT_PDF_EXTENSION = "must be a PDF file with a .pdf extension (DOCX and other formats are not supported)"
MSG_NOT_PDF_MIME = "must be sent as application/pdf (got {mime})"
MSG_BAD_MAGIC = "The uploaded cv_file does not begin with a valid PDF header (%PDF-)."


# pypdf warns about every damaged or odd file it reads; an upload's flaws are not the mock's
# problems, so only its errors reach the log. Set once (pypdf's modules log under "pypdf.*"),
# not switched around each call, so extractions running in several threads stay correct.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def pdf_upload_problems(filename: str | None, content_type: str | None) -> list[str]:
    """The `cv_file` messages for a name or MIME type that is not a PDF's; [] when both pass."""
    problems: list[str] = []
    if not (filename or "").strip().lower().endswith(PDF_EXTENSION):
        problems.append(MSG_NOT_PDF_EXTENSION)
    mime = _media_type(content_type)
    if mime not in PDF_MIME_TYPES:
        problems.append(MSG_NOT_PDF_MIME.format(mime=mime or "no Content-Type"))
    return problems


def has_pdf_magic(head_bytes: bytes) -> bool:
    """Whether the upload's first bytes are the PDF header `%PDF-`."""
    return head_bytes.startswith(PDF_MAGIC)


def invalid_file_content() -> ApiError:
    """The documented error for bytes that are not a PDF's."""
    return ApiError(400, "INVALID_FILE_CONTENT", MSG_BAD_MAGIC)


def check_pdf_upload(filename: str | None, content_type: str | None, head_bytes: bytes) -> None:
    """Raise the documented 400 when the upload is not a PDF; return None when it passes."""
    problems = pdf_upload_problems(filename, content_type)
    if problems:
        raise ApiError(400, "INVALID_INPUT", details={"fields": {CV_FIELD: problems}})
    if not has_pdf_magic(head_bytes):
        raise invalid_file_content()


def extract_pdf_text(fileobj: BinaryIO | bytes) -> str:
    """The text of the PDF's pages joined by newlines; "" when none can be extracted.

    Tolerant by design: an image-only, encrypted or damaged PDF yields "" rather than an
    exception, so the caller can turn it into a failed match instead of a 500.
    """
    stream = io.BytesIO(fileobj) if isinstance(fileobj, (bytes, bytearray)) else fileobj
    try:
        return _read_text(stream)
    except Exception:  # noqa: BLE001 — pypdf raises many types on damaged files; all mean "no text"
        return ""


def _read_text(stream: BinaryIO) -> str:
    from pypdf import PdfReader  # on first use: importing pypdf costs every start ~10 MiB and ~50 ms

    reader = PdfReader(stream, strict=False)
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception:  # noqa: BLE001 — unsupported encryption: no text
            return ""
    texts = []
    for index, page in enumerate(reader.pages):
        if index >= MAX_PAGES_READ:
            break
        texts.append(page.extract_text() or "")
    return "\n".join(text.strip() for text in texts if text.strip())


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()
