"""The behaviour catalog as the suite sees it: the IDs (from `catalog_ids.txt`, a copy kept
inside the package so the suite works without the project's shared folder) and the
`covers(...)` marker that tags a test with the IDs it asserts.

    @covers("AUTH-2", "ERR-1")
    def test_missing_key_is_401(api): ...

An unknown ID is a collection error, so a typo can never silently drop coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pytest

MARKER = "catalog"


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    summary: str
    unobservable: str | None = None


@lru_cache(maxsize=1)
def catalog() -> dict[str, CatalogEntry]:
    """Every catalog ID in catalog order."""
    text = resources.files(__package__).joinpath("catalog_ids.txt").read_text(encoding="utf-8")
    entries: dict[str, CatalogEntry] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        reason = None
        if len(parts) > 2 and parts[2].startswith("unobservable:"):
            reason = parts[2][len("unobservable:"):].strip()
        entries[parts[0]] = CatalogEntry(parts[0], parts[1] if len(parts) > 1 else "", reason)
    return entries


def check_ids(ids: tuple[str, ...] | list[str]) -> None:
    unknown = [i for i in ids if i not in catalog()]
    if unknown:
        raise ValueError(f"unknown catalog id(s): {', '.join(unknown)}")


def covers(*ids: str):
    """Mark a test as asserting the given catalog IDs."""
    if not ids:
        raise ValueError("covers() needs at least one catalog id")
    check_ids(ids)
    return getattr(pytest.mark, MARKER)(*ids)


def ids_of(item) -> list[str]:
    """The catalog IDs a collected pytest item is tagged with (all `catalog` marks merged)."""
    out: list[str] = []
    for mark in item.iter_markers(name=MARKER):
        for value in mark.args:
            if value not in out:
                out.append(value)
    return out
