"""Recording which store methods a piece of code calls (each a Redis round trip on a shared
store): what the kept-view tests count to show that an answer came from what a process kept."""

from __future__ import annotations

from typing import Any


def recorded_calls(store: Any, *names: str) -> list[str]:
    """Wrap the methods ``names`` of ``store`` (this instance only) so every call appends its
    name to the returned list, then runs as before."""
    calls: list[str] = []
    for name in names:
        original = getattr(store, name)

        def recorded(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        setattr(store, name, recorded)
    return calls
