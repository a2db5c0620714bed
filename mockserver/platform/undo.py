"""A submit's writes across processes (issue #15): one at a time per idempotency key, and
undone when the store fails in the middle ("nothing is half-written").

`idempotent_section`: with a shared store, a submit carrying an idempotency key runs from its
claim to its stored run under the store lock ``idem|<scope>|<key>``. A concurrent duplicate
on another replica then finds the run stored and replays it — it never mistakes the winner,
still mid-submit, for a claim whose run was never stored (which it would drop and claim
afresh: two runs). With a store of one process there is no await between claim and run, so
no lock is needed.

A submit writes in this order: idempotency claim → credit hold → run document (and its list
summary) → settlement → webhook. When the store becomes unreachable after the hold,
`undo_submit` removes what was written, newest first, each step on its own (a step that
fails too is left): the settlement and the hold (`Ledger.cancel_hold`, recorded as a
release), the run and its summary, the claim. What can remain when the store stays down through the undo:

- an idempotency claim for a run never stored — harmless: the next submit with that key
  finds no run behind it, drops the claim and claims afresh;
- a hold document with its held credits (available credits lower by the run's cost) —
  until a reset of the client;
- a run document without a settlement — the run is visible and completes on its timeline,
  its hold is never charged.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

from ..store.base import StoreUnavailable
from .run_summary import API_RUN_KIND

log = logging.getLogger("zenhire_mock")


def idempotent_section(store, scope: str, key: str | None):
    """The lock a keyed submit holds from claim to stored run (shared store), else nothing."""
    if key is None or not store.shared:
        return contextlib.nullcontext()
    return store.lock(f"idem|{scope}|{key}")


@contextlib.contextmanager
def undo_submit(platform, client_id: str, run_id: str, now: float, *, run_kind: str,
                claim: tuple[str, str] | None = None) -> Iterator[None]:
    """Run the steps after a successful hold; on `StoreUnavailable` undo them and re-raise.
    ``claim`` is the idempotency (scope, key) the submit holds for ``run_id``."""
    try:
        yield
    except StoreUnavailable:
        store = platform.store
        steps = [lambda: platform.ledger.cancel_hold(client_id, run_id, now),
                 lambda: store.delete(run_kind, run_id),
                 lambda: store.delete(API_RUN_KIND, run_id)]
        if claim is not None:
            steps.append(lambda: store.release_idempotency(claim[0], claim[1], run_id))
        left = 0
        for step in steps:
            try:
                step()
            except StoreUnavailable:
                left += 1
        if left:
            log.warning("submit of run %s (client %s) interrupted by the store: %d undo step(s) "
                        "could not be made", run_id, client_id, left)
        raise
