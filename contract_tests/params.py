"""Parametrizing tests over the operations of the target's contract: one test per
operation, named by its operationId, or one skipped test naming why there is none."""

from __future__ import annotations

from typing import Iterable

import pytest


def each(items: Iterable, why_none: str, ids=None) -> list:
    """``pytest.param``s for ``items`` (ids from ``ids(item)`` or ``item.operation_id``), or a
    single skipped param explaining that the contract has nothing to test here."""
    items = list(items)
    if not items:
        return [pytest.param(None, marks=pytest.mark.skip(reason=why_none), id="none")]
    name = ids or (lambda item: item.operation_id)
    return [pytest.param(item, id=name(item)) for item in items]
