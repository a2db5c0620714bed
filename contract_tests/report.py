"""The catalog report: per behaviour ID, which tests assert it and how they ended —
passed / failed / skipped (with the reasons) / no test — then totals. Rendered as text at
the end of a run and written as JSON with ``--catalog-report FILE``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .catalog import CatalogEntry

ORDER = {"failed": 0, "error": 0, "passed": 1, "skipped": 2}
LABEL = {"failed": "FAIL", "passed": "PASS", "skipped": "SKIP", "no test": "----", "unobservable": "n/a "}


@dataclass
class Outcome:
    nodeid: str
    ids: list[str]
    outcome: str = "passed"  # passed | failed | error | skipped
    reason: str = ""

    def worse(self, outcome: str, reason: str = "") -> None:
        """Keep the worst phase outcome of a test (setup / call / teardown)."""
        if ORDER.get(outcome, 1) < ORDER.get(self.outcome, 1) or (outcome == "skipped" and self.outcome == "passed"):
            self.outcome = outcome
            self.reason = reason


@dataclass
class IdRow:
    id: str
    summary: str
    status: str
    tests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skip_reasons: list[str] = field(default_factory=list)
    note: str = ""


class CatalogReport:
    def __init__(self, catalog: dict[str, CatalogEntry]) -> None:
        self.catalog = catalog
        self.tests: dict[str, Outcome] = {}
        self.collected: dict[str, list[str]] = {}

    def collect(self, nodeid: str, ids: list[str]) -> None:
        self.collected[nodeid] = ids

    def record(self, nodeid: str, outcome: str, reason: str = "") -> None:
        ids = self.collected.get(nodeid)
        if ids is None:
            return
        test = self.tests.setdefault(nodeid, Outcome(nodeid, ids))
        test.worse(outcome, reason)

    def map(self) -> dict[str, list[str]]:
        """Catalog ID → the collected tests tagged with it."""
        out: dict[str, list[str]] = {i: [] for i in self.catalog}
        for nodeid, ids in self.collected.items():
            for i in ids:
                out.setdefault(i, []).append(nodeid)
        return out

    def rows(self) -> list[IdRow]:
        rows = []
        mapping = self.map()
        for cid, entry in self.catalog.items():
            tests = mapping.get(cid, [])
            ran = [self.tests[t] for t in tests if t in self.tests]
            row = IdRow(cid, entry.summary, "no test", tests=tests)
            if not tests and entry.unobservable:
                row.status, row.note = "unobservable", entry.unobservable
            elif ran:
                row.failed = [t.nodeid for t in ran if t.outcome in ("failed", "error")]
                passed = [t for t in ran if t.outcome == "passed"]
                if row.failed:
                    row.status = "failed"
                elif passed:
                    row.status = "passed"
                else:
                    row.status = "skipped"
                    row.skip_reasons = sorted({t.reason for t in ran if t.reason})
            elif tests:
                row.status, row.note = "skipped", "tests deselected"
            rows.append(row)
        return rows

    def totals(self) -> dict[str, int]:
        counts = {"passed": 0, "failed": 0, "skipped": 0, "no test": 0, "unobservable": 0}
        for row in self.rows():
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts

    def to_json(self) -> dict:
        return {
            "ids": [{"id": r.id, "status": r.status, "tests": r.tests, "failed": r.failed,
                     "skipReasons": r.skip_reasons, "note": r.note} for r in self.rows()],
            "untested": [r.id for r in self.rows() if r.status == "no test"],
            "totals": self.totals(),
            "tests": {t.nodeid: {"ids": t.ids, "outcome": t.outcome, "reason": t.reason}
                      for t in self.tests.values()},
        }

    def write_json(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.to_json(), fh, indent=2)

    def format_lines(self, verbose: bool = False) -> list[str]:
        lines = []
        for row in self.rows():
            head = f"{LABEL[row.status]}  {row.id:<8}"
            if row.status == "failed":
                lines.append(f"{head} failed: {', '.join(_short(t) for t in row.failed)}")
            elif row.status == "passed":
                names = f": {', '.join(map(_short, row.tests))}" if verbose else ""
                lines.append(f"{head} {len(row.tests)} test(s){names}")
            elif row.status == "skipped":
                why = "; ".join(row.skip_reasons) or row.note or "skipped"
                lines.append(f"{head} skipped: {why}")
            elif row.status == "unobservable":
                lines.append(f"{head} not observable from outside: {row.note}")
            else:
                lines.append(f"{head} no test asserts it yet — {row.summary}")
        totals = self.totals()
        lines.append("")
        lines.append("catalog totals: " + ", ".join(f"{v} {k}" for k, v in totals.items()) +
                     f" (of {len(self.catalog)} IDs)")
        untested = [r.id for r in self.rows() if r.status == "no test"]
        if untested:
            lines.append("IDs with no test: " + " ".join(untested))
        return lines


def _short(nodeid: str) -> str:
    return nodeid.split("/")[-1]
