"""Correlation fields (META-1..3): metadata maps, tags and Speech's externalId.

The JSON Schema parts (key counts, lengths, value types) live in openapi.yaml and are
checked by request validation; this module adds what a schema cannot say (the 8 KB total)
and parses the multipart text forms of `metadata` and `tags`.
"""

from __future__ import annotations

import json
from typing import Any

from ..json_writer import compact_json

MAX_METADATA_BYTES = 8 * 1024
MAX_TAGS = 20
MAX_TAG_LENGTH = 40


def metadata_problems(metadata: Any) -> list[str]:
    """Problems a schema cannot express; [] when fine."""
    if not isinstance(metadata, dict):
        return ["metadata must be a JSON object."]
    size = len(compact_json(metadata))
    if size > MAX_METADATA_BYTES:
        return [f"metadata is {size} bytes serialised; the limit is {MAX_METADATA_BYTES}."]
    return []


def parse_tags_text(text: str) -> list[str]:
    """Tags from a form field: a JSON array text, or a comma-separated list.
    Raises ValueError with a message when the result breaks META-1."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            tags = json.loads(stripped)
        except ValueError:
            raise ValueError("tags must be a JSON array of strings or a comma-separated list.") from None
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ValueError("tags must be a JSON array of strings.")
    else:
        tags = [t.strip() for t in stripped.split(",")] if stripped else []
    return check_tags(tags)


def check_tags(tags: list[str]) -> list[str]:
    if len(tags) > MAX_TAGS:
        raise ValueError(f"At most {MAX_TAGS} tags are allowed.")
    if len(set(tags)) != len(tags):
        raise ValueError("Tags must be distinct.")
    for tag in tags:
        if not 1 <= len(tag) <= MAX_TAG_LENGTH:
            raise ValueError(f"Each tag must be 1–{MAX_TAG_LENGTH} characters.")
    return tags
