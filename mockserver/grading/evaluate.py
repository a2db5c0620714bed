"""Grades one client: reads its journal entries, credit changes, webhook delivery log and probe
log from the platform, runs every rule's detector, and builds the `GradeReport`."""

from __future__ import annotations

from typing import Any

from ..clock import parse_iso
from ..platform.credits import TXN
from . import webhook_detectors  # noqa: F401  (registers the webhook detectors)
from .detectors import DETECTORS, Trail
from .probes import probe_log
from .report import GradeReport
from .rules import RuleBook, rulebook

CREDIT_RAISES = ("topup", "adjustment", "release")


class UnknownClient(LookupError):
    pass


def _trail(platform: Any, client_id: str, book: RuleBook) -> Trail:
    scale = platform.clock.scale or 1.0
    entries = []
    for entry in platform.journal.entries(client_id):
        epoch = entry.get("epoch")
        if epoch is None:
            epoch = parse_iso(entry["time"])
        entries.append(dict(entry, epoch=epoch, _t=epoch / scale))
    # In the order requests arrived: a line is written when its request ends, and several
    # processes sharing a journal write theirs in batches, so the journal's order can differ
    # from arrival by a few milliseconds (stable: lines of one instant keep their order).
    entries.sort(key=lambda entry: entry["_t"])
    platform.ledger.settle(client_id, platform.clock.now())
    credit_changes = [t["at"] for t in platform.store.scan(TXN, owner=client_id) if t.get("type") in CREDIT_RAISES]
    deliveries = platform.webhooks.deliveries(client_id) if platform.webhooks is not None else []
    told = {}
    for delivery in deliveries:
        for attempt in delivery.get("attempts", []):
            if attempt.get("outcome") == "delivered":
                told.setdefault(delivery["run_id"], parse_iso(attempt["at"]))
    submit_ops = frozenset(op_id for op_id, op in platform.contract.operations.items() if op.submit)
    return Trail(entries=entries, book=book, submit_ops=submit_ops, credit_changes=credit_changes,
                 told_terminal=told, deliveries=deliveries, probes=probe_log(platform, client_id),
                 webhook_timeout=float(platform.settings.webhook_timeout))


def _public(item: dict, why: str) -> dict:
    """Evidence as shown: without the trail's own annotations (``_t``, the scaled instant)."""
    return {k: v for k, v in item.items() if not k.startswith("_")} | {"why": why}


def grade(platform: Any, client_id: str, book: RuleBook | None = None) -> GradeReport:
    """Grade ``client_id``'s behaviour so far against every documented rule."""
    if client_id not in platform.registry.clients:
        raise UnknownClient(client_id)
    book = book or rulebook()
    trail = _trail(platform, client_id, book)
    keep = int(book.thresholds["evidence_kept"])
    findings = []
    for rule in book.rules:
        violations = DETECTORS[rule.detector](trail)
        if not violations:
            continue
        first_why = violations[0][1]
        findings.append({
            "rule": rule.id, "severity": rule.severity, "count": len(violations),
            "summary": f"{rule.title}: {len(violations)} time(s); first: {first_why}",
            "doc": {"page": rule.page, "quote": rule.quote}, "fix": rule.fix,
            "evidence": [_public(item, why) for item, why in violations[:keep]],
        })
    entries = trail.entries
    return GradeReport({
        "client": client_id,
        "requests_covered": len(entries),
        "journal_dropped": platform.journal.dropped.get(client_id, 0),
        "window": {"from": entries[0]["time"] if entries else None, "to": entries[-1]["time"] if entries else None},
        "findings": findings,
        "rules_checked": [rule.id for rule in book.rules],
    })
