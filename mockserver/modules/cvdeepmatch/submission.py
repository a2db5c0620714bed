"""Reading a CV DeepMatch submit's form into a `Submission`, with every field rule a schema
cannot express (CVDM-1..3, CFG-1..11, META-1).

The request pipeline has already checked the form against the contract (required fields,
`position_id` charset and length, `metadata` shape, lengths, the 5 MB cap). What is left is
checked here, and every field problem is reported in ONE `INVALID_INPUT` (`details.fields`
keyed by field or config path): the upload's name and MIME type (`cv_file`, DOCX refused),
the position config (all CFG violations at once), the metadata's 8 KB total and the tags.
Only when the fields are all fine are the file's bytes judged (`INVALID_FILE_CONTENT` when they
do not start with `%PDF-`), following the documented order "extension/MIME, then magic".

`source` (form field or query parameter) is retired and ignored.
"""

from __future__ import annotations

from typing import Any

from mockserver.errors import validation_error
from mockserver.media.pdf import CV_FIELD, has_pdf_magic, invalid_file_content, pdf_upload_problems
from mockserver.modules.cvdeepmatch.config import validate_config_text
from mockserver.modules.cvdeepmatch.runs import Submission
from mockserver.platform.metadata import metadata_problems, parse_tags_text

CONFIG_FAILED_MESSAGE = "The position config failed validation."


def read_submission(form: dict[str, str], json_fields: dict[str, Any], *, filename: str | None,
                    content_type: str | None, head_bytes: bytes) -> Submission:
    """The validated submission, or the documented 400 naming every offending field."""
    fields: dict[str, list[str]] = {}
    upload_problems = pdf_upload_problems(filename, content_type)
    if upload_problems:
        fields[CV_FIELD] = upload_problems
    config, config_fields = validate_config_text(form["config"])
    fields.update(config_fields)
    metadata = json_fields.get("metadata", {}) if "metadata" in form else {}
    problems = metadata_problems(metadata)
    if problems:
        fields["metadata"] = problems
    tags: list[str] = []
    if "tags" in form:
        try:
            tags = parse_tags_text(form["tags"])
        except ValueError as exc:
            fields["tags"] = [str(exc)]
    if fields:
        only_config = all(name == "config" or name.startswith("config.") for name in fields)
        raise validation_error("INVALID_INPUT", fields, message=CONFIG_FAILED_MESSAGE if only_config else None)
    if not has_pdf_magic(head_bytes):
        raise invalid_file_content()
    assert config is not None
    return Submission(
        position_id=form["position_id"],
        job_description=form["job_description"],
        config=config,
        webhook_url=form.get("webhook_url"),
        idempotency_key=form.get("idempotency_key"),
        metadata=metadata,
        tags=tags,
    )
