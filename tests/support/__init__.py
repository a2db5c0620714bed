"""Helpers for the project's own tests: generated media (`audio_fixtures`, `pdf_fixtures`),
a webhook receiver (`webhook_receiver`) and the contract document (`contract_document`)."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import yaml

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"


@lru_cache(maxsize=1)
def _loaded() -> dict:
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def contract_document() -> dict:
    """openapi.yaml as a fresh dict (callers may change it)."""
    return copy.deepcopy(_loaded())
