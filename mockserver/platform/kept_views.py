"""Rendered answers about stored documents, kept between requests (`KeptViews`), and the
write hooks that drop them when their document is written (`watch`).

A finished run's poll answer is the same bytes on every poll: decoding the stored run and
writing ≈ 2 KB of JSON again each time was most of a poll's cost. A module keeps the
rendered body (`json_writer.rendered`) of a terminal run under the run's ``(kind, key)``,
with the tenant that owns it and the virtual instant from which it holds (the run's finish:
a clock set back before it makes the run unfinished again, and the answer is built afresh).

Every write through the store to a kept document — put, update, delete, take, the extra
documents of `update_and_put` — drops its views, and a purge drops them all, so a kept
answer never outlives what it was built from. A view is kept only if no write happened
since the handler read the document (`token` / `keep`): a write landing in between wins.

Only a store this process owns is watched (`watch`): with a shared store (Redis) another
process may write the document, and nothing here would hear of it, so nothing is kept here;
a poll handler asks `answer_views`, which gives a shared store's `StampedViews` instead (each
answer kept under the store's marked stamp of its document: no read while no write to it is
heard).
"""

from __future__ import annotations

from typing import Any, Callable

from ..json_writer import rendered

CAPACITY = 256  # views kept at most (the oldest kept goes first): a CV DeepMatch answer, dict and
# bytes, is ≈ 10 KiB, so ≈ 2.5 MiB at most (the RSS goal of #14 counts)


class KeptViews:
    """Rendered bodies by ``(kind, key)``, each with its owner and the instant it holds from."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._views: dict[tuple[str, str], tuple[str | None, float, Any]] = {}
        self._writes = 0  # bumped by every write that drops views (see `token`)

    def get(self, kind: str, key: str, owner: str | None, now: float) -> Any:
        """The kept view, or None (none kept, another owner's, or not yet valid at ``now``)."""
        view = self._views.get((kind, key))
        if view is None or view[0] != owner or now < view[1]:
            return None
        return view[2]

    def token(self, kind: str | None = None, key: str | None = None) -> int:
        """Taken before reading the document a view is built from; handed back to `keep`
        (``kind``/``key``: the document, as `StampedViews.token` needs them)."""
        return self._writes

    def keep(self, kind: str, key: str, owner: str | None, valid_from: float, value: Any, token: int) -> Any:
        """Keep ``value`` unless a write happened since ``token``; returns ``value``."""
        if token == self._writes:
            views = self._views
            if len(views) >= self.capacity and (kind, key) not in views:
                views.pop(next(iter(views), None), None)
            views[(kind, key)] = (owner, valid_from, value)
        return value

    def forget(self, kind: str, key: str) -> None:
        self._writes += 1
        self._views.pop((kind, key), None)

    def clear(self) -> None:
        self._writes += 1
        self._views.clear()

    def __len__(self) -> int:
        return len(self._views)


def _forgetting(write: Callable, views: KeptViews) -> Callable:
    """``write(kind, key, …)`` that drops the views of ``(kind, key)`` once it has landed (a
    reader that took its token before the write then finds the count moved, keeps nothing)."""
    def hooked(kind: str, key: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return write(kind, key, *args, **kwargs)
        finally:
            views.forget(kind, key)
    return hooked


def _forgetting_with_extra(update_and_put: Callable, views: KeptViews) -> Callable:
    """`update_and_put` that also drops the views of the documents its ``extra`` puts."""
    def hooked(kind: str, key: str, fn: Callable, extra: Callable, **kwargs: Any) -> Any:
        written: list[tuple[str, str]] = [(kind, key)]

        def extra_noted(new: dict) -> list:
            docs = extra(new)
            written.extend((doc_kind, doc_key) for doc_kind, doc_key, _doc, _owner in docs)
            return docs

        try:
            return update_and_put(kind, key, fn, extra_noted, **kwargs)
        finally:
            for doc_kind, doc_key in written:
                views.forget(doc_kind, doc_key)
    return hooked


def _clearing(purge: Callable, views: KeptViews) -> Callable:
    def hooked(*args: Any, **kwargs: Any) -> Any:
        try:
            return purge(*args, **kwargs)
        finally:
            views.clear()
    return hooked


KEY_WRITES = ("put", "put_entry", "update", "delete", "take")  # (kind, key, …) → that document
PURGES = ("purge_owner", "purge_all")


def watch(store: Any) -> Any:
    """Give ``store`` (this process's own) `KeptViews` (``store.kept_views``) and make its
    document writes drop them; a shared store is returned as it is, keeping none.

    The hooks sit on the instance, not in a wrapper: the store stays the object (and the
    type) every other part of the server and its tests know."""
    if getattr(store, "shared", False) or hasattr(store, "kept_views"):
        return store  # shared, or watched already (one store handed to a second app)
    views = KeptViews()
    for name in KEY_WRITES:
        setattr(store, name, _forgetting(getattr(store, name), views))
    store.update_and_put = _forgetting_with_extra(store.update_and_put, views)
    for name in PURGES:
        setattr(store, name, _clearing(getattr(store, name), views))
    store.kept_views = views
    return store


def kept_views(store: Any) -> KeptViews | None:
    """The views kept beside ``store``, or None (a shared store keeps none)."""
    return getattr(store, "kept_views", None)


def answer_views(store: Any) -> Any:
    """Where a handler keeps a document's rendered answer: ``store``'s `KeptViews` when this
    process owns it; on a shared store its `StampedViews` (each answer checked against the
    store's marked stamp of the document, no read while nothing wrote it); None for a store
    with neither."""
    views = getattr(store, "kept_views", None)
    if views is not None:
        return views
    if not getattr(store, "shared", False) or not hasattr(store, "marked_stamp"):
        return None
    views = getattr(store, "stamped_views", None)
    if views is None:
        from .stamped_views import StampedViews

        views = store.stamped_views = StampedViews(store)
    return views


def kept_answer(store: Any, kind: str, key: str, owner: str | None, now: float) -> tuple[Any, Any, Any]:
    """A poll handler's first step: (the views of ``store`` or None, the answer kept for the
    document or None, the token to keep a new answer with — taken before the document is read)."""
    views = answer_views(store)
    if views is None:
        return None, None, None
    kept = views.get(kind, key, owner, now)
    return views, kept, (None if kept is not None else views.token(kind, key))


def keep_answer(views: Any, kind: str, key: str, owner: str | None, valid_from: float, body: dict,
                token: Any) -> dict:
    """The handler's answer for a finished document, rendered once and kept (when ``views``)."""
    if views is None:
        return body
    return views.keep(kind, key, owner, valid_from, rendered(body), token)
