"""Helpers for the project's own tests: generated media (`audio_fixtures`) and the contract.

`merged_contract` builds the OpenAPI document from `spec_parts/` the way the contract is
assembled (the base fragment plus module fragments: their `paths`, `webhooks` and each
`components` section merged), so a module's fragment can be checked before `openapi.yaml`
is regenerated.
"""

from __future__ import annotations

from pathlib import Path

import yaml

SPEC_PARTS = Path(__file__).resolve().parents[2] / "spec_parts"
BASE_FRAGMENT = "00-base.yaml"


def merged_contract(*fragments: str) -> dict:
    """00-base.yaml merged with the named fragments of spec_parts/ (a name clash is an error)."""
    spec = yaml.safe_load((SPEC_PARTS / BASE_FRAGMENT).read_text(encoding="utf-8"))
    for name in fragments:
        part = yaml.safe_load((SPEC_PARTS / name).read_text(encoding="utf-8"))
        for section in ("paths", "webhooks"):
            _merge_into(spec.setdefault(section, {}), part.get(section) or {}, f"{name}:{section}")
        for kind, entries in (part.get("components") or {}).items():
            _merge_into(spec.setdefault("components", {}).setdefault(kind, {}), entries,
                        f"{name}:components.{kind}")
    if not spec.get("webhooks"):
        spec.pop("webhooks", None)
    return spec


def _merge_into(target: dict, entries: dict, where: str) -> None:
    for key, value in entries.items():
        if key in target:
            raise ValueError(f"{where}: {key!r} is already defined")
        target[key] = value
